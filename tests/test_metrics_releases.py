"""Releases of the steering information: fixed, stored, audited, at the detail the numbers bear.

The attacker here is written apart from the audit (``mda.metrics.sdc``): it downloads every CSV
of every published release as the steering role, reads each number with what it adds up, and
asks SciPy's HiGHS for the lowest and highest value of every hidden cell.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from itertools import product
from typing import Callable

import numpy as np
import pytest
from flask import Flask
from scipy.optimize import linprog
from sqlalchemy import select

from mda.accounts.models import Role
from mda.cases.models import IntakeRoute
from mda.db import db
from mda.metrics import facts, operations as ops, queries
from mda.metrics.models import Release
from mda.metrics.queries import Period
from mda.organisations.models import OrganisationKind
from mda.reference.models import PilotPeriod, PilotPeriodKind
from mda.referrals.models import RedirectTarget, Referral, ReferralStatus
from tests import factories as make
from tests import metrics_data

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def add_referrals(town: str, route: IntakeRoute, status: ReferralStatus, moments: list[datetime]) -> None:
    vt = make.organisation(OrganisationKind.VEILIG_THUIS)
    by = make.user(Role.VT_REFERRER, org=vt)
    for moment in moments:
        db.session.add(Referral(organisation_id=vt.id, created_by_id=by.id, intake_route=route, status=status,
                                municipality_id=make.municipality(town).id, submitted_at=moment,
                                decided_at=None if status == ReferralStatus.SUBMITTED else moment,
                                redirected_to=RedirectTarget.LOCAL_TEAM if status == ReferralStatus.REDIRECTED
                                else None))
    db.session.flush()


def spread(year: int, months: list[int], per_month: int) -> list[datetime]:
    return [datetime(year, month, 1 + day % 27, 9, tzinfo=timezone.utc) for month in months
            for day in range(per_month)]


@pytest.fixture
def now(clock: Callable[[datetime], None]) -> None:
    clock(NOW)


def test_a_published_release_does_not_change_when_data_is_corrected(ctx: Flask, now: None) -> None:
    add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2026, [1, 2, 3], 12))
    release = ops.publish_release(ops.quarter(2026, 1), by=None, config=ctx.config)
    db.session.commit()
    before = (release.content, release.audit_basis)
    # A correction for the quarter: more referrals, and some change their intake route.
    add_referrals("Venlo", IntakeRoute.HUISVERBOD, ReferralStatus.DECLINED, spread(2026, [2], 14))
    for referral in db.session.scalars(select(Referral).limit(5)):
        referral.intake_route = IntakeRoute.CRISIS
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Release, release.id)
    assert (stored.content, stored.audit_basis) == before
    headline = stored.content["tables"][0]["rows"][0]
    assert headline["label"] == "Verwijzingen ingediend" and headline["cells"] == ["36"]
    with pytest.raises(ops.ReleaseRefused, match="al gepubliceerd"):
        ops.publish_release(ops.quarter(2026, 1), by=None, config=ctx.config)
    with pytest.raises(ops.ReleaseRefused, match="reden"):
        ops.publish_release(ops.quarter(2026, 1), by=None, config=ctx.config, new_version=True)
    second = ops.publish_release(ops.quarter(2026, 1), by=None, config=ctx.config, new_version=True,
                                 reason="Verwijzingen van februari nagekomen")
    assert second.version == 2 and second.content["tables"][0]["rows"][0]["cells"] == ["50"]
    assert db.session.get(Release, release.id).content == before[0]


def test_a_period_is_published_only_after_it_ended(ctx: Flask, clock: Callable[[datetime], None]) -> None:
    clock(datetime(2026, 3, 31, 20, tzinfo=timezone.utc))   # 21:00 on 31 March, Dutch time
    with pytest.raises(ops.ReleaseRefused, match="voorbij"):
        ops.publish_release(ops.quarter(2026, 1), by=None, config=ctx.config)


def test_the_level_of_detail_follows_from_the_audit(ctx: Flask, now: None) -> None:
    # Large counts in the first quarter of 2025, small ones in the first quarter of 2026.
    for route in (IntakeRoute.ACTIE_OVERLEG, IntakeRoute.HUISVERBOD):
        add_referrals("Venlo", route, ReferralStatus.DECLINED, spread(2025, [1, 2, 3], 12))
    add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2026, [1, 2, 3], 2))
    add_referrals("Roermond", IntakeRoute.HUISVERBOD, ReferralStatus.DECLINED, spread(2026, [1, 2, 3], 2))
    large = ops.publish_release(ops.quarter(2025, 1), by=None, config=ctx.config)
    small = ops.publish_release(ops.quarter(2026, 1), by=None, config=ctx.config)
    table = {t["key"]: t for t in large.content["tables"]}["instroom_tijd_route"]
    assert table["level"] == "month"
    assert [row["label"] for row in table["rows"]] == ["jan 2025", "feb 2025", "mrt 2025", "Totaal"]
    assert table["rows"][0]["cells"][:2] == ["12", "12"]
    table = {t["key"]: t for t in small.content["tables"]}["instroom_tijd_route"]
    assert table["level"] == "period" and [row["label"] for row in table["rows"]] == ["K1 2026"]
    assert "per maand zou" in table["level_reason"] and "meer dan de helft" in table["level_reason"]
    area = {t["key"]: t for t in large.content["tables"]}["instroom_gebied_besluit"]
    assert area["level"] == "municipality"
    venlo = next(row for row in area["rows"] if row["label"] == "Venlo")
    assert venlo["cells"][-1] == "72"
    area = {t["key"]: t for t in small.content["tables"]}["instroom_gebied_besluit"]   # Venlo 6, Roermond 6
    assert area["level"] == "region" and area["rows"][0]["cells"][-1] == "12"


def _attack_data() -> None:
    """One municipality (Beesel) with 3 referrals in February 2024; enough elsewhere that some
    tables are published per month or per municipality."""
    add_referrals("Beesel", IntakeRoute.CONSULTATION, ReferralStatus.SUBMITTED,
                  [datetime(2024, 2, day, 10, tzinfo=timezone.utc) for day in (8, 9, 11)])
    add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2024, list(range(1, 10)), 12))
    add_referrals("Roermond", IntakeRoute.HUISVERBOD, ReferralStatus.DECLINED, spread(2024, list(range(1, 10)), 11))
    add_referrals("Weert", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.REDIRECTED, spread(2024, [3, 5, 8], 2))


def test_the_linear_attacker_cannot_narrow_any_hidden_cell(app: Flask, clock: Callable[[datetime], None]) -> None:
    from tests.metrics_attack import intervals_of, read_csv
    clock(NOW)
    with app.app_context():
        _attack_data()
        steering = make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP))
        testfase = db.session.scalar(select(PilotPeriod).where(PilotPeriod.name == "Testfase 3"))
        for period in (ops.quarter(2024, 1), ops.quarter(2024, 2), ops.year(2024), ops.pilot_period(testfase)):
            ops.publish_release(period, by=None, config=app.config)
        db.session.commit()
        towns = [t for t, _n, _s in queries.municipalities()]
        releases = db.session.scalars(select(Release).order_by(Release.id)).all()
        truth = facts.gather(Period(date(2023, 10, 1), date(2024, 12, 31)), date(2026, 11, 20))
        meanings = {r.id: [(ops.Spec.from_json(spec).atoms(towns), status) for spec, status, _v, _s in r.audit_basis]
                    for r in releases}
    client = app.test_client()
    make.login(client, steering)
    numbers: list[tuple[frozenset, str]] = []
    for release_id, meaning in meanings.items():
        page = client.get(f"/stuurinformatie/publicaties/{release_id}").get_data(as_text=True)
        cells: list[str] = []
        with app.app_context():
            keys = [t["key"] for t in db.session.get(Release, release_id).content["tables"]]
        for key in keys:
            assert f"/stuurinformatie/publicaties/{release_id}/{key}.csv" in page
            response = client.get(f"/stuurinformatie/publicaties/{release_id}/{key}.csv")
            assert response.status_code == 200
            cells.extend(cell for row in read_csv(response.get_data())[1:] for cell in row[1:])
        assert len(cells) == len(meaning)
        numbers.extend((atoms, cell) for (atoms, _status), cell in zip(meaning, cells))
    hidden = [(i, text) for i, (_atoms, text) in enumerate(numbers) if not text.isdigit()]
    assert hidden, "nothing was hidden"
    # Beesel's 3 referrals are among the hidden numbers wherever Beesel is shown on its own.
    beesel = next(t for t, n, _s in queries_towns(app) if n == "Beesel")
    assert all(not text.isdigit() for atoms, text in numbers
               if atoms and all(atom[2] == beesel for atom in atoms if atom[0] == "verwijzingen")
               and any(atom[0] == "verwijzingen" for atom in atoms) and sum(truth.get(a, 0) for a in atoms))
    sensitive = 0
    for index, low, high in intervals_of(numbers, 10):
        true_value = sum(truth.get(atom, 0) for atom in numbers[index][0])
        if 0 < true_value < 10:
            sensitive += 1
            assert high - low >= 5 - 1e-6, (numbers[index][1], true_value, low, high)   # the configured width
    assert sensitive > 0


def queries_towns(app: Flask) -> list[tuple[int, str, object]]:
    with app.app_context():
        return queries.municipalities()


LIVE_URLS = ["/stuurinformatie/actueel/", "/stuurinformatie/actueel/?van=2026-02-08&tot=2026-02-11",
             "/stuurinformatie/actueel/rapport?periode=1",
             "/stuurinformatie/actueel/tabellen/instroom_gemeente_besluit.csv?van=2026-02-08&tot=2026-02-11",
             "/stuurinformatie/actueel/stuurinformatie.xlsx?van=2026-02-08&tot=2026-02-09"]


def test_the_steering_role_reaches_no_live_query_filter_or_custom_period(app: Flask,
                                                                         clock: Callable[[datetime], None]) -> None:
    clock(NOW)
    with app.app_context():
        add_referrals("Beesel", IntakeRoute.CONSULTATION, ReferralStatus.SUBMITTED,
                      [datetime(2026, 2, day, 10, tzinfo=timezone.utc) for day in (8, 9, 11)])
        release = ops.publish_release(ops.quarter(2026, 1), by=None, config=app.config)
        steering = make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP))
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        db.session.commit()
        release_id = release.id
        # Every metrics route the steering role may use names a release and nothing else.
        steering_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("metrics.")
                          and rule.endpoint in ("metrics.releases", "metrics.release", "metrics.release_table_csv",
                                                "metrics.release_workbook")]
        assert all(set(rule.arguments) <= {"release_id", "key"} for rule in steering_rules)
    client = app.test_client()
    make.login(client, steering)
    for url in LIVE_URLS:
        assert client.get(url).status_code == 403, url
    # Query arguments change nothing in what a release shows.
    plain = client.get(f"/stuurinformatie/publicaties/{release_id}/instroom_gebied_besluit.csv").get_data()
    asked = client.get(f"/stuurinformatie/publicaties/{release_id}/instroom_gebied_besluit.csv"
                       "?van=2026-02-08&tot=2026-02-11&gemeente=Beesel&periode=1").get_data()
    assert plain == asked and b"Beesel" not in plain    # three referrals: not published per municipality
    lead_client = app.test_client()
    make.login(lead_client, lead)
    for url in LIVE_URLS:
        assert lead_client.get(url).status_code == 200, url


def test_referral_at_half_past_midnight_on_1_february_counts_in_february(ctx: Flask, now: None) -> None:
    moment = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)     # 00:30 on 1 February, Dutch time
    add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.SUBMITTED, [moment])
    live = queries.referrals_by_month_and_route(Period(date(2026, 1, 1), date(2026, 2, 28)))
    assert live == {("2026-02", "actie_overleg"): 1}
    atoms = facts.gather(Period(date(2026, 1, 1), date(2026, 2, 28)), date(2026, 11, 20))
    assert [key[1] for key in atoms if key[0] == "verwijzingen"] == ["2026-02"]


def test_a_burst_of_downloads_is_refused_with_a_dutch_message(app: Flask, keys: dict, instance_dir,
                                                               migrated: str) -> None:
    from tests.conftest import build_app
    limited = build_app(migrated, keys, instance_dir, RATELIMIT_ENABLED=True)
    with limited.app_context():
        release = ops.publish_release(ops.quarter(2025, 4), by=None, config=limited.config)
        steering = make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP))
        db.session.commit()
        release_id = release.id
    client = limited.test_client()
    make.login(client, steering)
    statuses = [client.get(f"/stuurinformatie/publicaties/{release_id}/kerncijfers.csv").status_code
                for _ in range(200)]
    assert statuses[:30] == [200] * 30 and set(statuses[30:]) == {429}
    refused = client.get(f"/stuurinformatie/publicaties/{release_id}.xlsx")
    assert refused.status_code == 429 and "Te veel opvragingen van stuurinformatie" in refused.get_data(as_text=True)
    with limited.app_context():
        from mda.audit.models import AuditEvent, AuditOutcome
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "metrics_release",
                                                              AuditEvent.outcome == AuditOutcome.DENIED)).all()
        db.dispose()
    assert len(denied) >= 170


def test_the_audit_finds_the_four_day_attack_and_suppression_closes_it() -> None:
    """The issue's example: a shown total of 10 over ten '<10' cells pins each of them at 1."""
    from mda.metrics.sdc import AuditCell, Candidate, Protection, Status, failing, suppress
    towns = [frozenset({("t", n)}) for n in range(10)]
    cells = [AuditCell(atoms, Status.PRIMARY, None, n, True) for n, atoms in enumerate(towns)]
    cells.append(AuditCell(frozenset().union(*towns), Status.SHOWN, 10, "total"))
    protection = Protection(10, None)
    assert {(iv.low, iv.high) for iv in failing(cells, protection)} == {(1.0, 1.0)}
    candidates = {n: Candidate(1, "t", n, 0) for n in range(10)} | {10: Candidate(10, "t", "T", 0, margin=True)}
    outcome = suppress(cells, candidates, protection)
    assert outcome.secondary and not failing(
        [AuditCell(c.atoms, s, c.value, c.tag, c.sensitive) for c, s in zip(cells, outcome.statuses)], protection)


