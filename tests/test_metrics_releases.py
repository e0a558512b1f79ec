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
