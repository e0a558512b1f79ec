"""Declarative base, engine and the request-scoped session.

One commit per request (see ``mda.__init__``): operations only add and flush;
the request lifecycle commits once or rolls back everything.
"""
from __future__ import annotations

import atexit
import functools
import select
import weakref
from datetime import datetime, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine, Result
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable

from .sqlite_writers import TurnTakingConnection

_AMSTERDAM = ZoneInfo("Europe/Amsterdam")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def amsterdam_month(stored: str | None) -> str | None:
    """'YYYY-MM' of a stored UTC instant on the Dutch wall clock (SQLite has no time zones)."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(str(stored))
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return moment.astimezone(_AMSTERDAM).strftime("%Y-%m")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Month buckets of the steering information are Dutch calendar months, as on PostgreSQL.
    dbapi_connection.create_function("amsterdam_month", 1, amsterdam_month, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted personal data is overwritten, not left in free pages
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_optimize_on_close(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's advice for long-lived connections: PRAGMA optimize before closing, so the query
    # planner's statistics follow the data as a SQLite installation grows over the years. Cheap: it
    # analyses only tables whose use on this connection suggests their statistics are stale.
    try:
        dbapi_connection.execute("PRAGMA optimize")
    except Exception:  # noqa: BLE001  # closing must not fail because the optimisation did
        pass


_SQLITE_FILE_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@atexit.register
def _close_sqlite_pools() -> None:
    """At process exit (a gunicorn worker stopping or restarting, a command ending), close the
    pooled SQLite connections properly, which runs PRAGMA optimize on each."""
    for engine in list(_SQLITE_FILE_ENGINES):
        engine.dispose()


def optimize(engine: Engine) -> str:
    """``mda db optimize``: refresh the query planner's statistics (run it from cron or the worker,
    e.g. nightly). SQLite: ANALYZE bounded by analysis_limit (sampled, seconds even on gigabytes),
    then PRAGMA optimize; PostgreSQL: ANALYZE (autovacuum does it too, this does it now)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA optimize")
            connection.commit()
            return "SQLite: statistics refreshed (ANALYZE, PRAGMA optimize)."
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
        return "PostgreSQL: statistics refreshed (ANALYZE)."


def _server_spoke_while_idle(dbapi_connection: Any) -> bool:
    """True when the server sent something to a connection that waits in the pool. An idle
    connection is sent nothing, except when the server ends it (a restart, an administrator's
    pg_terminate_backend, an idle timeout: an error message, then the socket closes) and, rarely,
    a notice. Asking the kernel whether the socket has anything to read costs no round trip."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()  # not select.select: it fails for descriptors above 1023
    poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
    return bool(poller.poll(0))


def _replace_if_server_closed(dialect: Any, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout on PostgreSQL: a connection the server has ended is replaced before any
    request uses it. SQLAlchemy's pool_pre_ping asks the server on every checkout (a round trip on
    every request, one of the signed-in floor's six); this pings only a connection the server has
    spoken to while it was idle, which is how a restart or a terminated backend shows. Raising
    DisconnectionError makes the pool drop it and connect anew (SQLAlchemy's documented
    pessimistic disconnect handling). tests/test_db_reconnect.py ends the pooled connections
    under a running app."""
    if not _server_spoke_while_idle(dbapi_connection):
        return
    try:
        if dbapi_connection.closed or dbapi_connection.broken or not dialect.do_ping(dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")
    except DisconnectionError:
        raise
    except Exception as exc:  # noqa: BLE001  # any failure to answer means: do not use this connection
        raise DisconnectionError("the server closed this pooled connection") from exc


def _postgresql_session_settings(dbapi_connection: Any, _record: Any) -> None:
    """Once per new connection: no JIT compilation. PostgreSQL compiles a query whose estimated
    cost passes jit_above_cost, and compiles it again on every execution, prepared or not: the team
    lead's start page at national scale (the whole caseload's overdue cases) spent 1.1 of its 1.3
    seconds compiling. The queries of this app read a page's rows; none runs long enough to win."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def make_engine(url: str) -> Engine:
    options: dict[str, Any] = {"hide_parameters": True}  # SQL errors never print personal values
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            options["poolclass"] = NullPool
        # A file database keeps a small pool: reconnecting (and setting the PRAGMAs) on every
        # request cost more than the request itself.
        else:  # its writers take turns instead of sleeping in SQLite's busy handler (mda.sqlite_writers)
            options["connect_args"] = {"factory": TurnTakingConnection}
    engine = create_engine(url, **options)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", functools.partial(_replace_if_server_closed, engine.dialect))
        event.listen(engine, "connect", _postgresql_session_settings)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if "poolclass" not in options:  # a file database with a pool of long-lived connections
            event.listen(engine, "close", _sqlite_optimize_on_close)
            _SQLITE_FILE_ENGINES.add(engine)
    return engine


class _BoundDatabase:
    """The engine and scoped session of one application."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.scoped = scoped_session(self.factory, scopefunc=_context_id)


class Database:
    """Resolves the engine and session of the current application (one per ``create_app``)."""

    def init_app(self, app: Flask, url: str) -> None:
        bound = _BoundDatabase(url)
        app.extensions["mda.db"] = bound

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            bound.scoped.remove()

    @staticmethod
    def _bound() -> _BoundDatabase:
        try:  # the app itself, not its proxy: a page asks for db.session some twenty times (mda.web)
            return current_app._get_current_object().extensions["mda.db"]  # type: ignore[attr-defined]
        except (RuntimeError, KeyError) as exc:
            raise RuntimeError("No application context with a database; use create_app().") from exc

    @property
    def engine(self) -> Engine:
        return self._bound().engine

    @property
    def session(self) -> Session:
        return self._bound().scoped()

    def read(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Result[Any]:
        """The rows of a SELECT of plain columns (never of whole entities), run on the session's
        connection in its transaction. ``session.execute`` wraps even such a result in the ORM's
        loading layer, which costs 30-50 microseconds a statement here: about as much as running
        a small query on SQLite, on every list and case page a dozen times. Changes the session
        holds unflushed are flushed first, as ``session.execute`` would (autoflush)."""
        session = self.session
        if session.autoflush and (session.new or session.deleted or session.dirty):
            session.flush()
        return session.connection().execute(statement, parameters)

    @staticmethod
    def new_session_for(app: Flask) -> Session:
        """A session of ``app`` that is not tied to an application context."""
        return app.extensions["mda.db"].factory()

    def dispose(self) -> None:
        bound = self._bound()
        bound.scoped.remove()
        bound.engine.dispose()


def _context_id() -> int:
    # One session per application context (request, CLI command or test block).
    try:
        return id(g._get_current_object())
    except RuntimeError:
        return 0


db = Database()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in UTC on every database (SQLite would otherwise return naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use mda.timeutil.utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
