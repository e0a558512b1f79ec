"""Two app servers (`mda serve`, 2 workers each, on two ports) against one PostgreSQL and one Redis,
as a region grows past one machine: one user's requests alternate between the servers.

Proves: a session revoked through one server is refused by the other; the login limit counts the
attempts made through both; concurrent writes through both lose nothing and leave the audit chain
intact; a stale edit through one server is refused after a change through the other (optimistic
locking); nothing personal reaches the servers' logs; with one `mda worker` beside each server, a
daily job runs once (the database lease).

Production mode (Argon2id, the __Host- cookie, Redis for the limiter), behind a pretend TLS proxy:
MDA_TRUSTED_PROXIES=1 and every simulated client sends its own X-Forwarded-For, so each test counts
logins for its own address (and the proxy setting is exercised on the way).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from tests.system.conftest import _system_database_url
from tests.system.harness import Account, Browser, Manifest, free_port, make_app, new_keys, seed, server_env

pytestmark = pytest.mark.skipif(not os.environ.get("MDA_DATABASE_URL", "").startswith("postgresql"),
                                reason="several app servers share one PostgreSQL: set MDA_DATABASE_URL")

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
MDA = str(Path(sys.executable).parent / "mda")
BODY_MARKER = "Fictief tweeserververslag"


class ProxiedBrowser(Browser):
    """A browser behind the TLS proxy: the proxy adds the client's address to every request."""

    def __init__(self, port: int, client_address: str):
        super().__init__(port, timeout=30)
        self.client_address = client_address

    def request(self, method, path, body=None, headers=None):  # noqa: ANN001, ANN201
        return super().request(method, path, body, {**(headers or {}), "X-Forwarded-For": self.client_address})


