"""Readiness checks: the database answers, its schema is at the latest migration, the keys work.

Each check answers "ok" or a short fixed reason; never an exception text (it could name a host,
a user or a value) and nothing about the data.
"""
from __future__ import annotations

from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..migrate import alembic_config


@lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    """The head revision(s) of migrations/ (read once per process: the files do not change)."""
    config = alembic_config(None)  # type: ignore[arg-type]  # no engine needed to read the scripts
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness(app: Flask) -> dict[str, str]:
    checks = {"database": "ok", "schema": "ok", "keys": _keys(app)}
    engine = app.extensions["mda.db"].engine
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        checks["database"] = "unreachable"
        checks["schema"] = "unknown"
        return checks
    if not current:
        checks["schema"] = "not migrated"
    elif current != expected_heads():
        checks["schema"] = "not at the latest migration"
    return checks


def _keys(app: Flask) -> str:
    """The field cipher and blind index are configured and a round trip under the current key works."""
    cipher = app.extensions.get("mda.cipher")
    if cipher is None or app.extensions.get("mda.blind_index") is None:
        return "missing"
    context = cipher.context("readiness", "probe", "0")
    try:
        if cipher.decrypt(cipher.encrypt("probe", context), context) != "probe":
            return "not working"
    except Exception:  # noqa: BLE001  # any failure of the crypto layer means: not ready
        return "not working"
    return "ok"
