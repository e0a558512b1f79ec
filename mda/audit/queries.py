"""Reading the audit trail for the privacy officer: filter, newest first, page or stream.

The trail records what the other areas tell it and knows none of their models: a case is an id
here. The view resolves a case number to its id before filtering, and ids back to case numbers
for display (``mda.cases.queries``)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import ColumnElement, Row, Select, and_, false, func, or_, select

from ..db import db
from ..timeutil import AMSTERDAM
from .models import AuditAction, AuditEvent

PAGE_SIZE = 50
EXPORT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class AuditFilter:
    """What the privacy officer searches on; every part is optional. Dates are Dutch calendar days,
    both inclusive."""

    username: str | None = None
    case_reference: str | None = None
    # The id the case reference stands for, resolved by the caller; None: no such case (any more).
    case_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    action: AuditAction | None = None

    def describe(self) -> str:
        """The audit record of the search itself says which filter fields were used, never what was
        typed in them: someone may type a client's name into the username field."""
        used = [label for label, value in (
            ("gebruikersnaam", self.username), ("casusnummer", self.case_reference),
            ("vanaf datum", self.date_from), ("tot en met datum", self.date_to),
            ("handeling", self.action)) if value]
        return "filter op: " + ", ".join(used) if used else "filter: geen"


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[Row[Any]]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _start_of_day(day: date) -> datetime:
    """Midnight on the Dutch wall clock, as a UTC instant (the offset differs in summer and winter)."""
    return datetime.combine(day, time.min, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def _conditions(criteria: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.username:
        conditions.append(AuditEvent.username == criteria.username)
    if criteria.case_reference:
        # The trail stores case ids only; the caller resolved the reference (not personal data).
        # An unknown reference, or the reference of a purged case, simply matches nothing.
        conditions.append(false() if criteria.case_id is None else AuditEvent.case_id == criteria.case_id)
    if criteria.date_from:
        conditions.append(AuditEvent.occurred_at >= _start_of_day(criteria.date_from))
    if criteria.date_to:
        conditions.append(AuditEvent.occurred_at < _start_of_day(criteria.date_to + timedelta(days=1)))
    if criteria.action:
        conditions.append(AuditEvent.action == criteria.action)
    return conditions


def _rows(conditions: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """Plain rows, not ORM objects."""
    return (
        select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.username, AuditEvent.role,
               AuditEvent.action, AuditEvent.case_id,
               AuditEvent.person_id, AuditEvent.object_type, AuditEvent.object_id,
               AuditEvent.access_point, AuditEvent.outcome, AuditEvent.detail)
        .where(*conditions)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )


def search_page(criteria: AuditFilter, number: int = 1) -> AuditPage:
    """One page of ``PAGE_SIZE`` records, newest first; a page number past the end shows the last page."""
    conditions = _conditions(criteria)
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    number = min(max(1, number), max(1, math.ceil(total / PAGE_SIZE)))
    rows = db.session.execute(_rows(conditions).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    return AuditPage(rows=rows, number=number, total=total)


def all_matching(criteria: AuditFilter, batch_size: int = EXPORT_BATCH_SIZE) -> Iterator[Row[Any]]:
    """Every matching record, newest first, fetched in batches by keyset so that an export of the
    whole trail never holds it in memory and no database cursor stays open between batches."""
    conditions = _conditions(criteria)
    after: Row[Any] | None = None
    while True:
        statement = _rows(conditions)
        if after is not None:
            statement = statement.where(or_(
                AuditEvent.occurred_at < after.occurred_at,
                and_(AuditEvent.occurred_at == after.occurred_at, AuditEvent.id < after.id)))
        batch = db.session.execute(statement.limit(batch_size)).all()
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1]
