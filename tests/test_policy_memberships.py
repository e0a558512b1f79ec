"""The policy keeps a page's answer to "is this user on this case" while nothing changes in the
session, and never answers from it once the team has changed (mda.security.policy.running_team_role)."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from mda.accounts.models import Role
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.security.policy import Permission, may
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from tests import factories as make


def _counting(statements: list[str]):  # noqa: ANN202
    def listener(_connection, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if "team_memberships" in statement:
            statements.append(statement)
    return listener


def test_one_query_per_page_and_every_change_of_the_team_is_seen(app: Flask) -> None:
    with app.test_request_context():
        coordinator = make.user(Role.COORDINATOR)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        case = make.case(coordinator)
        db.session.commit()
        statements: list[str] = []
        listener = _counting(statements)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert not may(expert, Permission.CASE_VIEW, case)
            assert not may(expert, Permission.CASE_EDIT, case)
            assert len(statements) == 1  # asked once, answered twice
            # Added in this session and not yet flushed: the next answer sees it (the query flushes).
            membership = add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM,
                                    by=coordinator)
            assert may(expert, Permission.CASE_VIEW, case) and may(expert, Permission.CASE_EDIT, case)
            assert not may(expert, Permission.CASE_DIRECT, case)  # casusregie stays with the coordinator
            # Ended in memory only: not answered from what was kept.
            membership.ended_on = membership.started_on
            assert not may(expert, Permission.CASE_VIEW, case)
            db.session.rollback()
            assert may(coordinator, Permission.CASE_DIRECT, case)
            count = len(statements)
            assert may(coordinator, Permission.CASE_EDIT, case) and may(coordinator, Permission.CASE_VIEW, case)
            assert len(statements) == count
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
