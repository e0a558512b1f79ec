"""`mda serve` (gunicorn) and the command line: help without keys, one line for a missing setting."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mda.cli import main
from mda.config import ConfigError
from mda.server import ServerSettings, gunicorn_options, server_settings

MDA = str(Path(sys.executable).parent / "mda")


def clean_env(**extra: str) -> dict[str, str]:
    """Nothing but PATH (and what the test adds): no keys, no database, no MDA_* at all."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}


def run_mda(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MDA, *arguments], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("arguments", [("--help",), ("serve", "--help")])
def test_help_works_in_a_clean_environment(arguments: tuple[str, ...], tmp_path: Path) -> None:
    result = run_mda(*arguments, env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: mda" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""
    if arguments[0] == "serve":
        assert "MDA_WORKERS" in result.stdout and "MDA_TRUSTED_PROXIES" in result.stdout


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(prefix + (name,))
        if isinstance(command, click.Group):
            found += _all_commands(command, prefix + (name,))
    return found


def test_every_commands_help_works_without_keys_or_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MDA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MDA_INSTANCE_PATH", str(tmp_path))  # an empty instance folder: no key file
    commands = _all_commands(main)
    assert ("serve",) in commands and ("db", "upgrade") in commands and len(commands) > 15
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert "Usage:" in result.output


@pytest.mark.parametrize("arguments, expected", [
    (("serve",), "Missing secrets"), (("db", "current"), "Missing secrets"),
    (("audit", "verify"), "Missing secrets")])
def test_missing_setting_is_one_line_without_traceback(arguments: tuple[str, ...], expected: str,
                                                       tmp_path: Path) -> None:
    result = run_mda(*arguments, env=clean_env(MDA_INSTANCE_PATH=str(tmp_path)), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.stderr


def test_bad_server_setting_is_one_line(tmp_path: Path) -> None:
    result = run_mda("serve", env=clean_env(MDA_INSTANCE_PATH=str(tmp_path), MDA_WORKERS="many"), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error: Configuration: MDA_WORKERS must be a whole number of at least 1, not 'many'."


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    keys = _keys_env(tmp_path)
    result = run_mda("db", "current", env=clean_env(
        **keys, MDA_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
        MDA_RATELIMIT_STORAGE_URI="memory://"), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: The database does not answer"), result.stderr


def test_server_settings_from_environment_and_options() -> None:
    assert server_settings({}) == ServerSettings()
    settings = server_settings({"MDA_BIND": "0.0.0.0:8080, [::]:8080", "MDA_WORKERS": "4", "MDA_THREADS": "2",
                                "MDA_TIMEOUT": "60", "MDA_MAX_REQUESTS": "1000"}, workers=3, timeout=None)
    assert settings.bind == ("0.0.0.0:8080", "[::]:8080") and settings.workers == 3 and settings.timeout == 60
    options = gunicorn_options(settings)
    assert options["worker_class"] == "gthread" and options["threads"] == 2 and options["max_requests_jitter"] == 100
    assert options["preload_app"] is False            # no connection pool shared across a fork
    assert options["forwarded_allow_ips"] == "" and options["secure_scheme_headers"] == {}  # ProxyFix decides
    assert options["accesslog"] is None               # request lines carry paths and queries
    assert options["control_socket_disable"] is True  # two instances on one machine
    for bad in ({"MDA_WORKERS": "0"}, {"MDA_TIMEOUT": "soon"}, {"MDA_KEEPALIVE": "-1"}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            server_settings(bad)


def _keys_env(folder: Path) -> dict[str, str]:
    from tests.system.harness import new_keys
    return {**new_keys(), "MDA_INSTANCE_PATH": str(folder)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_runs_gunicorn_with_health_and_metrics_of_all_workers(tmp_path: Path) -> None:
    """A real `mda serve` (SQLite, 2 workers): ready, metrics added up over the workers, JSON logs."""
    database = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    token = "serve-test-metrics-token-0123456789"
    env = clean_env(**_keys_env(tmp_path), MDA_DATABASE_URL=database, MDA_RATELIMIT_STORAGE_URI="memory://",
                    MDA_METRICS_TOKEN=token)
    upgraded = run_mda("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([MDA, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env,
                                  cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, body = _wait_for(port, "/health/ready", server)
        assert status == 200 and json.loads(body)["status"] == "ready"
        for _ in range(6):
            _get(port, "/inloggen")
        status, body = _get(port, "/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 200
        logins = [line for line in body.splitlines()
                  if line.startswith('mda_http_requests_total{group="auth",method="GET",status="200"}')]
        assert logins and float(logins[0].rsplit(" ", 1)[1]) == 6.0, body  # all workers, added up
        assert _get(port, "/metrics")[0] == 403
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON, gunicorn's own included
    assert any(entry.get("endpoint") == "auth.login" and entry.get("request_id") for entry in entries)
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)
    assert sum(1 for entry in entries if entry.get("endpoint") == "monitoring.ready") == 1  # logged once


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _wait_for(port: int, path: str, server: subprocess.Popen) -> tuple[int, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "mda serve stopped"
        try:
            return _get(port, path)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("mda serve did not answer")


def test_each_worker_hook_runs_with_the_workers_own_app() -> None:
    assert "post_worker_init" not in gunicorn_options(ServerSettings())
    seen = []
    options = gunicorn_options(ServerSettings(), in_each_worker=seen.append)

    class FakeWorker:  # what gunicorn hands the hook: the worker, its app already built
        wsgi = object()
    options["post_worker_init"](FakeWorker())
    assert seen == [FakeWorker.wsgi]


def test_the_demo_runs_its_jobs_in_the_app_worker_not_in_gunicorns_master(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite connections must not cross a fork: with the job thread in the master, a worker forked
    while a job held a transaction inherited SQLite's record of that lock and answered the first
    logins with "database is locked". The demo now hands its jobs to the worker process."""
    import threading

    from mda import cli, demo, server
    monkeypatch.setenv("MDA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setattr(demo, "load_demo_data", lambda: False)  # the data is not what is tested
    served = {}
    monkeypatch.setattr(server, "run", lambda factory, settings, in_each_worker=None: served.update(
        factory=factory, in_each_worker=in_each_worker))
    result = CliRunner().invoke(main, ["demo", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert served["in_each_worker"] is cli.start_demo_jobs
    assert not [thread for thread in threading.enumerate() if thread.name == "mda-worker"]  # none in the master
    app = served["factory"]()  # as in the worker, after the fork
    worker = served["in_each_worker"](app)
    try:
        assert [thread for thread in threading.enumerate() if thread.name == "mda-worker"]
        assert "publish_releases" not in {job.name for job in worker.jobs}
    finally:
        worker.stop()
        from mda.db import db
        with app.app_context():
            db.dispose()
