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
    make.safe_start(case, first)  # a handover needs a current safety plan
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


def test_journal_and_task_additions_do_not_make_an_open_phase_or_ave_form_stale(app: Flask) -> None:
    """Adding to the journal locks the case only for the moment; it does not change its version,
    so a colleague's AVE form loaded before stays valid (no spurious conflict)."""
    from datetime import timedelta

    from mda.timeutil import AMSTERDAM, today, utcnow
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        case_id, seen = case.id, case.version
    client = app.test_client()
    make.login(client, coordinator)
    moment = (utcnow() - timedelta(hours=1)).astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M")
    assert client.post(f"/casussen/{case_id}/journaal", data={
        "kind": "contact_family", "occurred_at": moment, "body": "Gesprek met moeder"}).status_code == 302
    assert client.post(f"/casussen/{case_id}/taken", data={
        "description": "Bellen", "owner": coordinator.id,
        "due_on": (today() + timedelta(days=3)).isoformat()}).status_code == 302
    with app.app_context():
        assert db.session.get(Case, case_id).version == seen
    response = client.post(f"/casussen/{case_id}/ave", data={"ave_level": 4, "reason": "Escalatie",
                                                             "version": seen})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Case, case_id).ave_level == 4


def test_no_journal_entry_on_a_case_closed_meanwhile(app: Flask) -> None:
    """The page was loaded while the case was open; the case is closed before the entry is posted."""
    from datetime import timedelta

    from sqlalchemy import update

    from mda.cases.models import CaseStatus, ClosureReason
    from mda.journal.models import JournalEntry
    from mda.timeutil import AMSTERDAM, utcnow
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        case_id = case.id
    client = app.test_client()
    make.login(client, coordinator)
    assert client.get(f"/casussen/{case_id}/journaal").status_code == 200
    with app.app_context():
        # Closed by a colleague in another request (its rules are tested elsewhere).
        db.session.execute(update(Case.__table__).where(Case.id == case_id).values(
            status=CaseStatus.CLOSED, closed_on=today(), closure_reason=ClosureReason.OTHER))
        db.session.commit()
    moment = (utcnow() - timedelta(hours=1)).astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/casussen/{case_id}/journaal", data={
        "kind": "contact_family", "occurred_at": moment, "body": "Te laat"})
    assert response.status_code == 422 and "Deze casus is afgesloten" in response.get_data(as_text=True)
    # Every case page says a refused form's message at the top, also where the form is now hidden.
    plan = client.post(f"/casussen/{case_id}/veiligheid/plannen", data={
        "agreed_on": today().isoformat(), "review_on": (today() + timedelta(days=30)).isoformat(),
        "agreements": "Afspraken", "agreed_by": "Gezin"})
    assert plan.status_code == 422 and "Deze casus is afgesloten" in plan.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(JournalEntry.id).where(JournalEntry.case_id == case_id)) is None


def test_handover_needs_a_current_safety_plan(ctx: Flask) -> None:
    from mda.errors import InvalidTransition
    from mda.safety.models import SafetyPlan
    first, second = make.user(Role.COORDINATOR), make.user(Role.COORDINATOR)
    case = make.case(first)
    with pytest.raises(InvalidTransition) as refused:
        change_coordinator(case, second, by=first)
    assert "actueel veiligheidsplan" in refused.value.message and refused.value.field == "coordinator"
    make.safe_start(case, first)
    plan = db.session.scalars(select(SafetyPlan).where(SafetyPlan.case_id == case.id)).one()
    plan.agreed_on, plan.review_on = today() - timedelta(days=60), today() - timedelta(days=1)  # past evaluation
    with pytest.raises(InvalidTransition):
        change_coordinator(case, second, by=first)
    plan.review_on = today() + timedelta(days=10)
    change_coordinator(case, second, by=first)
    assert current_coordinator(case).user_id == second.id
