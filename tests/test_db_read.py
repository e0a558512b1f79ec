"""mda.db.Database.read: a select of plain columns on the session's connection gives the rows
session.execute gives, and sees what the session holds unflushed (as autoflush would)."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.cases.queries import team_at_a_glance
from mda.db import db
from mda.teams.models import TeamRole
from tests import factories as make


def test_read_gives_the_rows_of_session_execute_and_sees_unflushed_changes(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    db.session.commit()
    names = select(User.id, User.display_name).where(User.id == coordinator.id)
    assert list(db.read(names)) == list(db.session.execute(names))
    coordinator.display_name = "Nog Niet Weggeschreven"  # pending in the session, not flushed
    assert db.read(names).one().display_name == "Nog Niet Weggeschreven"
    with db.session.no_autoflush:  # where the session is told not to flush, neither does read
        coordinator.display_name = "Later"
        assert db.read(names).one().display_name == "Nog Niet Weggeschreven"
    db.session.flush()
    [member] = team_at_a_glance(case)  # a page's read through it: plain rows, types as mapped
    assert member.team_role is TeamRole.COORDINATOR and member.display_name == "Later"


def test_postgresql_connections_compile_no_queries_just_in_time(ctx: Flask) -> None:
    """JIT compilation of a costly query took a second on every run of the team lead's start page."""
    import pytest
    from sqlalchemy import text
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