def test_release_workbook_has_numbers_as_numbers_hidden_as_text_and_dutch_sheet_names(
        app: Flask, clock: Callable[[datetime], None]) -> None:
    from openpyxl import load_workbook
    clock(NOW)
    with app.app_context():
        add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2026, [1, 2, 3], 12))
        add_referrals("Beesel", IntakeRoute.CONSULTATION, ReferralStatus.SUBMITTED,
                      [datetime(2026, 2, day, 10, tzinfo=timezone.utc) for day in (8, 9, 11)])
        release = ops.publish_release(ops.quarter(2026, 1), by=None, config=app.config)
        steering = make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP))
        db.session.commit()
        release_id = release.id
    client = app.test_client()
    make.login(client, steering)
    response = client.get(f"/stuurinformatie/publicaties/{release_id}.xlsx")
    assert response.status_code == 200
    assert 'filename="stuurinformatie_K1-2026.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames[0] == "Kerncijfers van de regio"
    assert "Verwijzingen naar instroomroute" in book.sheetnames
    sheet = book["Kerncijfers van de regio"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=4, values_only=True) if row and row[0]}
    assert values["Verwijzingen ingediend"] == 39 and isinstance(values["Verwijzingen ingediend"], int)
    hidden = [cell for sheet in book for row in sheet.iter_rows(min_row=4, values_only=True)
              for cell in row[1:] if isinstance(cell, str) and cell in ("<10", "×")]
    assert hidden, "nothing hidden in the workbook"
    csv_response = client.get(f"/stuurinformatie/publicaties/{release_id}/kerncijfers.csv")
    assert 'filename="stuurinformatie_K1-2026_kerncijfers.csv"' in csv_response.headers["Content-Disposition"]


