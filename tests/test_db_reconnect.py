"""PostgreSQL ends the app's pooled connections (a restart, an administrator, an idle timeout):
the next requests are answered as usual, on new connections, and nothing is lost (issue 19).

The pool checks a connection at checkout without a round trip (``mda.db._replace_if_server_closed``):
only a connection the server has spoken to while idle is pinged, and replaced when it is gone."""
from __future__ import annotations

import select as sockets
import time

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from mda.accounts.models import Role
from mda.audit.models import AuditEvent
from mda.db import db, make_engine
from tests import factories as make


def _end_backend(url: str, pid: int) -> None:
    """pg_terminate_backend from another connection: what a restart or an administrator does."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # Waits (up to 5 s) until the backend has gone: it ends a moment after it is told to,
            # and a request in that moment would meet it still answering (as with any ping).
            assert connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
            connection.commit()
    finally:
        engine.dispose()


def test_requests_go_on_after_the_server_ended_the_pooled_connections(app: Flask) -> None:
    url = app.extensions["mda.settings"].database_url
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL ends connections; SQLite has none to end")
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        case_id, coordinator_id = case.id, coordinator.id
        db.dispose()
    browser = app.test_client()
    make.login(browser, coordinator)
    assert browser.get(f"/casussen/{case_id}").status_code == 200  # a pooled connection now waits

    with app.app_context():  # the pooled connection the requests use (one at a time: the same one)
        before = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.user_id == coordinator_id))
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()
    _end_backend(url, pid)

    for _ in range(3):  # more requests than connections the pool kept: each was replaced
        assert browser.get(f"/casussen/{case_id}").status_code == 200
    with app.app_context():
        after = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.user_id == coordinator_id))
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != pid
        db.dispose()
    assert after >= before + 3  # each page's reading was recorded: nothing went missing


def test_a_healthy_pooled_connection_is_not_pinged_and_one_spoken_to_is(app: Flask) -> None:
    """The check costs no round trip on a connection the server left alone; a connection the
    server has sent something (here a notification, as harmless as a notice) is pinged once and
    kept, since it still answers."""
    url = app.extensions["mda.settings"].database_url
    if not url.startswith("postgresql"):
        pytest.skip("the check is PostgreSQL's")
    engine, elsewhere = make_engine(url), make_engine(url)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(dbapi_connection) or real_ping(dbapi_connection)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("LISTEN mda_reconnect_test")
            connection.commit()
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            connection.commit()
            waiting = connection.connection.dbapi_connection  # the driver's connection, to watch
        for _ in range(3):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == pid
                connection.commit()
        assert pings == []

        with elsewhere.connect() as other:  # while the first waits in the pool
            other.exec_driver_sql("NOTIFY mda_reconnect_test")
            other.commit()
        deadline = time.monotonic() + 10  # delivered to the idle listener a moment after the commit
        while not sockets.select([waiting.pgconn.socket], [], [], 0.05)[0]:
            assert time.monotonic() < deadline, "the notification never reached the waiting connection"
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == pid  # kept
            connection.commit()
        assert len(pings) == 1
    finally:
        engine.dispose()
        elsewhere.dispose()
