"""CPU time per request of /hello, /floor, the caseload, a case file and the search, in process.

"noaudit" is /floor-noaudit (bench/app.py): signed in, nothing recorded; the floor minus it is the
cost of the audit append and its durable commit.

    python bench/floor_profile.py --workdir /tmp/h19c-bench/pilot-sqlite [--workdir ...pilot-pg]
    python bench/floor_profile.py --workdir /tmp/h19c-bench/pilot-sqlite --profile /floor  # cProfile

The bench app (bench/app.py) of a data set made by bench/generate.py runs in this process behind
Flask's test client; a coordinator signs in through the real login (password and TOTP code). Each
page is requested N times per batch and the batch's ``time.process_time`` is divided by N: CPU
time of this process only, so the fsync wait of the durable commit and, mostly, the other
processes on a shared machine are left out (the PostgreSQL server's own work is left out too).
Batches interleave the pages; the median batch is reported, with the lowest and highest.

With ``--callgrind`` each path is instead requested N times in a child process under valgrind's
callgrind and the instructions executed per request are reported: a count that does not move with
the load on a shared machine (CPU time there moves by 30% from one run to the next). The child
reuses the session cookie of the parent's sign-in and counts only its measured loop (callgrind's
client requests through a small C helper compiled on the spot; needs valgrind, its headers and gcc).

These are not throughput figures (bench/run.py measures those through gunicorn and HTTP); they
show what a change to the signed-in request's own work saves, reproducibly on a busy machine.
"""
from __future__ import annotations

import argparse
import cProfile
import contextlib
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def bench_app(env: dict[str, str]):  # noqa: ANN201
    """bench.app's app with the settings of the data set."""
    from bench.app import create_bench_app
    from tests.system.harness import make_app
    return make_app(env, create_bench_app)


def _csrf(client, path: str) -> str:  # noqa: ANN001
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def sign_in(client, username: str, secret: str) -> None:  # noqa: ANN001
    from mda.auth import mfa
    from tests.system.harness import PASSWORD  # the accounts bench/generate.py made
    response = client.post("/inloggen", data={"csrf_token": _csrf(client, "/inloggen"), "username": username,
                                              "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    token = _csrf(client, "/inloggen/code")
    response = client.post("/inloggen/code", data={"csrf_token": token, "code": mfa.code_for(secret)})
    if response.status_code == 401:  # this 30-second step's code was used already (replay refused)
        time.sleep(30 - time.time() % 30 + 1)
        response = client.post("/inloggen/code", data={"csrf_token": token, "code": mfa.code_for(secret)})
    assert response.status_code == 302, response.status_code


def pages(app, manifest: dict, role: str = "coordinator") -> tuple[dict[str, str], tuple[str, str]]:  # noqa: ANN001
    """The pages to measure and the account (username, TOTP secret) of ``role`` who requests them:
    the coordinator, or the team lead, whose caseload is then the whole one (``?alle=y``)."""
    from sqlalchemy import select

    from mda.accounts.models import User
    from mda.db import db
    from mda.teams.models import TeamMembership, TeamRole
    account = next(a for a in manifest["accounts"] if a["role"] == role)
    with app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.username == account["username"])).one()
        case_id = db.session.scalars(select(TeamMembership.case_id).where(
            TeamMembership.user_id == user_id, TeamMembership.team_role == TeamRole.COORDINATOR)
            .order_by(TeamMembership.case_id)).first()
    return ({"hello": "/hello", "floor": "/floor", "noaudit": "/floor-noaudit",
             "caseload": "/casussen/?alle=y" if role == "lead" else "/casussen/",
             "case file": f"/casussen/{case_id}",
             "search": SEARCH},
            (account["username"], account["secret"]))


SEARCH = "/zoeken"


def _request(client, path: str, number: int):  # noqa: ANN001, ANN202
    """GET the path; the search page is POSTed instead, with bench/run.py's searches in turn (the
    text of a search never goes into a URL) and the session's CSRF token."""
    if path != SEARCH:
        return client.get(path)
    from bench.run import SEARCHES
    token = getattr(client, "_bench_csrf", None) or _csrf(client, SEARCH)
    client._bench_csrf = token
    return client.post(SEARCH, data={"csrf_token": token, **SEARCHES[number % len(SEARCHES)][1]})


def cpu_per_request(client, path: str, requests: int) -> float:  # noqa: ANN001
    """Milliseconds of this process's CPU time per request."""
    started = time.process_time()
    for number in range(requests):
        response = _request(client, path, number)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return (time.process_time() - started) * 1000 / requests


CALLGRIND_HELPER = r"""
#include <valgrind/callgrind.h>
void measure_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void measure_stop(void) { CALLGRIND_DUMP_STATS_AT("measured"); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def callgrind_helper(directory: Path):  # noqa: ANN201
    import ctypes
    source, library = directory / "measure.c", directory / "measure.so"
    if not library.exists():
        source.write_text(CALLGRIND_HELPER)
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return ctypes.CDLL(str(library))


def instructions_per_request(workdir: Path, cookie: tuple[str, str], path: str, requests: int) -> float:
    """Run ``--replay PATH`` under callgrind and read the measured loop's instruction count."""
    with tempfile.TemporaryDirectory(prefix="floor-callgrind-") as scratch:
        callgrind_helper(Path(scratch))
        out = Path(scratch) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--workdir", str(workdir), "--replay", path,
                        "--requests", str(requests)],
                       check=True, env={**os.environ, "FLOOR_COOKIE": "=".join(cookie), "FLOOR_HELPER": scratch},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for dump in Path(scratch).glob("callgrind.out*"):
            text = dump.read_text(errors="replace")
            if "Client Request: measured" in text:
                totals = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
                assert totals, dump
                return int(totals.group(1)) / requests
    raise SystemExit(f"no measured dump for {path}")


