"""The referral API: per-organisation keys issued and revoked by the administrator, strict
validation, Dutch JSON errors, nothing written on error, every call audited, a rate limit."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from mda.accounts.models import Role
from mda.audit.models import AuditAction, AuditEvent, AuditOutcome
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.people.models import Person
from mda.referrals.models import ApiToken, Referral, ReferralStatus
from mda.referrals.tokens import issue_token, revoke_token
from mda.timeutil import today
from tests import factories as make
from tests.conftest import build_app

URL = "/api/v1/verwijzingen"


def payload(**overrides: Any) -> dict[str, Any]:
    body = {
        "intake_route": "actie_overleg",
        "actie_overleg_on": (today() - timedelta(days=1)).isoformat(),
        "partners_present": ["veilig_thuis", "police", "public_prosecutor"],
        "reason": "Na het Actie-overleg is langdurige regie nodig.",
        "urgency": "urgent",
        "violence_forms": ["partner_violence"],
        "municipality": "Venlo",
        "current_ave_level": 3,
        "house_ban_situation": "none",
        "tried_before": "Hulp via het lokale team.",
        "persons": [
            {"role": "undergoing_violence", "name": "Api Slachtoffer", "bsn": make.BSN_A,
             "date_of_birth": "1990-05-01", "address": "Apilaan 1, Venlo", "phone": "+31 6 1234 5678",
             "gender": "female"},
            {"role": "using_violence", "name": "Api Pleger"},
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def keys_of(app: Flask) -> dict[str, Any]:
    """An active and a revoked key of one Veilig Thuis organisation, and a VT user of it."""
    with app.app_context():
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        admin = make.user(Role.ADMIN)
        active, active_plain = issue_token(vt_org, label="Registratiesysteem", by=admin)
        revoked, revoked_plain = issue_token(vt_org, label="Oud systeem", by=admin)
        revoke_token(revoked, by=admin)
        vt = make.user(Role.VT_REFERRER, org=vt_org)
        db.session.commit()
        return {"active": active_plain, "revoked": revoked_plain, "active_id": active.id, "org_id": vt_org.id,
                "vt": vt, "admin": admin}


def post(client: FlaskClient, body: Any, token: str | None, **kwargs: Any):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, (dict, list)):
        return client.post(URL, json=body, headers=headers, **kwargs)
    return client.post(URL, data=body, headers=headers, **kwargs)


def written(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Referral)),
                db.session.scalar(select(func.count()).select_from(Person)))


def api_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "referral")
                                       .order_by(AuditEvent.id)))


def test_valid_submission_creates_a_submitted_referral_for_the_keys_organisation(
        app: Flask, client: FlaskClient, keys_of: dict[str, Any]) -> None:
    response = post(client, payload(), keys_of["active"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "submitted" and body["status_label"] == "Ingediend"
    assert response.headers["Location"] == f"/verwijzingen/{body['id']}"
    assert "Set-Cookie" not in response.headers  # no session is started or touched
    with app.app_context():
        referral = db.session.get(Referral, body["id"])
        assert referral.status == ReferralStatus.SUBMITTED and referral.submitted_at is not None
        assert referral.organisation_id == keys_of["org_id"] and referral.api_token_id == keys_of["active_id"]
        assert referral.created_by_id is None and referral.municipality.name == "Venlo"
        persons = db.session.scalars(select(Person).where(Person.referral_id == referral.id).order_by(Person.id)).all()
        assert [(p.name, p.bsn) for p in persons] == [("Api Slachtoffer", make.BSN_A), ("Api Pleger", None)]
        assert db.session.get(ApiToken, keys_of["active_id"]).last_used_at is not None
        raw = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM persons")).all())
        assert "Api Slachtoffer" not in raw and make.BSN_A not in raw
    events = api_events(app)
    assert events[-1].outcome == AuditOutcome.SUCCESS and events[-1].username == f"api-sleutel {keys_of['active_id']}"
    assert all(keys_of["active"] not in (e.detail or "") for e in events)
    # Veilig Thuis sees it in its list; the team lead finds it in the queue.
    vt = app.test_client()
    make.login(vt, keys_of["vt"])
    assert f"Verwijzing {body['id']}" in vt.get("/verwijzingen/").get_data(as_text=True)
    with app.app_context():
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        db.session.commit()
    lead_client = app.test_client()
    make.login(lead_client, lead)
    assert f"Verwijzing {body['id']}" in lead_client.get("/triage/").get_data(as_text=True)


def test_a_draft_can_be_sent_for_completion_in_the_web_form(app: Flask, client: FlaskClient,
                                                            keys_of: dict[str, Any]) -> None:
    response = post(client, payload(submit=False, reason=None, persons=[]), keys_of["active"])
    assert response.status_code == 201 and response.get_json()["status"] == "draft"


@pytest.mark.parametrize("headers,message", [
    ({}, "Geen API-sleutel ontvangen"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Geen API-sleutel ontvangen"),
    ({"Authorization": "Bearer "}, "Geen API-sleutel ontvangen"),
    ({"Authorization": "Bearer geen-echte-sleutel"}, "Deze API-sleutel is onbekend"),
    ({"Authorization": "Bearer mda_" + "A" * 43}, "Deze API-sleutel is onbekend"),
])
def test_missing_or_unknown_key_is_refused(app: Flask, client: FlaskClient, keys_of: dict[str, Any],
                                           headers: dict[str, str], message: str) -> None:
    response = client.post(URL, json=payload(), headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized" and message in response.get_json()["message"]
    assert written(app) == (0, 0)
    event = api_events(app)[-1]
    assert event.outcome == AuditOutcome.DENIED and event.action == AuditAction.CREATE and event.user_id is None


def test_revoked_key_is_refused(app: Flask, client: FlaskClient, keys_of: dict[str, Any]) -> None:
    response = post(client, payload(), keys_of["revoked"])
    assert response.status_code == 401
    assert response.get_json() == {"error": "token_revoked", "message": "Deze API-sleutel is ingetrokken. Vraag de "
                                                                       "functioneel beheerder om een nieuwe."}
    assert written(app) == (0, 0)
    assert api_events(app)[-1].detail == "API: ingetrokken sleutel"


def test_a_session_is_no_substitute_for_a_key(app: Flask, keys_of: dict[str, Any]) -> None:
    client = app.test_client()
    make.login(client, keys_of["vt"])
    assert client.post(URL, json=payload()).status_code == 401
    assert written(app) == (0, 0)


@pytest.mark.parametrize("body,content_type,message", [
    ("{niet: json", "application/json", "geen geldige JSON"),
    ('{"reason": "a", "reason": "b"}', "application/json", "geen dubbele sleutels"),
    ('{"current_ave_level": NaN}', "application/json", "geen geldige JSON"),
    ("[1, 2]", "application/json", "moet een JSON-object zijn"),
    ("reason=x", "application/x-www-form-urlencoded", "Stuur de verwijzing als JSON"),
    (b"\xff\xfe{}", "application/json", "geen geldige JSON"),
])
def test_malformed_request_is_refused(app: Flask, client: FlaskClient, keys_of: dict[str, Any], body: Any,
                                      content_type: str, message: str) -> None:
    response = client.post(URL, data=body, content_type=content_type,
                           headers={"Authorization": f"Bearer {keys_of['active']}"})
    assert response.status_code == 400 and message in response.get_json()["message"]
    assert written(app) == (0, 0)
    assert api_events(app)[-1].outcome == AuditOutcome.FAILED


def test_oversized_request_is_refused(app: Flask, client: FlaskClient, keys_of: dict[str, Any]) -> None:
    body = json.dumps(payload(tried_before="x" * 300_000))
    response = client.post(URL, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {keys_of['active']}"})
    assert response.status_code == 413 and "te groot" in response.get_json()["message"]
    assert written(app) == (0, 0)


FUTURE = (today() + timedelta(days=3)).isoformat()


@pytest.mark.parametrize("overrides,field,message", [
    ({"onbekend": 1}, "onbekend", "Onbekend veld."),
    ({"actie_overleg_on": FUTURE}, "actie_overleg_on", "De datum van het Actie-overleg ligt in de toekomst."),
    ({"actie_overleg_on": "12-01-2026"}, "actie_overleg_on", "Verwacht een datum als JJJJ-MM-DD."),
    ({"actie_overleg_on": "2026-02-30"}, "actie_overleg_on", "Deze datum bestaat niet."),
    ({"intake_route": "crisis"}, "intake_route", "Ongeldige waarde."),
    ({"partners_present": "police"}, "partners_present", "Verwacht een lijst met codes."),
    ({"partners_present": ["buurman"]}, "partners_present", "Ongeldige waarde(n): buurman."),
    ({"reason": 42}, "reason", "Verwacht tekst."),
    ({"reason": "x" * 4001}, "reason", "Deze tekst is te lang: hoogstens 4000 tekens"),
    ({"urgency": "morgen"}, "urgency", "Ongeldige waarde."),
    ({"violence_forms": ["ruzie"]}, "violence_forms", "Ongeldige waarde(n): ruzie."),
    ({"municipality": "Amsterdam"}, "municipality", "Onbekende naam"),
    ({"requesting_team": "Lokaal team Nergens"}, "requesting_team", "Onbekende naam"),
    ({"current_ave_level": "3"}, "current_ave_level", "geheel getal van 1 tot en met 5"),
    ({"current_ave_level": 6}, "current_ave_level", "geheel getal van 1 tot en met 5"),
    ({"current_ave_level": True}, "current_ave_level", "geheel getal van 1 tot en met 5"),
    ({"house_ban_situation": "ja"}, "house_ban_situation", "Ongeldige waarde."),
    ({"tried_before": "x" * 4001}, "tried_before", "te lang"),
    ({"submit": "ja"}, "submit", "Verwacht true of false."),
    ({"persons": {"name": "x"}}, "persons", "Verwacht een lijst met personen."),
    ({"persons": ["Jan"]}, "persons[0]", "Verwacht een object"),
    ({"persons": [{"name": "Zonder Rol"}]}, "persons[0].role", "Geef de rol van deze persoon"),
    ({"persons": [{"role": "koning", "name": "X"}]}, "persons[0].role", "Ongeldige waarde."),
    ({"persons": [{"role": "child"}]}, "persons[0].name", "Dit veld is verplicht."),
    ({"persons": [{"role": "child", "name": "X", "bsn": "123456789"}]}, "persons[0].bsn", "elfproef"),
    ({"persons": [{"role": "child", "name": "X", "bsn": 999990019}]}, "persons[0].bsn", "Verwacht tekst."),
    ({"persons": [{"role": "child", "name": "X", "date_of_birth": FUTURE}]}, "persons[0].date_of_birth",
     "De geboortedatum ligt in de toekomst."),
    ({"persons": [{"role": "child", "name": "X", "phone": "bel mij"}]}, "persons[0].phone", "Alleen cijfers"),
    ({"persons": [{"role": "child", "name": "n" * 201}]}, "persons[0].name", "hoogstens 200 tekens"),
    ({"persons": [{"role": "child", "name": "X", "ogen": "blauw"}]}, "persons[0].ogen", "Onbekend veld."),
    ({"persons": [{"role": "child", "name": "X"}] * 21}, "persons", "Hoogstens 20 personen"),
])
def test_invalid_payload_is_refused_with_the_field_and_writes_nothing(
        app: Flask, client: FlaskClient, keys_of: dict[str, Any], overrides: dict[str, Any], field: str,
        message: str) -> None:
    response = post(client, payload(**overrides), keys_of["active"])
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid_payload" and body["message"].startswith("De verwijzing is niet opgeslagen")
    assert any(error["field"] == field and message in error["message"] for error in body["errors"]), body
    assert written(app) == (0, 0)
    event = api_events(app)[-1]
    assert event.outcome == AuditOutcome.FAILED and event.username == f"api-sleutel {keys_of['active_id']}"


def test_all_problems_are_reported_at_once(client: FlaskClient, keys_of: dict[str, Any]) -> None:
    body = post(client, payload(urgency="x", persons=[{"role": "x", "name": "Y", "bsn": "1"}]),
                keys_of["active"]).get_json()
    assert {e["field"] for e in body["errors"]} == {"urgency", "persons[0].role", "persons[0].bsn"}


def test_incomplete_submission_names_what_is_missing(app: Flask, client: FlaskClient,
                                                     keys_of: dict[str, Any]) -> None:
    response = post(client, payload(reason=None, persons=[]), keys_of["active"])
    body = response.get_json()
    assert response.status_code == 422 and body["error"] == "incomplete"
    assert {e["field"] for e in body["errors"]} == {"reason", "persons"}
    assert "reden dat regie nodig is" in body["message"]
    assert written(app) == (0, 0)


def test_the_api_needs_no_csrf_token_but_the_web_forms_do(migrated: str, keys: dict[str, Any],
                                                          instance_dir: Path) -> None:
    app = build_app(migrated, keys, instance_dir, WTF_CSRF_ENABLED=True)
    try:
        with app.app_context():
            org = make.organisation(OrganisationKind.VEILIG_THUIS)
            _, plaintext = issue_token(org, label="CSRF-test", by=make.user(Role.ADMIN))
            db.session.commit()
        client = app.test_client()
        assert post(client, payload(), plaintext).status_code == 201
        assert client.post("/inloggen", data={"username": "x", "password": "y"}).status_code == 400
    finally:
        with app.app_context():
            from tests.conftest import empty_database
            empty_database()
            db.dispose()


def test_api_is_rate_limited_per_address(migrated: str, keys: dict[str, Any], instance_dir: Path) -> None:
    app = build_app(migrated, keys, instance_dir, RATELIMIT_ENABLED=True)
    try:
        client = app.test_client()
        statuses = [post(client, payload(), "mda_" + "B" * 43).status_code for _ in range(31)]
        assert statuses[:30] == [401] * 30 and statuses[30] == 429
        response = post(client, payload(), "mda_" + "B" * 43)
        assert response.get_json()["error"] == "rate_limited" and "Te veel verzoeken" in response.get_json()["message"]
        with app.app_context():
            last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert last.detail == "API: te veel verzoeken" and last.outcome == AuditOutcome.DENIED
    finally:
        with app.app_context():
            from tests.conftest import empty_database
            empty_database()
            db.dispose()


# --- the administrator's side ---------------------------------------------------------------------

def test_administrator_issues_a_key_shown_once_and_revokes_it(app: Flask) -> None:
    with app.app_context():
        org = make.organisation(OrganisationKind.VEILIG_THUIS, name="Veilig Thuis Testregio")
        admin = make.user(Role.ADMIN)
        db.session.commit()
    client = app.test_client()
    make.login(client, admin)
    form = client.get("/beheer/api-sleutels/nieuw").get_data(as_text=True)
    assert "Veilig Thuis Testregio" in form
    issued = client.post("/beheer/api-sleutels/nieuw", data={"organisation": str(org.id), "label": "Registratie"})
    page = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "enige keer dat de sleutel wordt getoond" in page
    plaintext = page.split('id="sleutel"')[1].split('value="')[1].split('"')[0]
    assert plaintext.startswith("mda_") and len(plaintext) == 47
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        raw = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM api_tokens")).all())
        assert plaintext not in raw
        token_id = token.id
    listing = client.get("/beheer/api-sleutels/").get_data(as_text=True)
    assert "Registratie" in listing and plaintext not in listing and plaintext[:10] in listing
    assert post(app.test_client(), payload(), plaintext).status_code == 201
    assert client.post(f"/beheer/api-sleutels/{token_id}/intrekken").status_code == 302
    assert "ingetrokken" in client.get("/beheer/api-sleutels/").get_data(as_text=True).lower()
    refused = post(app.test_client(), payload(), plaintext)
    assert refused.status_code == 401 and refused.get_json()["error"] == "token_revoked"
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_type == "api_token")).all()
        assert actions == [f"API-sleutel uitgegeven aan organisatie {org.id}", "API-sleutel ingetrokken"]


@pytest.mark.parametrize("kind,label,message", [
    (OrganisationKind.POLICE, "Politie", "Kies een organisatie uit de lijst."),
    (OrganisationKind.VEILIG_THUIS, "", "Geef de sleutel een naam"),
    (OrganisationKind.VEILIG_THUIS, "x" * 81, "hoogstens 80 tekens"),
])
def test_keys_only_for_veilig_thuis_with_a_name(app: Flask, kind: OrganisationKind, label: str,
                                                message: str) -> None:
    with app.app_context():
        org = make.organisation(kind)
        admin = make.user(Role.ADMIN)
        db.session.commit()
    client = app.test_client()
    make.login(client, admin)
    response = client.post("/beheer/api-sleutels/nieuw", data={"organisation": str(org.id), "label": label})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_issue_token_refuses_other_organisations(app: Flask) -> None:
    from mda.errors import InvalidInput
    with app.app_context():
        with pytest.raises(InvalidInput, match="Veilig Thuis"):
            issue_token(make.organisation(OrganisationKind.POLICE), label="x", by=make.user(Role.ADMIN))
        db.session.rollback()
