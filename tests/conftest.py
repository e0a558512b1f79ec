"""Shared fixtures: one migrated database per test run (SQLite by default, PostgreSQL when
MDA_DATABASE_URL points at it), emptied after every test."""
from __future__ import annotations

import base64
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from datetime import datetime
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, text

from mda import create_app, timeutil
from mda.db import db
from mda.migrate import upgrade
from mda.models import metadata

REFERENCE_TABLES = {"municipalities", "ave_levels", "disciplines", "pilot_periods"}


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def key_config(field_keys: dict[str, str] | None = None, current: int | None = None,
               blind_index_key: str | None = None, audit_key: str | None = None) -> dict[str, Any]:
    field_keys = field_keys or {"1": new_key()}
    return {
        "FIELD_KEYS": field_keys,
        "CURRENT_FIELD_KEY_ID": current or max(int(key) for key in field_keys),
        "BLIND_INDEX_KEY": blind_index_key or new_key(),
        "AUDIT_KEY": audit_key or new_key(),
    }


def reset_postgres_schema(url: str, schema: str = "public") -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("MDA_DATABASE_URL")
    if url and url.startswith("postgresql"):
        reset_postgres_schema(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def keys() -> dict[str, Any]:
    return key_config()


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


def build_app(database_url: str, keys: dict[str, Any], instance_dir: Path, **overrides: Any) -> Flask:
    os.environ["MDA_INSTANCE_PATH"] = str(instance_dir)
    # CSRF and the per-address rate limit are switched on by the tests that are about them.
    config = {"MODE": "test", "SECRET_KEY": "test-secret-key-" + "x" * 32, "DATABASE_URL": database_url,
              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **keys, **overrides}
    return create_app(config)


@pytest.fixture(scope="session")
def migrated(database_url: str, keys: dict[str, Any], instance_dir: Path) -> str:
    app = build_app(database_url, keys, instance_dir)
    with app.app_context():
        upgrade(db.engine)
        db.dispose()
    return database_url


@pytest.fixture
def app(migrated: str, keys: dict[str, Any], instance_dir: Path) -> Iterator[Flask]:
    app = build_app(migrated, keys, instance_dir)
    yield app
    with app.app_context():
        empty_database()
        db.dispose()


def empty_database() -> None:
    with db.engine.begin() as connection:
        with append_only_lifted(connection):
            for table in reversed(metadata.sorted_tables):
                if table.name not in REFERENCE_TABLES:
                    connection.execute(table.delete())
        connection.execute(text("INSERT INTO audit_chain_head (id, last_event_id, last_hash) "
                                "VALUES (1, NULL, :genesis)"), {"genesis": "0" * 64})


@contextmanager
def append_only_lifted(connection: Connection) -> Iterator[None]:
    """For tests only: lift the database's refusal to change audit records, inside ``connection``'s
    transaction, to empty the database or to play an attacker.

    PostgreSQL: ``session_replication_role = replica`` skips ordinary triggers; only a superuser
    (the test database's owner here) may set it, never the app's role in production (README).
    SQLite has no roles: whoever holds the file can drop a trigger, so that is what this does, and
    the same transaction creates the triggers again from their stored definition."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        connection.execute(text("SET LOCAL session_replication_role = origin"))
        return
    if not connection.connection.dbapi_connection.in_transaction:
        # pysqlite runs DDL outside a transaction unless one is open: dropped triggers would
        # outlive a rollback.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    triggers = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                       "AND tbl_name = 'audit_events'")).all()
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        connection.execute(text(sql))


@pytest.fixture
def clock() -> Iterator[Callable[[datetime], None]]:
    """Move the app's clock: ``clock(moment)``; released after the test."""
    yield timeutil.freeze
    timeutil.freeze(None)


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An application context: db.session is usable inside."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- the logs of the whole suite never contain personal data ----------------------------------------
# Every log record of the run (any logger, INFO and up) is written as the app writes it (JSON lines)
# to one file; when the session ends, the file is scanned for the personal values the tests use and
# for anything shaped like a BSN. A hit fails the run, naming the value's kind, never the value.

_SUITE_LOG: dict[str, Any] = {}
LOG_MARKERS = (
    "Zzmarker", "Qqvoorbeeld",                        # tests/test_encryption_at_rest.py
    "Matrixvoorbeeld", "Anderezaak", "Matrixlaan",    # tests/test_access_matrix.py
    "Logmarkernaam",                                  # tests/test_monitoring.py
)


def pytest_configure(config: pytest.Config) -> None:
    import logging
    import tempfile
    from mda.monitoring.logs import JsonFormatter, RequestIdFilter
    path = Path(tempfile.mkdtemp(prefix="mda-suite-logs-")) / "suite.jsonl"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)
    _SUITE_LOG.update(path=path, handler=handler)


def personal_data_in_log(text: str) -> list[str]:
    """Kinds of personal data found in ``text``: a marker value of the tests, or a BSN."""
    import re
    from tests.factories import BSN_A, BSN_B, BSN_C
    found = [f"marker {marker[:3]}…" for marker in LOG_MARKERS if marker in text]
    found += ["a test BSN" for bsn in (BSN_A, BSN_B, BSN_C) if bsn in text]
    for candidate in re.findall(r"(?<![0-9A-Za-z])\d{9}(?![0-9A-Za-z])", text):
        if sum(int(d) * w for d, w in zip(candidate, (9, 8, 7, 6, 5, 4, 3, 2, -1))) % 11 == 0:
            found.append("a number that passes the BSN eleven-test")
            break
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import logging
    handler = _SUITE_LOG.get("handler")
    if handler is None:
        return
    logging.getLogger().removeHandler(handler)
    handler.close()
    path: Path = _SUITE_LOG["path"]
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = personal_data_in_log(text)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter:
            reporter.write_line(f"PERSONAL DATA IN THE LOGS OF THIS RUN ({path}): {', '.join(sorted(set(found)))}",
                                red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter and text:
        reporter.write_line(f"log scan: {text.count(chr(10))} log lines of this run, no personal data found")
