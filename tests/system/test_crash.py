"""Crash consistency: SIGKILL gunicorn (master and workers) in the middle of a stream of writes,
restart, and check that every acknowledged write is there exactly once, that SQLite's
integrity_check is ok, and that the audit chain verifies. Three kill/restart rounds."""
from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import select

from tests.system.harness import Browser, Gunicorn
from tests.system.test_load import api_payload

ROUNDS = 3
WRITERS = 6


def writer(port: int, browser: Browser, case_ids: list[int], token: str | None, acked: dict[str, str],
           lock: threading.Lock, stop: threading.Event) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        marker = f"CRASH-{uuid.uuid4().hex}"
        try:
            if token and number % 3 == 0:
                status, _, _ = browser.request("POST", "/api/v1/verwijzingen", api_payload(marker),
                                               {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                kind = "referral" if status == 201 else None
            else:
                status, _, _ = browser.post(f"/casussen/{case_ids[number % len(case_ids)]}/journaal", {
                    "kind": "action", "occurred_at": datetime.now().strftime("%Y-%m-%dT%H:%M"),
                    "body": f"Fictief crashtestverslag {marker}"})
                kind = "journal" if status == 302 else None
        except (OSError, http.client.HTTPException):
            # The server is gone (refused, reset, or killed halfway through an answer:
            # IncompleteRead); whatever had no whole answer was not acknowledged.
            return
        if kind:
            with lock:
                acked[marker] = kind


def stored_markers(prepared) -> tuple[Counter, Counter]:  # noqa: ANN001
    from mda.db import db
    from mda.journal.models import JournalEntry
    from mda.referrals.models import Referral
    journal, referrals = Counter(), Counter()
    app = prepared.app()
    with app.app_context():
        for entry in db.session.scalars(select(JournalEntry)):
            if entry.body and "CRASH-" in entry.body:
                journal[entry.body.rsplit(" ", 1)[-1]] += 1
        for referral in db.session.scalars(select(Referral)):
            if referral.reason and referral.reason.startswith("Loadtest CRASH-"):
                referrals[referral.reason.removeprefix("Loadtest ")] += 1
        from mda.audit.trail import verify
        report = verify(db.session)
        assert report.intact, report
        db.dispose()
    return journal, referrals


def test_sigkill_during_writes_loses_no_acknowledged_write(prepared) -> None:  # noqa: ANN001
    manifest = prepared.manifest
    # Fresh accounts each round: a TOTP code is accepted only once per 30-second step.
    pool = [a for a in manifest.accounts if a.role in ("coordinator", "lead") and a.case_ids]
    assert len(pool) > ROUNDS * WRITERS
    acked: dict[str, str] = {}
    lock = threading.Lock()
    for round_number in range(ROUNDS):
        server = Gunicorn(prepared.env, log=prepared.workdir / "gunicorn-crash.log").start()
        browsers = []
        for account in pool[round_number * WRITERS:(round_number + 1) * WRITERS]:
            browser = Browser(server.port, timeout=10)
            browser.login(account)
            browsers.append((browser, account))
        stop = threading.Event()
        before = len(acked)
        threads = [threading.Thread(target=writer, args=(server.port, browser, account.case_ids,
                                                         manifest.api_token if i == 0 else None, acked, lock, stop))
                   for i, (browser, account) in enumerate(browsers)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acked) - before < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-stream: writers are still sending
        stop.set()
        for thread in threads:
            thread.join(15)
        assert len(acked) - before >= 10, "too few writes acknowledged before the kill"

        if prepared.url.startswith("sqlite"):
            path = prepared.url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as connection:  # replays the WAL like the restarted app would
                assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        journal, referrals = stored_markers(prepared)
        for marker, kind in acked.items():
            count = (journal if kind == "journal" else referrals)[marker]
            assert count == 1, f"acknowledged {kind} {marker} stored {count} times after round {round_number}"
        assert all(n == 1 for n in journal.values()) and all(n == 1 for n in referrals.values())

    # The restarted server serves again after the last crash.
    with Gunicorn(prepared.env, log=prepared.workdir / "gunicorn-crash.log") as server:
        browser = Browser(server.port)
        last = pool[-1]
        browser.login(last)
        assert browser.get(f"/casussen/{last.case_ids[0]}/journaal")[0] == 200
    print(f"\n{len(acked)} acknowledged writes over {ROUNDS} SIGKILL rounds, all present exactly once")
