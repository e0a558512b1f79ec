"""The lease table that keeps two workers from running the same job at once."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime


class JobLease(Base):
    """One row per job. A worker holds the job while ``lease_until`` is in the future; a daily
    job records the Dutch calendar day it last completed, so it runs once per day whatever
    the number of workers."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_on: Mapped[date | None] = mapped_column(Date)
    last_outcome: Mapped[str | None] = mapped_column(String(200))
