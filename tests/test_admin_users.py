"""User administration by the functional administrator (/beheer/gebruikers)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from mda.timeutil import utcnow
from tests import factories as make

BASE = "/beheer/gebruikers"
NEW_PASSWORD = "een lange nieuwe wachtwoordzin"


def signed_in(app: Flask, client: FlaskClient, *roles: Role, username: str | None = None) -> User:
    with app.app_context():
        account = make.user(*roles, username=username)
        db.session.commit()
    response = make.login(client, account)
    assert response.status_code == 302, "login helper failed"
    return account


def admin_client(app: Flask, client: FlaskClient) -> User:
    return signed_in(app, client, Role.ADMIN, username="beheerder")


def audit_for(user_id: int, action: AuditAction | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == "user", AuditEvent.object_id == user_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(User)) or 0,
            db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def new_user_form(org_id: int, **overrides: Any) -> dict[str, Any]:
    return {"username": "nieuwe.collega", "display_name": "Nieuwe Collega", "organisation": str(org_id),
            "roles": ["coordinator", "team_lead"], "password": NEW_PASSWORD, **overrides}


# --- creating ---------------------------------------------------------------------------------

def test_admin_creates_a_user_with_roles(app: Flask, client: FlaskClient) -> None:
    admin = admin_client(app, client)
    with app.app_context():
        org = make.organisation(name="MDA++ Venlo")
        db.session.commit()
    form = client.get(f"{BASE}/nieuw")
    assert form.status_code == 200
    assert "Nieuwe gebruiker" in form.get_data(as_text=True) and "MDA++ Venlo" in form.get_data(as_text=True)

    response = client.post(f"{BASE}/nieuw", data=new_user_form(org.id, username="Nieuwe.Collega"))
    assert response.status_code == 302 and response.headers["Location"] == f"{BASE}/"

    with app.app_context():
        created = db.session.scalars(select(User).where(User.username == "nieuwe.collega")).one()
        assert created.display_name == "Nieuwe Collega" and created.organisation_id == org.id
        assert created.role_set == {Role.COORDINATOR, Role.TEAM_LEAD}
        assert created.active and created.totp_secret is None and created.mfa_enrolled_at is None
        assert NEW_PASSWORD not in created.password_hash
        events = audit_for(created.id)
        assert [(e.action, e.user_id, e.detail) for e in events] == [
            (AuditAction.ACCOUNT_CHANGE, admin.id, "account aangemaakt"),
            (AuditAction.ROLE_CHANGE, admin.id, "rollen: coordinator,team_lead")]

    listing = client.get(f"{BASE}/").get_data(as_text=True)
    assert "De gebruiker is aangemaakt." in listing
    assert "nieuwe.collega" in listing and "MDA++-coördinator" in listing and "Teamleider MDA++" in listing


@pytest.mark.parametrize("overrides, field, message", [
    ({"username": "bestaand"}, "username", "Deze gebruikersnaam bestaat al."),
    ({"password": "te kort"}, "password", "Een wachtwoord heeft minstens 12"),
    ({"roles": []}, "roles", "Kies minstens één rol."),
    ({"display_name": ""}, "display_name", "Vul een naam in."),
    ({"username": "met spatie"}, "username", "Gebruik alleen letters"),
    ({"organisation": "999999"}, "organisation", "Kies een organisatie uit de lijst."),
    ({"roles": ["coordinator", "superuser"]}, "roles", "Kies rollen uit de lijst."),
])
def test_bad_input_shows_dutch_errors_and_writes_nothing(app: Flask, client: FlaskClient, overrides: dict[str, Any],
                                                        field: str, message: str) -> None:
    admin_client(app, client)
    with app.app_context():
        make.user(Role.COORDINATOR, username="bestaand")
        org = make.organisation()
        db.session.commit()
        before = counts()
    response = client.post(f"{BASE}/nieuw", data=new_user_form(org.id, **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert f'id="{field}-fout"' in page and f'aria-describedby="{field}-fout"' in page
    with app.app_context():
        assert counts() == before


def test_password_is_not_echoed_back(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    with app.app_context():
        org = make.organisation()
        db.session.commit()
    response = client.post(f"{BASE}/nieuw", data=new_user_form(org.id, roles=[]))
    assert response.status_code == 422 and NEW_PASSWORD not in response.get_data(as_text=True)


def test_inactive_organisation_is_not_offered(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    with app.app_context():
        gone = make.organisation(name="Opgeheven organisatie")
        gone.active = False
        db.session.commit()
    assert "Opgeheven organisatie" not in client.get(f"{BASE}/nieuw").get_data(as_text=True)
    response = client.post(f"{BASE}/nieuw", data=new_user_form(gone.id))
    assert response.status_code == 422


# --- the list -----------------------------------------------------------------------------------

def test_list_shows_status_mfa_and_lock(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    with app.app_context():
        locked = make.user(Role.EXPERT, username="geblokkeerd", enrolled=False)
        locked.locked_until = utcnow().replace(year=utcnow().year + 1)
        db.session.commit()
    response = client.get(f"{BASE}/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    row = re.search(r"<tr>\s*<td><a[^>]*>geblokkeerd</a>.*?</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert cells[3] == "Gedetacheerd expert" and cells[4:] == ["ja", "nee", "ja"]


# --- editing ------------------------------------------------------------------------------------

def test_edit_roles_writes_role_change_audit(app: Flask, client: FlaskClient) -> None:
    admin = admin_client(app, client)
    with app.app_context():
        target = make.user(Role.EXPERT)
        db.session.commit()
    page = client.get(f"{BASE}/{target.id}")
    assert page.status_code == 200 and "Tweestapsverificatie opnieuw instellen" in page.get_data(as_text=True)

    response = client.post(f"{BASE}/{target.id}", data={
        "display_name": "Andere Naam", "organisation": str(target.organisation_id),
        "roles": ["coordinator", "team_lead"]})
    assert response.status_code == 302 and response.headers["Location"] == f"{BASE}/{target.id}#gegevens"
    assert "De gegevens van de gebruiker zijn opgeslagen." in client.get(f"{BASE}/{target.id}").get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, target.id)
        assert stored.role_set == {Role.COORDINATOR, Role.TEAM_LEAD} and stored.display_name == "Andere Naam"
        changes = audit_for(target.id, AuditAction.ROLE_CHANGE)
        assert changes[-1].detail == "rollen: coordinator,team_lead" and changes[-1].user_id == admin.id
        account = audit_for(target.id, AuditAction.ACCOUNT_CHANGE)[-1]
        assert account.detail == "account gewijzigd: naam" and "Andere Naam" not in (account.detail or "")


def test_removing_every_role_is_refused(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    with app.app_context():
        target = make.user(Role.EXPERT)
        db.session.commit()
        before = counts()
    response = client.post(f"{BASE}/{target.id}", data={"display_name": "X", "organisation": "0"})
    assert response.status_code == 422 and "Kies minstens één rol." in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, target.id)
        assert stored.role_set == {Role.EXPERT} and stored.display_name == "Test Gebruiker"
        assert counts() == before


def test_admin_cannot_take_away_their_own_admin_role(app: Flask, client: FlaskClient) -> None:
    admin = admin_client(app, client)
    response = client.post(f"{BASE}/{admin.id}", data={"display_name": "Beheerder", "organisation": "0",
                                                       "roles": ["coordinator"]})
    assert response.status_code == 422
    assert "eigen rol van functioneel beheerder niet intrekken" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.id).role_set == {Role.ADMIN}


# --- disabling, MFA and password resets ----------------------------------------------------------

def test_disabling_ends_the_users_running_session_at_once(app: Flask, client: FlaskClient) -> None:
    admin = admin_client(app, client)
    target_client = app.test_client()
    target = signed_in(app, target_client, Role.COORDINATOR)
    assert target_client.get("/").status_code == 200

    response = client.post(f"{BASE}/{target.id}/actief", data={"actief-active": "0"})
    assert response.status_code == 302
    assert "Het account is uitgeschakeld." in client.get(response.headers["Location"]).get_data(as_text=True)

    after = target_client.get("/")
    assert after.status_code == 302 and after.headers["Location"] == "/inloggen"
    with app.app_context():
        stored = db.session.get(User, target.id)
        assert not stored.active and stored.session_generation == target.session_generation + 1
        event = audit_for(target.id, AuditAction.ACCOUNT_CHANGE)[-1]
        assert event.detail == "account uitgeschakeld" and event.user_id == admin.id

    # Enabling again does not revive the old session.
    assert client.post(f"{BASE}/{target.id}/actief", data={"actief-active": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, target.id).active
    assert target_client.get("/").status_code == 302


def test_admin_cannot_disable_themselves(app: Flask, client: FlaskClient) -> None:
    admin = admin_client(app, client)
    assert "U kunt uw eigen account niet uitschakelen." in client.get(f"{BASE}/{admin.id}").get_data(as_text=True)
    response = client.post(f"{BASE}/{admin.id}/actief", data={"actief-active": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "U kunt uw eigen account niet uitschakelen." in page
    assert 'role="alert"' in page
    with app.app_context():
        stored = db.session.get(User, admin.id)
        assert stored.active and stored.session_generation == admin.session_generation
    assert client.get(f"{BASE}/").status_code == 200


def test_reset_mfa_clears_the_secret_and_ends_sessions(app: Flask, client: FlaskClient) -> None:
    admin = admin_client(app, client)
    target_client = app.test_client()
    target = signed_in(app, target_client, Role.EXPERT)
    with app.app_context():
        assert db.session.get(User, target.id).totp_secret is not None

    response = client.post(f"{BASE}/{target.id}/mfa-herstellen")
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(User, target.id)
        assert stored.totp_secret is None and stored.totp_secret_ciphertext is None
        assert stored.mfa_enrolled_at is None and stored.totp_last_step is None
        assert stored.session_generation == target.session_generation + 1
        event = audit_for(target.id, AuditAction.MFA_CHANGE)[-1]
        assert event.user_id == admin.id and event.detail == "tweestapsverificatie hersteld door beheerder"
    after = target_client.get("/")
    assert after.status_code == 302 and after.headers["Location"] == "/inloggen"


def test_reset_password_sets_it_unlocks_and_ends_sessions(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    target_client = app.test_client()
    target = signed_in(app, target_client, Role.EXPERT)
    with app.app_context():
        stored = db.session.get(User, target.id)
        stored.failed_logins = 7
        stored.locked_until = utcnow().replace(year=utcnow().year + 1)
        db.session.commit()

    short = client.post(f"{BASE}/{target.id}/wachtwoord", data={"wachtwoord-password": "kort"})
    assert short.status_code == 422 and "minstens 12" in short.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, target.id).failed_logins == 7

    response = client.post(f"{BASE}/{target.id}/wachtwoord", data={"wachtwoord-password": NEW_PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(User, target.id)
        assert stored.failed_logins == 0 and stored.locked_until is None
        assert stored.session_generation == target.session_generation + 1
        assert app.extensions["mda.passwords"].verify(stored.password_hash, NEW_PASSWORD)
        detail = audit_for(target.id, AuditAction.ACCOUNT_CHANGE)[-1].detail or ""
        assert detail == "wachtwoord opnieuw ingesteld door beheerder" and NEW_PASSWORD not in detail
    assert target_client.get("/").status_code == 302


# --- access --------------------------------------------------------------------------------------

def endpoints(user_id: int) -> list[tuple[str, str]]:
    return [("GET", f"{BASE}/"), ("GET", f"{BASE}/nieuw"), ("POST", f"{BASE}/nieuw"),
            ("GET", f"{BASE}/{user_id}"), ("POST", f"{BASE}/{user_id}"),
            ("POST", f"{BASE}/{user_id}/actief"), ("POST", f"{BASE}/{user_id}/mfa-herstellen"),
            ("POST", f"{BASE}/{user_id}/wachtwoord")]


def test_unknown_user_id_gives_404(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    for method, url in endpoints(987654)[3:]:
        assert client.open(url, method=method).status_code == 404, url


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMIN])
def test_other_roles_are_refused(app: Flask, client: FlaskClient, role: Role) -> None:
    signed_in(app, client, role)
    with app.app_context():
        target = make.user(Role.EXPERT)
        db.session.commit()
        before = counts()
    for method, url in endpoints(target.id) + endpoints(987654)[3:]:
        assert client.open(url, method=method, data={"actief-active": "0"}).status_code == 403, url
    with app.app_context():
        assert db.session.get(User, target.id).active and counts() == before


def test_anonymous_is_sent_to_login(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        target = make.user(Role.EXPERT)
        db.session.commit()
    for method, url in endpoints(target.id):
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.headers["Location"] == "/inloggen", url


def test_forms_on_the_edit_page_carry_their_own_csrf_token(app: Flask, client: FlaskClient) -> None:
    admin_client(app, client)
    with app.app_context():
        target = make.user(Role.EXPERT)
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"{BASE}/{target.id}").get_data(as_text=True)
    token = re.search(r'name="actief-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    assert client.post(f"{BASE}/{target.id}/actief", data={"actief-active": "0"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, target.id).active
    response = client.post(f"{BASE}/{target.id}/actief",
                           data={"actief-active": "0", "actief-csrf_token": token.group(1)})
    assert response.status_code == 302
    with app.app_context():
        assert not db.session.get(User, target.id).active
