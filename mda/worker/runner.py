"""``mda worker``: one process that runs the periodic jobs, in a plain loop.

Every few seconds it walks the job list; a job that is due is taken through its database lease
(``mda.worker.leases``), run in an application context, and released with its outcome. Several
workers may run side by side (on several machines): the leases keep each job in one of them at
a time and each daily job to one run per Dutch calendar day. SIGTERM (or Ctrl-C) lets the job
that is running finish, then the worker stops.
"""
from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import uuid
from datetime import datetime, timedelta

from flask import Flask

from ..db import db
from ..timeutil import AMSTERDAM, utcnow
from . import leases
from .jobs import JOBS, Job, JobContext
from .queries import FAILED_OUTCOME_PREFIX

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(minutes=5)


QUIET_BELOW = timedelta(minutes=1)


def did_nothing(outcome: str | None) -> bool:
    """True for an outcome whose counts are all 0 ("0 verzonden, 0 later opnieuw, 0 mislukt")."""
    counts = re.findall(r"\d+", outcome or "")
    return bool(counts) and not any(int(count) for count in counts)


class Worker:
    def __init__(self, app: Flask, *, transport: object | None = None, worker_id: str | None = None,
                 jobs: tuple[Job, ...] = JOBS, tick_seconds: float = 5.0) -> None:
        self.app = app
        self.transport = transport
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        settings = app.extensions["mda.settings"]
        self.jobs = tuple(job for job in jobs if job.enabled(settings))
        self.tick_seconds = tick_seconds
        self.stopping = threading.Event()
        with app.app_context():
            leases.ensure_rows([job.name for job in self.jobs])

    def _lease_for(self, job: Job) -> timedelta:
        if job.name == "send_outbox" and self.app.config.get("OUTBOX_LEASE_SECONDS"):
            return timedelta(seconds=float(self.app.config["OUTBOX_LEASE_SECONDS"]))
        return job.lease

    def run_job(self, job: Job, now: datetime | None = None) -> str | None:
        """Run one job if it is due and its lease is free; returns its outcome, or None."""
        now = now or utcnow()
        day = None
        if job.daily_at_hour is not None:
            local = now.astimezone(AMSTERDAM)
            if local.hour < job.daily_at_hour:
                return None
            day = local.date()
        with self.app.app_context():
            if not leases.acquire(job.name, self.worker_id, lease=self._lease_for(job), now=now, every=job.every,
                                  day=day):
                return None
            try:
                outcome = job.run(JobContext(self.worker_id, self.transport, self.stopping.is_set))
            except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
                db.session.rollback()
                # The type only: an exception's text may quote data.
                log.error("job %s failed: %s", job.name, type(exc).__name__)
                outcome = f"{FAILED_OUTCOME_PREFIX}{type(exc).__name__}"
                leases.release(job.name, self.worker_id, outcome=outcome, retry_after=RETRY_AFTER_FAILURE)
                return outcome
            leases.release(job.name, self.worker_id, outcome=outcome, day=day)
            # A poll that found nothing to do (every count 0) is not news: the outbox is polled every
            # few seconds and would fill the log with "0 verzonden" lines. Jobs that run once a minute
            # or less often are always logged: that they ran is the record (and what tests count).
            quiet = job.every is not None and job.every < QUIET_BELOW and did_nothing(outcome)
            log.log(logging.DEBUG if quiet else logging.INFO, "job %s: %s", job.name, outcome)
            return outcome

    def run_once(self, now: datetime | None = None) -> dict[str, str]:
        outcomes = {}
        for job in self.jobs:
            if self.stopping.is_set():
                break
            outcome = self.run_job(job, now)
            if outcome is not None:
                outcomes[job.name] = outcome
        return outcomes

    def stop(self, *_args: object) -> None:
        self.stopping.set()

    def run_forever(self, *, install_signals: bool = True) -> None:
        if install_signals and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.info("worker %s started with jobs %s", self.worker_id, ", ".join(job.name for job in self.jobs))
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - e.g. the database briefly unreachable
                log.error("worker round failed: %s", type(exc).__name__)
            self.stopping.wait(self.tick_seconds)
        log.info("worker %s stopped", self.worker_id)

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, kwargs={"install_signals": False},
                                  name="mda-worker", daemon=True)
        thread.start()
        return thread
