"""The structured safety plan: per person, the family's and the network's part, encrypted at rest;
a new version starts from the current one and shows what changed; printable for the family meeting."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role
from mda.audit.models import AuditAction, AuditEvent
from mda.cases.models import Case
from mda.db import db
from mda.errors import InvalidInput
from mda.forms import LONG_TEXT
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.safety.models import PlanContent, SafetyPlan
from mda.safety.operations import agree_safety_plan
from mda.safety.queries import evidence_for, plans_of
from mda.timeutil import today
from tests import factories as make
from tests.test_encryption_at_rest import _raw_database_text

SIGNAL = "Zzmarkersignaal stemverheffing"
FAMILY = "Zzmarkergezin belt oma"
NETWORK = "Zzmarkernetwerk buurvrouw haalt op"


def _setup(app: Flask) -> tuple[int, int, int, object]:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        mother = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Sanne Planmoeder")
        father = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name="Mark Planvader")
        db.session.commit()
        return case.id, mother.id, father.id, coordinator


def _plan_data(mother: int, father: int, **changes: str) -> dict[str, str]:
    data = {"agreed_on": today().isoformat(), "review_on": (today() + timedelta(days=30)).isoformat(),
            "agreements": "Geen contact zonder begeleiding", "agreed_by": "Moeder, vader, coördinator",
            f"p{mother}_agreements": "Moeder brengt de kinderen naar school", f"p{mother}_danger_signals": SIGNAL,
            f"p{mother}_who_to_call": "Politie 112, daarna Veilig Thuis",
            f"p{father}_agreements": "Vader start met hulpverlening voor 1 maart",
            f"p{father}_next_phase": "Drie maanden zonder incidenten",
            "plan_family": FAMILY, "plan_network": NETWORK}
    data.update(changes)
    return data


@pytest.fixture
def planned(app: Flask, client: FlaskClient) -> tuple[int, int, int]:
    case_id, mother, father, coordinator = _setup(app)
    make.login(client, coordinator)
    response = client.post(f"/casussen/{case_id}/veiligheid/plannen", data=_plan_data(mother, father))
    assert response.status_code == 302 and response.headers["Location"].endswith("#plan-vastleggen")
    return case_id, mother, father


def test_structure_is_kept_encrypted_and_readable_through_the_app(app: Flask, planned: tuple[int, int, int]) -> None:
    case_id, mother, father = planned
    with app.app_context():
        raw = _raw_database_text(app)
        assert "Zzmarker" not in raw
        [plan] = plans_of(db.session.get(Case, case_id))
        content = plan.content
        assert content.person_part(mother, "danger_signals") == SIGNAL
        assert content.person_part(father, "next_phase") == "Drie maanden zonder incidenten"
        assert content.person_part(father, "who_to_call") == ""   # empty parts are not stored
        assert content.parts == {"family": FAMILY, "network": NETWORK}
        assert plan.agreements == "Geen contact zonder begeleiding"


def test_new_version_starts_from_the_current_one_and_shows_what_changed(
        client: FlaskClient, planned: tuple[int, int, int]) -> None:
    case_id, mother, father = planned
    page = client.get(f"/casussen/{case_id}/veiligheid/").get_data(as_text=True)
    form = page[page.index('id="plan-vastleggen"'):]
    for text in (SIGNAL, FAMILY, NETWORK, "Vader start met hulpverlening voor 1 maart", "Geen contact zonder begeleiding"):
        assert text in form
    assert "Het formulier begint met de inhoud van versie 1" in form
    assert "Gewijzigd" not in page   # the first version has nothing to compare with

    response = client.post(f"/casussen/{case_id}/veiligheid/plannen", data=_plan_data(
        mother, father, **{f"p{mother}_danger_signals": "Zzmarkersignaal dreigende berichten",
                           f"p{father}_who_to_call": "Zijn broer", "plan_network": ""}))
    assert response.status_code == 302
    page = client.get(f"/casussen/{case_id}/veiligheid/").get_data(as_text=True)
    newest = page[page.index("Versie 2"):page.index("Versie 1")]
    signal_part = newest[newest.index("Signalen van onveiligheid"):]
    assert signal_part.index("Gewijzigd") < signal_part.index("Zzmarkersignaal dreigende berichten")
    call_part = newest[newest.index("Mark Planvader"):]
    call_part = call_part[call_part.index("Wie te bellen als het misgaat"):]
    assert call_part.index("Nieuw") < call_part.index("Zijn broer")
    assert "Ongewijzigd" in newest[newest.index("Samenvatting"):newest.index("Geen contact zonder begeleiding")]
    assert "Vervallen" in newest and "Wat het netwerk doet" in newest[newest.index("Vervallen"):]


def test_print_view_shows_the_version_and_is_audited(app: Flask, client: FlaskClient,
                                                     planned: tuple[int, int, int]) -> None:
    case_id, _, _ = planned
    response = client.get(f"/casussen/{case_id}/veiligheid/plannen/1/afdrukken")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Veiligheidsplan, versie 1", "Sanne Planmoeder", "Mark Planvader", SIGNAL, FAMILY, NETWORK,
                 "Signalen van onveiligheid", "Voorwaarden voor de volgende fase",
                 (today() + timedelta(days=30)).strftime("%d-%m-%Y"), "Moeder, vader, coördinator"):
        assert text in page
    assert "<form" not in page[page.index('class="print-plan"'):]
    assert client.get(f"/casussen/{case_id}/veiligheid/plannen/2/afdrukken").status_code == 404
    with app.app_context():
        plan = db.session.scalars(select(SafetyPlan).where(SafetyPlan.case_id == case_id)).one()
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                             AuditEvent.object_type == "safety_plan",
                                                             AuditEvent.action == AuditAction.READ)).all()
        assert [(e.object_id, e.detail) for e in events] == [(plan.id, "veiligheidsplan afgedrukt")]


def test_refused_plan_keeps_the_typing_and_writes_nothing(app: Flask, client: FlaskClient,
                                                          planned: tuple[int, int, int]) -> None:
    case_id, mother, father = planned
    response = client.post(f"/casussen/{case_id}/veiligheid/plannen", data=_plan_data(
        mother, father, **{f"p{father}_agreements": "x" * (LONG_TEXT + 1),
                           f"p{mother}_danger_signals": "Zzmarkersignaal nog niet bewaard"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Hoogstens {LONG_TEXT} tekens." in page and "Zzmarkersignaal nog niet bewaard" in page
    with app.app_context():
        assert len(plans_of(db.session.get(Case, case_id))) == 1


def test_a_person_of_another_case_is_refused(app: Flask) -> None:
    _, mother, _, _ = _setup(app)
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        other = make.case(coordinator)
        with pytest.raises(InvalidInput):
            agree_safety_plan(other, agreed_on=today(), review_on=today() + timedelta(days=7), agreements="Afspraken",
                              agreed_by="Gezin", by=coordinator,
                              content=PlanContent(persons={mother: {"agreements": "Iets"}}))
        db.session.rollback()


def test_the_phase_gate_accepts_a_structured_plan(app: Flask, client: FlaskClient,
                                                   planned: tuple[int, int, int]) -> None:
    case_id, _, _ = planned
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert evidence_for(case, today()).has_current_safety_plan
    page = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert "een actueel veiligheidsplan" in page   # still missing: the veiligheidstaxatie
    client.post(f"/casussen/{case_id}/veiligheid/taxaties", data={
        "kind": "veiligheidstaxatie", "assessed_on": today().isoformat(), "instrument": "LIRIK",
        "risk_level": "high", "performed_by": _coordinator_id(app, case_id), "outcome": "Acute onveiligheid"})
    page = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert 'value="stabiele_veiligheid"' in page


def _coordinator_id(app: Flask, case_id: int) -> int:
    from mda.cases.queries import coordinator_of
    with app.app_context():
        return coordinator_of(case_id).id


def test_a_version_recorded_meanwhile_is_not_silently_passed_over(app: Flask, client: FlaskClient,
                                                                   planned: tuple[int, int, int]) -> None:
    case_id, mother, father = planned
    page = client.get(f"/casussen/{case_id}/veiligheid/").get_data(as_text=True)
    assert 'name="based_on" type="hidden" value="1"' in page
    assert client.post(f"/casussen/{case_id}/veiligheid/plannen",
                       data=_plan_data(mother, father, based_on="1")).status_code == 302   # version 2
    stale = client.post(f"/casussen/{case_id}/veiligheid/plannen",
                        data=_plan_data(mother, father, based_on="1", plan_family="Zzmarkergezin eigen tekst"))
    page = stale.get_data(as_text=True)
    assert stale.status_code == 422
    assert "Intussen is versie 2 van het veiligheidsplan vastgelegd" in page and "Zzmarkergezin eigen tekst" in page
    assert 'name="based_on" type="hidden" value="2"' in page
    with app.app_context():
        assert len(plans_of(db.session.get(Case, case_id))) == 2
    # Saving again after seeing the message is a deliberate choice: the form now says it starts from version 2.
    again = client.post(f"/casussen/{case_id}/veiligheid/plannen",
                        data=_plan_data(mother, father, based_on="2", plan_family="Zzmarkergezin eigen tekst"))
    assert again.status_code == 302
    with app.app_context():
        assert plans_of(db.session.get(Case, case_id))[0].content.parts["family"] == "Zzmarkergezin eigen tekst"


def _events(app: Flask, case_id: int, detail: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.case_id == case_id, AuditEvent.object_type == "safety_plan",
            AuditEvent.action == AuditAction.READ, AuditEvent.detail == detail)))


def test_the_case_overview_shows_the_structured_plan_and_is_audited(app: Flask, client: FlaskClient,
                                                                    planned: tuple[int, int, int]) -> None:
    case_id, _, _ = planned
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    section = page[page.index('id="kop-afspraken"'):page.index('id="kop-recent"')]
    for text in ("versie 1", "Geen contact zonder begeleiding", "Sanne Planmoeder", "Signalen van onveiligheid", SIGNAL,
                 "Mark Planvader", "Voorwaarden voor de volgende fase", "Drie maanden zonder incidenten",
                 "Wat het gezin doet", FAMILY, "Wat het netwerk doet", NETWORK,
                 f"Volgende evaluatie uiterlijk {(today() + timedelta(days=30)).strftime('%d-%m-%Y')}"):
        assert text in section, text
    # Only filled parts: the father has no danger signals, so that label appears once (the mother's).
    assert section.count("Signalen van onveiligheid") == 1
    with app.app_context():
        plan_id = db.session.scalars(select(SafetyPlan.id).where(SafetyPlan.case_id == case_id)).one()
    assert _events(app, case_id, "overzicht") == [plan_id]


def test_the_handover_summary_holds_the_structured_plan(client: FlaskClient, planned: tuple[int, int, int]) -> None:
    import io

    from pypdf import PdfReader
    case_id, _, _ = planned
    response = client.get(f"/casussen/{case_id}/overdracht.pdf")
    assert response.status_code == 200
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages)
    plan = text[text.index("Veiligheidsplan"):text.index("Taxaties")]
    for expected in ("Samenvatting: Geen contact zonder begeleiding", "• Sanne Planmoeder",
                     f"Signalen van onveiligheid: {SIGNAL}", "Wie te bellen als het misgaat: Politie 112",
                     "• Mark Planvader", "Voorwaarden voor de volgende fase: Drie maanden zonder incidenten",
                     f"Wat het gezin doet: {FAMILY}", f"Wat het netwerk doet: {NETWORK}",
                     f"Volgende evaluatie uiterlijk: {(today() + timedelta(days=30)).strftime('%d-%m-%Y')}"):
        assert expected in plan, expected
    assert plan.index("Sanne Planmoeder") < plan.index(SIGNAL) < plan.index("Mark Planvader")
