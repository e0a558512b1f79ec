"""Reads of the journal, tasks and participation records of a case."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from ..accounts.models import User
from ..cases.models import Case, CaseStatus
from ..db import db
from ..security.crypto import normalise_name
from ..timeutil import AMSTERDAM
from .models import JournalEntry, JournalEntryPerson, JournalKind, ParticipationRecord, Task

JOURNAL_PAGE_SIZE = 25


def open_tasks(case: Case) -> list[Task]:
    return list(db.session.scalars(_open_tasks_of_case(), {"case_id": case.id}))


# Statements of the case overview, built once with their values as parameters (see
# mda.cases.queries: building a new statement on every request cost more than running it).

# A task is shown with its owner's name: the owner comes in the same statement, without its roles
# (loaded lazily, each owner but the reader's own cost two statements more: a user and its roles).
_WITH_OWNER = joinedload(Task.owner, innerjoin=True).lazyload(User.roles)


@functools.cache
def _open_tasks_of_case() -> Select:
    return (select(Task).where(Task.case_id == bindparam("case_id"), Task.done_at.is_(None))
            .options(_WITH_OWNER).order_by(Task.due_on, Task.id))


def done_tasks(case: Case, limit: int = 20) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.case_id == case.id, Task.done_at.is_not(None))
                                   .options(_WITH_OWNER).order_by(Task.done_at.desc()).limit(limit)))


def recent_entries(case: Case, limit: int) -> list[Any]:
    """The case's newest entries, newest first, as rows of (id, occurred_at, kind, author): when,
    what kind, and the author's name, as the overview's timeline shows them. No content: nothing
    is decrypted, and no entry or author is loaded as an object."""
    return list(db.read(_recent_entries(limit, contacts_only=False), {"case_id": case.id}))


def last_contact(case: Case, recent: list[Any] | None = None) -> Any | None:
    """The newest entry of a contact with the family, as a row like ``recent_entries``'s. ``recent``:
    the case's newest entries as ``recent_entries`` gave them, already read; looked for there first."""
    found = next((entry for entry in recent or () if entry.kind == JournalKind.CONTACT_FAMILY), None)
    if found is not None:
        return found  # in the same order as below, so it is the one the query would find
    return db.read(_recent_entries(1, contacts_only=True), {"case_id": case.id}).first()


@functools.cache
def _recent_entries(limit: int, contacts_only: bool) -> Select:
    query = (select(JournalEntry.id, JournalEntry.occurred_at, JournalEntry.kind,
                    User.display_name.label("author"))
             .join(User, User.id == JournalEntry.author_id).where(JournalEntry.case_id == bindparam("case_id"))
             .order_by(JournalEntry.occurred_at.desc(), JournalEntry.id.desc()).limit(limit))
    return query.where(JournalEntry.kind == JournalKind.CONTACT_FAMILY) if contacts_only else query


def participation_of(case: Case) -> list[ParticipationRecord]:
    return list(db.session.scalars(select(ParticipationRecord).where(ParticipationRecord.case_id == case.id)
                                   .order_by(ParticipationRecord.recorded_on.desc(), ParticipationRecord.id.desc())))


def tasks_owned_by(user: User, member_of: Any, *, due_until: date | None = None) -> list[tuple[Task, Case]]:
    """Open tasks assigned to ``user`` on open cases among ``member_of`` (a SELECT of case ids the
    caller decided the user may see), earliest due first; with ``due_until`` only those due by then."""
    query = (select(Task, Case).join(Case, Case.id == Task.case_id)
             .where(Task.owner_id == user.id, Task.done_at.is_(None), Case.status == CaseStatus.OPEN,
                    Task.case_id.in_(member_of))
             .order_by(Task.due_on, Task.id)
             .options(lazyload(Case.violence_forms)))  # not shown with a task: one statement fewer
    if due_until is not None:
        query = query.where(Task.due_on <= due_until)
    return [(task, case) for task, case in db.session.execute(query).all()]


