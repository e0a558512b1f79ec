"""Job leases in the database: a job runs in one worker at a time, a daily job once a day.

Taking a lease is one conditional UPDATE on the job's row; whichever worker's UPDATE matches
the row holds the job, the others see zero rows changed. A worker that dies keeps the lease
until ``lease_until`` passes; then another takes over.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..db import db
from ..timeutil import utcnow
from .models import JobLease


def ensure_rows(names: list[str]) -> None:
    existing = set(db.session.scalars(select(JobLease.name)))
    for name in names:
        if name in existing:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(JobLease(name=name))
        except IntegrityError:
            pass  # another worker created it at the same moment
    db.session.commit()


def acquire(name: str, holder: str, *, lease: timedelta, now: datetime | None = None,
            every: timedelta | None = None, day: date | None = None) -> bool:
    """Hold the job if nobody holds it, it is due (``every`` since it last started) and, for a
    daily job, it has not completed on ``day``. Commits."""
    now = now or utcnow()
    table = JobLease.__table__
    conditions = [table.c.name == name, or_(table.c.lease_until.is_(None), table.c.lease_until < now)]
    if every is not None:
        conditions.append(or_(table.c.last_started_at.is_(None), table.c.last_started_at <= now - every))
    if day is not None:
        conditions.append(or_(table.c.last_run_on.is_(None), table.c.last_run_on < day))
    db.session.commit()
    result = db.session.execute(update(table).where(and_(*conditions))
                                .values(holder=holder, lease_until=now + lease, last_started_at=now))
    db.session.commit()
    return result.rowcount == 1


def release(name: str, holder: str, *, outcome: str, day: date | None = None,
            retry_after: timedelta | None = None) -> None:
    """Give the job back; after a failure ``retry_after`` keeps it from every worker for a while."""
    table = JobLease.__table__
    values: dict[str, object] = {"holder": None, "lease_until": utcnow() + retry_after if retry_after else None,
                                 "last_finished_at": utcnow(),
                                 "last_outcome": outcome[:200]}
    if day is not None:
        values["last_run_on"] = day
    db.session.execute(update(table).where(table.c.name == name, table.c.holder == holder).values(**values))
    db.session.commit()
