"""Recording safety plans and assessments."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput, StaleVersion
from ..forms import LONG_TEXT
from ..people.models import Person
from .models import Assessment, AssessmentKind, PlanContent, RiskLevel, SafetyPlan


def _check_content(case: Case, content: PlanContent) -> None:
    own = set(db.session.scalars(select(Person.id).where(Person.case_id == case.id)))
    if set(content.persons) - own:
        raise InvalidInput("Het plan noemt iemand die niet tot het cliëntsysteem van deze casus hoort.",
                           field="agreements")
    texts = list(content.parts.values()) + [value for parts in content.persons.values() for value in parts.values()]
    if any(len(value) > LONG_TEXT for value in texts):
        raise InvalidInput(f"Een onderdeel van het plan is langer dan {LONG_TEXT} tekens.", field="agreements")


def agree_safety_plan(case: Case, *, agreed_on: date, review_on: date, agreements: str, agreed_by: str,
                      by: User, content: PlanContent | None = None, based_on: int | None = None) -> SafetyPlan:
    """Every agreement is a new version; earlier versions stay as they were. ``agreements`` is the
    summary of the plan; ``content`` its structured parts per person, family and network.
    ``based_on`` is the version number the user started from (0 for none): when someone has
    recorded a newer version meanwhile, the new one is refused rather than silently dropping it."""
    if review_on < agreed_on:
        raise InvalidInput("De evaluatiedatum ligt vóór de datum waarop het plan is afgesproken.",
                           field="review_on")
    if not agreements or not agreements.strip():
        raise InvalidInput("Beschrijf de afspraken van het veiligheidsplan.", field="agreements")
    if content is not None:
        _check_content(case, content)
    latest = db.session.scalar(select(func.max(SafetyPlan.version_number)).where(SafetyPlan.case_id == case.id))
    if based_on is not None and based_on != (latest or 0):
        raise StaleVersion(f"Intussen is versie {latest} van het veiligheidsplan vastgelegd. Bekijk die versie; "
                           "uw tekst staat nog in het formulier. Kies daarna opnieuw Vastleggen om uw versie "
                           "als nieuwste vast te leggen.")
    plan = SafetyPlan(case_id=case.id, version_number=(latest or 0) + 1, agreed_on=agreed_on,
                      review_on=review_on, recorded_by_id=by.id)
    plan.agreements, plan.agreed_by = agreements, agreed_by
    if content is not None:
        plan.content = content
    db.session.add(plan)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="safety_plan", object_id=plan.id)
    return plan


def record_assessment(case: Case, *, kind: AssessmentKind, assessed_on: date, instrument: str,
                      outcome: str, by: User, performed_by: User | None = None,
                      risk_level: RiskLevel = RiskLevel.NOT_APPLICABLE) -> Assessment:
    assessment = Assessment(case_id=case.id, kind=kind, assessed_on=assessed_on, instrument=instrument.strip(),
                            risk_level=risk_level, performed_by_id=(performed_by or by).id)
    assessment.outcome = outcome
    db.session.add(assessment)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="assessment", object_id=assessment.id)
    return assessment
