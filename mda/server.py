"""``mda serve`` and ``mda demo``: the app under gunicorn, configured from the environment.

    MDA_BIND              address(es) to listen on, comma-separated   (default 127.0.0.1:8000)
    MDA_WORKERS           worker processes                            (default 2)
    MDA_THREADS           threads per worker; > 1 uses gthread        (default 1: sync workers)
    MDA_TIMEOUT           seconds a request may take before the worker is restarted (default 30)
    MDA_GRACEFUL_TIMEOUT  seconds to finish running requests on restart/stop          (default 30)
    MDA_KEEPALIVE         seconds to keep an idle connection (threads > 1)            (default 5)
    MDA_MAX_REQUESTS      restart a worker after this many requests, 0 = never        (default 0)
    MDA_TRUSTED_PROXIES   see mda.create_app: forwarded headers are honoured by ProxyFix in the
                          app only; gunicorn itself trusts none, so there is one place that decides.

Each worker builds its own app after the fork (no preloading: no database connection or pool is
ever shared between processes). The master builds one first, only to check the configuration,
so a missing key or setting stops ``mda serve`` with one line before any worker starts.
Metrics of all workers are added up through prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, a fresh private folder unless the operator sets one).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .config import ConfigError

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class ServerSettings:
    bind: tuple[str, ...] = ("127.0.0.1:8000",)
    workers: int = 2
    threads: int = 1
    timeout: int = 30
    graceful_timeout: int = 30
    keepalive: int = 5
    max_requests: int = 0


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(f"MDA_{name}", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"MDA_{name} must be a whole number of at least {minimum}, not {raw!r}.")
    return value


def server_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
    """Settings from MDA_* variables; command-line options (``overrides``, None = not given) win."""
    env = os.environ if env is None else env
    bind = tuple(part.strip() for part in env.get("MDA_BIND", "").split(",") if part.strip())
    settings = ServerSettings(
        bind=bind or ServerSettings.bind,
        workers=_whole(env, "WORKERS", ServerSettings.workers, 1),
        threads=_whole(env, "THREADS", ServerSettings.threads, 1),
        timeout=_whole(env, "TIMEOUT", ServerSettings.timeout, 1),
        graceful_timeout=_whole(env, "GRACEFUL_TIMEOUT", ServerSettings.graceful_timeout, 0),
        keepalive=_whole(env, "KEEPALIVE", ServerSettings.keepalive, 0),
        max_requests=_whole(env, "MAX_REQUESTS", ServerSettings.max_requests, 0),
    )
    given = {name: value for name, value in overrides.items() if value is not None}
    if "bind" in given and isinstance(given["bind"], str):
        given["bind"] = tuple(part.strip() for part in given["bind"].split(",") if part.strip())
    return ServerSettings(**{**settings.__dict__, **given})


def gunicorn_options(settings: ServerSettings,
                     in_each_worker: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """gunicorn's settings. ``in_each_worker(app)`` runs in every worker process once its app is
    built (gunicorn's ``post_worker_init``): work that opens SQLite connections of its own belongs
    there, never in the master, whose open connections every forked worker would inherit."""
    options = {
        "bind": list(settings.bind),
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread" if settings.threads > 1 else "sync",
        "timeout": settings.timeout,
        "graceful_timeout": settings.graceful_timeout,
        "keepalive": settings.keepalive,
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests // 10,
        "preload_app": False,
        "proc_name": "mda",
        # gunicorn's control socket has one default path per user: two instances on one machine
        # would take it from each other, and nothing here uses it.
        "control_socket_disable": True,
        # Forwarded headers are the app's business (ProxyFix, MDA_TRUSTED_PROXIES): gunicorn must
        # not turn X-Forwarded-Proto into https on its own.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        # No access log: a request line carries the path and query (a search term can be a name).
        # The app logs every request itself, as JSON with its endpoint name (mda.monitoring).
        "accesslog": None,
        "errorlog": "-",
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "mda.monitoring.logs.JsonFormatter"}},
            "handlers": {"stderr": {"()": "mda.monitoring.logs.json_handler"}},
            "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
            # Every library's warnings as JSON too; the app's logger ("mda") propagates here.
            "root": {"level": "WARNING", "handlers": ["stderr"]},
        },
        "child_exit": _child_exit,
        "on_starting": _log_each_line_once,
    }
    if in_each_worker is not None:
        options["post_worker_init"] = lambda worker: in_each_worker(worker.wsgi)
    return options


def _log_each_line_once(_server: Any) -> None:
    # gunicorn has just given the root logger its JSON handler; an app created in this process
    # before that (the demo's, which loads its data here) still has its own on the "mda" logger,
    # and would write every line twice.
    from .monitoring.logs import configure_logging
    configure_logging()


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)


def _metrics_folder() -> tuple[Path, bool]:
    """The multiprocess folder: the operator's (emptied: stale files would add old counts) or a
    fresh private one that is removed again when the server stops."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return folder, False
    folder = Path(tempfile.mkdtemp(prefix="mda-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder, True


def run(factory: Callable[[], Any], settings: ServerSettings,
        in_each_worker: Callable[[Any], None] | None = None) -> None:
    """Check the configuration once, then serve ``factory()`` under gunicorn until stopped
    (``in_each_worker``: see ``gunicorn_options``)."""
    from gunicorn.app.base import BaseApplication

    folder, temporary = _metrics_folder()  # before anything imports prometheus_client here
    master = os.getpid()
    try:
        _check(factory)

        class _Server(BaseApplication):
            def load_config(self) -> None:
                for name, value in gunicorn_options(settings, in_each_worker).items():
                    self.cfg.set(name, value)

            def load(self) -> Any:
                return factory()

        _Server().run()
    finally:
        if temporary and os.getpid() == master:  # a worker leaves through here too (SystemExit)
            shutil.rmtree(folder, ignore_errors=True)


def _check(factory: Callable[[], Any]) -> None:
    from .db import db
    app = factory()  # raises ConfigError with the one line to show
    with app.app_context():
        db.dispose()
