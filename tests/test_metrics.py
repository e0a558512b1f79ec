"""Each metric on a small constructed data set (tests/metrics_data.py), answers worked out by hand.

Tables are built with threshold 1 (nothing suppressed) so that the raw answers can be checked;
suppression itself is tested in test_metrics_disclosure.py and test_metrics_safety.py.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable, Iterator

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from mda.db import db
from mda.metrics import tables
from mda.metrics.disclosure import DisplayTable
from mda.metrics.queries import Period
from tests import metrics_data

Q1_2026 = Period(date(2026, 1, 1), date(2026, 3, 31), "Q1 2026")
YEAR_2025 = Period(date(2025, 1, 1), date(2025, 12, 31), "2025")


@pytest.fixture
def data(ctx: Flask, clock: Callable[[datetime], None]) -> Iterator[metrics_data.Dataset]:
    clock(datetime(2026, 6, 15, 12, tzinfo=timezone.utc))
    dataset = metrics_data.build()
    db.session.commit()
    yield dataset


def cell(table: DisplayTable, row: str, column: str) -> str:
    rows = [r for r in table.rows if r.label == row]
    assert rows, f"no row {row!r} in {table.key}: {[r.label for r in table.rows]}"
    return rows[0].cells[table.header.index(column) - 1]


def by_key(section: tables.Section) -> dict[str, DisplayTable]:
    return {table.key: table for table in section.tables}


def test_intake(data: metrics_data.Dataset) -> None:
    t = by_key(tables.intake(Q1_2026, 1))
    per_month = t["instroom_maand_route"]
    assert [r.label for r in per_month.rows] == ["2026-01", "2026-02", "2026-03", "Totaal"]
    assert cell(per_month, "2026-01", "Na Actie-overleg Veilig Thuis") == "2"   # the draft does not count
    assert cell(per_month, "2026-02", "Casemanagement na tijdelijk huisverbod") == "1"
    assert cell(per_month, "2026-03", "Na consultvraag lokaal team") == "1"
    assert cell(per_month, "Totaal", "Totaal") == "4"   # December's referral is outside the period
    per_region = t["instroom_deelregio_route"]   # Venlo is Noord-Limburg, Roermond Midden-Limburg
    assert cell(per_region, "Noord-Limburg", "Na Actie-overleg Veilig Thuis") == "2"
    assert cell(per_region, "Midden-Limburg", "Casemanagement na tijdelijk huisverbod") == "1"
    assert cell(per_region, "Midden-Limburg", "Na consultvraag lokaal team") == "1"
    assert cell(per_region, "Noord-Limburg", "Totaal") == "2" and cell(per_region, "Midden-Limburg", "Totaal") == "2"
    assert cell(per_region, "Gemeente onbekend", "Totaal") == "0" and cell(per_region, "Totaal", "Totaal") == "4"
    decisions = t["instroom_gemeente_besluit"]
    assert cell(decisions, "Venlo", "Geaccepteerd") == "1" and cell(decisions, "Venlo", "Afgewezen") == "1"
    assert cell(decisions, "Roermond", "Doorgeleid") == "1" and cell(decisions, "Roermond", "Ingediend") == "1"
    assert cell(decisions, "Noord-Limburg", "Totaal") == "2" and cell(decisions, "Midden-Limburg", "Totaal") == "2"
    assert cell(decisions, "Beesel", "Totaal") == "0"
    waiting = t["instroom_wachttijd"]
    # decided in the period: 4, 2 and 16 days (the last one submitted in December)
    assert cell(waiting, "Na Actie-overleg Veilig Thuis", "Aantal") == "3"
    assert cell(waiting, "Na Actie-overleg Veilig Thuis", "Mediaan (dagen)") == "4"
    assert cell(waiting, "Na Actie-overleg Veilig Thuis", "Spreiding P25–P75 (dagen)") == "3–10"
    assert cell(waiting, "Casemanagement na tijdelijk huisverbod", "Mediaan (dagen)") == "10"


def test_caseload(data: metrics_data.Dataset) -> None:
    t = by_key(tables.caseload(Q1_2026, 1))
    phases = t["caseload_fase"]
    # end of January: case 1 in stabiele veiligheid (case 2 opens on 1 February)
    assert cell(phases, "2026-01", "Stabiele veiligheid") == "1" and cell(phases, "2026-01", "Totaal") == "1"
    assert cell(phases, "2026-02", "Stabiele veiligheid") == "2"
    # end of March: case 2 closed on the 20th; case 1 in herstel
    assert cell(phases, "2026-03", "Herstel") == "1" and cell(phases, "2026-03", "Totaal") == "1"
    levels = t["caseload_ave"]
    assert cell(levels, "2026-01", "AVE 3") == "1"
    assert cell(levels, "2026-02", "AVE 3") == "1" and cell(levels, "2026-02", "AVE 4") == "1"
    assert cell(levels, "2026-03", "AVE 3") == "1" and cell(levels, "2026-03", "Totaal") == "1"
    per_phase = t["caseload_tijd_per_fase"]
    # directe veiligheid ended in the period for case 1 (61 days) and case 2 (20 days)
    assert cell(per_phase, "Directe veiligheid", "Aantal") == "2"
    assert cell(per_phase, "Directe veiligheid", "Mediaan (dagen)") in ("40", "41")   # 40.5 rounded
    assert cell(per_phase, "Stabiele veiligheid", "Mediaan (dagen)") == "30"          # 31 Jan to 2 March
    stable = t["caseload_stabiele_veiligheid"]
    assert cell(stable, "Noord-Limburg", "Mediaan (dagen)") == "61"
    assert cell(stable, "Midden-Limburg", "Mediaan (dagen)") == "20"
    flows = t["caseload_op_afschalen"]
    assert cell(flows, "AVE 3", "AVE 4") == "1"        # opschalen, case 1
    assert cell(flows, "AVE 4", "AVE 3") == "1"        # afschalen, case 1
    assert cell(flows, "AVE 3", "AVE 2") == "1"        # afschalen, case 2
    assert cell(flows, "Totaal", "Totaal") == "3"      # the first level of a case is no flow


def test_house_bans(data: metrics_data.Dataset) -> None:
    t = by_key(tables.house_bans(Q1_2026, 1))
    route_a = "a. Acuut huiselijk geweld, gemeld bij de politie"
    route_b = "b. Geen acuut incident, ernstige dreiging, gemeld bij Veilig Thuis"
    indicators = t["huisverboden_route"]
    assert [cell(indicators, route_a, c) for c in ("Opgelegd", "Verlengd", "Met beroep", "Met overtreding",
                                                    "Ingetrokken", "Opgeheven door rechter",
                                                    "Casemanagement afgerond")] == ["2", "1", "1", "1", "1", "0", "1"]
    assert cell(indicators, route_b, "Opgelegd") == "1" and cell(indicators, "Totaal", "Opgelegd") == "3"
    assert cell(indicators, route_a, "Verlengd (%)") == "50%"
    duration = t["huisverboden_duur"]
    # 28 days (extended to four weeks) and 3 days (withdrawn); the running order is not counted
    assert cell(duration, route_a, "Aantal") == "2" and cell(duration, "Totaal", "Aantal") == "2"
    assert cell(duration, route_a, "Spreiding P25–P75 (dagen)") == "9–22"   # 9.25 .. 21.75
    appeals = t["huisverboden_beroep"]
    assert cell(appeals, "Huisverbod blijft in stand", "Aantal") == "1" and cell(appeals, "Totaal", "Aantal") == "1"


def test_outcomes_in_the_first_quarter(data: metrics_data.Dataset) -> None:
    t = by_key(tables.outcomes(Q1_2026, 1))
    closures = t["uitstroom_afsluiting"]
    assert cell(closures, "Duurzaam veilig, overgedragen aan het lokale veld", "Lokaal team") == "1"
    assert "Lokaal team Zuid" not in str(closures.matrix())   # the receiving name is not shown
    trajectory = t["uitstroom_doorlooptijd"]
    assert cell(trajectory, "Casemanagement na tijdelijk huisverbod", "Mediaan (dagen)") == "47"
    again = t["uitstroom_hermelding"]
    # case 2 came back within 12 months, but was closed less than 12 months ago: not yet in the share
    assert cell(again, "Midden-Limburg", "Afgesloten") == "1"
    assert cell(again, "Midden-Limburg", "Afgesloten, 12 maanden gevolgd") == "0"


def test_re_referrals_and_trajectory_in_2025(data: metrics_data.Dataset) -> None:
    t = by_key(tables.outcomes(YEAR_2025, 1))
    again = t["uitstroom_hermelding"]
    assert cell(again, "Noord-Limburg", "Afgesloten") == "3"
    # closed 1 March and 1 April 2025 are followed a full year by 15 June 2026; 1 December is not
    assert cell(again, "Noord-Limburg", "Afgesloten, 12 maanden gevolgd") == "2"
    assert cell(again, "Noord-Limburg", "Daarvan her-melding ≤ 12 maanden") == "1"
    assert cell(again, "Noord-Limburg", "Her-meldingen (%)") == "50%"
    trajectory = t["uitstroom_doorlooptijd"]
    # 425 days (1 Jan 2024 - 1 Mar 2025), 304 days, 61 days
    assert cell(trajectory, "Na Actie-overleg Veilig Thuis", "Aantal") == "3"
    assert cell(trajectory, "Na Actie-overleg Veilig Thuis", "Mediaan (dagen)") == "304"


def test_network(data: metrics_data.Dataset) -> None:
    t = by_key(tables.network(Q1_2026, 1))
    experts = t["netwerk_experts"]
    assert cell(experts, "Politie Limburg", "Justitieel") == "1"   # the assignment that ended in 2025 is out
    asked = t["netwerk_consultvragen"]
    assert [cell(asked, "Noord-Limburg", c) for c in ("Gesteld", "Beantwoord", "Opschalen geadviseerd",
                                                      "Leidde tot verwijzing")] == ["2", "1", "1", "1"]
    assert cell(asked, "Midden-Limburg", "Gesteld") == "1" and cell(asked, "Totaal", "Gesteld") == "3"
    minutes = t["netwerk_consult_tijd"]
    assert cell(minutes, "Noord-Limburg", "Mediaan (minuten)") == "30"
    assert cell(minutes, "Totaal", "Mediaan (minuten)") == "60"


def test_pilot_period_presets_choose_the_period(app: Flask, data: metrics_data.Dataset) -> None:
    from mda.metrics.forms import PeriodForm
    from mda.reference.models import PilotPeriod
    with app.test_request_context("/stuurinformatie/"):
        preset = db.session.query(PilotPeriod).filter_by(name="Testfase 1").one()
        form = PeriodForm(MultiDict({"periode": str(preset.id)}))
        assert form.validate()
        assert form.period() == Period(date(2022, 7, 1), date(2022, 12, 31), "Testfase 1")
        own = PeriodForm(MultiDict({"van": "2026-01-01", "tot": "2026-03-31"}))
        assert own.validate()
        assert (own.period().start, own.period().end) == (date(2026, 1, 1), date(2026, 3, 31))
        wrong = PeriodForm(MultiDict({"van": "2026-03-01", "tot": "2026-01-01"}))
        assert not wrong.validate() and wrong.tot.errors
        assert wrong.period().start != date(2026, 3, 1)   # falls back to the last twelve months