def test_the_evaluation_report_is_a_pdf_with_cover_summary_page_numbers_and_repeated_headers(
        app: Flask, clock: Callable[[datetime], None]) -> None:
    from pypdf import PdfReader
    clock(NOW)
    with app.app_context():
        for town in ("Venlo", "Roermond", "Weert", "Venray"):
            add_referrals(town, IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED,
                          spread(2025, list(range(1, 13)), 11))
        release = ops.publish_release(ops.year(2025), by=None, config=app.config)
        steering = make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP))
        db.session.commit()
        release_id = release.id
    client = app.test_client()
    make.login(client, steering)
    response = client.get(f"/stuurinformatie/publicaties/{release_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="evaluatierapport_stuurinformatie_2025.pdf"' in response.headers["Content-Disposition"]
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages]
    count = len(pages)
    assert "Evaluatierapport pilot MDA++" in pages[0] and "Jaar 2025" in pages[0]
    assert "Samenvatting: kerncijfers van de regio" in pages[1] and "Verwijzingen ingediend" in pages[1]
    assert all(f"pagina {n} van {count}" in text for n, text in enumerate(pages, start=1))
    assert "Afmelden" not in "".join(pages) and "Stuurinformatie</a>" not in "".join(pages)
    # A table that runs over a page boundary shows its header again on the next page.
    from mda.metrics.report_pdf import release_pdf
    with app.app_context():
        long = db.session.get(Release, release_id)
        rows = [{"label": f"Rij {n}", "kind": "row", "cells": [str(n), "<10"], "numbers": [n, None]} for n in range(150)]
        long.content = {**long.content, "tables": [long.content["tables"][0],
                                                   {"key": "lang", "title": "Lange tabel", "header":
                                                    ["Gebied", "Kolomkop Een", "Kolomkop Twee"], "rows": rows}]}
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(release_pdf(long))).pages]
        db.session.rollback()
    with_rows = [text for text in pages if "Rij " in text]
    assert len(with_rows) >= 3 and all("Kolomkop Een" in text for text in with_rows)


