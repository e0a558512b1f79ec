"""Writing the journal and tasks of a case."""
from __future__ import annotations

from datetime import date, datetime

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput
from .models import JournalEntry, JournalKind, Task


def write_journal_entry(case: Case, *, kind: JournalKind, occurred_at: datetime, body: str,
                        by: User) -> JournalEntry:
    if not body or not body.strip():
        raise InvalidInput("Het journaalbericht is leeg.", field="body")
    entry = JournalEntry(case_id=case.id, kind=kind, occurred_at=occurred_at, author_id=by.id)
    entry.body = body
    db.session.add(entry)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="journal_entry", object_id=entry.id)
    return entry


def add_task(case: Case, *, description: str, owner: User, due_on: date, by: User) -> Task:
    if not description or not description.strip():
        raise InvalidInput("Beschrijf de taak.", field="description")
    task = Task(case_id=case.id, owner_id=owner.id, due_on=due_on, created_by_id=by.id)
    task.description = description
    db.session.add(task)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="task", object_id=task.id)
    return task
