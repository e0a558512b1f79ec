"""The coordinator's work through the web: phase gates, AVE, closing, conflicts, caseload, audit."""
from __future__ import annotations

import re
from datetime import date, timedelta
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.cases.models import Case, CaseStatus, Phase
from mda.cases.operations import change_ave_level, move_phase
from mda.db import db
from mda.journal.operations import add_task
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person
from mda.safety.models import AssessmentKind
from mda.safety.operations import record_assessment
from mda.teams.models import TeamMembership
from mda.timeutil import today, utcnow
from tests import factories as make


@pytest.fixture
def coordinator(app: Flask) -> User:
    # No application context stays pushed: requests must each get their own (and their own g).
    with app.app_context():
        account = make.user(Role.COORDINATOR)
        db.session.commit()
    return account


def _new_case(app: Flask, coordinator: User, **kwargs) -> Case:
    with app.app_context():
        case = make.case(db.session.get(User, coordinator.id), **kwargs)
        db.session.commit()
        return case


def _case(app: Flask, case_id: int) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        _ = case.phase_changes, case.ave_changes
        return case


def _post_phase(client: FlaskClient, case: Case, phase: Phase, **extra: str):
    return client.post(f"/casussen/{case.id}/fase", data={"phase": phase.value, "version": case.version, **extra})