def count_tasks_owned_by_query(owner_id: Any, member_of: Any) -> Select:
    """The user's open tasks in the open cases of ``member_of`` (a SELECT of case ids), counted;
    ``owner_id`` is an id or a ``bindparam``."""
    return (select(func.count()).select_from(Task).join(Case, Case.id == Task.case_id)
            .where(Task.owner_id == owner_id, Task.done_at.is_(None), Case.status == CaseStatus.OPEN,
                   Task.case_id.in_(member_of)))


@dataclass(frozen=True)
class JournalFilter:
    """What the journal is narrowed to. ``text`` is matched after decryption, within the one
    case, ignoring case, accents and extra spaces; it never reaches SQL, a URL or a log."""

    kind: JournalKind | None = None
    author_id: int | None = None
    person_id: int | None = None
    since: date | None = None       # Dutch calendar days, both inclusive
    until: date | None = None
    text: str | None = None
    page: int = 1

    @property
    def narrowed(self) -> bool:
        return any(value not in (None, "") for value in (self.kind, self.author_id, self.person_id, self.since,
                                                         self.until, self.text))


@dataclass
class JournalPage:
    entries: list[JournalEntry] = field(default_factory=list)
    total: int = 0
    page: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // JOURNAL_PAGE_SIZE))


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=AMSTERDAM)


def _conditions(case: Case, criteria: JournalFilter) -> list[Any]:
    conditions: list[Any] = [JournalEntry.case_id == case.id]
    if criteria.kind is not None:
        conditions.append(JournalEntry.kind == criteria.kind)
    if criteria.author_id:
        conditions.append(JournalEntry.author_id == criteria.author_id)
    if criteria.person_id:
        conditions.append(JournalEntry.id.in_(select(JournalEntryPerson.journal_entry_id)
                                              .where(JournalEntryPerson.person_id == criteria.person_id)))
    if criteria.since:
        conditions.append(JournalEntry.occurred_at >= _start_of_day(criteria.since))
    if criteria.until:
        conditions.append(JournalEntry.occurred_at < _start_of_day(criteria.until + timedelta(days=1)))
    return conditions


# The author is shown by name only: not its roles (loaded with every User by default, one statement more).
_SHOWN_WITH_ENTRIES = (selectinload(JournalEntry.author).lazyload(User.roles), selectinload(JournalEntry.persons))


def search_journal(case: Case, criteria: JournalFilter) -> JournalPage:
    """One page of the case's journal, newest first, narrowed by ``criteria``."""
    conditions = _conditions(case, criteria)
    ordered = (select(JournalEntry).where(*conditions)
               .options(*_SHOWN_WITH_ENTRIES)
               .order_by(JournalEntry.occurred_at.desc(), JournalEntry.id.desc()))
    page = max(1, criteria.page)
    offset = (page - 1) * JOURNAL_PAGE_SIZE
    needle = normalise_name(criteria.text or "")
    if not needle:
        total = db.session.scalar(select(func.count()).select_from(JournalEntry).where(*conditions)) or 0
        entries = list(db.session.scalars(ordered.limit(JOURNAL_PAGE_SIZE).offset(offset)))
        return JournalPage(entries, total, page)
    # The text is encrypted: decrypt the case's (already narrowed) entries in batches, keep ids of
    # the matches, then load only the page asked for.
    matches: list[int] = []
    plain = (select(JournalEntry).where(*conditions)
             .order_by(JournalEntry.occurred_at.desc(), JournalEntry.id.desc()))
    for entry in db.session.scalars(plain.execution_options(yield_per=200)):
        if entry.body and needle in normalise_name(entry.body):
            matches.append(entry.id)
    wanted = matches[offset:offset + JOURNAL_PAGE_SIZE]
    found = {entry.id: entry for entry in db.session.scalars(
        select(JournalEntry).where(JournalEntry.id.in_(wanted))
        .options(*_SHOWN_WITH_ENTRIES))} if wanted else {}
    return JournalPage([found[entry_id] for entry_id in wanted], len(matches), page)


def authors_of(case: Case) -> list[tuple[int, str]]:
    return [(user_id, name) for user_id, name in db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(
            select(JournalEntry.author_id).where(JournalEntry.case_id == case.id)))
        .order_by(User.display_name, User.id))]
