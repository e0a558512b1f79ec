"""A case's next deadline, stored so the whole caseload can be sorted by it.

The next deadline is the earliest of the case's first open task, the review date of its latest
safety plan and what other areas register (``register_source``: a running huisverbod's legal
deadlines, wired in by ``mda.models`` one level up, so the case core does not know orders).
Computing it for every open case on each request made the team lead's caseload slow at national
scale (a correlated subquery per case), so ``cases.next_deadline`` keeps it. It is recomputed
after every flush that adds, changes or removes a task, a safety plan or a registered source's
row, from the rows themselves, so no operation has to remember to do it. Pages show the live values; the
stored one only orders the list.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, bindparam, event, func, or_, select, update
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


# (connection, case ids or None for every case) -> {case id: that area's nearest deadline}
DeadlineSource = Callable[[Any, "list[int] | None"], "dict[int, date]"]
_SOURCES: list[tuple[type, DeadlineSource]] = []


def register_source(model: type, source: DeadlineSource) -> None:
    """Another area's deadlines join the stored next deadline; a flush that adds, changes or removes
    a ``model`` row (with a ``case_id``) recomputes its case."""
    if (model, source) not in _SOURCES:
        _SOURCES.append((model, source))


_LOWER_TO = (update(cases).where(cases.c.id == bindparam("case_id"),
                                 or_(cases.c.next_deadline.is_(None), cases.c.next_deadline > bindparam("due")))
             .values(next_deadline=bindparam("due")))


def refresh_next_deadlines(connection: Connection | Session, case_ids: Iterable[int] | None = None) -> None:
    """Recompute the stored next deadline of these cases (all cases when ``case_ids`` is None)."""
    statement = update(cases).values(next_deadline=next_deadline_expression())
    ids: list[int] | None = None
    if case_ids is not None:
        ids = sorted(set(case_ids))
        if not ids:
            return
        statement = statement.where(cases.c.id.in_(ids))
    connection.execute(statement)
    lower_to_other_deadlines(connection, ids)


def lower_to_other_deadlines(connection: Connection | Session, case_ids: list[int] | None = None) -> int:
    """Bring the stored next deadline forward to the registered areas' deadlines where those are
    earlier; the number of cases changed. Also run by the worker, so an installation that stored its
    deadlines before a source existed (or a copy restored from backup) catches up."""
    earlier = [{"case_id": case_id, "due": due} for _model, source in _SOURCES
               for case_id, due in source(connection, case_ids).items()]
    if not earlier:
        return 0
    return connection.execute(_LOWER_TO, earlier).rowcount or 0


def _affected_case_ids(session: Session) -> set[int]:
    models = (Task, SafetyPlan, *(model for model, _source in _SOURCES))
    return {instance.case_id for instance in (*session.new, *session.dirty, *session.deleted)
            if isinstance(instance, models) and getattr(instance, "case_id", None) is not None}


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
