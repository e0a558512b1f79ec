"""Serve a generated data set with gunicorn (2 sync workers, 127.0.0.1) and measure pages.

    python bench/run.py --workdir /tmp/mda-bench/pilot-sqlite --workdir /tmp/mda-bench/national-sqlite

For each work directory (made by bench/generate.py): requests per second and p50/p95/p99 latency
of the login page, the caseload (own, and the team lead's whole caseload), a case file, the
huisverboden overview, the metrics dashboard (/stuurinformatie/, skipped when absent) and the
bare /hello route of the same app (bench/app.py), each page's throughput as a ratio to /hello,
and the peak resident memory (VmHWM) of each worker. Results also go to <workdir>/results.json;
with several work directories the tables are printed side by side at the end.

The client runs on the same machine (Python threads, http.client, a new connection per request
because sync workers close it), so absolute numbers are lower than with a separate load
generator; the ratios to /hello are the comparable figures. The per-address login limit is off
(all requests come from 127.0.0.1); see tests/system/harness.server_env.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.system.harness import Browser, Gunicorn, Manifest, make_app  # noqa: E402

TARGETS = "case file and coordinator's caseload >= 50% of /floor's throughput, team lead's whole caseload >= 40%; " \
          "/floor >= 40% of /hello; case file and caseload p95 < 50 ms; metrics p95 < 300 ms; " \
          "national case-file p95 <= 1.5x pilot; worker peak memory < 200 MB; search p95: coordinator " \
          "< 100 ms, team lead over a region's caseload (--cases 650) < 300 ms"
SEARCHES = [("/zoeken", {"q": "an"}), ("/zoeken", {"q": "persoon 12"}), ("/zoeken", {"q": "de vries 01-05-1980"}), ("/zoeken", {"q": "MDA-2026-0001"}),
            ("/zoeken", {"q": "999990019"})]
FLOOR = "floor (signed in, 1 audit)"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(port: int, cookies: dict[str, str], paths: list, requests: int, concurrency: int) -> dict:
    """GET each path in turn; a ``(path, form)`` entry is POSTed with the session's CSRF token
    instead (the search: its text never goes into a URL)."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def work() -> None:
        browser = Browser(port)
        browser.cookies = dict(cookies)
        if any(isinstance(path, tuple) for path in paths):
            browser.get("/zoeken")  # the CSRF token of this session
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            path = paths[number % len(paths)]
            started = time.perf_counter()
            if isinstance(path, tuple):
                status, _, _ = browser.post(path[0], path[1])
            else:
                status, _, _ = browser.request("GET", path)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(status)

    for path in paths[:10]:  # warm-up: templates compiled, caches filled, connections in the pool
        if isinstance(path, tuple):
            warm = _with(cookies, port)
            warm.get("/zoeken")
            warm.post(path[0], path[1])
        else:
            Browser(port).request("GET", path) if not cookies else _with(cookies, port).request("GET", path)
    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "rps": len(latencies) / wall, "p50": percentile(latencies, 0.50) * 1000,
            "p95": percentile(latencies, 0.95) * 1000, "p99": percentile(latencies, 0.99) * 1000,
            "failures": len(failures), "failure_statuses": sorted(set(failures))}


def _with(cookies: dict[str, str], port: int) -> Browser:
    browser = Browser(port)
    browser.cookies = dict(cookies)
    return browser


def accounts_and_cases(env: dict[str, str], manifest: Manifest) -> tuple[dict, list[int]]:
    from sqlalchemy import select

    from mda.accounts.models import User
    from mda.db import db
    from mda.teams.models import TeamMembership, TeamRole
    by_role = {}
    for account in manifest.accounts:
        by_role.setdefault(account.role, account)
    app = make_app(env)
    with app.app_context():
        coordinator = db.session.scalars(select(User).where(User.username == by_role["coordinator"].username)).one()
        case_ids = list(db.session.scalars(select(TeamMembership.case_id).where(
            TeamMembership.user_id == coordinator.id, TeamMembership.team_role == TeamRole.COORDINATOR)
            .order_by(TeamMembership.case_id)))
        db.dispose()
    return by_role, case_ids


def combine(rounds: list[dict]) -> dict:
    """One page's figures over several rounds: the median of each, and the spread of p95."""
    combined = {key: statistics.median(r[key] for r in rounds) for key in ("rps", "p50", "p95", "p99")}
    combined.update(requests=sum(r["requests"] for r in rounds), failures=sum(r["failures"] for r in rounds),
                    failure_statuses=sorted({s for r in rounds for s in r["failure_statuses"]}),
                    p95_min=min(r["p95"] for r in rounds), p95_max=max(r["p95"] for r in rounds),
                    rounds=len(rounds))
    return combined


