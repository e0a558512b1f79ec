"""The functional administrator maintains organisations and reference data; every change is audited."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role
from mda.audit.models import AuditEvent
from mda.db import db
from mda.organisations.models import Organisation
from mda.reference.models import AveLevel, Discipline
from tests import factories as make


def _admin(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        admin = make.user(Role.ADMIN)
        db.session.commit()
    make.login(client, admin)


def test_admin_adds_and_renames_an_organisation(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    assert client.post("/beheer/organisaties", data={"name": "Veilig Thuis Proefregio", "kind": "veilig_thuis",
                                                     "active": "y"}).status_code == 302
    with app.app_context():
        organisation = db.session.scalars(select(Organisation).where(Organisation.name == "Veilig Thuis Proefregio")).one()
    response = client.post(f"/beheer/organisaties/{organisation.id}", data={"name": "Veilig Thuis Proef",
                                                                             "kind": "veilig_thuis"})
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Organisation, organisation.id)
        assert stored.name == "Veilig Thuis Proef" and stored.active is False
        details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_type == "organisation")).all()
    assert details == ["organisatie aangemaakt", "organisatie gewijzigd"]


def test_duplicate_or_empty_organisation_is_refused_in_dutch(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    client.post("/beheer/organisaties", data={"name": "Politie Proef", "kind": "police", "active": "y"})
    duplicate = client.post("/beheer/organisaties", data={"name": "Politie Proef", "kind": "police"})
    assert duplicate.status_code == 422 and "bestaat al" in duplicate.get_data(as_text=True)
    empty = client.post("/beheer/organisaties", data={"name": "", "kind": "police"})
    assert empty.status_code == 422 and "Vul de naam" in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Organisation).where(Organisation.name == "Politie Proef")).all()
        assert len(db.session.scalars(select(Organisation).where(Organisation.name == "Politie Proef")).all()) == 1


def test_ave_level_description_and_discipline_are_editable(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    assert client.post("/beheer/ave-niveaus/3", data={"ave3-title": "AVE 3 – Casusregie",
                                                       "ave3-description": "Regionale omschrijving"}).status_code == 302
    assert client.post("/beheer/disciplines/medical", data={"d-medical-name": "Medisch-forensisch"}).status_code == 302
    refused = client.post("/beheer/ave-niveaus/4", data={"ave4-title": "", "ave4-description": "x"})
    assert refused.status_code == 422 and "Vul een titel in" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AveLevel, 3).description == "Regionale omschrijving"
        assert db.session.get(AveLevel, 4).title.startswith("AVE 4")
        assert db.session.get(Discipline, "medical").name == "Medisch-forensisch"
        # Restore the seeded reference data for the tests that follow (reference tables are not emptied).
        level, discipline = db.session.get(AveLevel, 3), db.session.get(Discipline, "medical")
        level.title, level.description = ("AVE 3 – Casusregie over domeinen heen",
                                          "Geregisseerde casusaanpak over domeinen heen (casusregie; MDA++-coördinatie).")
        discipline.name = "Medisch"
        db.session.commit()
