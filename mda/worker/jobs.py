"""The periodic work of ``mda worker``: one list, each job a plain function run in an
application context that returns a short outcome (no personal data: it is stored and logged).

To add a job, write a
function here and add a ``Job`` to ``JOBS``; time-based notifications are added as a scan in
``mda.notifications.scans`` instead and run with ``deadline_notifications``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from flask import current_app
from sqlalchemy import text

from ..config import Settings
from ..db import db
from ..timeutil import utcnow


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[["JobContext"], str]
    every: timedelta | None = None     # an interval job ...
    daily_at_hour: int | None = None   # ... or a daily job, from this Dutch hour on
    lease: timedelta = timedelta(minutes=30)
    enabled: Callable[[Settings], bool] = lambda settings: True


@dataclass
class JobContext:
    worker_id: str
    transport: object | None
    stopping: Callable[[], bool] = lambda: False   # true once the worker was asked to stop


def send_outbox(context: JobContext) -> str:
    from ..notifications.delivery import send_due
    if context.transport is None:
        return "geen SMTP-server ingesteld; e-mails wachten in de wachtrij"
    return str(send_due(context.transport, context.worker_id, stopping=context.stopping))  # type: ignore[arg-type]


def send_digests(context: JobContext) -> str:
    from ..notifications.digests import send_digests as queue
    return f"{queue()} overzichten in de wachtrij"


def end_orders(context: JobContext) -> str:
    from ..cases.deadlines import lower_to_other_deadlines
    from ..huisverbod.operations import expire_due_orders
    ended = expire_due_orders()  # also recomputes their cases' stored next deadline
    # Orders stored before their deadlines counted in the caseload's order (or restored from a
    # backup) are brought in line here; afterwards this finds nothing to change.
    lowered = lower_to_other_deadlines(db.session)
    db.session.commit()
    return f"{len(ended)} huisverbod(en) beëindigd" + (f", {lowered} eerstvolgende deadline(s) bijgewerkt" if lowered else "")


def deadline_notifications(context: JobContext) -> str:
    from ..notifications.scans import run_scans
    written = run_scans()
    db.session.commit()
    return f"{written} meldingen"


def retention_purge(context: JobContext) -> str:
    from ..lifecycle.retention import purge, release_old_pages
    plan = purge()
    db.session.commit()
    release_old_pages()
    return f"{len(plan.cases)} casussen en {len(plan.referrals)} verwijzingen geanonimiseerd"


def publish_releases(context: JobContext) -> str:
    """Publish every ended quarter, year and pilot period that has no release yet (mda.metrics):
    the steering group sees only releases. One release per transaction, oldest first, so that a
    stopping worker leaves after the one in hand; the next run goes on. The outcome names the
    periods, never a number."""
    from ..metrics.operations import publish_due
    titles: list[str] = []
    while not context.stopping():
        done = publish_due(config=current_app.config, limit=1)
        db.session.commit()
        if not done:
            break
        titles.extend(release.title for release in done)
    return f"{len(titles)} publicatie(s)" + (": " + ", ".join(titles) if titles else "")


BACKUP_NAME = re.compile(r"^mda-(\d{4}-\d{2}-\d{2})\.mdabackup$")


def nightly_backup(context: JobContext) -> str:
    from ..audit.models import AuditAction
    from ..audit.trail import record
    from ..lifecycle.backup import backup_key, create_backup
    from ..timeutil import today
    settings: Settings = current_app.extensions["mda.settings"]
    backup_key()  # no key: fail before anything is recorded (the job is tried again in 5 minutes)
    folder = Path(settings.backup_directory or "")
    folder.mkdir(parents=True, exist_ok=True)
    record(AuditAction.EXPORT, username="(systeem)", object_type="backup", detail="nachtelijke versleutelde back-up")
    db.session.commit()
    day = today()
    target = folder / f"mda-{day.isoformat()}.mdabackup"
    if not target.exists():
        create_backup(settings.database_url, target)
    removed = 0
    for old in folder.iterdir():
        match = BACKUP_NAME.match(old.name)
        if match and date.fromisoformat(match.group(1)) < day - timedelta(days=settings.backup_keep_days):
            old.unlink()
            removed += 1
    return f"back-up {target.name} gemaakt, {removed} oude verwijderd"


def audit_checkpoint(context: JobContext) -> str:
    """Pin the audit trail's tail: a signed checkpoint appended outside the database (issue 13)."""
    from ..audit.checkpoints import write_checkpoint
    settings: Settings = current_app.extensions["mda.settings"]
    checkpoint = write_checkpoint(db.session, settings.audit_checkpoint_dir, settings.audit_key)
    db.session.rollback()  # only read; end the transaction
    return f"controlepunt: {checkpoint.records} records tot record {checkpoint.last_id}"


def sqlite_optimize(context: JobContext) -> str:
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA optimize"))
    return "PRAGMA optimize"


def _on_sqlite(settings: Settings) -> bool:
    return settings.database_url.startswith("sqlite")


JOBS: tuple[Job, ...] = (
    Job("send_outbox", send_outbox, every=timedelta(seconds=10), lease=timedelta(minutes=10)),
    Job("send_digests", send_digests, every=timedelta(minutes=5)),
    Job("end_orders", end_orders, every=timedelta(minutes=1)),
    Job("deadline_notifications", deadline_notifications, every=timedelta(minutes=5)),
    Job("audit_checkpoint", audit_checkpoint, every=timedelta(minutes=5), lease=timedelta(minutes=5)),
    Job("retention_purge", retention_purge, daily_at_hour=2, lease=timedelta(hours=2)),
    Job("nightly_backup", nightly_backup, daily_at_hour=1, lease=timedelta(hours=2),
        enabled=lambda settings: bool(settings.backup_directory)),
    Job("sqlite_optimize", sqlite_optimize, daily_at_hour=3, enabled=_on_sqlite),
    Job("publish_releases", publish_releases, daily_at_hour=4, lease=timedelta(hours=2)),
)
