"""Reads about plans and assessments, used by the phase gates and the case file."""
from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select

from ..cases.models import Case
from ..cases.rules import CaseEvidence
from ..db import db
from .models import Assessment, AssessmentKind, SafetyPlan


def latest_plan(case: Case) -> SafetyPlan | None:
    return db.session.scalars(select(SafetyPlan).where(SafetyPlan.case_id == case.id)
                              .order_by(SafetyPlan.version_number.desc()).limit(1)).first()


def current_plan(case: Case, day: date) -> SafetyPlan | None:
    return current_among(latest_plan(case), day)


def current_among(latest: SafetyPlan | None, day: date) -> SafetyPlan | None:
    """The newest version, if it is agreed and not past its review date; otherwise none is current."""
    return latest if latest is not None and latest.is_current_on(day) else None


def _has(case: Case, kind: AssessmentKind) -> bool:
    return bool(db.session.scalar(select(exists().where(Assessment.case_id == case.id, Assessment.kind == kind))))


def evidence_for(case: Case, day: date) -> CaseEvidence:
    return CaseEvidence(has_safety_assessment=_has(case, AssessmentKind.VEILIGHEIDSTAXATIE),
                        has_current_safety_plan=current_plan(case, day) is not None,
                        has_risk_assessment=_has(case, AssessmentKind.RISICOTAXATIE),
                        has_diagnostics=_has(case, AssessmentKind.DIAGNOSTIEK))


def plans_of(case: Case) -> list[SafetyPlan]:
    return list(db.session.scalars(select(SafetyPlan).where(SafetyPlan.case_id == case.id)
                                   .order_by(SafetyPlan.version_number.desc())))


def assessments_of(case: Case) -> list[Assessment]:
    return list(db.session.scalars(select(Assessment).where(Assessment.case_id == case.id)
                                   .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())))
