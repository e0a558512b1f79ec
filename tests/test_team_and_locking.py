"""One coordinator per case at any time; stale updates are refused, never merged."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from mda.accounts.models import Role
from mda.cases.models import Case
from mda.cases.operations import change_ave_level
from mda.db import db
from mda.errors import InvalidInput, InvalidTransition, StaleVersion
from mda.teams.models import TeamMembership, TeamPhase, TeamRole
from mda.teams.operations import add_expert, change_coordinator, current_coordinator, end_expert_membership
from mda.timeutil import today
from tests import factories as make


def _running_coordinators(case: Case) -> int:
    return db.session.scalar(select(func.count()).select_from(TeamMembership).where(
        TeamMembership.case_id == case.id, TeamMembership.team_role == TeamRole.COORDINATOR,
        TeamMembership.ended_on.is_(None)))


def test_new_case_has_exactly_one_coordinator(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    db.session.commit()
    assert _running_coordinators(case) == 1
    assert current_coordinator(case).user_id == coordinator.id


def test_changing_coordinator_keeps_history_and_one_coordinator(ctx: Flask) -> None:
    first, second = make.user(Role.COORDINATOR), make.user(Role.COORDINATOR)
    case = make.case(first, opened_on=today() - timedelta(days=30))
    version = case.version
    change_coordinator(case, second, by=first, expected_version=version)
    db.session.commit()
    assert _running_coordinators(case) == 1
    assert current_coordinator(case).user_id == second.id
    history = db.session.scalars(select(TeamMembership).where(TeamMembership.case_id == case.id)
                                 .order_by(TeamMembership.id)).all()
    assert [(m.user_id, m.ended_on) for m in history] == [(first.id, today()), (second.id, None)]
    assert case.version > version


def test_database_refuses_a_second_running_coordinator(ctx: Flask) -> None:
    first, second = make.user(Role.COORDINATOR), make.user(Role.COORDINATOR)
    case = make.case(first)
    db.session.commit()
    db.session.add(TeamMembership(case_id=case.id, user_id=second.id, organisation_id=second.organisation_id,
                                  team_role=TeamRole.COORDINATOR, started_on=date.today()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert _running_coordinators(case) == 1


def test_only_a_coordinator_can_coordinate_and_coordinator_is_not_removed(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    expert = make.user(Role.EXPERT)
    case = make.case(coordinator)
    with pytest.raises(InvalidInput):
        change_coordinator(case, expert, by=coordinator)
    with pytest.raises(InvalidTransition):
        end_expert_membership(current_coordinator(case), by=coordinator)


def test_expert_membership_runs_until_ended(ctx: Flask) -> None:
    coordinator, expert = make.user(Role.COORDINATOR), make.user(Role.EXPERT)
    case = make.case(coordinator)
    membership = add_expert(case, expert, discipline_code="forensic", team_phase=TeamPhase.UITVOERING,
                            by=coordinator)
    assert membership.is_active_on(today())
    end_expert_membership(membership, by=coordinator)
    assert not membership.is_active_on(today())


def test_stale_version_from_a_form_is_refused(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    db.session.commit()
    seen = case.version
    change_ave_level(case, 4, by=coordinator, reason="Samenwerking stokt", expected_version=seen)
    db.session.commit()
    with pytest.raises(StaleVersion):
        change_ave_level(case, 2, by=coordinator, reason="Stabiel", expected_version=seen)
    assert case.ave_level == 4


def test_concurrent_update_with_same_version_is_refused_not_merged(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case_id = make.case(coordinator).id
        db.session.commit()
    first, second = db.new_session_for(app), db.new_session_for(app)
    try:
        case_first, case_second = first.get(Case, case_id), second.get(Case, case_id)
        assert case_first.version == case_second.version
        case_first.ave_level = 4
        first.commit()
        case_second.ave_level = 2
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
        assert second.get(Case, case_id).ave_level == 4
    finally:
        first.close()
        second.close()
