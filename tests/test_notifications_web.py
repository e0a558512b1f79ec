"""The inbox: header count, read and unread, links to the place of work, preferences."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from mda.accounts.models import Role
from mda.db import db
from mda.journal.operations import add_task
from mda.notifications.models import Delivery, Notification, NotificationPreference, NotificationSettings
from mda.organisations.models import OrganisationKind
from mda.teams.models import TeamMembership, TeamPhase
from mda.teams.operations import add_expert, end_expert_membership
from mda.timeutil import today
from tests import factories as make


def setup(app: Flask) -> dict[str, int]:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        case = make.case(coordinator)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        add_task(case, description="Bel de school", owner=expert, due_on=today() + timedelta(days=3), by=coordinator)
        db.session.commit()
        return {"coordinator": coordinator.id, "expert": expert.id, "case": case.id, "reference": case.reference}


def client_for(app: Flask, user_id: int):
    client = app.test_client()
    with app.app_context():
        from mda.accounts.models import User
        account = db.session.get(User, user_id)
    assert make.login(client, account).status_code == 302
    return client


def test_header_count_list_open_and_mark_read(app: Flask) -> None:
    ids = setup(app)
    client = client_for(app, ids["expert"])
    home = client.get("/").get_data(as_text=True)
    assert "Meldingen" in home and ">2<" in home.replace(" ", "")  # added to the team, a task
    page = client.get("/meldingen/").get_data(as_text=True)
    assert "Toegevoegd aan een casusteam" in page and "Taak aan u toegewezen" in page and ids["reference"] in page
    with app.app_context():
        task_note = db.session.scalars(select(Notification).where(Notification.recipient_id == ids["expert"],
                                                                  Notification.subject_type == "task")).one()
    response = client.get(f"/meldingen/{task_note.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/casussen/{ids['case']}/journaal"
    assert client.get(response.headers["Location"]).status_code == 200
    unread = client.get("/meldingen/?ongelezen=1").get_data(as_text=True)
    assert "Taak aan u toegewezen" not in unread and "Toegevoegd aan een casusteam" in unread
    assert client.post("/meldingen/alles-gelezen").status_code == 302
    assert "Geen ongelezen meldingen" in client.get("/meldingen/?ongelezen=1").get_data(as_text=True)


def test_someone_elses_notification_is_not_found(app: Flask) -> None:
    ids = setup(app)
    with app.app_context():
        note = db.session.scalars(select(Notification).where(Notification.recipient_id == ids["expert"])).first()
    client = client_for(app, ids["coordinator"])
    assert client.get(f"/meldingen/{note.id}").status_code == 404
    assert client.post(f"/meldingen/{note.id}/gelezen").status_code == 404
    with app.app_context():
        assert db.session.get(Notification, note.id).read_at is None


def test_a_notification_about_a_case_no_longer_visible_does_not_lead_into_it(app: Flask) -> None:
    ids = setup(app)
    with app.app_context():
        from mda.accounts.models import User
        membership = db.session.scalars(select(TeamMembership).where(TeamMembership.user_id == ids["expert"])).one()
        end_expert_membership(membership, by=db.session.get(User, ids["coordinator"]))
        db.session.commit()
        note = db.session.scalars(select(Notification).where(Notification.recipient_id == ids["expert"],
                                                             Notification.subject_type == "task")).one()
    client = client_for(app, ids["expert"])
    response = client.get(f"/meldingen/{note.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/meldingen/"
    page = client.get("/meldingen/").get_data(as_text=True)
    assert "geen toegang (meer) tot deze casus" in page
    assert ids["reference"] not in page  # the inbox no longer names the case either


def test_preferences_are_saved_and_bad_input_is_refused_with_a_dutch_message(app: Flask) -> None:
    ids = setup(app)
    client = client_for(app, ids["expert"])
    assert client.get("/meldingen/instellingen").status_code == 200
    form = {"email": "geen-adres", "digest_hour": "8", "kind_task_assigned": "off"}
    response = client.post("/meldingen/instellingen", data=form)
    assert response.status_code == 422 and "geen geldig e-mailadres" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(NotificationSettings, ids["expert"]).email is None
    form["email"] = "expert@politie.example"
    assert client.post("/meldingen/instellingen", data=form).status_code == 302
    with app.app_context():
        settings = db.session.get(NotificationSettings, ids["expert"])
        assert settings.email == "expert@politie.example" and settings.digest_hour == 8
        chosen = db.session.scalars(select(NotificationPreference).where(
            NotificationPreference.user_id == ids["expert"], NotificationPreference.kind == "task_assigned")).one()
        assert chosen.delivery == Delivery.OFF
    # A legal deadline cannot be switched off: the field does not exist and is ignored if posted.
    form["kind_house_ban_expiry"] = "off"
    client.post("/meldingen/instellingen", data=form)
    with app.app_context():
        assert db.session.scalar(select(NotificationPreference).where(
            NotificationPreference.kind == "house_ban_expiry")) is None
