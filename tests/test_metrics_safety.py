"""Safety by construction: no identifying value reaches a metrics page or export, the metrics
code path never decrypts, and a municipality with three referrals cannot be computed back."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from typing import Callable

import pytest
from flask import Flask
from openpyxl import load_workbook

from mda.accounts.models import Role
from mda.cases.models import IntakeRoute
from mda.db import db
from mda.metrics import tables
from mda.metrics.queries import Period
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.models import Referral, ReferralStatus, RedirectTarget
from mda.security.crypto import FieldCipher
from tests import factories as make
from tests import metrics_data
from tests.metrics_attack import recover

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))
QUERY = "?van=2026-01-01&tot=2026-03-31"
MARKERS = ["Zeldzaam Markeernaam", "Xyloofje Tweedenaam", make.BSN_A, make.BSN_B, "Geheimstraat 77",
           "NOTITIE-MARKER-qwx", "1987-04-13", "13-04-1987", "Lokaal team Zuid"]
REFERRALS = {("Beesel", ReferralStatus.SUBMITTED): 3, ("Venlo", ReferralStatus.ACCEPTED): 12,
             ("Venlo", ReferralStatus.DECLINED): 11, ("Roermond", ReferralStatus.ACCEPTED): 15,
             ("Roermond", ReferralStatus.REDIRECTED): 10, ("Weert", ReferralStatus.SUBMITTED): 20}


@pytest.fixture
def seeded(app: Flask, clock: Callable[[datetime], None]) -> dict[str, object]:
    clock(datetime(2026, 6, 15, 12, tzinfo=timezone.utc))
    with app.app_context():
        dataset = metrics_data.build()
        case = dataset.cases["c1"]
        add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=dataset.coordinator, name=MARKERS[0],
                   bsn=make.BSN_A, date_of_birth=date(1987, 4, 13), address=MARKERS[4], notes=MARKERS[5])
        add_person(dataset.cases["c2"], role=PersonRole.USING_VIOLENCE, by=dataset.coordinator, name=MARKERS[1],
                   bsn=make.BSN_B)
        vt = make.organisation(OrganisationKind.VEILIG_THUIS)
        for (town, status), number in REFERRALS.items():
            for day in range(number):
                db.session.add(Referral(
                    organisation_id=vt.id, created_by_id=dataset.coordinator.id, intake_route=IntakeRoute.ACTIE_OVERLEG,
                    status=status, municipality_id=make.municipality(town).id,
                    submitted_at=datetime(2026, 1, 2 + day, 10, tzinfo=timezone.utc),
                    decided_at=None if status == ReferralStatus.SUBMITTED
                    else datetime(2026, 2, 1 + day, 10, tzinfo=timezone.utc),
                    case_id=case.id if status == ReferralStatus.ACCEPTED else None,
                    redirected_to=RedirectTarget.LOCAL_TEAM if status == ReferralStatus.REDIRECTED else None))
        steering = make.user(Role.COORDINATOR, Role.TEAM_LEAD)  # live figures: the team lead only
        db.session.commit()
        return {"references": dataset.references, "steering": steering}


def _refuse_decryption(*_args: object, **_kwargs: object) -> str:
    raise AssertionError("the metrics code path decrypted a field")


def test_no_identifying_value_on_any_page_or_export_and_nothing_decrypted(
        app: Flask, seeded: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    assert make.login(client, seeded["steering"]).status_code == 302
    monkeypatch.setattr(FieldCipher, "decrypt", _refuse_decryption)   # from here on, nothing may decrypt
    forbidden = MARKERS + list(seeded["references"])
    bodies: dict[str, str] = {}
    for url in ("/stuurinformatie/actueel/", "/stuurinformatie/actueel/rapport"):
        for query in ("", QUERY):
            response = client.get(url + query)
            assert response.status_code == 200, url
            bodies[url + query] = response.get_data(as_text=True)
    page = bodies["/stuurinformatie/actueel/" + QUERY]
    with app.app_context():
        keys = [table.key for section in tables.all_sections(PERIOD, 10) for table in section.tables]
    assert len(keys) >= 14
    for key in keys:
        response = client.get(f"/stuurinformatie/actueel/tabellen/{key}.csv{QUERY}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        body = response.get_data()
        assert body.startswith("\ufeff".encode())
        bodies[key] = body.decode("utf-8")
        assert f"tabellen/{key}.csv" in page   # every table has its export link on the page
    response = client.get("/stuurinformatie/actueel/stuurinformatie.xlsx" + QUERY)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    assert len(book.sheetnames) == len(keys)
    bodies["xlsx"] = "\n".join(str(value) for sheet in book for row in sheet.iter_rows(values_only=True)
                               for value in row if value is not None)
    for name, body in bodies.items():
        for value in forbidden:
            assert value not in body, f"{value!r} in {name}"
    # Only the app's own script files, after the page's content; nothing inline.
    assert "<script" not in page.split("</main>", 1)[0] and "style=" not in page
    assert all(" src=\"/" in tag for tag in page.split("<script")[1:])


def test_three_referrals_in_a_municipality_show_as_below_ten_and_cannot_be_computed_back(
        app: Flask, seeded: dict[str, object]) -> None:
    with app.app_context():
        decisions = {t.key: t for t in tables.intake(PERIOD, 10).tables}["instroom_gemeente_besluit"]
    beesel = next(row for row in decisions.rows if row.label == "Beesel")
    assert beesel.cells[decisions.header.index("Ingediend") - 1] == "<10"
    assert beesel.cells[-1] == "<10"   # its row total too
    hidden = [(i, j) for i, row in enumerate(decisions.rows) for j, cell in enumerate(row.cells)
              if not cell.isdigit()]
    assert hidden, "nothing was suppressed"
    assert recover(decisions) == {}, "a hidden cell can be computed from the shown totals"
    # and the page shows exactly these cells
    client = app.test_client()
    make.login(client, seeded["steering"])
    page = client.get("/stuurinformatie/actueel/" + QUERY).get_data(as_text=True)
    assert "&lt;10" in page and ">3<" not in page.split("Verwijzingen per deelregio")[1].split("</table>")[0]


def test_csv_cells_are_neutralised(app: Flask) -> None:
    from mda.metrics.disclosure import CountTable, render
    from mda.metrics.exports import table_csv
    table = render(CountTable("x", "=HYPERLINK(1)", "Rij", ["-bad"], ["+k"], [[12]]), 10)
    text = table_csv(table, PERIOD, 10).decode("utf-8")
    assert '"\'=HYPERLINK(1)"' in text and '"\'-bad"' in text and '"\'+k"' in text


def test_threshold_comes_from_the_setting(app: Flask, seeded: dict[str, object]) -> None:
    app.config["METRICS_THRESHOLD"] = 5
    client = app.test_client()
    make.login(client, seeded["steering"])
    page = client.get("/stuurinformatie/actueel/" + QUERY).get_data(as_text=True)
    assert "&lt;5" in page and "&lt;10" not in page
