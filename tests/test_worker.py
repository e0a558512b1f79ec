"""``mda worker``: jobs under database leases, daily jobs once a day with two workers, the clock
ending orders without a page being opened, and a clean stop on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from mda.accounts.models import Role
from mda.audit.models import AuditEvent
from mda.db import db
from mda.huisverbod.models import HouseBan, HouseBanStatus
from mda.notifications.models import Notification, NotificationKind
from mda.timeutil import AMSTERDAM, utcnow
from mda.worker import jobs
from mda.worker.jobs import JOBS, Job
from mda.worker.models import JobLease
from mda.worker.runner import Worker
from tests import factories as make
from tests.test_access_matrix import _house_ban_world
from tests.conftest import build_app, empty_database

ROOT = Path(__file__).resolve().parents[1]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def job(name: str) -> Job:
    return next(j for j in JOBS if j.name == name)


def test_the_worker_ends_an_order_whose_time_is_up_without_a_page_being_opened(app: Flask, clock) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        make_person(case, coordinator)
        ban_id = _house_ban_world(case, coordinator)["own_ban_id"]
        ends_at = db.session.get(HouseBan, ban_id).ends_at
    worker = Worker(app, jobs=(job("end_orders"),), worker_id="w1")
    clock(ends_at - timedelta(seconds=30))
    assert worker.run_once() == {"end_orders": "0 huisverbod(en) beëindigd"}
    with app.app_context():
        assert db.session.get(HouseBan, ban_id).status == HouseBanStatus.RUNNING
    # Not yet a minute since the last run: the interval holds across workers.
    clock(ends_at + timedelta(seconds=1))
    assert Worker(app, jobs=(job("end_orders"),), worker_id="w2").run_once() == {}
    clock(ends_at + timedelta(seconds=31))
    assert worker.run_once() == {"end_orders": "1 huisverbod(en) beëindigd"}
    with app.app_context():
        ban = db.session.get(HouseBan, ban_id)
        assert ban.status == HouseBanStatus.EXPIRED and ban.ended_at == ends_at
        assert db.session.scalar(select(Notification.recipient_id).where(
            Notification.kind == NotificationKind.HOUSE_BAN_ENDED)) == coordinator.id


def make_person(case: Any, by: Any) -> None:
    from mda.people.models import PersonRole
    from mda.people.operations import add_person
    add_person(case, role=PersonRole.USING_VIOLENCE, by=by, name="Bram Workertest")
    db.session.commit()


def test_the_purge_runs_once_per_day_with_two_workers(app: Flask, clock) -> None:
    runs: list[str] = []
    lock = threading.Lock()

    def counted(context: jobs.JobContext) -> str:
        with lock:
            runs.append(context.worker_id)
        time.sleep(0.2)  # long enough for the other worker to try while this one holds the lease
        return jobs.retention_purge(context)

    purge_job = replace(job("retention_purge"), run=counted)
    workers = [Worker(app, jobs=(purge_job,), worker_id=f"w{n}") for n in (1, 2)]
    day = utcnow().astimezone(AMSTERDAM).date()

    def both_at(moment: datetime) -> None:
        clock(moment)
        barrier = threading.Barrier(2)

        def go(worker: Worker) -> None:
            barrier.wait()
            worker.run_once()

        threads = [threading.Thread(target=go, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    both_at(at(day, 1, 30))            # before 02:00: not yet
    assert runs == []
    both_at(at(day, 2, 5))
    assert len(runs) == 1
    both_at(at(day, 14, 0))            # later the same day: done already
    both_at(at(day, 23, 59))
    assert len(runs) == 1
    both_at(at(day + timedelta(days=1), 2, 1))
    assert len(runs) == 2
    with app.app_context():
        summaries = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "retention_purge", AuditEvent.case_id.is_(None),
            AuditEvent.object_id.is_(None)))
        lease = db.session.get(JobLease, "retention_purge")
        assert lease.last_run_on == day + timedelta(days=1) and lease.holder is None
    assert summaries == 2


def test_a_lease_left_by_a_dead_worker_blocks_until_it_runs_out(app: Flask) -> None:
    runs: list[str] = []
    counting = Job("counting", lambda context: runs.append(context.worker_id) or "ok", every=timedelta(seconds=1),
                   lease=timedelta(minutes=10))
    start = utcnow()
    dead, alive = Worker(app, jobs=(counting,), worker_id="dead"), Worker(app, jobs=(counting,), worker_id="alive")
    from mda.worker import leases
    with app.app_context():
        assert leases.acquire("counting", "dead", lease=timedelta(minutes=10), now=start)  # and then it dies
    assert alive.run_once(now=start + timedelta(minutes=5)) == {}
    assert alive.run_once(now=start + timedelta(minutes=10, seconds=1)) == {"counting": "ok"}
    assert runs == ["alive"] and dead.worker_id == "dead"


def test_a_failing_job_does_not_stop_the_others_and_is_tried_again_later(app: Flask) -> None:
    def broken(context: jobs.JobContext) -> str:
        raise RuntimeError("kapot")

    worker = Worker(app, jobs=(Job("broken", broken, every=timedelta(seconds=1)),
                               Job("fine", lambda context: "ok", every=timedelta(seconds=1))), worker_id="w")
    start = utcnow()
    assert worker.run_once(now=start) == {"broken": "fout: RuntimeError", "fine": "ok"}
    assert worker.run_once(now=start + timedelta(minutes=1)) == {"fine": "ok"}
    assert worker.run_once(now=start + timedelta(minutes=6))["broken"] == "fout: RuntimeError"
    with app.app_context():
        assert db.session.get(JobLease, "broken").last_outcome == "fout: RuntimeError"


def test_optional_jobs_follow_the_configuration(migrated: str, keys: dict[str, Any], instance_dir: Path,
                                                tmp_path: Path) -> None:
    plain = build_app(migrated, keys, instance_dir)
    with_backup = build_app(migrated, keys, instance_dir, BACKUP_DIRECTORY=str(tmp_path / "backups"))
    try:
        names = {j.name for j in Worker(plain).jobs}
        assert "nightly_backup" not in names and {"send_outbox", "end_orders", "retention_purge"} <= names
        assert ("sqlite_optimize" in names) == migrated.startswith("sqlite")
        assert "nightly_backup" in {j.name for j in Worker(with_backup).jobs}
    finally:
        with plain.app_context():
            empty_database()
            db.dispose()
        with with_backup.app_context():
            db.dispose()


def test_mda_worker_stops_cleanly_on_sigterm(migrated: str, keys: dict[str, Any], instance_dir: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MDA_")}
    field_keys = ",".join(f"{k}:{v}" for k, v in keys["FIELD_KEYS"].items())
    env.update({"MDA_MODE": "test", "MDA_SECRET_KEY": "test-secret-key-" + "x" * 32, "MDA_DATABASE_URL": migrated,
                "MDA_INSTANCE_PATH": str(instance_dir), "MDA_FIELD_KEYS": field_keys,
                "MDA_BLIND_INDEX_KEY": keys["BLIND_INDEX_KEY"], "MDA_AUDIT_KEY": keys["AUDIT_KEY"],
                "MDA_WORKER_TICK_SECONDS": "0.2", "PYTHONPATH": str(ROOT)})
    process = subprocess.Popen([sys.executable, "-c", "from mda.cli import main; main()", "worker"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = process.stdout.readline()
        assert "running" in first, first
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        # The rest through the same file object: readline() may already hold the next lines in its
        # buffer, which communicate(timeout=...) skips (it reads the pipe itself). A few lines only,
        # so the pipe cannot fill up before the worker ends.
        output = first + process.stdout.read()
        process.stdout.close()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Worker stopped." in output and "started with jobs send_outbox" in output
    assert "Traceback" not in output
    # Every log line is one JSON object, written once (not again as plain text by a second handler);
    # rounds that found nothing to do ("0 verzonden ...", every 0.2 s here) are not logged at INFO.
    log_lines = [line for line in output.splitlines() if "mda.worker" in line]
    records = [json.loads(line) for line in log_lines]
    assert records and all(record["logger"] == "mda.worker.runner" for record in records)
    assert len({(record["time"], record["message"]) for record in records}) == len(records)
    assert not any("job send_outbox: 0 verzonden" in record["message"] for record in records)


def test_a_round_with_nothing_to_do_is_recognised() -> None:
    from mda.worker.runner import did_nothing
    assert did_nothing("0 verzonden, 0 later opnieuw, 0 mislukt") and did_nothing("0 meldingen")
    assert not did_nothing("1 verzonden, 0 later opnieuw, 0 mislukt")
    assert not did_nothing("controlepunt: 12 records tot record 400")
    assert not did_nothing("geen SMTP-server ingesteld; e-mails wachten in de wachtrij") and not did_nothing(None)


def test_the_nightly_backup_is_written_once_and_old_ones_are_removed(
        migrated: str, keys: dict[str, Any], instance_dir: Path, tmp_path: Path, clock) -> None:
    import base64
    import secrets
    folder = tmp_path / "backups"
    folder.mkdir()
    stale = folder / "mda-2000-01-01.mdabackup"
    stale.write_bytes(b"old")
    unrelated = folder / "notities.txt"
    unrelated.write_text("blijft")
    app = build_app(migrated, keys, instance_dir, BACKUP_DIRECTORY=str(folder),
                    BACKUP_KEY=base64.b64encode(secrets.token_bytes(32)).decode())
    try:
        worker = Worker(app, jobs=(job("nightly_backup"),), worker_id="w")
        day = utcnow().astimezone(AMSTERDAM).date()
        clock(at(day, 0, 30))
        assert worker.run_once() == {}
        clock(at(day, 1, 10))
        outcome = worker.run_once()["nightly_backup"]
        assert outcome.startswith(f"back-up mda-{day.isoformat()}.mdabackup gemaakt, 1 oude")
        clock(at(day, 4, 0))
        assert worker.run_once() == {}
        made = folder / f"mda-{day.isoformat()}.mdabackup"
        assert made.stat().st_size > 0 and not stale.exists() and unrelated.exists()
    finally:
        with app.app_context():
            empty_database()
            db.dispose()


def test_the_worker_writes_an_audit_checkpoint_every_five_minutes(
        migrated: str, keys: dict[str, Any], instance_dir: Path, tmp_path: Path) -> None:
    from mda.audit.checkpoints import checkpoint_file, newest_checkpoint
    from mda.audit.models import AuditAction
    from mda.audit.trail import record, verify
    folder = tmp_path / "checkpoints"
    app = build_app(migrated, keys, instance_dir, AUDIT_CHECKPOINT_DIR=str(folder))
    try:
        assert "audit_checkpoint" in {j.name for j in Worker(app).jobs}  # always on, no cron line needed
        worker = Worker(app, jobs=(job("audit_checkpoint"),), worker_id="w")
        with app.app_context():
            user = make.user(Role.COORDINATOR)
            for n in range(3):
                record(AuditAction.READ, by=user, case_id=n, object_type="case", object_id=n)
            db.session.commit()
        start = utcnow()
        assert worker.run_once(now=start)["audit_checkpoint"].startswith("controlepunt: ")
        first = newest_checkpoint(checkpoint_file(folder))
        assert first is not None and first.records >= 3
        with app.app_context():
            newest_id = record(AuditAction.READ, by=user, case_id=9, object_type="case", object_id=9).id
            db.session.commit()
        # Not again within five minutes, not even from another worker.
        assert worker.run_once(now=start + timedelta(minutes=4)) == {}
        assert Worker(app, jobs=(job("audit_checkpoint"),), worker_id="w2").run_once(
            now=start + timedelta(minutes=4, seconds=59)) == {}
        assert len(checkpoint_file(folder).read_text().splitlines()) == 1
        assert "audit_checkpoint" in worker.run_once(now=start + timedelta(minutes=5))
        second = newest_checkpoint(checkpoint_file(folder))
        assert second is not None and second.last_id == newest_id and second.records == first.records + 1
        with app.app_context():
            assert second.signature_valid(app.extensions["mda.settings"].audit_key)
            report = verify(db.session, checkpoint=second)
            assert report.intact
    finally:
        with app.app_context():
            empty_database()
            db.dispose()
def test_ended_periods_are_published_once_a_day_under_the_lease(app: Flask, clock) -> None:
    from mda.metrics.models import Release
    from mda.metrics.operations import ended_periods
    publish = job("publish_releases")
    assert publish.daily_at_hour is not None and publish.every is None
    workers = [Worker(app, jobs=(publish,), worker_id=f"w{n}") for n in (1, 2)]
    day = date(2026, 4, 2)                      # the first quarter of 2026 has just ended
    with app.app_context():
        due = {(p.kind, p.start, p.end) for p in ended_periods(day)}
    assert len(due) > 1                         # every quarter, year and pilot period since the pilot began
    clock(at(day, publish.daily_at_hour - 1, 30))
    assert workers[0].run_once() == {}          # before the hour: not yet
    clock(at(day, publish.daily_at_hour, 5))
    outcome = workers[0].run_once()["publish_releases"]
    assert outcome.startswith(f"{len(due)} publicatie(s): ") and outcome.endswith("K1 2026")
    assert workers[1].run_once() == {}          # done today, in whichever worker
    clock(at(day + timedelta(days=1), publish.daily_at_hour, 5))
    assert workers[1].run_once() == {"publish_releases": "0 publicatie(s)"}   # nothing new has ended
    with app.app_context():
        releases = db.session.scalars(select(Release)).all()
        assert {(r.kind, r.starts_on, r.ends_on) for r in releases} == due
        assert {(r.version, r.published_by_id) for r in releases} == {(1, None)}
        lease = db.session.get(JobLease, "publish_releases")
        assert lease.holder is None and lease.last_run_on == day + timedelta(days=1)
