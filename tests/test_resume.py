"""No lost typing: a form posted after the session ended comes back after logging in again,
kept encrypted on the server meanwhile; the page one was on is where login lands; nothing else
(another user, another site) is reachable that way."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.auth.models import FormDraft
from mda.auth.resume import PAGE_KEY, RESUME_KEY, safe_page
from mda.db import db
from mda.journal.models import JournalEntry
from tests import factories as make
from tests.test_encryption_at_rest import _raw_database_text

TYPED = "Zzmarkerverlopen huisbezoek bij het gezin, moeder vertelde over de ruzie"


@pytest.fixture
def setting(app: Flask) -> tuple[User, User, int]:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        other = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        return coordinator, other, case.id


def _expire(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["seen_at"] = 0.0


def _post_entry(client: FlaskClient, case_id: int):  # noqa: ANN202
    return client.post(f"/casussen/{case_id}/journaal",
                       data={"kind": "contact_family", "occurred_at": "2026-11-30T10:15", "body": TYPED})


def test_text_posted_after_the_session_ended_is_back_in_the_form_after_login(app: Flask, client: FlaskClient,
                                                                               setting) -> None:
    coordinator, _, case_id = setting
    make.login(client, coordinator)
    assert client.get(f"/casussen/{case_id}/journaal").status_code == 200
    _expire(client)
    response = _post_entry(client, case_id)
    assert response.status_code == 302 and response.headers["Location"] == "/inloggen"
    with app.app_context():
        assert db.session.scalars(select(JournalEntry)).all() == []          # nothing saved unseen
        [draft] = db.session.scalars(select(FormDraft)).all()
        assert draft.user_id == coordinator.id and draft.page == f"/casussen/{case_id}/journaal"
        raw = _raw_database_text(app)
    assert "Zzmarkerverlopen" not in raw                                    # encrypted at rest
    login_page = client.get("/inloggen").get_data(as_text=True)
    assert "Wat u had ingevuld is bewaard" in login_page
    response = make.login(client, coordinator)
    assert response.headers["Location"] == f"/casussen/{case_id}/journaal"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert TYPED in page and "staat weer in het formulier" in page
    with app.app_context():
        assert db.session.scalars(select(FormDraft)).all() == []            # back in the form: gone
    assert TYPED not in client.get(f"/casussen/{case_id}/journaal").get_data(as_text=True)


def test_another_user_at_the_same_browser_gets_neither_page_nor_text(app: Flask, client: FlaskClient,
                                                                       setting) -> None:
    coordinator, other, case_id = setting
    make.login(client, coordinator)
    client.get(f"/casussen/{case_id}/journaal")
    _expire(client)
    _post_entry(client, case_id)
    response = make.login(client, other)
    assert response.headers["Location"] == "/"
    with app.app_context():
        assert len(db.session.scalars(select(FormDraft)).all()) == 1       # still its author's


def test_login_goes_back_to_the_page_only_for_pages_of_this_app(app: Flask, client: FlaskClient,
                                                                 setting) -> None:
    coordinator, _, case_id = setting
    with app.test_request_context():
        assert safe_page(f"/casussen/{case_id}") == f"/casussen/{case_id}"
        for bad in ("//evil.example/x", "https://evil.example/", "/\\evil", "/inloggen", "/bestaat-niet",
                    "casussen/1", None, 42, "/uitloggen"):
            assert safe_page(bad) is None, bad
    with client.session_transaction() as session:
        session[RESUME_KEY] = {"user_id": coordinator.id, "page": "//evil.example/x", "draft": None}
    assert make.login(client, coordinator).headers["Location"] == "/"


def test_the_page_in_view_is_remembered_without_its_query(app: Flask, client: FlaskClient, setting) -> None:
    coordinator, _, case_id = setting
    make.login(client, coordinator)
    client.get(f"/casussen/?fase=plan", headers={"Accept": "text/html"})
    with client.session_transaction() as session:
        assert session[PAGE_KEY] == "/casussen/"
    client.get(f"/casussen/{case_id}", headers={"Accept": "application/json"})
    with client.session_transaction() as session:
        assert session[PAGE_KEY] == "/casussen/"


def test_a_download_or_an_error_page_is_not_the_page_to_return_to(app: Flask, client: FlaskClient,
                                                                    setting) -> None:
    """A bookmarked PDF or CSV would otherwise be downloaded again after the next login instead of
    showing a page; a page that answered 404 would answer 404 again."""
    coordinator, _, case_id = setting
    make.login(client, coordinator)
    client.get(f"/casussen/{case_id}", headers={"Accept": "text/html"})
    download = client.get(f"/casussen/{case_id}/overdracht.pdf", headers={"Accept": "text/html,*/*"})
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert client.get(f"/casussen/{case_id + 1000}", headers={"Accept": "text/html"}).status_code == 404
    with client.session_transaction() as session:
        assert session[PAGE_KEY] == f"/casussen/{case_id}"


def test_renewing_the_session_counts_as_activity(app: Flask, client: FlaskClient, setting) -> None:
    coordinator, _, _ = setting
    make.login(client, coordinator)
    with client.session_transaction() as session:
        session["seen_at"] = session["seen_at"] - 600
        before = session["seen_at"]
    response = client.post("/sessie/verlengen")
    assert response.status_code == 200 and response.get_json() == {"verlengd": True}
    with client.session_transaction() as session:
        assert session["seen_at"] > before
    _expire(client)
    assert client.post("/sessie/verlengen").status_code == 302
