"""Reads about plans and assessments, used by the phase gates and the case file."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.orm import lazyload

from ..cases.models import Case, CaseStatus
from ..cases.rules import CaseEvidence
from ..db import db
from ..people.models import Person
from .models import PERSON_PARTS, PLAN_PARTS, Assessment, AssessmentKind, SafetyPlan

# How a part of a version compares with the same part of the version before it.
NEW, CHANGED, UNCHANGED, REMOVED = "nieuw", "gewijzigd", "ongewijzigd", "vervallen"


def latest_plan(case: Case) -> SafetyPlan | None:
    return db.session.scalars(_plans_of_case(newest_only=True), {"case_id": case.id}).first()


@functools.cache
def _plans_of_case(newest_only: bool) -> Select:
    """Built once with the case as a parameter (see mda.cases.queries); newest version first."""
    query = select(SafetyPlan).where(SafetyPlan.case_id == bindparam("case_id")) \
        .order_by(SafetyPlan.version_number.desc())
    return query.limit(1) if newest_only else query


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
    return list(db.session.scalars(_plans_of_case(newest_only=False), {"case_id": case.id}))


def assessments_of(case: Case) -> list[Assessment]:
    return list(db.session.scalars(select(Assessment).where(Assessment.case_id == case.id)
                                   .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())))


def plans_due_for_review(case_ids: Any, review_by: date) -> list[tuple[Case, SafetyPlan]]:
    """The newest plan of each open case among ``case_ids`` (a SELECT) whose evaluation date is on
    or before ``review_by``: past its evaluation, or nearly there. Earliest evaluation first."""
    newest = (select(SafetyPlan.case_id, func.max(SafetyPlan.version_number).label("number"))
              .where(SafetyPlan.case_id.in_(case_ids)).group_by(SafetyPlan.case_id).subquery())
    rows = db.session.execute(
        select(Case, SafetyPlan).join(SafetyPlan, SafetyPlan.case_id == Case.id)
        .join(newest, (newest.c.case_id == SafetyPlan.case_id) & (newest.c.number == SafetyPlan.version_number))
        .where(Case.status == CaseStatus.OPEN, SafetyPlan.review_on <= review_by)
        .order_by(SafetyPlan.review_on, Case.id)
        .options(lazyload(Case.violence_forms))).all()  # not shown with a plan due: one statement fewer
    return [(case, plan) for case, plan in rows]


def plan_version(case: Case, version_number: int) -> SafetyPlan | None:
    return db.session.scalars(select(SafetyPlan).where(SafetyPlan.case_id == case.id,
                                                       SafetyPlan.version_number == version_number)).first()


def changes_between(previous: SafetyPlan | None, plan: SafetyPlan) -> dict[tuple[int | None, str], str]:
    """Per part (person id or None, part key): new, changed, unchanged or removed (a part the
    previous version had and this one does not). The summary counts as the part (None, "summary")."""
    before = previous.content.sections() if previous is not None else {}
    now = plan.content.sections()
    if previous is not None:
        before[(None, "summary")] = previous.agreements or ""
    now[(None, "summary")] = plan.agreements or ""
    marks = {key: (NEW if key not in before else UNCHANGED if before[key] == value else CHANGED)
             for key, value in now.items()}
    marks.update({key: REMOVED for key in before if key not in now})
    return marks


def plan_changes(plans: list[SafetyPlan]) -> dict[int, dict[tuple[int | None, str], str]]:
    """For each version (by id) of ``plans`` (newest first, as plans_of gives them) the marks
    against the version before it."""
    ordered = sorted(plans, key=lambda plan: plan.version_number)
    return {plan.id: changes_between(ordered[index - 1] if index else None, plan)
            for index, plan in enumerate(ordered)}


PART_LABELS = dict(PERSON_PARTS) | dict(PLAN_PARTS) | {"summary": "Samenvatting"}


@dataclass(frozen=True)
class PlanPart:
    key: str
    label: str
    text: str


@dataclass(frozen=True)
class PersonPlan:
    person_id: int
    name: str
    parts: list[PlanPart]


@dataclass(frozen=True)
class PlanOutline:
    """A version's structured content as people read it: per person (in the order of the client
    system) the filled parts under their labels, then the family's and the network's part."""

    persons: list[PersonPlan]
    parts: list[PlanPart]

    def __bool__(self) -> bool:
        return bool(self.persons or self.parts)


GONE = "Persoon die niet meer in het cliëntsysteem staat"


def plan_outline(plan: SafetyPlan, persons: Iterable[Person]) -> PlanOutline:
    content = plan.content
    names = {person.id: person.name or "Persoon zonder naam" for person in persons}
    order = [pid for pid in names if pid in content.persons] + sorted(set(content.persons) - set(names))

    def filled(parts: dict[str, str], labels: tuple[tuple[str, str], ...]) -> list[PlanPart]:
        return [PlanPart(key, label, parts[key]) for key, label in labels if parts.get(key)]

    people = [PersonPlan(pid, names.get(pid, GONE), filled(content.persons[pid], PERSON_PARTS)) for pid in order]
    return PlanOutline([person for person in people if person.parts], filled(content.parts, PLAN_PARTS))