def replay(workdir: Path, path: str, requests: int) -> None:
    """The child of ``--callgrind``: signed in with the parent's cookie, warm up, then count."""
    env = json.loads((workdir / "env.json").read_text())
    app = bench_app(env)
    client = app.test_client()
    name, _, value = os.environ["FLOOR_COOKIE"].partition("=")
    client.set_cookie(name, value)
    helper = callgrind_helper(Path(os.environ["FLOOR_HELPER"]))
    with quiet_logs():
        for number in range(20):
            _request(client, path, number)
        helper.measure_start()
        cpu_per_request(client, path, requests)
        helper.measure_stop()


@contextlib.contextmanager
def quiet_logs():  # noqa: ANN201
    """The JSON log line of every request is still formatted and written (it is part of the cost),
    but to /dev/null instead of the terminal (mda.monitoring.logs writes to whatever sys.stderr is)."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, action="append", required=True)
    parser.add_argument("--requests", type=int, default=500, help="requests per page per batch (default 500)")
    parser.add_argument("--page-requests", type=int, default=50,
                        help="requests per batch of the caseload and the case file (default 50: ~10x dearer)")
    parser.add_argument("--batches", type=int, default=5, help="batches per page, interleaved (default 5)")
    parser.add_argument("--profile", metavar="PATH", help="instead: cProfile --requests requests of PATH or of a page by name "
                        "(/floor, /hello, ...) and print the top functions by own and cumulative time")
    parser.add_argument("--profile-out", metavar="FILE", help="with --profile: also write the cProfile data to FILE")
    parser.add_argument("--callgrind", action="store_true", help="instructions per request under callgrind "
                        "instead of CPU time (--requests of /hello and /floor, --page-requests of the pages)")
    parser.add_argument("--only", action="append",
                        choices=("hello", "floor", "noaudit", "caseload", "case file", "search"),
                        help="measure only these pages (repeatable)")
    parser.add_argument("--role", choices=("coordinator", "lead"), default="coordinator",
                        help="who requests the pages: a coordinator (own caseload) or a team lead (the whole "
                        "caseload, and a case it coordinates)")
    parser.add_argument("--replay", metavar="PATH", help=argparse.SUPPRESS)  # the child of --callgrind
    args = parser.parse_args()
    if args.replay:
        return replay(args.workdir[0], args.replay, args.requests)
    for workdir in args.workdir:
        env = json.loads((workdir / "env.json").read_text())
        manifest = json.loads((workdir / "manifest.json").read_text())
        app = bench_app(env)
        paths, (username, secret) = pages(app, manifest, args.role)
        if args.only:
            paths = {name: path for name, path in paths.items() if name in args.only or name == "hello"}
        client = app.test_client()
        with quiet_logs():
            sign_in(client, username, secret)
            for path in paths.values():  # warm up: compiled statements, templates, pool
                for number in range(20):
                    _request(client, path, number)
        database = env["MDA_DATABASE_URL"].split(":")[0].split("+")[0]
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU time: the fsync wait is not the app's work
            with quiet_logs():
                profiler.enable()
                cpu_per_request(client, paths.get(args.profile, args.profile), args.requests)
                profiler.disable()
            if args.profile_out:
                profiler.dump_stats(args.profile_out)  # for pstats: callers and callees of any function
            stats = pstats.Stats(profiler).strip_dirs()
            print(f"== {workdir.name} ({database}): cProfile of {args.requests} x {args.profile}")
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(45)
            continue
        if args.callgrind:
            cookie_name = app.config["SESSION_COOKIE_NAME"]
            cookie = (cookie_name, client.get_cookie(cookie_name).value)
            print(f"== {workdir.name} ({database}): instructions per request under callgrind")
            counts = {}
            for name, path in paths.items():
                count = args.requests if name in ("hello", "floor", "noaudit") else args.page_requests
                counts[name] = instructions_per_request(workdir, cookie, path, count)
                print(f"{name:10} {counts[name] / 1e6:7.3f} M  {counts['hello'] / counts[name]:5.0%} of /hello",
                      flush=True)
            continue
        figures: dict[str, list[float]] = {name: [] for name in paths}
        with quiet_logs():
            for _ in range(args.batches):
                for name, path in paths.items():
                    count = args.requests if name in ("hello", "floor", "noaudit") else args.page_requests
                    figures[name].append(cpu_per_request(client, path, count))
        print(f"== {workdir.name} ({database}): CPU ms per request, median of {args.batches} batches of "
              f"{args.requests} ({args.page_requests} of the pages; lowest-highest)")
        hello = statistics.median(figures["hello"])
        for name, values in figures.items():
            median = statistics.median(values)
            print(f"{name:10} {median:6.3f} ms  ({min(values):.3f}-{max(values):.3f})  {hello / median:5.0%} of /hello")
        app.extensions["mda.db"].engine.dispose()


if __name__ == "__main__":
    main()