def run_one(workdir: Path, requests: int, concurrency: int, rounds: int = 1, only: list[str] | None = None) -> dict:
    env = json.loads((workdir / "env.json").read_text())
    manifest = Manifest.from_json((workdir / "manifest.json").read_text())
    generation = json.loads((workdir / "generation.json").read_text())
    by_role, case_ids = accounts_and_cases(env, manifest)
    database = env["MDA_DATABASE_URL"].split(":")[0].split("+")[0]
    closed = generation.get("closed", 0)
    label = f"{generation['cases']} cases{f' ({closed} closed)' if closed else ''}, {database}"
    print(f"\n== {workdir.name}: {label} ({generation['journal']} journal entries, {generation['audit']} audit "
          f"records); {requests} requests per page, {concurrency} concurrent clients", flush=True)
    results: dict = {"label": label, "generation": generation, "pages": {}}
    with Gunicorn(env, app_spec="bench.app:create_bench_app()", log=workdir / "gunicorn.log") as server:
        sessions = {}
        for role in ("coordinator", "lead", "steering"):
            browser = Browser(server.port)
            browser.login(by_role[role])
            sessions[role] = browser.cookies
        metrics_status = _with(sessions["steering"], server.port).request("GET", "/stuurinformatie/")[0]
        pages = [
            ("hello (bare route)", None, ["/hello"]),
            (FLOOR, "coordinator", ["/floor"]),
            ("login page", None, ["/inloggen"]),
            ("caseload (own)", "coordinator", ["/casussen/"]),
            ("caseload (all, team lead)", "lead", ["/casussen/?alle=y", "/casussen/?alle=y&pagina=7"]),
            ("case file", "coordinator", [f"/casussen/{case_id}" for case_id in case_ids]),
            ("huisverboden", "lead", ["/huisverboden"]),
            # A partial name (decrypts the permitted set), a name with birth date, a case number, a BSN.
            ("search (coordinator)", "coordinator", SEARCHES),
            ("search (team lead, all)", "lead", SEARCHES),
        ]
        if metrics_status == 200:
            pages.append(("stuurinformatie", "steering", ["/stuurinformatie/"]))
        else:
            results["note"] = f"/stuurinformatie/ answered {metrics_status}: metrics dashboard skipped"
            print(results["note"])
        if only:  # the bare route and the floor stay: the ratios are relative to them
            pages = [page for page in pages if page[0].startswith("hello") or page[0] == FLOOR
                     or any(word in page[0] for word in only)]
        measured: dict[str, list[dict]] = {}
        for _ in range(rounds):  # rounds interleave the pages, so a slow moment hits all of them alike
            for name, role, paths in pages:
                measured.setdefault(name, []).append(
                    measure(server.port, sessions.get(role, {}), paths, requests, concurrency))
        results["pages"] = {name: combine(figures) for name, figures in measured.items()}
        results["worker_peak_mb"] = server.peak_memory_mb()
    hello = results["pages"]["hello (bare route)"]["rps"]
    floor = results["pages"][FLOOR]["rps"]
    from bench.commit_rate import commit_rate
    scratch = (env["MDA_DATABASE_URL"] if database == "postgresql"
               else f"sqlite:///{workdir / 'commit-rate-scratch.sqlite'}")  # same disk as the data set
    results["commit_rate"] = commit_rate(scratch)
    Path(workdir / "commit-rate-scratch.sqlite").unlink(missing_ok=True)
    if rounds > 1:
        print(f"median of {rounds} rounds; p95 range is the lowest and highest p95 of a round")
    print(f"{'page':28} {'req':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p95 range':>13} {'p99 ms':>7} "
          f"{'x hello':>8} {'x floor':>8} fail")
    for name, f in results["pages"].items():
        f["ratio"] = f["rps"] / hello
        f["floor_ratio"] = f["rps"] / floor
        spread = f"{f['p95_min']:.1f}-{f['p95_max']:.1f}"
        print(f"{name:28} {f['requests']:5d} {f['rps']:7.1f} {f['p50']:7.1f} {f['p95']:7.1f} {spread:>13} "
              f"{f['p99']:7.1f} {f['ratio']:7.0%} {f['floor_ratio']:7.0%} {f['failures']}{f['failure_statuses'] or ''}")
    rate = results["commit_rate"]
    print(f"disk: {rate['per_second']:.0f} single-row durable commits/s ({rate['ms_per_commit']:.3f} ms each); "
          f"/floor {floor:.0f} req/s = {floor / rate['per_second']:.0%} of it, /hello {hello:.0f} req/s")
    print("worker peak RSS (VmHWM): " + ", ".join(f"{mb:.0f} MB" for mb in results["worker_peak_mb"].values()))
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, action="append", required=True)
    parser.add_argument("--requests", type=int, default=300, help="requests per page (bounded)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="measure every page this many times; "
                        "medians are reported (this machine's p95 moves by up to 30%% between runs)")
    parser.add_argument("--only", action="append", help="measure only the pages whose name contains this "
                        "(repeatable), e.g. --only search --only 'case file'; the bare route and the floor are always measured")
    args = parser.parse_args()
    all_results = [run_one(workdir, args.requests, args.concurrency, args.rounds, args.only)
                   for workdir in args.workdir]
    if len(all_results) > 1:
        print("\n== side by side: p95 ms (share of /hello throughput, share of /floor throughput)")
        print(f"{'page':28} " + " ".join(f"{r['label']:>30}" for r in all_results))
        for name in all_results[0]["pages"]:
            cells = []
            for r in all_results:
                f = r["pages"].get(name)
                cells.append(f"{f['p95']:7.1f} ms ({f['ratio']:4.0%}, {f['floor_ratio']:4.0%})" if f else "—")
            print(f"{name:28} " + " ".join(f"{c:>30}" for c in cells))
        print(f"{'disk commits/s':28} " + " ".join(f"{r['commit_rate']['per_second']:>30.0f}" for r in all_results))
    print(f"\ntargets: {TARGETS}")


if __name__ == "__main__":
    main()
