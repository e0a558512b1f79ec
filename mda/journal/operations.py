"""Writing the journal and tasks of a case."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput
from ..people.models import Person
from .models import JournalEntry, JournalEntryPerson, JournalKind, ParticipationRecord, Task
from ..notifications import events as notifications


def write_journal_entry(case: Case, *, kind: JournalKind, occurred_at: datetime, body: str,
                        by: User, about: Iterable[Person] = ()) -> JournalEntry:
    """``about``: the persons of this case the entry is about (checked to be of the case)."""
    if not body or not body.strip():
        raise InvalidInput("Het journaalbericht is leeg.", field="body")
    about = list({person.id: person for person in about}.values())
    if any(person.case_id != case.id for person in about):
        raise InvalidInput("Kies alleen personen van deze casus.", field="persons")
    entry = JournalEntry(case_id=case.id, kind=kind, occurred_at=occurred_at, author_id=by.id)
    entry.body = body
    db.session.add(entry)
    db.session.flush()
    for person in about:
        db.session.add(JournalEntryPerson(journal_entry_id=entry.id, person_id=person.id))
    if about:
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
    notifications.task_assigned(task, by=by)
    return task


def complete_task(task: Task, *, by: User, expected_version: int) -> None:
    from ..errors import StaleVersion
    from ..timeutil import utcnow
    if int(expected_version) != task.version:
        raise StaleVersion("Deze taak is intussen door iemand anders gewijzigd. Bekijk de taak opnieuw.")
    if task.done_at is not None:
        raise InvalidInput("Deze taak is al afgerond.", field="version")
    task.done_at = utcnow()
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=task.case_id, object_type="task", object_id=task.id, detail="afgerond")


def record_participation(case: Case, *, recorded_on: date, informed: str | None, decided_along: str | None,
                         own_view: str | None, by: User) -> ParticipationRecord:
    if not any(text and text.strip() for text in (informed, decided_along, own_view)):
        raise InvalidInput("Vul minstens één van de drie vragen in.", field="informed")
    entry = ParticipationRecord(case_id=case.id, recorded_on=recorded_on, recorded_by_id=by.id)
    entry.informed, entry.decided_along, entry.own_view = informed, decided_along, own_view
    db.session.add(entry)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="participation_record", object_id=entry.id)
    return entry
