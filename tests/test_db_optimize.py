"""Long-running SQLite installs keep their query statistics current: `mda db optimize`, and
PRAGMA optimize when a pooled connection closes."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from mda.db import db, make_engine
from mda.migrate import upgrade
from tests.conftest import build_app


def test_db_optimize_command(app) -> None:  # noqa: ANN001
    result = app.test_cli_runner().invoke(args=["db", "optimize"])
    assert result.exit_code == 0, result.output
    assert "statistics refreshed" in result.output
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            analysed = db.session.scalar(text("SELECT count(DISTINCT tbl) FROM sqlite_stat1"))
            assert analysed and analysed > 5  # ANALYZE ran over the tables, not only the ones used
        db.dispose()


def test_sqlite_pool_runs_pragma_optimize_when_a_connection_closes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.sqlite'}")
    statements: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.commit()
    assert "PRAGMA optimize" not in statements  # back in the pool, still open
    engine.dispose()
    assert statements[-1] == "PRAGMA optimize"


def test_db_optimize_on_a_fresh_sqlite_file(keys: dict[str, Any], instance_dir: Path, tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'install.sqlite'}", keys, instance_dir)
    with app.app_context():
        upgrade(db.engine)
        db.dispose()
    result = app.test_cli_runner().invoke(args=["db", "optimize"])
    assert result.exit_code == 0 and result.output.startswith("SQLite"), result.output
    with app.app_context():
        db.dispose()
