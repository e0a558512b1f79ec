"""What the scheduled worker last did, per job, for monitoring (``mda.monitoring.metrics``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .jobs import JOBS
from .models import JobLease

# The outcome a failed run leaves on its lease (mda.worker.runner): the exception's type only.
FAILED_OUTCOME_PREFIX = "fout: "


@dataclass(frozen=True)
class JobState:
    name: str
    failing: bool
    last_finished_at: datetime | None


def job_states(session: Session) -> list[JobState]:
    """The jobs this code knows, as their lease rows say; a job whose row does not exist yet (no
    worker started) is left out. Only names from ``JOBS``: they become metric labels."""
    known = {job.name for job in JOBS}
    rows = session.execute(select(JobLease.name, JobLease.last_outcome, JobLease.last_finished_at)
                           .where(JobLease.name.in_(known)).order_by(JobLease.name))
    return [JobState(name, (outcome or "").startswith(FAILED_OUTCOME_PREFIX), finished)
            for name, outcome, finished in rows]
