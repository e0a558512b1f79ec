"""The national peak (issue 19): a mixed load of simulated users with think time against gunicorn.

    python bench/peak.py --workdir /tmp/mda-bench/national-pg --users 100 --rate 75 --seconds 300 --workers 4

The data set comes from ``bench/generate.py --peak`` (the login accounts of 100 users, experts in case
teams, submitted referrals and a published stuurinformatie release). The app is served as in
bench/run.py (tests/system/harness.Gunicorn: the production app factory, sync workers on 127.0.0.1,
Flask-Limiter off because every simulated user comes from 127.0.0.1).

Each simulated user logs in once (password, TOTP, CSRF: harness.Browser) and then loops until the
end: think time (exponential; its mean is chosen so that ``--users`` users send ``--rate`` requests a
second: about users / rate seconds per user and request, a steering member at a quarter of that pace,
less the user's mean response time so far), then one request typical of its role:

* coordinator: start page, own caseload, a case file of its own, its journal, adding a journal entry
  (the marker of every acknowledged write is recorded), a search (POST, as run.py's SEARCHES);
* team lead: triage queue, pages of the whole caseload, any case file;
* expert: own cases (caseload), a case file of its own;
* Veilig Thuis: its referrals list, a referral's detail, a referral submitted through the API;
* steering: the stuurinformatie release list, the release page, a table (CSV) or the workbook (xlsx).

Afterwards: total requests, achieved requests/s, p50/p95/p99 per action and overall, errors (5xx,
any unexpected status, connection errors) with counts, the time the same requests took inside the
app (from the workers' JSON request log: the rest of a latency is waiting for a worker), the client's own overhead (CPU per request,
how late the threads woke from their think time), the workers' peak memory; then every acknowledged
journal entry and API referral is checked to be in the database exactly once, and the whole audit
chain is verified (mda.audit.trail.verify). Exit status 1 when overall p95 >= --p95-limit (100 ms),
on any error, a lost or duplicated write, or a broken chain. Results also go to
<workdir>/peak-results.json.

The load is bounded: it stops at --seconds and at --max-requests per user. Traffic goes to 127.0.0.1
only.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import PEAK_ACCOUNTS  # noqa: E402
from bench.run import SEARCHES, percentile  # noqa: E402
from tests.system.harness import Account, Browser, Gunicorn, Manifest, make_app  # noqa: E402
from tests.system.test_load import api_payload  # noqa: E402

# Weights of each role's actions (one HTTP request each).
ACTIONS = {
    "coordinator": {"start page": 15, "caseload (own)": 20, "case file": 25, "journal page": 15,
                    "journal write": 15, "search": 10},
    "lead": {"triage queue": 25, "caseload (all)": 40, "case file (any)": 35},
    "expert": {"caseload (own)": 40, "case file": 60},
    "referrer": {"referrals list": 45, "referral detail": 45, "api referral": 10},
    "steering": {"releases": 35, "release page": 35, "release table csv": 20, "release workbook": 10},
}
# Relative pace of a role's users: a steering member looks at the published figures now and then
# (and the app limits them to 30 requests a minute); every other role works at the same pace.
PACE = {"coordinator": 1.0, "lead": 1.0, "expert": 1.0, "referrer": 1.0, "steering": 0.25}
EXPECTED = {"journal write": (302,), "api referral": (201,)}  # every other action: 200
MARKER = "PEAK-"


@dataclass
class User:
    """One simulated user and what it may ask for."""
    account: Account
    own_cases: list[int] = field(default_factory=list)


@dataclass
class Plan:
    port: int
    cycles: dict[str, float]  # per role: seconds per request of one user (all users together: --rate)
    seconds: float
    max_requests: int
    api_token: str
    open_cases: list[int]
    caseload_pages: int
    referrals: list[int]
    release_id: int | None
    release_table: str | None


def mix(users: int, available: dict[str, int]) -> dict[str, int]:
    """Users per role in PEAK_ACCOUNTS' proportions (largest remainder), at least one of each role
    when there are enough users; never more than the data set has accounts."""
    total = sum(PEAK_ACCOUNTS.values())
    shares = {role: users * n / total for role, n in PEAK_ACCOUNTS.items()}
    counts = {role: int(share) for role, share in shares.items()}
    if users >= len(counts):
        for role in counts:
            counts[role] = max(1, counts[role])
    for role in sorted(shares, key=lambda r: shares[r] - int(shares[r]), reverse=True):
        if sum(counts.values()) >= users:
            break
        counts[role] += 1
    while sum(counts.values()) > users:
        counts[max(counts, key=counts.get)] -= 1
    short = {role: (n, available.get(role, 0)) for role, n in counts.items() if n > available.get(role, 0)}
    if short:
        raise SystemExit("the data set has too few login accounts for this mix (role: needed, present): "
                         f"{short}; generate it with bench/generate.py --peak")
    return counts


def prepare(env: dict[str, str], manifest: Manifest, users: int) -> tuple[list[User], dict, dict]:
    """Choose the accounts, and read from the data set what the users will ask for (own cases,
    open cases, referrals, the release) and where the journal and referrals stood before the run."""
    from sqlalchemy import func, select

    from mda.accounts.models import User as UserModel
    from mda.cases.models import Case, CaseStatus
    from mda.db import db
    from mda.journal.models import JournalEntry
    from mda.metrics.models import Release
    from mda.referrals.models import Referral, ReferralStatus
    from mda.teams.models import TeamMembership

    by_role: dict[str, list[Account]] = defaultdict(list)
    for account in manifest.accounts:
        by_role[account.role].append(account)
    counts = mix(users, {role: len(accounts) for role, accounts in by_role.items()})
    chosen = [User(account) for role, n in counts.items() for account in by_role[role][:n]]
    app = make_app(env)
    with app.app_context():
        session = db.session
        ids = dict(session.execute(select(UserModel.username, UserModel.id).where(
            UserModel.username.in_([u.account.username for u in chosen]))).all())
        for user in chosen:
            user.own_cases = list(session.scalars(
                select(TeamMembership.case_id).join(Case, Case.id == TeamMembership.case_id).where(
                    TeamMembership.user_id == ids[user.account.username], TeamMembership.ended_on.is_(None),
                    Case.status == CaseStatus.OPEN).order_by(TeamMembership.case_id)))
            if user.account.role in ("coordinator", "expert") and not user.own_cases:
                raise SystemExit(f"{user.account.username} has no open case; generate with bench/generate.py --peak")
        open_cases = list(session.scalars(select(Case.id).where(Case.status == CaseStatus.OPEN).order_by(Case.id)))
        referrer_org = session.scalar(select(UserModel.organisation_id).where(
            UserModel.username == by_role["referrer"][0].username)) if by_role["referrer"] else None
        referrals = list(session.scalars(select(Referral.id).where(
            Referral.organisation_id == referrer_org, Referral.status != ReferralStatus.DRAFT).order_by(Referral.id)))
        release = session.scalars(select(Release).order_by(Release.id.desc())).first()
        tables = release.content["tables"] if release else []
        shared = {"open_cases": open_cases, "caseload_pages": max(1, -(-len(open_cases) // 25)),
                  "referrals": referrals, "release_id": release.id if release else None,
                  "release_table": tables[1]["key"] if len(tables) > 1 else (tables[0]["key"] if tables else None)}
        before = {"journal_max_id": session.scalar(select(func.max(JournalEntry.id))) or 0,
                  "referral_max_id": session.scalar(select(func.max(Referral.id))) or 0}
        db.dispose()
    if counts.get("steering") and shared["release_id"] is None:
        raise SystemExit("no published stuurinformatie release: generate with bench/generate.py --peak")
    return chosen, shared, {"counts": counts, **before}


# --- one client process: a thread per simulated user -----------------------------------------------

class Tally:
    """What one client process saw. Plain lists and dicts, so it crosses the process boundary."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.errors: Counter[str] = Counter()
        self.journal_acked: dict[str, int] = {}
        self.journal_unacked: list[str] = []   # sent, but no answer: may or may not be stored
        self.journal_refused: list[str] = []   # answered but not acknowledged: must not be stored
        self.referrals_acked: dict[str, int] = {}
        self.wake_lag: list[float] = []        # seconds a thread woke later than its think time asked
        self.logins: list[float] = []

    def record(self, action: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[action].append(seconds)
            self.statuses[(action, status)] += 1
            if status not in EXPECTED.get(action, (200,)):
                self.errors[f"{action}: status {status}"] += 1

    def as_dict(self) -> dict:
        return {"latencies": dict(self.latencies), "statuses": [[a, s, n] for (a, s), n in self.statuses.items()],
                "errors": dict(self.errors), "journal_acked": self.journal_acked,
                "journal_unacked": self.journal_unacked, "journal_refused": self.journal_refused,
                "referrals_acked": self.referrals_acked, "wake_lag": self.wake_lag, "logins": self.logins}


def act(browser: Browser, user: User, plan: Plan, action: str, rng: random.Random, tally: Tally) -> None:
    """Send the one request of ``action`` and record its latency and status."""
    case_id = rng.choice(user.own_cases) if user.own_cases else None
    marker = None
    release = f"/stuurinformatie/publicaties/{plan.release_id}"
    gets = {
        "start page": lambda: "/",
        "caseload (own)": lambda: "/casussen/",
        "case file": lambda: f"/casussen/{case_id}",
        "case file (any)": lambda: f"/casussen/{rng.choice(plan.open_cases)}",
        "journal page": lambda: f"/casussen/{case_id}/journaal",
        # mostly the first pages, now and then one further on
        "caseload (all)": lambda: f"/casussen/?alle=y&pagina={min(plan.caseload_pages, 1 + int(rng.expovariate(1 / 3)))}",
        "triage queue": lambda: "/triage/",
        "referrals list": lambda: "/verwijzingen/",
        "referral detail": lambda: f"/verwijzingen/{rng.choice(plan.referrals)}",
        "releases": lambda: "/stuurinformatie/",
        "release page": lambda: release,
        "release table csv": lambda: f"{release}/{plan.release_table}.csv",
        "release workbook": lambda: f"{release}.xlsx",
    }
    if action in gets:
        method, path, body, headers = "GET", gets[action](), None, None
    elif action == "search":
        target, form = rng.choice(SEARCHES)
        method, path = "POST", target
        body, headers = _form({"csrf_token": browser.csrf, **form})
    elif action == "journal write":
        marker = f"{MARKER}{uuid.uuid4().hex}"
        method, path = "POST", f"/casussen/{case_id}/journaal"
        body, headers = _form({"csrf_token": browser.csrf, "kind": "contact_family",
                               "occurred_at": datetime.now().strftime("%Y-%m-%dT%H:%M"),
                               "body": f"Fictief piekbelastingverslag {marker}"})
    elif action == "api referral":
        marker = f"{MARKER}{uuid.uuid4().hex}"
        method, path, body = "POST", "/api/v1/verwijzingen", api_payload(marker)
        headers = {"Authorization": f"Bearer {plan.api_token}", "Content-Type": "application/json"}
    else:
        raise ValueError(f"{user.account.role}: unknown action {action}")
    started = time.perf_counter()
    try:
        status, _, text = browser.request(method, path, body, headers)
    except Exception as exc:  # noqa: BLE001 - a refused or dropped connection is an error, counted
        elapsed = time.perf_counter() - started
        with tally.lock:
            tally.latencies[action].append(elapsed)
            tally.errors[f"{action}: {type(exc).__name__}"] += 1
            if action == "journal write":
                tally.journal_unacked.append(marker)
        return
    tally.record(action, status, time.perf_counter() - started)
    if action == "journal write":
        with tally.lock:
            (tally.journal_acked.__setitem__(marker, case_id) if status == 302
             else tally.journal_refused.append(marker))
    elif action == "api referral" and status == 201:
        with tally.lock:
            tally.referrals_acked[marker] = json.loads(text)["id"]


def _form(data: dict) -> tuple[bytes, dict[str, str]]:
    return urlencode(data).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def simulate(browser: Browser, user: User, plan: Plan, start_at: float, tally: Tally) -> None:
    try:
        _simulate(browser, user, plan, start_at, tally)
    except Exception as exc:  # noqa: BLE001 - a user that stops early is an error of the run, counted
        with tally.lock:
            tally.errors[f"simulated user stopped: {exc!r}"[:200]] += 1


def _simulate(browser: Browser, user: User, plan: Plan, start_at: float, tally: Tally) -> None:
    rng = random.Random(f"{user.account.username}-{start_at}")
    actions, weights = zip(*ACTIONS[user.account.role].items())
    deadline = start_at + plan.seconds
    time.sleep(max(0.0, start_at - time.time()))
    spent, done = 0.0, 0
    while done < plan.max_requests:
        mean_latency = spent / done if done else 0.0
        think = rng.expovariate(1 / max(0.05, plan.cycles[user.account.role] - mean_latency))
        wake = time.time() + think
        if wake >= deadline:
            return
        time.sleep(think)
        lag = time.time() - wake
        with tally.lock:
            tally.wake_lag.append(lag)
        action = rng.choices(actions, weights)[0]
        started = time.perf_counter()
        act(browser, user, plan, action, rng, tally)
        spent += time.perf_counter() - started
        done += 1


def client_process(users: list[User], plan: Plan, ready, go, start_at, results) -> None:  # noqa: ANN001
    """Log the users in (a few at a time), report ready, wait for the common start, run, report."""
    tally = Tally()
    browsers: dict[str, Browser] = {}

    def login(user: User) -> None:
        browser = Browser(plan.port)
        started = time.perf_counter()
        browser.login(user.account)
        tally.logins.append(time.perf_counter() - started)
        browsers[user.account.username] = browser

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(login, users))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the run
        ready.put(f"login failed: {exc!r}")
        return
    ready.put("ready")
    go.wait()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    threads = [threading.Thread(target=simulate, args=(browsers[u.account.username], u, plan, start_at.value, tally),
                                daemon=True) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(plan.seconds + 120)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome = tally.as_dict()
    outcome["cpu_seconds"] = usage.ru_utime + usage.ru_stime - cpu_before
    outcome["stuck_threads"] = sum(thread.is_alive() for thread in threads)
    results.put(outcome)


# --- the run, and the checks afterwards ------------------------------------------------------------

def merge(parts: list[dict]) -> dict:
    merged: dict = {"latencies": defaultdict(list), "statuses": Counter(), "errors": Counter(), "journal_acked": {},
                    "journal_unacked": [], "journal_refused": [], "referrals_acked": {}, "wake_lag": [],
                    "logins": [], "cpu_seconds": [], "stuck_threads": 0}
    for part in parts:
        for action, values in part["latencies"].items():
            merged["latencies"][action] += values
        for action, status, n in part["statuses"]:
            merged["statuses"][(action, status)] += n
        merged["errors"].update(part["errors"])
        for key in ("journal_acked", "referrals_acked"):
            merged[key].update(part[key])
        for key in ("journal_unacked", "journal_refused", "wake_lag", "logins"):
            merged[key] += part[key]
        merged["cpu_seconds"].append(part["cpu_seconds"])
        merged["stuck_threads"] += part["stuck_threads"]
    return merged


def check_writes(env: dict[str, str], before: dict, seen: dict) -> dict:
    """Every acknowledged journal entry and API referral is stored exactly once; nothing refused is."""
    from sqlalchemy import select

    from mda.db import db
    from mda.journal.models import JournalEntry
    from mda.referrals.models import Referral

    app = make_app(env)
    with app.app_context():
        stored: Counter[str] = Counter()
        for entry in db.session.scalars(select(JournalEntry).where(JournalEntry.id > before["journal_max_id"])):
            body = entry.body or ""
            if MARKER in body:
                stored[body.rsplit(" ", 1)[-1]] += 1
        reasons: Counter[str] = Counter()
        for referral in db.session.scalars(select(Referral).where(Referral.id > before["referral_max_id"])):
            if referral.reason and referral.reason.startswith(f"Loadtest {MARKER}"):
                reasons[referral.reason.removeprefix("Loadtest ")] += 1
        db.dispose()
    acked, referrals = seen["journal_acked"], seen["referrals_acked"]
    return {
        "journal acknowledged": len(acked),
        "journal lost": sorted(m for m in acked if stored[m] == 0),
        "journal duplicated": sorted(m for m, n in stored.items() if n > 1),
        "journal refused but stored": sorted(m for m in seen["journal_refused"] if stored[m]),
        "journal unacknowledged, stored": sorted(m for m in seen["journal_unacked"] if stored[m]),
        "journal stored, never sent": sorted(m for m in stored if m not in acked and m not in seen["journal_unacked"]
                                             and m not in seen["journal_refused"]),
        "referrals acknowledged": len(referrals),
        "referrals lost": sorted(m for m in referrals if reasons[m] == 0),
        "referrals duplicated": sorted(m for m, n in reasons.items() if n > 1),
    }


def server_durations(log: Path, offset: int) -> list[float]:
    """Seconds each request of the run took inside the app (its JSON request log line): the part
    of the client's latency that is not waiting for a free worker or the client's own overhead."""
    durations = []
    with log.open("rb") as lines:
        lines.seek(offset)
        for line in lines:
            if line.startswith(b"{") and b'"duration_ms"' in line:
                durations.append(json.loads(line)["duration_ms"] / 1000)
    return durations


def verify_chain(env: dict[str, str]) -> tuple[bool, str, float]:
    from mda.audit.trail import verify
    from mda.db import db
    app = make_app(env)
    started = time.monotonic()
    with app.app_context():
        report = verify(db.session)
        db.dispose()
    return report.intact, str(report), time.monotonic() - started


def figures(values: list[float]) -> dict:
    if not values:
        return {"requests": 0}
    return {"requests": len(values), "p50": percentile(values, 0.50) * 1000, "p95": percentile(values, 0.95) * 1000,
            "p99": percentile(values, 0.99) * 1000, "max": max(values) * 1000}


def run(args: argparse.Namespace) -> int:  # noqa: C901
    workdir: Path = args.workdir
    env = json.loads((workdir / "env.json").read_text())
    manifest = Manifest.from_json((workdir / "manifest.json").read_text())
    users, shared, before = prepare(env, manifest, args.users)
    database = env["MDA_DATABASE_URL"].split(":")[0].split("+")[0]
    print(f"== national peak on {workdir} ({database}): {len(users)} users {before['counts']}, target "
          f"{args.rate:g} req/s for {args.seconds:g} s, {args.workers} gunicorn workers, "
          f"{args.processes} client process(es)", flush=True)
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    start_at = context.Value("d", 0.0)
    with Gunicorn(env, workers=args.workers, log=workdir / "gunicorn-peak.log") as server:
        paced = sum(PACE[role] * n for role, n in before["counts"].items())
        plan = Plan(port=server.port, cycles={role: paced / args.rate / pace for role, pace in PACE.items()},
                    seconds=args.seconds,
                    max_requests=args.max_requests, api_token=manifest.api_token, **shared)
        groups = [users[i::args.processes] for i in range(args.processes)]
        processes = [context.Process(target=client_process, args=(group, plan, ready, go, start_at, results))
                     for group in groups if group]
        login_started = time.monotonic()
        for process in processes:
            process.start()
        try:
            for _ in processes:
                message = ready.get(timeout=600)
                if message != "ready":
                    raise SystemExit(message)
            print(f"{len(users)} users logged in in {time.monotonic() - login_started:.1f} s; load starts",
                  flush=True)
            log_offset = (workdir / "gunicorn-peak.log").stat().st_size
            start_at.value = time.time() + 1.0
            go.set()
            parts = [results.get(timeout=args.seconds + 300) for _ in processes]
        finally:
            go.set()
            for process in processes:
                process.join(30)
                if process.is_alive():
                    process.terminate()
        wall = args.seconds  # no request starts after the deadline; the last ones end just after it
        memory = server.peak_memory_mb()
    seen = merge(parts)
    served = server_durations(workdir / "gunicorn-peak.log", log_offset)
    every = [value for values in seen["latencies"].values() for value in values]
    total = len(every)
    report: dict = {"workdir": str(workdir), "database": database, "users": before["counts"], "rate_target": args.rate,
                    "seconds": args.seconds, "workers": args.workers, "processes": args.processes,
                    "requests": total, "achieved_rps": total / wall, "overall": figures(every),
                    "actions": {action: figures(values) for action, values in sorted(seen["latencies"].items())},
                    "errors": dict(seen["errors"]), "worker_peak_mb": memory, "server": figures(served)}
    cpu = sum(seen["cpu_seconds"])
    report["client"] = {"cpu_seconds": cpu, "cpu_ms_per_request": cpu / total * 1000 if total else None,
                        "cpu_share_of_one_core": cpu / wall,
                        "wake_lag_p50_ms": percentile(seen["wake_lag"], 0.5) * 1000 if seen["wake_lag"] else None,
                        "wake_lag_p99_ms": percentile(seen["wake_lag"], 0.99) * 1000 if seen["wake_lag"] else None,
                        "login_p50_s": percentile(seen["logins"], 0.5) if seen["logins"] else None,
                        "stuck_threads": seen["stuck_threads"]}
    print(f"\n{total} requests in {wall:.1f} s: {total / wall:.1f} req/s (target {args.rate:g})")
    print(f"{'action':22} {'req':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for action, f in [*report["actions"].items(), ("OVERALL", report["overall"])]:
        if f["requests"]:
            print(f"{action:22} {f['requests']:6d} {f['p50']:8.1f} {f['p95']:8.1f} {f['p99']:8.1f} {f['max']:8.1f}")
    if served:
        f = report["server"]
        print(f"{'(server side, app log)':22} {f['requests']:6d} {f['p50']:8.1f} {f['p95']:8.1f} {f['p99']:8.1f} "
              f"{f['max']:8.1f}")
    statuses = ", ".join(f"{a} {s}: {n}" for (a, s), n in sorted(seen["statuses"].items()))
    print(f"statuses: {statuses}")
    print("errors: " + (", ".join(f"{what}: {n}" for what, n in sorted(seen["errors"].items())) or "none"))
    client = report["client"]
    print(f"client: {cpu:.1f} CPU s ({client['cpu_ms_per_request'] or 0:.2f} ms per request, "
          f"{client['cpu_share_of_one_core']:.0%} of one core) in {args.processes} process(es); think-time wake lag "
          f"p50 {client['wake_lag_p50_ms'] or 0:.1f} ms, p99 {client['wake_lag_p99_ms'] or 0:.1f} ms; "
          f"stuck threads {client['stuck_threads']}")
    print("worker peak RSS (VmHWM): " + ", ".join(f"{mb:.0f} MB" for mb in memory.values()))

    writes = check_writes(env, before, seen)
    report["writes"] = writes
    lost = {key: value for key, value in writes.items() if isinstance(value, list) and value}
    print(f"writes: {writes['journal acknowledged']} journal entries and {writes['referrals acknowledged']} API "
          f"referrals acknowledged; " + ("every one stored exactly once, nothing refused stored" if not lost else
                                         "; ".join(f"{k}: {len(v)} (e.g. {v[:3]})" for k, v in lost.items())))
    intact, description, seconds = verify_chain(env)
    report["audit_chain"] = {"intact": intact, "report": description, "seconds": seconds}
    print(f"audit chain: {description} ({seconds:.1f} s)")

    failures = []
    if total < args.rate * args.seconds / 2:
        failures.append(f"only {total} requests: less than half the target")
    if report["overall"].get("p95", 0) >= args.p95_limit:
        failures.append(f"overall p95 {report['overall']['p95']:.1f} ms >= {args.p95_limit:g} ms")
    if seen["errors"]:
        failures.append(f"{sum(seen['errors'].values())} errors")
    if any(value for key, value in lost.items() if key != "journal unacknowledged, stored"):
        failures.append("lost, duplicated or wrongly stored writes")
    if not intact:
        failures.append("audit chain broken")
    if client["stuck_threads"]:
        failures.append(f"{client['stuck_threads']} simulated users did not finish")
    report["failures"] = failures
    (workdir / "peak-results.json").write_text(json.dumps(report, indent=2, default=str))
    print("RESULT: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a data set made by bench/generate.py --peak")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=75.0, help="target requests per second, all users together")
    parser.add_argument("--seconds", type=float, default=300.0, help="duration of the load (after the logins)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--processes", type=int, default=2,
                        help="client processes (the users are spread over them, a thread per user)")
    parser.add_argument("--max-requests", type=int, default=2000, help="upper bound of requests per user")
    parser.add_argument("--p95-limit", type=float, default=100.0, help="overall p95 in ms that fails the run")
    args = parser.parse_args()
    if not 1 <= args.processes <= args.users:
        parser.error("--processes must be between 1 and --users")
    sys.exit(run(args))


if __name__ == "__main__":
    main()
