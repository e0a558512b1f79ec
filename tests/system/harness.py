"""Shared machinery of the system tests and the benchmark (bench/): keys, a prepared database,
gunicorn on 127.0.0.1, and a small HTTP client that logs in like a browser (CSRF + TOTP).

Nothing here touches the network beyond 127.0.0.1.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "systeemtest-wachtwoord-mda-2026"


def new_keys() -> dict[str, str]:
    def b64() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()
    return {"MDA_SECRET_KEY": secrets.token_urlsafe(48), "MDA_FIELD_KEYS": f"1:{b64()}",
            "MDA_BLIND_INDEX_KEY": b64(), "MDA_AUDIT_KEY": b64()}


def server_env(database_url: str, instance_dir: Path, keys: dict[str, str], mode: str = "demo",
               rate_limit: str | None = None) -> dict[str, str]:
    """Environment of the gunicorn workers (and of the in-process app that prepares the data).

    ``rate_limit`` None: Flask-Limiter off. All simulated users share 127.0.0.1, so the per-address
    login limit (10/min) would refuse the 50 logins of a load test; the limit itself is tested in
    tests/test_auth.py. Pass e.g. ``redis://127.0.0.1:6379/15`` to run with the shared storage on.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("MDA_")}
    env.update(keys)
    env.update({"MDA_MODE": mode, "MDA_DATABASE_URL": database_url, "MDA_INSTANCE_PATH": str(instance_dir),
                "PYTHONPATH": str(ROOT)})
    if rate_limit:
        env["MDA_RATELIMIT_STORAGE_URI"] = rate_limit
    else:
        env["MDA_RATELIMIT_ENABLED"] = "false"
    return env


def make_app(env: dict[str, str], factory=None):  # noqa: ANN001, ANN201
    """The production app factory (or ``factory``, e.g. bench.app's) with the same settings the
    workers get: the environment is set for the factory's call only."""
    if factory is None:
        from mda import create_app as factory
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return factory()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# --- seeding through the app's own operations -----------------------------------------------------

@dataclass
class Account:
    username: str
    role: str
    secret: str
    case_ids: list[int] = field(default_factory=list)


@dataclass
class Manifest:
    accounts: list[Account]
    api_token: str
    case_ids: list[int]

    def to_json(self) -> str:
        return json.dumps({"accounts": [a.__dict__ for a in self.accounts], "api_token": self.api_token,
                           "case_ids": self.case_ids})

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        return cls([Account(**a) for a in data["accounts"]], data["api_token"], data["case_ids"])


