"""Referrals through the web forms: Veilig Thuis drafts and submits, the team lead triages.

The full path, the decline and redirect paths, the duplicate warning and the her-melding link,
the isolation between Veilig Thuis organisations, optimistic locking and the one transaction
of accepting.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.cases.models import Case, CaseStatus, ClosureReason, IntakeRoute, Phase, ViolenceForm
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person
from mda.referrals.models import Referral, ReferralStatus
from mda.teams.models import TeamMembership, TeamRole
from mda.timeutil import today
from tests import factories as make

VICTIM_NAME = "Vera Verwijsvoorbeeld"
PERPETRATOR_NAME = "Piet Plegervoorbeeld"
BIRTH_DATE = date(1988, 4, 12)


@dataclass
class People:
    vt: User
    vt_other_org: User
    lead: User
    coordinator: User
    vt_org_id: int


@pytest.fixture
def people(app: Flask) -> People:
    with app.app_context():
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        team = make.organisation(OrganisationKind.MDA_TEAM)
        vt = make.user(Role.VT_REFERRER, org=vt_org)
        vt_other = make.user(Role.VT_REFERRER, org=make.organisation(OrganisationKind.VEILIG_THUIS))
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team)
        coordinator = make.user(Role.COORDINATOR, org=team)
        coordinator.display_name = "Cora Coördinatrix"
        db.session.commit()
        return People(vt, vt_other, lead, coordinator, vt_org.id)


def signed_in(app: Flask, account: User) -> FlaskClient:
    client = app.test_client()
    response = make.login(client, account)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    return client


def referral_data(**overrides: Any) -> dict[str, Any]:
    with_municipality = {"municipality": str(make.municipality("Venlo").id)}
    data = {"intake_route": "actie_overleg", "actie_overleg_on": (today() - timedelta(days=2)).isoformat(),
            "partners_present": ["veilig_thuis", "police", "public_prosecutor"],
            "reason": "Blijft hangen na het Actie-overleg; langdurige regie nodig.", "urgency": "urgent",
            "violence_forms": ["partner_violence", "witnessing_partner_violence"], "requesting_team": "0",
            "current_ave_level": "4", "house_ban_situation": "considered",
            "tried_before": "Vrijwillige hulp via het lokale team.", **with_municipality}
    data.update(overrides)
    return data


def person_data(**overrides: Any) -> dict[str, Any]:
    data = {"role": "undergoing_violence", "name": VICTIM_NAME, "bsn": make.BSN_A,
            "date_of_birth": BIRTH_DATE.isoformat(), "address": "Voorbeeldstraat 1, Venlo", "phone": "06-12345678",
            "gender": "female"}
    data.update(overrides)
    return {f"persoon-{key}": value for key, value in data.items()}


def stored(app: Flask, referral_id: int) -> Referral:
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        db.session.expunge(referral)
        return referral


def create_draft(app: Flask, client: FlaskClient, **overrides: Any) -> int:
    with app.app_context():
        data = referral_data(**overrides)
    response = client.post("/verwijzingen/nieuw", data={**data, "version": "nieuw"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[2])


def add_web_person(app: Flask, client: FlaskClient, referral_id: int, **overrides: Any):
    version = stored(app, referral_id).version
    return client.post(f"/verwijzingen/{referral_id}/personen",
                       data={**person_data(**overrides), "persoon-version": str(version)})


def submitted_referral(app: Flask, client: FlaskClient, persons: list[dict[str, Any]] | None = None) -> int:
    referral_id = create_draft(app, client)
    for person in persons if persons is not None else [{}, {"role": "using_violence", "name": PERPETRATOR_NAME,
                                                            "bsn": make.BSN_B, "gender": "male",
                                                            "date_of_birth": "1985-01-30"}]:
        assert add_web_person(app, client, referral_id, **person).status_code == 302
    response = client.post(f"/verwijzingen/{referral_id}/indienen",
                           data={"indienen-version": str(stored(app, referral_id).version)})
    assert response.status_code == 302 and response.headers["Location"] == f"/verwijzingen/{referral_id}"
    return referral_id


def accept_data(app: Flask, referral_id: int, coordinator: User, **overrides: Any) -> dict[str, str]:
    data = {"coordinator": str(coordinator.id), "ave_level": "4", "note": "Start deze week.",
            "version": str(stored(app, referral_id).version)}
    data.update(overrides)
    return {f"accepteren-{key}": value for key, value in data.items() if value is not None}


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- the full path --------------------------------------------------------------------------------

def test_veilig_thuis_submits_and_the_team_lead_accepts(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    page = vt.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert "Ingediend" in page and VICTIM_NAME in page

    lead = signed_in(app, people.lead)
    queue = lead.get("/triage/").get_data(as_text=True)
    assert f"Verwijzing {referral_id}" in queue and "minder dan een uur" in queue
    triage = lead.get(f"/triage/{referral_id}")
    assert triage.status_code == 200 and VICTIM_NAME in triage.get_data(as_text=True)
    assert "Mogelijke dubbele registratie" not in triage.get_data(as_text=True)

    response = lead.post(f"/triage/{referral_id}/accepteren", data=accept_data(app, referral_id, people.coordinator))
    assert response.status_code == 302 and response.headers["Location"] == "/triage/"

    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral.status == ReferralStatus.ACCEPTED and referral.decided_by_id == people.lead.id
        case = db.session.get(Case, referral.case_id)
        assert case.intake_route == IntakeRoute.ACTIE_OVERLEG
        assert case.phase == Phase.DIRECTE_VEILIGHEID
        assert case.ave_level == 4 and case.status == CaseStatus.OPEN
        assert case.municipality.name == "Venlo" and case.previous_case_id is None
        assert set(case.forms) == {ViolenceForm.PARTNER_VIOLENCE, ViolenceForm.WITNESSING_PARTNER_VIOLENCE}
        team = db.session.scalars(select(TeamMembership).where(TeamMembership.case_id == case.id)).all()
        assert [(m.user_id, m.team_role) for m in team] == [(people.coordinator.id, TeamRole.COORDINATOR)]
        persons = db.session.scalars(select(Person).where(Person.case_id == case.id).order_by(Person.id)).all()
        assert [(p.role, p.name, p.bsn) for p in persons] == [
            (PersonRole.UNDERGOING_VIOLENCE, VICTIM_NAME, make.BSN_A),
            (PersonRole.USING_VIOLENCE, PERPETRATOR_NAME, make.BSN_B)]
        assert persons[0].date_of_birth == BIRTH_DATE and persons[0].referral_id == referral_id
        reference = case.reference
        transfers = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.TRANSFER)).all()
        assert {e.person_id for e in transfers} == {p.id for p in persons}

    # Veilig Thuis sees the decision and, on the referral itself, who coordinates (for a warm
    # handover); nothing of the case file.
    for url in ("/verwijzingen/", f"/verwijzingen/{referral_id}"):
        page = vt.get(url).get_data(as_text=True)
        assert "Geaccepteerd" in page
        for secret in (reference, "/casussen/", VICTIM_NAME, make.BSN_A):
            assert secret not in page, (url, secret)
    assert people.coordinator.display_name in vt.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert "Start deze week." in vt.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert vt.get(f"/casussen/{case.id}").status_code == 404


def test_team_lead_declines_with_a_reason_that_veilig_thuis_sees(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    version = stored(app, referral_id).version
    response = lead.post(f"/triage/{referral_id}/afwijzen",
                         data={"afwijzen-reason": "Past binnen de aanpak van het lokale team.",
                               "afwijzen-version": str(version)})
    assert response.status_code == 302
    assert stored(app, referral_id).status == ReferralStatus.DECLINED
    assert count(app, Case) == 0
    page = vt.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert "Afgewezen" in page and "Past binnen de aanpak van het lokale team." in page
    # Decided once: a second decision is refused and changes nothing.
    again = lead.post(f"/triage/{referral_id}/doorgeleiden",
                      data={"doorgeleiden-target": "local_team", "doorgeleiden-advice": "x",
                            "doorgeleiden-version": str(stored(app, referral_id).version)})
    assert "heeft de status afgewezen" in again.get_data(as_text=True)
    assert stored(app, referral_id).status == ReferralStatus.DECLINED


@pytest.mark.parametrize("target,label", [("local_team", "Lokaal team"), ("safety_house", "Zorg- en Veiligheidshuis"),
                                          ("regular_care", "Reguliere zorg")])
def test_team_lead_redirects_with_advice(app: Flask, people: People, target: str, label: str) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    response = lead.post(f"/triage/{referral_id}/doorgeleiden",
                         data={"doorgeleiden-target": target, "doorgeleiden-advice": "Bespreek in het wijkteam.",
                               "doorgeleiden-version": str(stored(app, referral_id).version)})
    assert response.status_code == 302
    referral = stored(app, referral_id)
    assert referral.status == ReferralStatus.REDIRECTED and referral.redirected_to.value == target
    page = vt.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert "Doorgeleid" in page and f"Doorgeleid naar {label}" in page and "Bespreek in het wijkteam." in page
    assert count(app, Case) == 0


# --- duplicates and her-melding -------------------------------------------------------------------

def _case_with_person(people: People, *, bsn: str | None = None, name: str = VICTIM_NAME,
                      born: date | None = BIRTH_DATE, closed_days_ago: int | None = None) -> tuple[int, str]:
    coordinator = db.session.get(User, people.coordinator.id)
    case = make.case(coordinator, opened_on=today() - timedelta(days=800))
    add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=name, bsn=bsn, date_of_birth=born)
    if closed_days_ago is not None:
        case.status, case.closure_reason = CaseStatus.CLOSED, ClosureReason.LASTING_SAFETY
        case.closed_on = today() - timedelta(days=closed_days_ago)
    db.session.commit()
    return case.id, case.reference


def test_duplicate_in_an_open_case_is_shown_before_accepting(app: Flask, people: People) -> None:
    with app.app_context():
        case_id, reference = _case_with_person(people, bsn=make.BSN_A, name="Andere Schrijfwijze", born=None)
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    page = lead.get(f"/triage/{referral_id}").get_data(as_text=True)
    assert "Mogelijke dubbele registratie" in page and "overeenkomst op BSN" in page
    assert f"/casussen/{case_id}" in page and reference in page and "lopend" in page

    refused = lead.post(f"/triage/{referral_id}/accepteren", data=accept_data(app, referral_id, people.coordinator))
    assert refused.status_code == 200 and "mogelijke dubbele registraties gevonden" in refused.get_data(as_text=True)
    assert count(app, Case) == 1 and stored(app, referral_id).status == ReferralStatus.SUBMITTED

    accepted = lead.post(f"/triage/{referral_id}/accepteren",
                         data=accept_data(app, referral_id, people.coordinator, duplicates_seen="y"))
    assert accepted.status_code == 302
    with app.app_context():
        new_case = db.session.get(Case, db.session.get(Referral, referral_id).case_id)
        assert new_case.previous_case_id is None  # the other case is still open: no her-melding
        searches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.SEARCH)).all()
        assert searches and all(e.user_id == people.lead.id for e in searches)
        assert VICTIM_NAME not in " ".join(e.detail or "" for e in searches)


def test_vt_never_sees_the_duplicate_warning(app: Flask, people: People) -> None:
    with app.app_context():
        _, reference = _case_with_person(people, bsn=make.BSN_A)
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    page = vt.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert "dubbele registratie" not in page and reference not in page
    assert vt.get(f"/triage/{referral_id}").status_code == 404


def test_new_case_within_twelve_months_of_closure_is_a_her_melding(app: Flask, people: People) -> None:
    with app.app_context():
        old_id, old_reference = _case_with_person(people, bsn=None, closed_days_ago=90)
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt, persons=[{"bsn": ""}])  # matched on name and birth date
    lead = signed_in(app, people.lead)
    page = lead.get(f"/triage/{referral_id}").get_data(as_text=True)
    assert "overeenkomst op naam en geboortedatum" in page and "afgesloten op" in page
    assert "Her-melding" in page and old_reference in page
    response = lead.post(f"/triage/{referral_id}/accepteren",
                         data=accept_data(app, referral_id, people.coordinator, duplicates_seen="y"))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.get(Case, db.session.get(Referral, referral_id).case_id)
        assert case.previous_case_id == old_id


def test_case_closed_longer_than_twelve_months_ago_is_neither_a_duplicate_nor_a_her_melding(
        app: Flask, people: People) -> None:
    with app.app_context():
        _case_with_person(people, bsn=make.BSN_A, closed_days_ago=400)
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    assert "Mogelijke dubbele registratie" not in lead.get(f"/triage/{referral_id}").get_data(as_text=True)
    assert lead.post(f"/triage/{referral_id}/accepteren",
                     data=accept_data(app, referral_id, people.coordinator)).status_code == 302
    with app.app_context():
        assert db.session.get(Case, db.session.get(Referral, referral_id).case_id).previous_case_id is None


def test_months_before_handles_short_months() -> None:
    from mda.referrals.operations import months_before
    assert months_before(date(2027, 3, 31), 12) == date(2026, 3, 31)
    assert months_before(date(2028, 2, 29), 12) == date(2027, 2, 28)
    assert months_before(date(2027, 1, 15), 1) == date(2026, 12, 15)


# --- isolation between organisations --------------------------------------------------------------

def test_veilig_thuis_sees_only_its_own_organisations_referrals(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    submitted = submitted_referral(app, vt)
    draft = create_draft(app, vt)
    other = signed_in(app, people.vt_other_org)
    assert f"Verwijzing {submitted}" not in other.get("/verwijzingen/").get_data(as_text=True)
    for url in (f"/verwijzingen/{submitted}", f"/verwijzingen/{draft}", f"/verwijzingen/{draft}/bewerken"):
        response = other.get(url)
        assert response.status_code == 404 and VICTIM_NAME not in response.get_data(as_text=True)
    before = stored(app, draft).version
    assert add_web_person(app, other, draft).status_code == 404
    assert other.post(f"/verwijzingen/{draft}/bewerken",
                      data={**referral_data_in(app, reason="Overschreven"), "version": str(before)}).status_code == 404
    assert other.post(f"/verwijzingen/{draft}/indienen", data={"indienen-version": str(before)}).status_code == 404
    assert stored(app, draft).version == before and stored(app, draft).status == ReferralStatus.DRAFT
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == people.vt_other_org.id,
                                                             AuditEvent.outcome == "denied")).all()
        assert {e.object_id for e in denied} == {submitted, draft}
    # A colleague of the same organisation does see them.
    with app.app_context():
        colleague = make.user(Role.VT_REFERRER, org=db.session.get(User, people.vt.id).organisation)
        db.session.commit()
    assert signed_in(app, colleague).get(f"/verwijzingen/{submitted}").status_code == 200


def referral_data_in(app: Flask, **overrides: Any) -> dict[str, Any]:
    with app.app_context():
        return referral_data(**overrides)


def test_team_lead_does_not_see_drafts(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    draft = create_draft(app, vt)
    lead = signed_in(app, people.lead)
    assert lead.get(f"/verwijzingen/{draft}").status_code == 404
    assert lead.get(f"/triage/{draft}").status_code == 404
    assert f"Verwijzing {draft}" not in lead.get("/triage/").get_data(as_text=True)


def test_submitted_referral_can_no_longer_be_edited(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    assert vt.get(f"/verwijzingen/{referral_id}/bewerken").status_code == 404
    assert add_web_person(app, vt, referral_id).status_code == 404


# --- the queue ------------------------------------------------------------------------------------

def test_triage_queue_is_oldest_first_with_waiting_time(app: Flask, people: People, clock) -> None:
    from datetime import datetime, timezone
    start = datetime.now(timezone.utc) - timedelta(days=3)
    clock(start)  # sessions do not survive days of clock travel: sign in at every step
    first = submitted_referral(app, signed_in(app, people.vt))
    clock(start + timedelta(days=2))
    second = submitted_referral(app, signed_in(app, people.vt))
    clock(start + timedelta(days=3, hours=5))
    lead = signed_in(app, people.lead)
    page = lead.get("/triage/").get_data(as_text=True)
    assert page.index(f"Verwijzing {first}<") < page.index(f"Verwijzing {second}<")
    assert "3 dagen, 5 uur" in page and "1 dag, 5 uur" in page


# --- locking and atomicity ------------------------------------------------------------------------

def test_stale_draft_form_gets_a_conflict_and_overwrites_nothing(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    loaded_version = stored(app, referral_id).version
    colleague_change = vt.post(f"/verwijzingen/{referral_id}/bewerken",
                               data={**referral_data_in(app, reason="Versie van de collega"),
                                     "version": str(loaded_version)})
    assert colleague_change.status_code == 302
    stale = vt.post(f"/verwijzingen/{referral_id}/bewerken",
                    data={**referral_data_in(app, reason="Mijn oude versie"), "version": str(loaded_version)})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "intussen door iemand anders gewijzigd" in page
    assert "Versie van de collega" in page and "Mijn oude versie" in page  # both versions shown
    with app.app_context():
        assert db.session.get(Referral, referral_id).reason == "Versie van de collega"
    # A stale person form and a stale submission are refused as well.
    assert add_web_person(app, vt, referral_id).status_code == 302
    assert vt.post(f"/verwijzingen/{referral_id}/indienen", data={"indienen-version": str(loaded_version)}).status_code == 409
    assert stored(app, referral_id).status == ReferralStatus.DRAFT


def test_stale_triage_decision_is_refused(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    response = lead.post(f"/triage/{referral_id}/afwijzen",
                         data={"afwijzen-reason": "Te laat.", "afwijzen-version": "1"})
    assert response.status_code == 409 and "intussen door iemand anders gewijzigd" in response.get_data(as_text=True)
    assert stored(app, referral_id).status == ReferralStatus.SUBMITTED


def test_accepting_is_one_transaction(app: Flask, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    from mda.referrals import operations
    real_record = operations.record

    def failing_record(action, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if action == AuditAction.TRANSFER and kwargs.get("person_id"):
            raise RuntimeError("disk full halfway")
        return real_record(action, **kwargs)

    monkeypatch.setattr(operations, "record", failing_record)
    response = lead.post(f"/triage/{referral_id}/accepteren", data=accept_data(app, referral_id, people.coordinator))
    assert response.status_code == 500
    assert count(app, Case) == 0 and count(app, TeamMembership) == 0
    with app.app_context():
        assert db.session.get(Referral, referral_id).status == ReferralStatus.SUBMITTED
        assert db.session.scalars(select(Person.case_id).where(Person.referral_id == referral_id)).all() == [None, None]


# --- personal data --------------------------------------------------------------------------------

def test_persons_of_a_referral_are_encrypted_at_rest_and_their_reads_audited(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt, reason="Reden met merkteken Zwaluwstaart")
    assert add_web_person(app, vt, referral_id, name="Merkteken Kwikstaart").status_code == 302
    with app.app_context():
        dump = " ".join(str(row) for table in ("persons", "referrals")
                        for row in db.session.execute(text(f"SELECT * FROM {table}")).all())
        assert "Kwikstaart" not in dump and "Zwaluwstaart" not in dump and make.BSN_A not in dump
    vt.get(f"/verwijzingen/{referral_id}")
    with app.app_context():
        person_id = db.session.scalar(select(Person.id).where(Person.referral_id == referral_id))
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.READ,
                                                            AuditEvent.person_id == person_id)).all()
        assert reads and reads[-1].user_id == people.vt.id


def test_removing_and_changing_a_person_of_a_draft(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    assert add_web_person(app, vt, referral_id).status_code == 302
    with app.app_context():
        person_id = db.session.scalar(select(Person.id).where(Person.referral_id == referral_id))
    form = vt.get(f"/verwijzingen/{referral_id}/personen/{person_id}")
    assert form.status_code == 200 and VICTIM_NAME in form.get_data(as_text=True)
    changed = vt.post(f"/verwijzingen/{referral_id}/personen/{person_id}",
                      data={**person_data(name="Vera Nieuwenaam", bsn=make.BSN_C),
                            "persoon-version": str(stored(app, referral_id).version)})
    assert changed.status_code == 302
    with app.app_context():
        person = db.session.get(Person, person_id)
        assert person.name == "Vera Nieuwenaam" and person.bsn == make.BSN_C
    removed = vt.post(f"/verwijzingen/{referral_id}/personen/{person_id}/verwijderen",
                      data={"version": str(stored(app, referral_id).version)})
    assert removed.status_code == 302 and count(app, Person) == 0


def test_incomplete_referral_cannot_be_submitted(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt, reason="", actie_overleg_on="", partners_present=[])
    response = vt.post(f"/verwijzingen/{referral_id}/indienen",
                       data={"indienen-version": str(stored(app, referral_id).version)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "De verwijzing is nog niet compleet" in page
    for label in ("datum van het Actie-overleg", "aanwezige partners", "reden dat regie nodig is",
                  "minstens één persoon in het cliëntsysteem"):
        assert label in page
    assert stored(app, referral_id).status == ReferralStatus.DRAFT


def test_local_team_request_needs_the_local_team_and_no_actie_overleg(app: Flask, people: People) -> None:
    with app.app_context():
        team = make.organisation(OrganisationKind.LOCAL_TEAM, name="Lokaal team Blerick")
        db.session.commit()
        team_id = team.id
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt, intake_route="local_team_request", actie_overleg_on="", partners_present=[])
    assert add_web_person(app, vt, referral_id).status_code == 302
    response = vt.post(f"/verwijzingen/{referral_id}/indienen",
                       data={"indienen-version": str(stored(app, referral_id).version)})
    assert "lokaal team dat om regie vraagt" in response.get_data(as_text=True)
    assert vt.post(f"/verwijzingen/{referral_id}/bewerken",
                   data={**referral_data_in(app, intake_route="local_team_request", actie_overleg_on="",
                                            partners_present=[], requesting_team=str(team_id)),
                         "version": str(stored(app, referral_id).version)}).status_code == 302
    assert vt.post(f"/verwijzingen/{referral_id}/indienen",
                   data={"indienen-version": str(stored(app, referral_id).version)}).status_code == 302
    lead = signed_in(app, people.lead)
    assert "Lokaal team Blerick" in lead.get(f"/triage/{referral_id}").get_data(as_text=True)
    assert lead.post(f"/triage/{referral_id}/accepteren",
                     data=accept_data(app, referral_id, people.coordinator)).status_code == 302
    with app.app_context():
        case = db.session.get(Case, db.session.get(Referral, referral_id).case_id)
        assert case.intake_route == IntakeRoute.LOCAL_TEAM_REQUEST


def test_house_ban_route_is_recorded_on_the_case(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt, intake_route="huisverbod", house_ban_situation="running",
                               actie_overleg_on="", partners_present=[], current_ave_level="")
    assert add_web_person(app, vt, referral_id).status_code == 302
    # The AVE level is needed to submit; the team lead may start at another level.
    assert vt.post(f"/verwijzingen/{referral_id}/bewerken",
                   data={**referral_data_in(app, intake_route="huisverbod", house_ban_situation="running",
                                            actie_overleg_on="", partners_present=[], current_ave_level="3"),
                         "version": str(stored(app, referral_id).version)}).status_code == 302
    assert vt.post(f"/verwijzingen/{referral_id}/indienen",
                   data={"indienen-version": str(stored(app, referral_id).version)}).status_code == 302
    lead = signed_in(app, people.lead)
    assert lead.post(f"/triage/{referral_id}/accepteren",
                     data=accept_data(app, referral_id, people.coordinator, ave_level="3")).status_code == 302
    with app.app_context():
        case = db.session.get(Case, db.session.get(Referral, referral_id).case_id)
        assert case.intake_route == IntakeRoute.HUISVERBOD and case.ave_level == 3


def test_two_referral_persons_matching_one_known_person_give_a_line_each(app: Flask, people: People) -> None:
    """Issue 13 item 16: one person of the referral matches by BSN, another (typed without BSN) by
    name and birth date, both the same known person; and the BSN also in a second case."""
    with app.app_context():
        first_id, first_reference = _case_with_person(people, bsn=make.BSN_A)
        second_id, second_reference = _case_with_person(people, bsn=make.BSN_A, name="Vera Anders Gespeld",
                                                        born=None)
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt, persons=[
        {"name": "Vera V. Anders", "bsn": make.BSN_A, "date_of_birth": "1990-01-01"},
        {"role": "other_involved", "name": VICTIM_NAME, "bsn": "", "date_of_birth": BIRTH_DATE.isoformat()},
    ])
    with app.app_context():
        from mda.referrals.operations import find_possible_duplicates
        found = find_possible_duplicates(db.session.get(Referral, referral_id))
        pairs = sorted((d.person.name, d.match.case_id, d.via) for d in found)
    assert pairs == sorted([("Vera V. Anders", first_id, "bsn"), (VICTIM_NAME, first_id, "name_birth"),
                            ("Vera V. Anders", second_id, "bsn")])
    lead = signed_in(app, people.lead)
    page = lead.get(f"/triage/{referral_id}").get_data(as_text=True)
    assert page.count("overeenkomst op BSN") == 2 and page.count("overeenkomst op naam en geboortedatum") == 1
    assert "Vera V. Anders" in page and first_reference in page and second_reference in page
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.detail == "mogelijke dubbele registratie")
                                   ).all()
        assert sorted(e.case_id for e in reads) == sorted([first_id, second_id])  # each known person once


def test_curly_and_straight_apostrophes_are_the_same_person_in_the_duplicate_check(app: Flask,
                                                                                 people: People) -> None:
    """Issue 13 item 15: "Anne-Marie D’Souza" in a case, "Anne-Marie D'Souza" in the referral."""
    with app.app_context():
        _, reference = _case_with_person(people, bsn=None, name="Anne-Marie D’Souza")
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt, persons=[{"name": "Anne–Marie D'Souza", "bsn": ""}])
    page = signed_in(app, people.lead).get(f"/triage/{referral_id}").get_data(as_text=True)
    assert "overeenkomst op naam en geboortedatum" in page and reference in page
