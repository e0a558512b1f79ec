"""Writers of one SQLite file take turns through an operating-system file lock.

SQLite lets one transaction write at a time. A connection that finds the write lock taken waits in
SQLite's busy handler, which (as Python's ``sqlite3`` sets it up) sleeps 1, 2, 5, 10, 15, 20, 25 ...
milliseconds between tries and does not notice when the lock comes free. Every audited page writes
(its audit record), so with two or more app workers most requests wait for the lock, and they
waited mostly in those sleeps: under a benchmark's load the signed-in floor route on SQLite ran at
a fraction of the same route on PostgreSQL, whose row lock wakes the next writer at once.

Here each connection, before the first statement of a transaction that writes, takes an exclusive
``flock`` on ``<database>-writers`` beside the database, and gives it back after its COMMIT or
ROLLBACK. The next writer gets the turn within a fraction of a millisecond (a short poll that
backs off: Python has no flock with a timeout), and finds SQLite's own lock free. Nothing about
durability or isolation changes: SQLite still takes and checks its own write lock, in WAL mode with
``synchronous=FULL``, and a process that does not take part (the ``sqlite3`` shell, a backup) is
waited for by the busy handler as before. A writer that does not get its turn within the busy
timeout fails as SQLite would ("database is locked").

Only the embedded database needs this; PostgreSQL is untouched.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from typing import Any

# As long as PRAGMA busy_timeout (mda.db): a turn not given in that time fails like SQLite's wait.
TURN_TIMEOUT_SECONDS = 5.0
# Polled from 0.1 ms up to 2 ms: an audited request holds the turn for well under a millisecond, and
# a long writer (a demo reset, a release) is not polled thousands of times a second.
_FIRST_POLL_SECONDS = 0.0001
_LONGEST_POLL_SECONDS = 0.002
_READS = ("select", "pragma", "explain")


def writers_lock_path(database: str) -> str:
    return f"{database}-writers"


class _Turn:
    """The write turn of one connection: the lock file, opened once, and whether it is held."""

    def __init__(self, path: str):
        self.path = path
        self.descriptor: int | None = None
        self.opened_by: int | None = None
        self.held = False

    def take(self) -> None:
        if self.descriptor is None or self.opened_by != os.getpid():
            # A descriptor inherited through fork shares its lock with the parent's: never use one.
            self.descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.opened_by, self.held = os.getpid(), False
        if self.held:
            return
        deadline = time.monotonic() + TURN_TIMEOUT_SECONDS
        pause = _FIRST_POLL_SECONDS
        while True:
            try:
                fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked (no write turn within the busy timeout)")
                time.sleep(pause)
                pause = min(_LONGEST_POLL_SECONDS, pause * 1.5)
                continue
            self.held = True
            return

    def give_back(self) -> None:
        if self.held and self.descriptor is not None and self.opened_by == os.getpid():
            fcntl.flock(self.descriptor, fcntl.LOCK_UN)
        self.held = False

    def close(self) -> None:
        if self.opened_by == os.getpid():
            self.give_back()
            if self.descriptor is not None:
                os.close(self.descriptor)
        self.descriptor, self.held = None, False


def _writes(statement: Any) -> bool:
    return not str(statement).lstrip()[:7].lower().startswith(_READS)


class TurnTakingCursor(sqlite3.Cursor):
    def execute(self, statement: str, parameters: Any = (), /) -> "TurnTakingCursor":
        if _writes(statement):
            self.connection.turn.take()  # type: ignore[attr-defined]
        return super().execute(statement, parameters)

    def executemany(self, statement: str, parameters: Any, /) -> "TurnTakingCursor":
        if _writes(statement):
            self.connection.turn.take()  # type: ignore[attr-defined]
        return super().executemany(statement, parameters)

    def executescript(self, script: str, /) -> "TurnTakingCursor":
        self.connection.turn.take()  # type: ignore[attr-defined]
        return super().executescript(script)


class TurnTakingConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that takes the write turn before writing (``sqlite3.connect(factory=...)``)."""

    turn: _Turn

    def __init__(self, database: str, *args: Any, **kwargs: Any):
        super().__init__(database, *args, **kwargs)
        self.turn = _Turn(writers_lock_path(database))

    def cursor(self, factory: Any = TurnTakingCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, statement: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return self.cursor().execute(statement, parameters)

    def executemany(self, statement: str, parameters: Any, /) -> Any:  # type: ignore[override]
        return self.cursor().executemany(statement, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.turn.give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.turn.give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.turn.close()