def seed(app, *, cases: int = 30, coordinators: int = 20, experts: int = 14, referrers: int = 8,  # noqa: ANN001
         steering: int = 4, leads: int = 4, journal_per_case: int = 5, persons_per_case: int = 4) -> Manifest:
    """Organisations, accounts with a known TOTP secret, cases with persons, team and journal,
    and an API key, all through the operations the views use (so encrypted and audited)."""
    from sqlalchemy import select

    from mda.accounts.models import Role
    from mda.accounts.operations import create_user
    from mda.auth import mfa
    from mda.cases.models import IntakeRoute, ViolenceForm
    from mda.cases.operations import open_case
    from mda.db import db
    from mda.journal.models import JournalKind
    from mda.journal.operations import write_journal_entry
    from mda.migrate import upgrade
    from mda.organisations.models import Organisation, OrganisationKind
    from mda.people.models import PersonRole
    from mda.people.operations import add_person
    from mda.reference.models import Discipline, Municipality
    from mda.referrals.tokens import issue_token
    from mda.teams.models import TeamPhase
    from mda.teams.operations import add_expert
    from mda.timeutil import today, utcnow

    with app.app_context():
        upgrade(db.engine)
        session = db.session
        orgs = {kind: Organisation(name=f"{kind.label} (systeemtest)", kind=kind) for kind in (
            OrganisationKind.MDA_TEAM, OrganisationKind.VEILIG_THUIS, OrganisationKind.POLICE,
            OrganisationKind.STEERING_GROUP, OrganisationKind.MUNICIPALITY)}
        session.add_all(orgs.values())
        session.flush()
        accounts: list[Account] = []
        users: dict[str, list] = {}

        def make(role_name: str, roles: list[Role], org: Organisation, count: int) -> None:
            for number in range(count):
                username = f"{role_name}{number:02d}"
                user = create_user(username=username, display_name=f"{role_name.title()} {number}",
                                   password=PASSWORD, roles=roles, organisation=org, by=None)
                user.totp_secret = mfa.new_secret()
                user.mfa_enrolled_at = utcnow()
                users.setdefault(role_name, []).append(user)
                accounts.append(Account(username, role_name, user.totp_secret))

        make("coordinator", [Role.COORDINATOR], orgs[OrganisationKind.MDA_TEAM], coordinators)
        make("lead", [Role.COORDINATOR, Role.TEAM_LEAD], orgs[OrganisationKind.MDA_TEAM], leads)
        make("expert", [Role.EXPERT], orgs[OrganisationKind.POLICE], experts)
        make("referrer", [Role.VT_REFERRER], orgs[OrganisationKind.VEILIG_THUIS], referrers)
        make("steering", [Role.STEERING], orgs[OrganisationKind.STEERING_GROUP], steering)
        make("admin", [Role.ADMIN], orgs[OrganisationKind.MUNICIPALITY], 1)
        session.flush()
        towns = list(session.scalars(select(Municipality)))
        discipline = session.scalars(select(Discipline.code)).first()
        by_name = {a.username: a for a in accounts}
        owners = users["coordinator"] + users["lead"]
        case_ids = []
        for number in range(cases):
            owner = owners[number % len(owners)]
            case = open_case(municipality=towns[number % len(towns)], intake_route=IntakeRoute.ACTIE_OVERLEG,
                             coordinator=owner, by=owner, forms=[ViolenceForm.PARTNER_VIOLENCE],
                             ave_level=3 + number % 2, opened_on=today() - timedelta(days=number % 300))
            for p in range(persons_per_case):
                add_person(case, role=PersonRole.UNDERGOING_VIOLENCE if p % 2 else PersonRole.USING_VIOLENCE,
                           by=owner, name=f"Persoon {number}-{p}", address=f"Testlaan {p}",
                           notes="Fictieve systeemtestpersoon.")
            if users.get("expert"):
                expert = users["expert"][number % len(users["expert"])]
                add_expert(case, expert, discipline_code=discipline, team_phase=TeamPhase.BASISTEAM, by=owner)
                by_name[expert.username].case_ids.append(case.id)
            for j in range(journal_per_case):
                write_journal_entry(case, kind=list(JournalKind)[j % len(JournalKind)],
                                    occurred_at=utcnow() - timedelta(days=j), body=f"Fictief verslag {j}.", by=owner)
            by_name[owner.username].case_ids.append(case.id)
            case_ids.append(case.id)
            if number % 50 == 49:
                session.commit()
        _, token = issue_token(orgs[OrganisationKind.VEILIG_THUIS], label="Systeemtest", by=users["admin"][0])
        session.commit()
        manifest = Manifest(accounts, token, case_ids)
        db.dispose()
    return manifest


# --- gunicorn ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn with ``workers`` sync workers on 127.0.0.1, in its own process group."""

    def __init__(self, env: dict[str, str], app_spec: str = "mda:create_app()", workers: int = 2,
                 log: Path | None = None, port: int | None = None):
        self.env, self.app_spec, self.workers = env, app_spec, workers
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "Gunicorn":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "60", "--backlog", "256", "--graceful-timeout", "5", self.app_spec],
            env=self.env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if self.log:
            out.close()  # the child keeps its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                status = request_once(self.port, "GET", "/inloggen")
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("gunicorn did not answer in time")

    def worker_pids(self) -> list[int]:
        if not self.process:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def peak_memory_mb(self) -> dict[int, float]:
        """VmHWM (peak resident set) of every worker, in MB."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return peaks

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: a power cut as far as the app knows."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def request_once(port: int, method: str, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        return connection.getresponse().status
    finally:
        connection.close()


# --- a browser -------------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Browser:
    """One user's cookie jar over http.client (a fresh connection per request: sync workers close it)."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            all_headers = dict(headers or {})
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, content = cookie.partition("=")
                    if content:
                        self.cookies[key] = content
                    else:
                        self.cookies.pop(key, None)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        status, headers, text = self.request("GET", path)
        match = CSRF.search(text)
        if match:
            self.csrf = match.group(1) or match.group(2)
        return status, headers, text

    def post(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        if self.csrf:
            data = {"csrf_token": self.csrf, **data}
        return self.request("POST", path, urlencode(data, doseq=True).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def login(self, account: Account) -> None:
        from mda.auth import mfa
        self.get("/inloggen")
        status, headers, _ = self.post("/inloggen", {"username": account.username, "password": PASSWORD})
        assert status == 302 and headers.get("location", "").endswith("/inloggen/code"), (status, account.username)
        self.get("/inloggen/code")
        status, headers, _ = self.post("/inloggen/code", {"code": mfa.code_for(account.secret)})
        if status == 401:
            # The code of this 30-second step was already used (the server refuses a replay), e.g.
            # by a benchmark run just before: the next step's code is a fresh one.
            time.sleep(30 - time.time() % 30 + 1)
            status, headers, _ = self.post("/inloggen/code", {"code": mfa.code_for(account.secret)})
        assert status == 302, (status, account.username)
        self.get("/")  # a page with a form, for the session's CSRF token
