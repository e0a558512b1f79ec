"""Access requests (issue 13, item 8): an access report only for a registered request made after a
lookup by BSN or by name with date of birth; the register with the AVG's one-month deadline."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from mda.accounts.models import Role
from mda.audit.models import AuditEvent
from mda.db import db
from mda.lifecycle.access_requests import add_months, deadline_state
from mda.lifecycle.models import AccessRequest
from mda.lifecycle.views import NOT_LOOKED_UP
from mda.people.models import PersonRole
from mda.people.operations import add_person
from tests import factories as make

RECEIVED = datetime(2026, 1, 31, 9, 0, tzinfo=timezone.utc)
ANNA = {"name": "Anna Inzagevoorbeeld", "bsn": make.BSN_A, "date_of_birth": date(1990, 4, 5),
        "address": "Inzagestraat 1, Venlo"}
BRAM = {"name": "Bram Inzagevoorbeeld", "bsn": make.BSN_B, "date_of_birth": date(1985, 1, 2),
        "address": "Inzagestraat 1, Venlo"}


@pytest.fixture
def officer(app: Flask, clock) -> tuple[FlaskClient, dict[str, int]]:
    clock(RECEIVED)
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        anna = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, **ANNA)
        bram = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, **BRAM)
        privacy = make.user(Role.PRIVACY_OFFICER)
        db.session.commit()
        ids = {"anna": anna.id, "bram": bram.id, "privacy": privacy}
    client = app.test_client()
    assert make.login(client, privacy).status_code == 302
    return client, ids


def _requests(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AccessRequest)) or 0


def _later(client: FlaskClient, clock, moment: datetime, ids: dict[str, Any]) -> None:
    """Move the clock days on; the session has long expired, so log in again."""
    clock(moment)
    client.post("/uitloggen")
    assert make.login(client, ids["privacy"]).status_code == 302


def _register(client: FlaskClient, person_id: int, received_on: str = "2026-01-31"):
    return client.post("/privacy/inzageverzoeken/nieuw", data={"person_id": person_id, "received_on": received_on})


def test_counting_ids_gives_no_report(app: Flask, officer) -> None:
    client, ids = officer
    # The old route by person id is gone.
    for person_id in (ids["anna"], ids["bram"], 1, 2, 3):
        assert client.get(f"/privacy/personen/{person_id}/inzage").status_code == 404
    # A report exists only for a registered request; registering needs the lookup first.
    assert client.get("/privacy/inzageverzoeken/1/overzicht").status_code == 404
    for person_id in (ids["anna"], ids["bram"]):
        refused = _register(client, person_id)
        assert refused.status_code == 422 and NOT_LOOKED_UP in refused.get_data(as_text=True)
    assert _requests(app) == 0
    # A lookup of Anna allows a request for Anna, not for Bram.
    assert client.post("/privacy/personen", data={"bsn": make.BSN_A}).status_code == 200
    assert _register(client, ids["bram"]).status_code == 422
    assert _requests(app) == 0
    registered = _register(client, ids["anna"])
    assert registered.status_code == 302 and _requests(app) == 1
    report = client.get(registered.headers["Location"] + "/overzicht")
    assert report.status_code == 200 and ANNA["name"] in report.get_data(as_text=True)
    assert BRAM["name"] not in report.get_data(as_text=True)


def test_lookup_by_name_and_date_of_birth_also_allows_a_request(app: Flask, officer) -> None:
    client, ids = officer
    found = client.post("/privacy/personen", data={"name": BRAM["name"], "date_of_birth": "1985-01-02"})
    assert found.status_code == 200 and "Inzageverzoek vastleggen" in found.get_data(as_text=True)
    assert _register(client, ids["bram"]).status_code == 302
    with app.app_context():
        item = db.session.scalars(select(AccessRequest)).one()
        assert (item.person_id, item.received_on, item.due_on) == (ids["bram"], date(2026, 1, 31), date(2026, 2, 28))
        created = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "access_request")).one()
        assert created.person_id == ids["bram"] and BRAM["name"] not in (created.detail or "")


def test_a_lookup_expires(app: Flask, officer, clock) -> None:
    client, ids = officer
    client.post("/privacy/personen", data={"bsn": make.BSN_A})
    clock(RECEIVED + timedelta(minutes=11))
    refused = _register(client, ids["anna"])
    assert refused.status_code == 422 and NOT_LOOKED_UP in refused.get_data(as_text=True)


def test_the_deadline_is_one_month_extendable_by_two_with_a_reason(app: Flask, officer, clock) -> None:
    client, ids = officer
    client.post("/privacy/personen", data={"bsn": make.BSN_A})
    detail_url = _register(client, ids["anna"]).headers["Location"]
    request_id = int(detail_url.rsplit("/", 1)[1])
    page = client.get(detail_url).get_data(as_text=True)
    assert "28-02-2026" in page and "Termijn verstrijkt" not in page

    _later(client, clock, datetime(2026, 2, 24, 9, 0, tzinfo=timezone.utc), ids)  # four days left: warned
    page = client.get(detail_url).get_data(as_text=True)
    assert "Termijn verstrijkt op 28-02-2026: nog 4 dag(en)." in page
    index = client.get("/privacy/").get_data(as_text=True)
    assert "Termijn bijna om" in index

    refused = client.post(f"{detail_url}/verlengen", data={"reason": "  ", "version": 1})
    assert refused.status_code == 422 and "reden" in refused.get_data(as_text=True)
    extended = client.post(f"{detail_url}/verlengen", data={"reason": "Veel dossiers van drie organisaties",
                                                            "version": 1})
    assert extended.status_code == 302
    with app.app_context():
        item = db.session.get(AccessRequest, request_id)
        assert item.extended_until == date(2026, 4, 30) and item.deadline == date(2026, 4, 30)
        raw = db.session.execute(text("SELECT extension_reason_ciphertext FROM access_requests")).scalar_one()
        assert b"dossiers" not in bytes(raw)
    again = client.post(f"{detail_url}/verlengen", data={"reason": "Nog meer", "version": 2})
    assert again.status_code == 422 and "al verlengd" in again.get_data(as_text=True)

    _later(client, clock, datetime(2026, 5, 2, 9, 0, tzinfo=timezone.utc), ids)
    assert "Termijn verstreken op 30-04-2026: 2 dag(en) te laat." in client.get(detail_url).get_data(as_text=True)
    assert "Termijn verstreken" in client.get("/privacy/").get_data(as_text=True)
    done = client.post(f"{detail_url}/afhandelen", data={"confirm": "y", "version": 2})
    assert done.status_code == 302
    page = client.get(detail_url).get_data(as_text=True)
    assert "Afgehandeld: overzicht verstrekt" in page and "Termijn verstreken" not in page


def test_extending_after_the_first_month_is_refused(app: Flask, officer, clock) -> None:
    client, ids = officer
    client.post("/privacy/personen", data={"bsn": make.BSN_A})
    detail_url = _register(client, ids["anna"]).headers["Location"]
    _later(client, clock, datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc), ids)
    refused = client.post(f"{detail_url}/verlengen", data={"reason": "Te laat bedacht", "version": 1})
    assert refused.status_code == 422 and "eerste maand is voorbij" in refused.get_data(as_text=True)


@pytest.mark.parametrize("received, months, due", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 1, 31), 3, date(2026, 4, 30)), (date(2026, 11, 15), 3, date(2027, 2, 15)),
    (date(2026, 12, 31), 1, date(2027, 1, 31))])
def test_months_are_calendar_months(received: date, months: int, due: date) -> None:
    assert add_months(received, months) == due


def test_deadline_state_levels() -> None:
    item: Any = AccessRequest(received_on=date(2026, 3, 1), due_on=date(2026, 4, 1))
    from mda.lifecycle.models import AccessRequestStatus
    item.status = AccessRequestStatus.OPEN
    assert deadline_state(item, date(2026, 3, 10)).level == "ok"
    assert deadline_state(item, date(2026, 3, 25)).level == "near"
    assert deadline_state(item, date(2026, 4, 2)).level == "past"
    item.status = AccessRequestStatus.COMPLETED
    assert deadline_state(item, date(2026, 4, 2)).level == "done"


def test_wiping_the_reason_keeps_the_register_row(ctx: Flask) -> None:
    """The retention purge and an erasure drop ciphertexts; an extended request's row must allow it."""
    from mda.lifecycle.access_requests import extend, register
    from mda.lifecycle.scrub import wipe
    from mda.timeutil import today
    coordinator = make.user(Role.COORDINATOR)
    person = add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator, name="Kim Wisvoorbeeld")
    item = register(person, received_on=today(), by=make.user(Role.PRIVACY_OFFICER))
    extend(item, reason="Omvangrijk dossier", by=coordinator)
    assert wipe(item)
    db.session.flush()
    assert item.extension_reason is None and item.extended_until is not None


def test_an_erasure_request_also_needs_the_lookup(app: Flask, officer) -> None:
    client, ids = officer
    assert client.get(f"/privacy/verzoeken/nieuw?persoon={ids['bram']}").status_code == 404
    refused = client.post("/privacy/verzoeken/nieuw", data={"person_id": ids["bram"], "received_on": "2026-01-31"})
    assert refused.status_code == 422 and NOT_LOOKED_UP in refused.get_data(as_text=True)
    client.post("/privacy/personen", data={"bsn": make.BSN_B})
    assert client.get(f"/privacy/verzoeken/nieuw?persoon={ids['bram']}").status_code == 200
    accepted = client.post("/privacy/verzoeken/nieuw", data={"person_id": ids["bram"], "received_on": "2026-01-31"})
    assert accepted.status_code == 302
