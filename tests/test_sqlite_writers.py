"""SQLite writers take turns through a file lock instead of sleeping in SQLite's busy handler
(mda.sqlite_writers). These use the embedded database directly, whatever MDA_DATABASE_URL says."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from mda import sqlite_writers
from mda.db import make_engine
from mda.sqlite_writers import TurnTakingConnection, writers_lock_path


def _connect(path) -> TurnTakingConnection:  # noqa: ANN001
    connection = sqlite3.connect(str(path), factory=TurnTakingConnection, timeout=5, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


@pytest.fixture()
def database(tmp_path):  # noqa: ANN001, ANN201
    path = tmp_path / "turns.sqlite"
    setup = sqlite3.connect(str(path))
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT)")
    setup.commit()
    setup.close()
    return path


def test_reads_take_no_turn_and_a_write_holds_it_until_commit(database) -> None:  # noqa: ANN001
    first = _connect(database)
    first.execute("SELECT count(*) FROM t").fetchone()
    assert not first.turn.held
    first.execute("INSERT INTO t (value) VALUES ('a')")
    assert first.turn.held
    first.commit()
    assert not first.turn.held
    first.execute("INSERT INTO t (value) VALUES ('b')")
    first.rollback()
    assert not first.turn.held
    assert first.execute("SELECT value FROM t").fetchall() == [("a",)]
    first.close()


def test_a_second_writer_waits_for_the_turn_and_writes_after_the_commit(database) -> None:  # noqa: ANN001
    first, second = _connect(database), _connect(database)
    first.execute("INSERT INTO t (value) VALUES ('first')")
    written = threading.Event()

    def write_second() -> None:
        second.execute("INSERT INTO t (value) VALUES ('second')")
        second.commit()
        written.set()

    thread = threading.Thread(target=write_second)
    thread.start()
    time.sleep(0.2)
    assert not written.is_set(), "the second writer must wait while the first holds the turn"
    first.commit()
    thread.join(5)
    assert written.is_set()
    assert [row[0] for row in first.execute("SELECT value FROM t ORDER BY id")] == ["first", "second"]
    first.close()
    second.close()


def test_a_turn_not_given_within_the_timeout_fails_like_a_locked_database(database, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sqlite_writers, "TURN_TIMEOUT_SECONDS", 0.2)
    first, second = _connect(database), _connect(database)
    first.execute("INSERT INTO t (value) VALUES ('first')")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t (value) VALUES ('second')")
    assert not second.turn.held
    first.commit()
    second.execute("INSERT INTO t (value) VALUES ('second')")
    second.commit()
    first.close()
    second.close()


def test_the_engine_of_a_file_database_takes_turns_and_the_lock_file_is_private(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "app.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t DEFAULT VALUES"))
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, TurnTakingConnection) and raw.turn.held
    assert not raw.turn.held  # given back at COMMIT
    lock = tmp_path / "app.sqlite-writers"
    assert writers_lock_path(str(path)) == str(lock)
    assert lock.stat().st_mode & 0o077 == 0
    engine.dispose()


def test_a_forked_process_never_shares_its_parents_turn(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A descriptor inherited through fork would share the parent's lock: the child opens its own."""
    import os
    monkeypatch.setattr(sqlite_writers, "TURN_TIMEOUT_SECONDS", 0.3)
    turn = sqlite_writers._Turn(str(tmp_path / "db.sqlite-writers"))
    turn.take()
    child = os.fork()
    if child == 0:  # the child: the parent still holds the turn, so it must not get it
        try:
            turn.take()
            os._exit(1)
        except sqlite3.OperationalError:
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert turn.held
    turn.close()
