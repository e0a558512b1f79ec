"""SIGKILL ``mda worker`` in the middle of sending e-mails, again and again, then let it finish:
every message arrives, and each kill repeats at most the one message it interrupted, with its
original Message-ID."""
from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from tests.smtp_server import SmtpServer
from tests.system.conftest import _system_database_url
from tests.system.harness import ROOT, make_app, new_keys, server_env

MESSAGES = 40
KILLS = 4


class SlowRecorder:
    """Records a message, then takes a while to say so: a kill in between leaves a message that
    arrived but that the worker could not write down as sent."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        answer = await self.inner.handle_DATA(server, session, envelope)
        await asyncio.sleep(0.4)
        return answer


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from mda.cli import main; main()", "worker"], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_during_sends_loses_nothing_and_repeats_only_messages_in_flight(tmp_path: Path) -> None:
    from mda.accounts.models import Role
    from mda.accounts.operations import create_user
    from mda.db import db
    from mda.migrate import upgrade
    from mda.notifications.models import NotificationSettings, OutboxMessage, OutboxStatus
    from mda.notifications.operations import enqueue_mail

    smtp = SmtpServer()
    url = _system_database_url(tmp_path, "worker_crash")
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(url, instance, new_keys())
    env.update({"MDA_SMTP_HOST": "127.0.0.1", "MDA_SMTP_PORT": str(smtp.port), "MDA_SMTP_SECURITY": "none",
                "MDA_MAIL_SENDER": "meldingen@mda.voorbeeld.test", "MDA_OUTBOX_LEASE_SECONDS": "2",
                "MDA_WORKER_TICK_SECONDS": "0.2"})
    app = make_app(env)
    with app.app_context():
        upgrade(db.engine)
        user = create_user(username="ontvanger", display_name="Ontvanger", password="x" * 20,
                           roles=[Role.COORDINATOR], organisation=None, by=None)
        db.session.add(NotificationSettings(user_id=user.id, email="ontvanger@werk.example", digest_hour=7))
        for number in range(MESSAGES):
            enqueue_mail(user, subject=f"MDA++: bericht {number}", body="Er staat iets voor u klaar.")
        db.session.commit()

    from aiosmtpd.controller import Controller
    controller = Controller(SlowRecorder(smtp.recorder), hostname="127.0.0.1", port=smtp.port)
    controller.start()
    kills = 0
    try:
        random.seed(17)
        while kills < KILLS:
            worker = start_worker(env)
            before = len(smtp.recorder.message_ids())
            # Wait until this worker is sending, then kill it at a random moment of a send.
            started = time.monotonic()
            while len(smtp.recorder.message_ids()) == before and time.monotonic() - started < 30:
                time.sleep(0.05)
            time.sleep(random.uniform(0.0, 0.5))
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            kills += 1
        worker = start_worker(env)
        deadline = time.monotonic() + 120
        with app.app_context():
            while time.monotonic() < deadline:
                left = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                         .where(OutboxMessage.status != OutboxStatus.SENT))
                db.session.rollback()
                if left == 0:
                    break
                time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        controller.stop()

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert all(row.status == OutboxStatus.SENT for row in rows)
        tried_again = {row.message_id for row in rows if row.attempts > 1}
        assert tried_again  # the kills did leave claims behind that another start took over
        db.dispose()
    counts = Counter(smtp.recorder.message_ids())
    assert set(counts) == {row.message_id for row in rows}          # nothing lost
    repeated = {message_id for message_id, n in counts.items() if n > 1}
    # Each kill can repeat at most the one message it interrupted (a message interrupted twice may
    # arrive three times); every repeat carries the original Message-ID.
    assert sum(n - 1 for n in counts.values()) <= kills
    assert repeated <= tried_again                                  # and the outbox shows it was retried
    print(f"\n{MESSAGES} messages over {kills} SIGKILLs: {sum(n - 1 for n in counts.values())} repeats "
          f"of {len(repeated)} messages, each with its original Message-ID")
