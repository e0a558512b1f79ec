"""Logout ends the session on the server: a copied cookie is refused afterwards (issue 13, item 1)."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from mda.accounts.models import Role
from mda.auth.models import LoginSession
from mda.db import db
from mda.people.models import PersonRole
from mda.people.operations import add_person
from tests import factories as make


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_copied_cookie_is_refused_after_logout_other_sessions_stay(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Lotte Uitlogvoorbeeld",
                   bsn=make.BSN_A)
        db.session.commit()
        case_id = case.id
    browser, other_browser, attacker = app.test_client(), app.test_client(), app.test_client()
    make.login(browser, coordinator)
    make.login(other_browser, coordinator)
    copied = _cookie(browser)
    page = browser.get(f"/casussen/{case_id}/clientsysteem/")
    assert page.status_code == 200 and "Lotte Uitlogvoorbeeld" in page.get_data(as_text=True)

    assert browser.post("/uitloggen").status_code == 302
    attacker.set_cookie("session", copied)
    for path in ("/casussen/", f"/casussen/{case_id}/clientsysteem/"):
        replayed = attacker.get(path)
        assert replayed.status_code == 302 and replayed.headers["Location"] == "/inloggen", path
        assert "Uitlogvoorbeeld" not in replayed.get_data(as_text=True)
    # The same user's other session is not ended by this logout.
    assert other_browser.get(f"/casussen/{case_id}/clientsysteem/").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1



def test_sessions_past_the_absolute_lifetime_are_pruned_at_a_login(app: Flask, clock) -> None:
    from datetime import timedelta

    from mda.timeutil import utcnow
    with app.app_context():
        first, second = make.user(Role.COORDINATOR), make.user(Role.EXPERT)
        db.session.commit()
    start = utcnow()
    clock(start)
    make.login(app.test_client(), first)
    clock(start + timedelta(hours=11))
    make.login(app.test_client(), second)
    with app.app_context():
        assert db.session.scalars(select(LoginSession.user_id)).all() == [second.id]
