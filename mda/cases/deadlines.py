"""A case's next deadline, stored so the whole caseload can be sorted by it.

The next deadline is the earlier of the case's first open task and the review date of its latest
safety plan. Computing it for every open case on each request made the team lead's caseload slow
at national scale (a correlated subquery per case), so ``cases.next_deadline`` keeps it. It is
recomputed in SQL after every flush that adds, changes or removes a task or a safety plan, from
the rows themselves, so no operation has to remember to do it. Pages show the live values; the
stored one only orders the list.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Connection, event, func, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from ..journal.models import Task
from ..safety.models import SafetyPlan
from .models import Case

cases = Case.__table__


def next_deadline_expression() -> Any:
    """The next deadline of the ``cases`` row it is correlated with (NULL when there is none)."""
    next_task = (select(func.min(Task.due_on)).where(Task.case_id == cases.c.id, Task.done_at.is_(None))
                 .scalar_subquery())
    plan_review = (select(SafetyPlan.review_on).where(SafetyPlan.case_id == cases.c.id)
                   .order_by(SafetyPlan.version_number.desc()).limit(1).scalar_subquery())
    return when((next_task.is_(None), plan_review), (plan_review.is_(None), next_task),
                (next_task < plan_review, next_task), else_=plan_review)


def refresh_next_deadlines(connection: Connection | Session, case_ids: Iterable[int] | None = None) -> None:
    """Recompute the stored next deadline of these cases (all cases when ``case_ids`` is None)."""
    statement = update(cases).values(next_deadline=next_deadline_expression())
    if case_ids is not None:
        ids = sorted(set(case_ids))
        if not ids:
            return
        statement = statement.where(cases.c.id.in_(ids))
    connection.execute(statement)


def _affected_case_ids(session: Session) -> set[int]:
    return {instance.case_id for instance in (*session.new, *session.dirty, *session.deleted)
            if isinstance(instance, (Task, SafetyPlan)) and instance.case_id is not None}


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    # Plain SQL on the flush's own connection: inside the same transaction, and without touching
    # the case's version (a new task is no reason to refuse someone else's edit of the case).
    affected = _affected_case_ids(session)
    if affected:
        refresh_next_deadlines(session.connection(), affected)
        for instance in session.identity_map.values():
            if isinstance(instance, Case) and instance.id in affected:
                session.expire(instance, ["next_deadline"])