class Servers:
    def __init__(self, env: dict[str, str], manifest: Manifest, url: str, workdir: Path, ports: list[int]):
        self.env, self.manifest, self.url, self.workdir, self.ports = env, manifest, url, workdir, ports
        self.processes: list[subprocess.Popen] = []
        self.logs = [workdir / f"server-{n}.log" for n in range(len(ports))]

    def start(self) -> None:
        for port, log in zip(self.ports, self.logs):
            with log.open("wb") as out:
                self.processes.append(subprocess.Popen(
                    [MDA, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=self.env,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir))
        for port, process in zip(self.ports, self.processes):
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, f"mda serve on {port} stopped; see {self.workdir}"
                try:
                    if Browser(port).request("GET", "/health/ready")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"mda serve on {port} not ready"
                time.sleep(0.3)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def accounts(self, role: str) -> list[Account]:
        return [account for account in self.manifest.accounts if account.role == role]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port, without persistence; stopped after the module."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    client.close()
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("two_servers")
    url = _system_database_url(workdir, "two_servers")
    instance = workdir / "instance"
    instance.mkdir()
    env = server_env(url, instance, new_keys(), mode="production", rate_limit=redis_url)
    env.update({"MDA_TRUSTED_PROXIES": "1", "MDA_WORKERS": "2"})
    manifest = seed(make_app(env), cases=16, coordinators=8, leads=1, experts=2, referrers=1, steering=1,
                    journal_per_case=1, persons_per_case=2)
    running = Servers(env, manifest, url, workdir, [free_port(), free_port()])
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_both_servers_serve_one_session_and_a_revocation_on_one_holds_on_the_other(servers: Servers) -> None:
    first, second = servers.ports
    admin = servers.accounts("admin")[0]
    user = servers.accounts("coordinator")[0]
    browser = ProxiedBrowser(first, "10.77.0.1")
    browser.login(user)
    case_path = f"/casussen/{user.case_ids[0]}"
    for port in (first, second, first, second):  # one user's requests alternate between the servers
        browser.port = port
        status, _, _ = browser.get(case_path)
        assert status == 200, (port, status)

    administrator = ProxiedBrowser(first, "10.77.0.2")
    administrator.login(admin)
    user_id = _user_id(servers, user.username)
    administrator.get(f"/beheer/gebruikers/{user_id}")
    status, headers, _ = administrator.post(f"/beheer/gebruikers/{user_id}/actief", {"actief-active": "0"})
    assert status == 302, status

    for port in (second, first):  # the cookie still looks fine, but the account's sessions are over
        browser.port = port
        status, headers, _ = browser.request("GET", case_path)
        assert status == 302 and headers["location"].endswith("/inloggen"), (port, status)


def test_login_limit_counts_attempts_on_both_servers(servers: Servers) -> None:
    # An unknown account name: a real one would be locked after these failures (tested elsewhere).
    # LOGIN_LIMIT is 10 per minute per address. Per-process counting would allow 10 on each of the four
    # workers; one Redis counts them together.
    first, second = servers.ports
    attacker = ProxiedBrowser(first, "10.77.1.1")
    attacker.get("/inloggen")
    statuses = []
    for attempt in range(10):
        attacker.port = (first, second)[attempt % 2]
        statuses.append(attacker.post("/inloggen", {"username": "onbekend.account", "password": "geraden-1234567"})[0])
    assert statuses == [401] * 10, statuses
    for port in (first, second):
        attacker.port = port
        assert attacker.post("/inloggen", {"username": "onbekend.account", "password": "geraden-1234567"})[0] == 429
    # Another address is not affected.
    bystander = ProxiedBrowser(second, "10.77.1.2")
    bystander.get("/inloggen")
    assert bystander.post("/inloggen", {"username": "onbekend.account", "password": "geraden-1234567"})[0] == 401


def test_concurrent_writes_through_both_servers_lose_nothing_and_keep_the_chain(servers: Servers) -> None:
    writers = servers.accounts("coordinator")[1:7]
    acked: list[tuple[int, str]] = []
    failures: list[str] = []
    lock = threading.Lock()
    browsers = []
    for number, account in enumerate(writers):
        browser = ProxiedBrowser(servers.ports[number % 2], f"10.77.2.{number + 1}")
        browser.login(account)
        browsers.append((browser, account))
    start = threading.Barrier(len(browsers))

    def write(browser: ProxiedBrowser, account: Account) -> None:
        start.wait(timeout=60)
        for number in range(12):
            browser.port = servers.ports[number % 2]
            case_id = account.case_ids[number % len(account.case_ids)]
            marker = f"{BODY_MARKER} {uuid.uuid4().hex}"
            status, _, _ = browser.post(f"/casussen/{case_id}/journaal", {
                "kind": "action", "occurred_at": datetime.now().strftime("%Y-%m-%dT%H:%M"), "body": marker})
            with lock:
                (acked.append((case_id, marker)) if status == 302
                 else failures.append(f"{account.username} -> {status}"))

    threads = [threading.Thread(target=write, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not failures, failures
    assert len(acked) == len(writers) * 12

    from sqlalchemy import func, select
    from mda.audit.models import AuditAction, AuditEvent
    from mda.audit.trail import verify
    from mda.db import db
    from mda.journal.models import JournalEntry
    app = make_app(servers.env)
    with app.app_context():
        stored = Counter((entry.case_id, entry.body) for entry in db.session.scalars(select(JournalEntry))
                         if entry.body and entry.body.startswith(BODY_MARKER))
        report = verify(db.session)
        audited = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == AuditAction.CREATE))
        db.dispose()
    assert all(stored[write] == 1 for write in acked), "an acknowledged write is missing or doubled"
    assert sum(stored.values()) == len(acked)
    assert report.intact, report
    assert audited >= len(acked)  # every journal entry has its audit record in the one chain


def test_optimistic_locking_holds_across_servers(servers: Servers) -> None:
    """Two tabs showed the same version of a case; the change sent through one server wins, the
    stale one through the other is refused and changes nothing."""
    from mda.cases.models import Case
    from mda.db import db
    user = servers.accounts("coordinator")[7]
    browser = ProxiedBrowser(servers.ports[0], "10.77.3.1")
    browser.login(user)
    app = make_app(servers.env)
    with app.app_context():
        case = db.session.get(Case, user.case_ids[0])
        case_id, shown_version, winner = case.id, case.version, 4 if case.ave_level == 3 else 3
        db.dispose()
    browser.get(f"/casussen/{case_id}")
    status, _, _ = browser.post(f"/casussen/{case_id}/ave", {
        "ave_level": str(winner), "reason": "Samenwerking stokt (systeemtest).", "version": str(shown_version)})
    assert status == 302, status
    browser.port = servers.ports[1]
    status, _, page = browser.post(f"/casussen/{case_id}/ave", {
        "ave_level": "2", "reason": "Situatie stabiel (systeemtest).", "version": str(shown_version)})
    assert status in (409, 422) and "intussen door iemand anders gewijzigd" in page, status
    with app.app_context():
        assert db.session.get(Case, case_id).ave_level == winner
        db.dispose()


def test_logs_of_both_servers_are_json_without_personal_data(servers: Servers) -> None:
    from tests.conftest import personal_data_in_log
    for log in servers.logs:
        text = log.read_text()
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert any(entry.get("group") == "journal" and entry.get("method") == "POST" for entry in entries)
        for value in ("Persoon ", "Testlaan", "tweeserver", "Fictieve systeemtestpersoon"):
            assert value not in text, (log.name, value)
        assert not personal_data_in_log(text)


def test_a_scheduled_job_runs_once_across_both_servers(servers: Servers) -> None:
    """One `mda worker` beside each server, started together against the one PostgreSQL: the daily
    retention purge (due after 02:00 Dutch time) runs once, in one of them; the interval job that
    ends orders (every minute) runs once in the few seconds they race; a third worker run afterwards
    (`mda worker --once`) finds the day's purge done."""
    from sqlalchemy import func, select
    from mda.audit.models import AuditEvent
    from mda.db import db
    from mda.timeutil import AMSTERDAM, utcnow
    from mda.worker.models import JobLease

    today = utcnow().astimezone(AMSTERDAM)
    if today.hour < 2 or (today.hour == 23 and today.minute >= 58):
        pytest.skip("the daily purge is due from 02:00 Dutch time, and the day must not turn during the test")
    env = {**servers.env, "MDA_WORKER_TICK_SECONDS": "0.2"}
    logs = [servers.workdir / f"worker-{n}.log" for n in range(2)]
    workers: list[subprocess.Popen] = []
    try:
        for log in logs:
            with log.open("wb") as out:
                workers.append(subprocess.Popen([MDA, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True, cwd=servers.workdir))
        deadline = time.monotonic() + 60
        while not all("running" in log.read_text() for log in logs):  # both are up and taking turns
            assert all(worker.poll() is None for worker in workers), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        time.sleep(4)  # some twenty rounds each, all of them racing for the same leases
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
    outputs = [log.read_text() for log in logs]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert all("Worker stopped." in output and "Traceback" not in output for output in outputs), outputs
    # The worker's records are JSON lines (click's own lines, "Worker ... running", are not).
    messages = [[json.loads(line)["message"] for line in output.splitlines() if line.startswith("{")]
                for output in outputs]
    purges = [sum(message.startswith("job retention_purge:") for message in own) for own in messages]
    ended = [sum(message.startswith("job end_orders:") for message in own) for own in messages]
    assert sum(purges) == 1 and sum(ended) == 1, (purges, ended)

    again = subprocess.run([MDA, "worker", "--once"], env=env, cwd=servers.workdir, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "retention_purge" not in again.stdout and "end_orders" not in again.stdout, again.stdout

    app = make_app(servers.env)
    with app.app_context():
        lease = db.session.get(JobLease, "retention_purge")
        summaries = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "retention_purge"))
        db.dispose()
    assert lease.last_run_on == today.date() and lease.holder is None
    assert not (lease.last_outcome or "").startswith("fout"), lease.last_outcome
    assert summaries == 1  # the purge's one summary record in the audit trail


def _user_id(servers: Servers, username: str) -> int:
    from sqlalchemy import select
    from mda.accounts.models import User
    from mda.db import db
    app = make_app(servers.env)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.dispose()
    return user_id
