"""Reads of the journal, tasks and participation records of a case."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from ..accounts.models import User
from ..cases.models import Case, CaseStatus
from ..db import db
from .models import JournalEntry, JournalKind, ParticipationRecord, Task


def open_tasks(case: Case) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.case_id == case.id, Task.done_at.is_(None))
                                   .order_by(Task.due_on, Task.id)))


def done_tasks(case: Case, limit: int = 20) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.case_id == case.id, Task.done_at.is_not(None))
                                   .order_by(Task.done_at.desc()).limit(limit)))


def journal_of(case: Case, limit: int = 200) -> list[JournalEntry]:
    return list(db.session.scalars(select(JournalEntry).where(JournalEntry.case_id == case.id)
                                   .order_by(JournalEntry.occurred_at.desc(), JournalEntry.id.desc()).limit(limit)))


def participation_of(case: Case) -> list[ParticipationRecord]:
    return list(db.session.scalars(select(ParticipationRecord).where(ParticipationRecord.case_id == case.id)
                                   .order_by(ParticipationRecord.recorded_on.desc(), ParticipationRecord.id.desc())))


def tasks_owned_by(user: User, member_of: Any, *, due_until: date | None = None) -> list[tuple[Task, Case]]:
    """Open tasks assigned to ``user`` on open cases among ``member_of`` (a SELECT of case ids the
    caller decided the user may see), earliest due first; with ``due_until`` only those due by then."""
    query = (select(Task, Case).join(Case, Case.id == Task.case_id)
             .where(Task.owner_id == user.id, Task.done_at.is_(None), Case.status == CaseStatus.OPEN,
                    Task.case_id.in_(member_of))
             .order_by(Task.due_on, Task.id))
    if due_until is not None:
        query = query.where(Task.due_on <= due_until)
    return [(task, case) for task, case in db.session.execute(query).all()]


def count_tasks_owned_by(user: User, member_of: Any) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Task).join(Case, Case.id == Task.case_id)
        .where(Task.owner_id == user.id, Task.done_at.is_(None), Case.status == CaseStatus.OPEN,
               Task.case_id.in_(member_of))) or 0


def last_contact(case: Case) -> JournalEntry | None:
    """The newest journal entry of a contact with the family."""
    return db.session.scalars(select(JournalEntry).where(JournalEntry.case_id == case.id,
                                                         JournalEntry.kind == JournalKind.CONTACT_FAMILY)
                              .order_by(JournalEntry.occurred_at.desc(), JournalEntry.id.desc()).limit(1)).first()
