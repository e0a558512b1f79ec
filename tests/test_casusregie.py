"""Casusregie stays with the coordinator: an expert adds journal entries, tasks and assessments and
sees the rest; the page says so, and names the coordinator, to whoever the regie is not."""
from __future__ import annotations

from flask import Flask

from mda.accounts.models import Role
from mda.cases.models import Case
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.security.policy import Permission, may
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from tests import factories as make


def _setting(app: Flask):  # noqa: ANN202
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        coordinator.display_name = "Carla Regisseur"
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        case = make.case(coordinator)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        db.session.commit()
        return coordinator, expert, lead, case.id


def test_expert_rights_are_narrowed_to_their_own_contributions(app: Flask) -> None:
    coordinator, expert, lead, case_id = _setting(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert may(expert, Permission.CASE_EDIT, case) and not may(expert, Permission.CASE_DIRECT, case)
        assert may(coordinator, Permission.CASE_DIRECT, case)
        assert not may(lead, Permission.CASE_DIRECT, case) and may(lead, Permission.CASE_MANAGE_TEAM, case)
    client = app.test_client()
    make.login(client, expert)
    assert client.post(f"/casussen/{case_id}/ave", data={"ave_level": 4, "reason": "x", "version": 1}).status_code == 404
    assert client.post(f"/casussen/{case_id}/afsluiten", data={"version": 1}).status_code == 404
    assert client.post(f"/casussen/{case_id}/journaal", data={}).status_code == 422  # reached, form refused
    track = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert "U bent gedetacheerd expert in deze casus" in track and "Carla Regisseur" in track
    assert f'action="/casussen/{case_id}/ave"' not in track
    with app.app_context():
        assert db.session.get(Case, case_id).ave_level == 3


def test_team_lead_and_coordinator_see_what_is_theirs(app: Flask) -> None:
    coordinator, expert, lead, case_id = _setting(app)
    client = app.test_client()
    make.login(client, lead)
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    assert "U ziet deze casus als teamleider" in page and "Carla Regisseur" in page
    own = app.test_client()
    make.login(own, coordinator)
    page = own.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert "ligt bij de coördinator" not in page and f'action="/casussen/{case_id}/ave"' in page
