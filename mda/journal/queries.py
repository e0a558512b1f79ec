"""Reads of the journal, tasks and participation records of a case."""
from __future__ import annotations

from sqlalchemy import select

from ..cases.models import Case
from ..db import db
from .models import JournalEntry, ParticipationRecord, Task


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