def test_publish_command_and_the_due_periods(app: Flask, clock: Callable[[datetime], None]) -> None:
    clock(datetime(2022, 7, 3, 12, tzinfo=timezone.utc))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["metrics", "publish", "--quarter", "2022-K1"])
    assert result.exit_code == 0 and "Gepubliceerd: K1 2022" in result.output
    again = runner.invoke(args=["metrics", "publish", "--quarter", "2022-K1"])
    assert again.exit_code == 1 and "al gepubliceerd" in again.output
    bad = runner.invoke(args=["metrics", "publish", "--quarter", "2022-5"])
    assert bad.exit_code == 2 and "2026-K4" in bad.output
    due = runner.invoke(args=["metrics", "publish", "--due"])
    # From the first pilot period (Voorbereidingsfase, September 2021) to 30 June 2022; Inrichtingsfase
    # and Tussentijdse evaluatie 1 have the same bounds, so they are one release.
    assert due.exit_code == 0 and "6 publicatie(s)" in due.output, due.output
    with app.app_context():
        labels = sorted(r.label for r in db.session.scalars(select(Release)))
    assert labels == ["2021", "Inrichtingsfase / Tussentijdse evaluatie 1", "K1 2022", "K2 2022", "K3 2021",
                      "K4 2021", "Voorbereidingsfase"]
