"""The minimal web shell: login, the home page, deny-by-default, headers and error pages."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from tests import factories as make
from tests.conftest import build_app


def test_anonymous_is_sent_to_login_without_the_requested_path(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/inloggen"


def test_login_shows_home_with_name_and_role(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        user = make.user(Role.COORDINATOR, Role.TEAM_LEAD, username="carla")
        db.session.commit()
    response = make.login(client, user)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "Welkom, Test Gebruiker" in page and "Teamleider MDA++" in page
    assert home.headers["Cache-Control"] == "no-store"


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        user = make.user(Role.COORDINATOR, username="carla")
        db.session.commit()
    wrong = client.post("/inloggen", data={"username": "carla", "password": "niet het wachtwoord"})
    unknown = client.post("/inloggen", data={"username": "niemand", "password": "niet het wachtwoord"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Inloggen is niet gelukt." in wrong.get_data(as_text=True)
    # Apart from the echoed username, the two pages are identical. (The CSRF token signs the time
    # in seconds: two requests on either side of a second's edge differ there, as any two would.)
    assert (_without_csrf_tokens(wrong.get_data(as_text=True)).replace("carla", "?")
            == _without_csrf_tokens(unknown.get_data(as_text=True)).replace("niemand", "?"))
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count(AuditAction.LOGIN_FAILED) == 2 and user


def _without_csrf_tokens(page: str) -> str:
    """The page with the value of every CSRF token (meta tag, hidden fields) blanked."""
    def blank(tag: re.Match[str]) -> str:
        return re.sub(r'((?:content|value)=")[^"]*"', r'\1…"', tag.group(0))
    return re.sub(r'<[^>]*name="csrf[-_]token"[^>]*>', blank, page)


def test_empty_login_form_gets_dutch_field_errors(client: FlaskClient) -> None:
    response = client.post("/inloggen", data={"username": "", "password": ""})
    page = response.get_data(as_text=True)
    assert "Vul uw gebruikersnaam in." in page and "Vul uw wachtwoord in." in page
    assert 'aria-invalid="true"' in page


def test_password_change_ends_existing_sessions(app: Flask, client: FlaskClient) -> None:
    from mda.auth.operations import set_password
    with app.app_context():
        user = make.user(Role.COORDINATOR, username="carla")
        db.session.commit()
    make.login(client, user)
    assert client.get("/").status_code == 200
    with app.app_context():
        account = db.session.merge(user)
        set_password(account, "een heel nieuw wachtwoord")
        db.session.commit()
    assert client.get("/").status_code == 302


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    response = client.get("/inloggen")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_unknown_page_gets_dutch_404_without_details(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        user = make.user(Role.COORDINATOR)
        db.session.commit()
    make.login(client, user)
    response = client.get("/bestaat-niet")
    assert response.status_code == 404 and "Niet gevonden" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(migrated: str, keys, instance_dir) -> None:
    app = build_app(migrated, keys, instance_dir, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/inloggen", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "Het formulier is verlopen" in response.get_data(as_text=True)
    with app.app_context():
        db.dispose()


def test_the_remembered_main_menu_follows_the_permissions_of_each_account(app: Flask) -> None:
    """The main menu is remembered per worker by the permissions granted and its counts
    (mda.web.main_menu): the set must be exactly what ``may`` grants without a target, every code
    in the menu must be a permission (a typo would hide an item silently), and the menu of one
    account never shows on the page of an account with other permissions."""
    from pathlib import Path
    from mda.security.policy import Permission, granted_without_target, may
    menu = (Path(__file__).resolve().parents[1] / "mda" / "templates" / "_menu.html").read_text()
    codes = set(re.findall(r'"([a-z:-]+)" in granted', menu))
    assert codes and codes <= {permission.value for permission in Permission}
    with app.app_context():
        accounts = [make.user(role) for role in Role] + [make.user(Role.COORDINATOR, Role.TEAM_LEAD)]
        inactive = make.user(Role.TEAM_LEAD)
        inactive.active = False
        for account in [*accounts, inactive]:
            assert granted_without_target(account) == {p.value for p in Permission if may(account, p)}
        assert granted_without_target(inactive) == frozenset() and granted_without_target(None) == frozenset()
        coordinator, referrer = make.user(Role.COORDINATOR), make.user(Role.VT_REFERRER)
        db.session.commit()
    pages = {}
    for account in (coordinator, referrer, coordinator):
        client = app.test_client()
        make.login(client, account)
        page = client.get("/").get_data(as_text=True)
        pages.setdefault(account.id, []).append(page[page.index("<header"):page.index("</header>")])
    assert 'href="/casussen/"' in pages[coordinator.id][0] and 'href="/verwijzingen/"' not in pages[coordinator.id][0]
    assert 'href="/verwijzingen/"' in pages[referrer.id][0] and 'href="/casussen/"' not in pages[referrer.id][0]
    assert pages[coordinator.id][1].count('class="nav-item"') == pages[coordinator.id][0].count('class="nav-item"')