def test_leaving_directe_veiligheid_refused_then_allowed_through_the_form(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    make.login(client, coordinator)
    refused = _post_phase(client, case, Phase.STABIELE_VEILIGHEID)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Directe veiligheid verlaten kan pas met een veiligheidstaxatie en een actueel veiligheidsplan" in page
    assert _case(app, case.id).phase == Phase.DIRECTE_VEILIGHEID

    today_text = today().isoformat()
    client.post(f"/casussen/{case.id}/veiligheid/taxaties", data={
        "kind": "veiligheidstaxatie", "assessed_on": today_text, "instrument": "LIRIK", "risk_level": "high",
        "performed_by": coordinator.id, "outcome": "Acute onveiligheid"})
    client.post(f"/casussen/{case.id}/veiligheid/plannen", data={
        "agreed_on": today_text, "review_on": (today() + timedelta(days=30)).isoformat(),
        "agreements": "Geen contact zonder begeleiding", "agreed_by": "Moeder, vader, coördinator"})
    case = _case(app, case.id)
    allowed = _post_phase(client, case, Phase.STABIELE_VEILIGHEID)
    assert allowed.status_code == 302
    assert _case(app, case.id).phase == Phase.STABIELE_VEILIGHEID


def test_herstel_and_participatie_gates_through_the_form(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        stored = db.session.get(Case, case.id)
        make.safe_start(stored, by)
        move_phase(stored, Phase.STABIELE_VEILIGHEID, by=by)
        db.session.commit()
    make.login(client, coordinator)
    case = _case(app, case.id)
    refused = _post_phase(client, case, Phase.HERSTEL)
    assert refused.status_code == 422 and "risicotaxatie" in refused.get_data(as_text=True)
    with app.app_context():
        record_assessment(db.session.get(Case, case.id), kind=AssessmentKind.RISICOTAXATIE, assessed_on=today(),
                          instrument="B-SAFER", outcome="Matig", by=db.session.get(User, coordinator.id))
        db.session.commit()
    assert _post_phase(client, _case(app, case.id), Phase.HERSTEL).status_code == 302
    refused = _post_phase(client, _case(app, case.id), Phase.PARTICIPATIE)
    assert refused.status_code == 422 and "diagnostiek" in refused.get_data(as_text=True)
    allowed = _post_phase(client, _case(app, case.id), Phase.PARTICIPATIE,
                          no_diagnostics_reason="Geen aanwijzingen voor trauma")
    assert allowed.status_code == 302
    case = _case(app, case.id)
    assert case.phase == Phase.PARTICIPATIE
    with app.app_context():
        last = db.session.get(Case, case.id).phase_changes[-1]
        assert "Geen diagnostiek nodig: Geen aanwijzingen voor trauma" in last.reason


def test_falling_back_needs_a_reason_through_the_form(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        stored = db.session.get(Case, case.id)
        make.safe_start(stored, by)
        move_phase(stored, Phase.STABIELE_VEILIGHEID, by=by)
        db.session.commit()
    make.login(client, coordinator)
    refused = _post_phase(client, _case(app, case.id), Phase.DIRECTE_VEILIGHEID)
    assert refused.status_code == 422 and "Geef een reden op" in refused.get_data(as_text=True)
    allowed = _post_phase(client, _case(app, case.id), Phase.DIRECTE_VEILIGHEID, reason="Nieuw incident")
    assert allowed.status_code == 302 and _case(app, case.id).phase == Phase.DIRECTE_VEILIGHEID


def test_ave_escalation_needs_reason_and_is_recorded(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    make.login(client, coordinator)
    refused = client.post(f"/casussen/{case.id}/ave", data={"ave_level": 4, "reason": "", "version": case.version})
    assert refused.status_code == 422 and "Geef een reden op" in refused.get_data(as_text=True)
    done = client.post(f"/casussen/{case.id}/ave", data={"ave_level": 4, "reason": "Samenwerking stokt",
                                                         "version": case.version})
    assert done.status_code == 302
    case = _case(app, case.id)
    assert case.ave_level == 4 and case.ave_changes[-1].is_escalation
    history = client.get(f"/casussen/{case.id}/fasen").get_data(as_text=True)
    assert "Opgeschaald van AVE 3 naar 4" in history and "Samenwerking stokt" in history
    # The overview's "Recent gebeurd" names the start, the change and who made them.
    overview = client.get(f"/casussen/{case.id}").get_data(as_text=True)
    recent = overview[overview.index('id="kop-recent"'):]
    name = coordinator.display_name
    assert re.search(rf"AVE</span> AVE 3 naar 4 <span[^>]*>— {re.escape(name)}", recent)
    assert re.search(rf"AVE</span> Gestart op AVE 3 <span[^>]*>— {re.escape(name)}", recent)
    assert re.search(rf"Fase</span> Gestart in directe veiligheid <span[^>]*>— {re.escape(name)}", recent)
    assert recent.index("AVE 3 naar 4") < recent.index("Gestart op AVE 3")  # newest first


def test_closing_needs_current_plan_and_receiving_party_and_reopening_a_reason(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    make.login(client, coordinator)
    close = {"closure_reason": "lasting_safety", "receiving_party": "local_team", "safety_judgement": "lasting",
             "professional_rating": "8",
             "receiving_name": "Lokaal team Venlo-Zuid", "version": case.version}
    refused = client.post(f"/casussen/{case.id}/afsluiten", data=close)
    assert refused.status_code == 422 and "actueel veiligheidsplan" in refused.get_data(as_text=True)
    no_party = client.post(f"/casussen/{case.id}/afsluiten", data={**close, "receiving_name": ""})
    assert no_party.status_code == 422 and "Noem de partij" in no_party.get_data(as_text=True)
    with app.app_context():
        make.safe_start(db.session.get(Case, case.id), db.session.get(User, coordinator.id))
        db.session.commit()
    case = _case(app, case.id)
    assert client.post(f"/casussen/{case.id}/afsluiten", data={**close, "version": case.version}).status_code == 302
    case = _case(app, case.id)
    assert case.status == CaseStatus.CLOSED and case.closure_receiving_name == "Lokaal team Venlo-Zuid"
    assert client.post(f"/casussen/{case.id}/ave", data={"ave_level": 4, "reason": "x",
                                                         "version": case.version}).status_code == 422
    no_reason = client.post(f"/casussen/{case.id}/heropenen", data={"reason": "", "version": case.version})
    assert no_reason.status_code == 422
    assert client.post(f"/casussen/{case.id}/heropenen", data={"reason": "Nieuwe melding",
                                                               "version": case.version}).status_code == 302
    assert _case(app, case.id).status == CaseStatus.OPEN


def test_concurrent_edit_second_gets_conflict_and_first_survives(app, coordinator) -> None:
    # The AVE level is the coordinator's alone (casusregie): two of their own windows race.
    case = _new_case(app, coordinator)
    first, second = app.test_client(), app.test_client()
    make.login(first, coordinator)
    make.login(second, coordinator)
    seen = _case(app, case.id).version  # both loaded the page at this version
    assert first.post(f"/casussen/{case.id}/ave", data={"ave_level": 4, "reason": "Escalatie",
                                                        "version": seen}).status_code == 302
    conflict = second.post(f"/casussen/{case.id}/ave", data={"ave_level": 2, "reason": "Stabiel", "version": seen})
    page = conflict.get_data(as_text=True)
    assert conflict.status_code == 422
    assert "intussen door iemand anders gewijzigd" in page and "AVE 4" in page
    assert _case(app, case.id).ave_level == 4


def test_stale_person_edit_shows_both_versions(app, coordinator) -> None:
    case = _new_case(app, coordinator)
    with app.app_context():
        person = add_person(db.session.get(Case, case.id), role=PersonRole.CHILD, name="Kim Eerst",
                            by=db.session.get(User, coordinator.id))
        db.session.commit()
        seen = person.version
    first, second = app.test_client(), app.test_client()
    make.login(first, coordinator)
    make.login(second, coordinator)
    url = f"/casussen/{case.id}/clientsysteem/personen/{person.id}"
    form = {"role": "child", "gender": "unknown", "version": seen}
    assert first.post(url, data={**form, "name": "Kim Tweede"}).status_code == 302
    conflict = second.post(url, data={**form, "name": "Kim Derde"})
    page = conflict.get_data(as_text=True)
    assert conflict.status_code == 422 and "Kim Tweede" in page and "Kim Derde" in page
    with app.app_context():
        assert db.session.get(Person, person.id).name == "Kim Tweede"


def test_invalid_bsn_on_the_form_gives_dutch_error_and_saves_nothing(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    make.login(client, coordinator)
    response = client.post(f"/casussen/{case.id}/clientsysteem/personen",
                           data={"role": "child", "gender": "unknown", "name": "Kim Fout", "bsn": "123456789"})
    assert response.status_code == 422 and "elfproef" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Person.id).where(Person.case_id == case.id)) is None


def test_every_case_page_writes_audit_records(app, client, coordinator) -> None:
    case = _new_case(app, coordinator)
    with app.app_context():
        add_person(db.session.get(Case, case.id), role=PersonRole.CHILD, name="Kim", by=db.session.get(User, coordinator.id))
        db.session.commit()
    make.login(client, coordinator)
    pages = ["", "/clientsysteem/", "/fasen", "/team/", "/veiligheid/", "/journaal", "/participatie"]
    for path in pages:
        with app.app_context():
            before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        assert client.get(f"/casussen/{case.id}{path}").status_code == 200, path
        with app.app_context():
            events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
        reads = [e for e in events if e.action == AuditAction.READ and e.case_id == case.id
                 and e.user_id == coordinator.id]
        assert reads, f"no audit record for {path or 'overzicht'}"


def _caseload(client: FlaskClient, **args) -> str:
    return client.get("/casussen/", query_string=args).get_data(as_text=True)


def test_caseload_filters_sorting_and_flags(app, client, coordinator, clock) -> None:
    start = utcnow()
    clock(start - timedelta(days=40))
    quiet = _new_case(app, coordinator, town="Venlo")
    low = _new_case(app, coordinator, town="Weert", ave_level=3)
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        change_ave_level(db.session.get(Case, low.id), 2, by=by, reason="Lokaal team neemt over")
        db.session.commit()
    clock(start)
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        make.safe_start(db.session.get(Case, quiet.id), by)
        add_task(db.session.get(Case, low.id), description="Bel", owner=by, due_on=today() - timedelta(days=1),
                 by=by)
        db.session.commit()
    make.login(client, coordinator)
    page = _caseload(client)
    assert quiet.reference in page and low.reference in page
    assert "1 taak over datum" in page
    assert "AVE 2 langer dan 30 dagen buiten AVE 3-4" in page
    assert "Geen veiligheidsplan" in page

    only_weert = _caseload(client, gemeente=low.municipality_id)
    assert low.reference in only_weert and quiet.reference not in only_weert
    only_ave3 = _caseload(client, ave="3")
    assert quiet.reference in only_ave3 and low.reference not in only_ave3
    overdue = _caseload(client, achterstallig="y")
    assert low.reference in overdue and quiet.reference not in overdue
    by_reference = _caseload(client, sorteer="casus")
    assert by_reference.index(quiet.reference) < by_reference.index(low.reference)
    descending = _caseload(client, sorteer="casus", aflopend="y")
    assert descending.index(low.reference) < descending.index(quiet.reference)
    # Filters combine, and each combination is its own statement (built once, run with new values).
    in_first_phase = _caseload(client, fase="directe_veiligheid")
    assert quiet.reference in in_first_phase and low.reference in in_first_phase
    assert quiet.reference not in _caseload(client, fase="herstel")
    assert low.reference not in _caseload(client, gemeente=low.municipality_id, ave="3")
    weert_ave2 = _caseload(client, gemeente=low.municipality_id, ave="2", achterstallig="y", sorteer="gemeente")
    assert low.reference in weert_ave2 and quiet.reference not in weert_ave2
    assert low.reference not in _caseload(client, gemeente=quiet.municipality_id, ave="2")


def test_caseload_shows_only_own_cases_unless_team_lead_asks_for_all(app, coordinator) -> None:
    mine = _new_case(app, coordinator)
    with app.app_context():
        other = make.case(make.user(Role.COORDINATOR))
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        db.session.commit()
        other_reference = other.reference
        other_coordinator = db.session.scalar(select(TeamMembership.user_id).where(TeamMembership.case_id == other.id))
    client = app.test_client()
    make.login(client, coordinator)
    own = _caseload(client)
    assert other_reference not in _caseload(client, alle="y") and mine.reference in own
    # The coordinator filter offers the coordinators of one's own cases, not every colleague.
    assert _coordinator_options(own) == {"", str(coordinator.id)}
    lead_client = app.test_client()
    make.login(lead_client, lead)
    everything = _caseload(lead_client, alle="y")
    assert other_reference in everything and mine.reference in everything
    assert {str(other_coordinator), str(coordinator.id)} <= _coordinator_options(everything)
    only_other = _caseload(lead_client, alle="y", coordinator=other_coordinator)
    assert other_reference in only_other and mine.reference not in only_other


def _coordinator_options(page: str) -> set[str]:
    select_element = re.search(r'<select[^>]*name="coordinator".*?</select>', page, re.S).group(0)
    assert 'class="form-select' in select_element  # styled as a select, not as a text box
    return set(re.findall(r'<option[^>]*value="([^"]*)"', select_element))


def test_caseload_pages_of_25(app, client, coordinator) -> None:
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        for _ in range(27):
            make.case(by)
        db.session.commit()
        last = db.session.scalar(select(Case.reference).order_by(Case.reference.desc()).limit(1))
        first_reference = db.session.scalar(select(Case.reference).order_by(Case.reference).limit(1))
    make.login(client, coordinator)
    first = _caseload(client, sorteer="casus")
    assert "pagina 1 van 2" in first and first_reference in first and last not in first
    second = _caseload(client, sorteer="casus", pagina=2)
    assert "pagina 2 van 2" in second and last in second and first_reference not in second
    # A page past the end (an old link, a typed number) shows the last page; nonsense shows the first.
    beyond = _caseload(client, sorteer="casus", pagina=7)
    assert "pagina 2 van 2" in beyond and last in beyond and first_reference not in beyond
    for nonsense in ("0", "-3", "x", "99999999999999999999"):
        page = _caseload(client, sorteer="casus", pagina=nonsense)
        assert "pagina 1 van 2" in page or "pagina 2 van 2" in page
