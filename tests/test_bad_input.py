"""Ids beyond the id columns' range, control characters and deep JSON never answer 500
(issue 13, items 2-4): a 404, the form's Dutch message, or the API's 4xx, and nothing is written."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mda.accounts.models import Role, User
from mda.db import db
from mda.forms import CONTROL_CHARACTER_MESSAGE, Form
from mda.lifecycle.models import ErasureRequest
from mda.organisations.models import Organisation, OrganisationKind
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person
from mda.reference.models import AveLevel
from mda.referrals.models import Referral
from mda.referrals.tokens import issue_token
from tests import factories as make
from tests.test_api_referrals import URL as API_URL, payload

TOO_LARGE_IDS = ["9223372036854775808", "2147483648", "99999999999999999999999999"]


def _signed_in(app: Flask, client: FlaskClient, *roles: Role) -> User:
    with app.app_context():
        account = make.user(*roles)
        db.session.commit()
    assert make.login(client, account).status_code == 302
    return account


@pytest.fixture
def family(app: Flask) -> dict[str, Any]:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        person = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Iris Grensgeval")
        db.session.commit()
        return {"coordinator": coordinator, "case_id": case.id, "person_id": person.id}


@pytest.mark.parametrize("large", TOO_LARGE_IDS)
def test_ids_beyond_the_column_range_are_not_found(app: Flask, client: FlaskClient, family: dict[str, Any],
                                                   large: str) -> None:
    make.login(client, family["coordinator"])
    case_id = family["case_id"]
    for path in (f"/casussen/{large}", f"/casussen/{large}/fasen", f"/casussen/{case_id}/clientsysteem/personen/{large}",
                 f"/casussen/{large}/clientsysteem/", f"/huisverboden/{large}"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/casussen/{large}/fase", data={}).status_code == 404


@pytest.mark.parametrize("large", [*TOO_LARGE_IDS, "-9223372036854775809", "-2147483649"])
def test_a_hidden_id_beyond_the_range_gets_the_forms_message(app: Flask, client: FlaskClient,
                                                             large: str) -> None:
    _signed_in(app, client, Role.PRIVACY_OFFICER)
    response = client.post("/privacy/verzoeken/nieuw", data={"person_id": large, "received_on": "2026-11-01"})
    assert response.status_code == 422
    assert "Het formulier is onvolledig of ongeldig; laad de pagina opnieuw." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ErasureRequest)) == 0


@pytest.mark.parametrize("large", TOO_LARGE_IDS)
def test_admin_user_and_organisation_routes_with_large_ids(app: Flask, client: FlaskClient, large: str) -> None:
    _signed_in(app, client, Role.ADMIN)
    for path in (f"/beheer/gebruikers/{large}", f"/beheer/organisaties/{large}"):
        assert client.get(path).status_code == 404, path


# --- control characters -------------------------------------------------------------------------

def _organisations(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organisation)) or 0


@pytest.mark.parametrize("bad", ["ab\x00cd", "ab\x07cd", "ab\x1bcd", "ab\x7fcd", "ab\x85cd"])
def test_control_characters_are_refused_on_admin_forms(app: Flask, client: FlaskClient, bad: str) -> None:
    _signed_in(app, client, Role.ADMIN)
    before = _organisations(app)
    created = client.post("/beheer/organisaties", data={"name": bad, "kind": "police", "active": "y"})
    assert created.status_code == 422 and CONTROL_CHARACTER_MESSAGE in created.get_data(as_text=True)
    assert _organisations(app) == before
    level = client.post("/beheer/ave-niveaus/3", data={"ave3-title": bad, "ave3-description": "Casusregie"})
    assert level.status_code == 422 and CONTROL_CHARACTER_MESSAGE in level.get_data(as_text=True)
    level = client.post("/beheer/ave-niveaus/3", data={"ave3-title": "AVE 3", "ave3-description": f"regel\n{bad}"})
    assert level.status_code == 422
    with app.app_context():
        target = make.user(Role.EXPERT)
        db.session.commit()
        target_id, org_id = target.id, target.organisation_id
        assert "\x00" not in db.session.get(AveLevel, 3).title
    renamed = client.post(f"/beheer/gebruikers/{target_id}", data={
        "display_name": bad, "organisation": str(org_id), "roles": ["expert"]})
    # This page shows a refused form again with 200 (as it did before); what counts is the message.
    assert renamed.status_code in (200, 422) and CONTROL_CHARACTER_MESSAGE in renamed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, target_id).display_name != bad


def test_line_breaks_and_tabs_are_still_accepted(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client, Role.ADMIN)
    response = client.post("/beheer/ave-niveaus/3", data={"ave3-title": "AVE 3",
                                                          "ave3-description": "Eerste regel\r\n\tTweede regel"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(AveLevel, 3).description == "Eerste regel\r\n\tTweede regel"


def test_nul_in_the_audit_search_and_login_is_a_message_not_a_500(app: Flask, client: FlaskClient) -> None:
    refused = client.post("/inloggen", data={"username": "ab\x00cd", "password": "x" * 20})
    assert refused.status_code in (200, 401)
    _signed_in(app, client, Role.PRIVACY_OFFICER)
    response = client.get("/audit/?username=ab%00cd")
    assert response.status_code == 200 and CONTROL_CHARACTER_MESSAGE in response.get_data(as_text=True)
    assert client.get("/audit/export.csv?username=ab%00cd").status_code == 302
    assert client.get("/audit/?case_reference=MDA-2026-0001%07").status_code == 200


def test_nul_in_a_path_part_is_not_found(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client, Role.ADMIN)
    assert client.post("/beheer/disciplines/ab%00cd", data={}).status_code == 404


def test_every_form_inherits_the_shared_checks() -> None:
    """The checks live in mda.forms.Form; a form built on FlaskForm directly would skip them."""
    import importlib
    import pkgutil

    import flask_wtf

    import mda
    for module in pkgutil.walk_packages(mda.__path__, "mda."):
        if module.name.endswith(".forms") or module.name.endswith("views"):
            importlib.import_module(module.name)

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    strays = [cls.__qualname__ for cls in subclasses(flask_wtf.FlaskForm)
              if cls.__module__.startswith("mda.") and not issubclass(cls, Form)]
    assert strays == []


# --- the referral API ---------------------------------------------------------------------------

@pytest.fixture
def api_key(app: Flask) -> str:
    with app.app_context():
        organisation = make.organisation(OrganisationKind.VEILIG_THUIS)
        _token, plain = issue_token(organisation, label="Registratiesysteem", by=make.user(Role.ADMIN))
        db.session.commit()
        return plain


def _referrals(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Referral)) or 0,
                db.session.scalar(select(func.count()).select_from(Person)) or 0)


@pytest.mark.parametrize("bad", ["Ab\x00Cd", "Ab\x07Cd", "Ab\x0bCd"])
def test_the_api_refuses_control_characters_in_every_text_field(app: Flask, client: FlaskClient, api_key: str,
                                                               bad: str) -> None:
    body = payload()
    body["persons"][0]["name"] = bad
    body["persons"][0]["address"] = bad
    body["reason"] = bad
    response = client.post(API_URL, json=body, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 422, response.get_data(as_text=True)
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert {"persons[0].name", "persons[0].address", "reason"} <= fields
    assert _referrals(app) == (0, 0)
    fine = payload(reason="Regel een\nregel twee\tmet tab")
    assert client.post(API_URL, json=fine, headers={"Authorization": f"Bearer {api_key}"}).status_code == 201


def test_deeply_nested_json_is_a_400(app: Flask, client: FlaskClient, api_key: str) -> None:
    for body in ("[" * 50000 + "]" * 50000, '{"a":' * 30000 + "1" + "}" * 30000):
        response = client.post(API_URL, data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}"})
        assert response.status_code == 400, response.status_code
        assert response.get_json()["error"] == "bad_request"
    assert _referrals(app) == (0, 0)
    json.loads("[" * 50 + "]" * 50)  # ordinary nesting is still read
