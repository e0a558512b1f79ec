"""The phase selector offers only the moves the rules allow and says what the others need."""
from __future__ import annotations

from flask import Flask

from mda.accounts.models import Role
from mda.cases.models import Phase
from mda.cases.rules import CaseEvidence, PhaseOption, phase_options
from mda.db import db
from tests import factories as make

NOTHING = CaseEvidence(False, False, False, False)
EVERYTHING = CaseEvidence(True, True, True, True)


def test_from_directe_veiligheid_without_evidence_nothing_is_possible_and_the_gap_is_named() -> None:
    options = {option.phase: option for option in phase_options(Phase.DIRECTE_VEILIGHEID, NOTHING)}
    assert not any(option.allowed for option in options.values())
    assert options[Phase.STABIELE_VEILIGHEID].why_not == (
        "Directe veiligheid verlaten kan pas met een veiligheidstaxatie en een actueel veiligheidsplan.")
    assert "één fase tegelijk" in options[Phase.HERSTEL].why_not


def test_herstel_needs_a_risicotaxatie_and_falling_back_is_always_possible() -> None:
    evidence = CaseEvidence(True, True, False, False)
    options = {option.phase: option for option in phase_options(Phase.STABIELE_VEILIGHEID, evidence)}
    assert options[Phase.HERSTEL] == PhaseOption(Phase.HERSTEL, False, "Voor de fase Herstel is een risicotaxatie nodig.")
    assert options[Phase.DIRECTE_VEILIGHEID].allowed


def test_participatie_without_diagnostiek_is_offered_with_its_reason_field() -> None:
    evidence = CaseEvidence(True, True, True, False)
    [participatie] = [o for o in phase_options(Phase.HERSTEL, evidence) if o.phase == Phase.PARTICIPATIE]
    assert participatie.allowed and participatie.asks_no_diagnostics_reason
    [with_diagnostics] = [o for o in phase_options(Phase.HERSTEL, EVERYTHING) if o.phase == Phase.PARTICIPATIE]
    assert with_diagnostics.allowed and not with_diagnostics.asks_no_diagnostics_reason


def test_the_track_page_offers_only_allowed_phases(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        case_id = case.id
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert 'value="stabiele_veiligheid"' not in page and "Er is nu geen andere fase mogelijk." in page
    assert "Stabiele veiligheid: Directe veiligheid verlaten kan pas met een veiligheidstaxatie" in page
    with app.app_context():
        make.safe_start(db.session.get(type(case), case_id), by=coordinator)
        db.session.commit()
    page = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert '<option selected value="stabiele_veiligheid">' in page or 'value="stabiele_veiligheid" selected' in page \
        or ('value="stabiele_veiligheid"' in page and "selected" in page)
    assert 'value="herstel"' not in page and "Herstel: Een casus gaat één fase tegelijk vooruit" in page
