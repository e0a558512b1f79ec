"""Recording the judgement at closure and, a year later, the follow-up check."""
from __future__ import annotations

from datetime import date

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidInput, InvalidTransition
from ..timeutil import utcnow
from .models import ClosureOutcome, FamilySafe, FollowUpCheck, SafetyJudgement

FOLLOW_UP_TASK = ("Follow-up twaalf maanden na afsluiting: ga na of het gezin veilig is en of er een nieuwe "
                  "melding bij Veilig Thuis, een nieuw huisverbod of een nieuwe verwijzing is geweest.")


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:           # 29 February
        return day.replace(year=day.year + 1, day=28)


def check_rating(value: int | None, field: str, required: bool) -> None:
    if value is None:
        if required:
            raise InvalidInput("Geef een cijfer van 0 tot en met 10.", field=field)
        return
    if not 0 <= int(value) <= 10:
        raise InvalidInput("Een cijfer is 0 tot en met 10.", field=field)


def check_outcome(judgement: SafetyJudgement | None, professional_rating: int | None,
                  family_rating: int | None) -> None:
    """Before anything of the closure is written: the judgement and the ratings are complete."""
    if judgement is None:
        raise InvalidInput("Kies het oordeel over de veiligheid bij afsluiting.", field="safety_judgement")
    check_rating(professional_rating, "professional_rating", required=True)
    check_rating(family_rating, "family_rating", required=False)


def record_closure_outcome(case, change, *, judgement: SafetyJudgement | None, professional_rating: int | None,  # noqa: ANN001
                           family_rating: int | None, by) -> ClosureOutcome:  # noqa: ANN001
    """Part of closing a case: the judgement, and the follow-up check a year later as a task for
    the coordinator who closed it."""
    from ..journal.operations import add_task
    check_outcome(judgement, professional_rating, family_rating)
    outcome = ClosureOutcome(case_id=case.id, status_change_id=change.id, closed_on=case.closed_on,
                             judgement=judgement, professional_rating=int(professional_rating),
                             family_rating=None if family_rating is None else int(family_rating),
                             recorded_by_id=by.id)
    db.session.add(outcome)
    db.session.flush()
    due = one_year_after(case.closed_on)
    task = add_task(case, description=FOLLOW_UP_TASK, owner=by, due_on=due, by=by)
    check = FollowUpCheck(case_id=case.id, closure_outcome_id=outcome.id, due_on=due, task_id=task.id)
    db.session.add(check)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="closure_outcome", object_id=outcome.id,
           detail=f"oordeel bij afsluiting: {judgement.value}")
    return outcome


def record_follow_up(check: FollowUpCheck, *, family_safe: FamilySafe | None, new_vt_report: bool,
                     new_house_ban: bool, new_referral: bool, by, on: date) -> FollowUpCheck:  # noqa: ANN001
    from ..journal.models import Task
    if check.recorded_at is not None:
        raise InvalidTransition("Deze follow-up is al vastgelegd.")
    if on < check.due_on:
        raise InvalidTransition(f"De follow-up is pas op {check.due_on:%d-%m-%Y} aan de beurt.")
    if family_safe is None:
        raise InvalidInput("Geef aan of het gezin veilig is.", field="family_safe")
    check.family_safe = family_safe
    check.new_vt_report, check.new_house_ban, check.new_referral = bool(new_vt_report), bool(new_house_ban), \
        bool(new_referral)
    check.recorded_at, check.recorded_by_id = utcnow(), by.id
    task = db.session.get(Task, check.task_id) if check.task_id else None
    if task is not None and task.done_at is None:
        task.done_at = utcnow()
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=check.case_id, object_type="follow_up_check", object_id=check.id,
           detail="follow-up na twaalf maanden vastgelegd")
    return check
