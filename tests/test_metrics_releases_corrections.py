"""A new version of a release after a correction: audited together with the earlier one.

The attacker is written apart from the audit: it downloads every CSV of every version as the
steering role and, knowing which month was corrected (the reason for a new version usually says
so), ties the counts of every other month across versions. It then solves for each hidden cell
and for each correction (a number's value in the new version minus the old one): a small
correction pins down that one family's record changed, so it must stay as open as a small count.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from mda.accounts.models import Role
from mda.cases.models import IntakeRoute
from mda.db import db
from mda.metrics import facts, operations as ops, queries
from mda.metrics.models import Release
from mda.metrics.queries import Period
from mda.metrics.sdc import AuditCell, Candidate, Protection, Status, failing, suppress
from mda.organisations.models import OrganisationKind
from mda.referrals.models import Referral, ReferralStatus
from tests import factories as make
from tests.metrics_attack import ranges_of, read_csv
from tests.test_metrics_releases import add_referrals, spread

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
CORRECTED = ("verwijzingen", "2025-02")      # the slice the correction touches


def _quarter_data() -> None:
    """Four municipalities large enough to be shown per municipality; Beesel 3 referrals in February."""
    for town, per_month in (("Venlo", 12), ("Venray", 13), ("Weert", 12)):
        add_referrals(town, IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2025, [1, 2, 3], per_month))
    add_referrals("Roermond", IntakeRoute.HUISVERBOD, ReferralStatus.DECLINED, spread(2025, [1, 2, 3], 12))
    add_referrals("Beesel", IntakeRoute.CONSULTATION, ReferralStatus.SUBMITTED,
                  [datetime(2025, 2, day, 10, tzinfo=timezone.utc) for day in (8, 9, 11)])


def _move_one_february_referral(to: str) -> None:
    """The correction: one of Venlo's February referrals was registered under the wrong municipality."""
    venlo = make.municipality("Venlo").id
    moved = db.session.scalars(select(Referral).where(Referral.municipality_id == venlo)
                               .order_by(Referral.submitted_at)).all()
    referral = next(r for r in moved if r.submitted_at.month == 2)
    referral.municipality_id = make.municipality(to).id
    db.session.flush()


def _corrected_version(config: dict) -> Release:
    _move_one_february_referral("Roermond")
    return ops.publish_release(ops.quarter(2025, 1), by=None, config=config, new_version=True,
                               reason="Een verwijzing van februari stond bij de verkeerde gemeente")


def _truth() -> dict:
    return facts.gather(Period(date(2025, 1, 1), date(2025, 12, 31)), date(2026, 11, 20))


def _downloaded(app: Flask, release_ids: list[int]) -> dict[int, list[tuple[frozenset, str]]]:
    """Every number of every release as the steering role downloads it, with the counts it adds up."""
    with app.app_context():
        steering = make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP))
        db.session.commit()
        towns = [t for t, _n, _s in queries.municipalities()]
        meanings = {}
        keys = {}
        for release_id in release_ids:
            release = db.session.get(Release, release_id)
            meanings[release_id] = [ops.Spec.from_json(spec).atoms(towns) for spec, *_rest in release.audit_basis]
            keys[release_id] = [t["key"] for t in release.content["tables"]]
    client = app.test_client()
    make.login(client, steering)
    result = {}
    for release_id in release_ids:
        cells: list[str] = []
        for key in keys[release_id]:
            response = client.get(f"/stuurinformatie/publicaties/{release_id}/{key}.csv")
            assert response.status_code == 200
            cells.extend(cell for row in read_csv(response.get_data())[1:] for cell in row[1:])
        assert len(cells) == len(meanings[release_id])
        result[release_id] = list(zip(meanings[release_id], cells))
    return result


def _attack(downloads: dict[int, list[tuple[frozenset, str]]], state_of: dict[int, int],
            truths: dict[int, dict]) -> tuple[int, int]:
    """Solve all versions together. A count of the corrected slice is a separate unknown per data
    state (``state_of``: release id -> state); every other count is one unknown for all versions.
    Asserts that every hidden small count and every small correction keeps a width of 5; returns
    how many of each were checked."""
    def tagged(atoms: frozenset, state: int) -> frozenset:
        return frozenset((atom, state if atom[:2] == CORRECTED else 0) for atom in atoms)

    numbers = [(tagged(atoms, state_of[rid]), text) for rid, cells in downloads.items() for atoms, text in cells]
    hidden = [(rid, atoms) for rid, cells in downloads.items() for atoms, text in cells if not text.isdigit()]
    targets = [(tagged(atoms, state_of[rid]), frozenset()) for rid, atoms in hidden]
    truth_of = [sum(truths[state_of[rid]].get(a, 0) for a in atoms) for rid, atoms in hidden]
    # Corrections: every published number, restricted to the corrected slice, new state minus old.
    states = sorted(set(state_of.values()))
    corrections = {}
    for old, new in ((a, b) for a in states for b in states if a < b):
        for cells in downloads.values():
            for atoms, _text in cells:
                terms = frozenset(atom for atom in atoms if atom[:2] == CORRECTED)
                if terms:
                    corrections[(old, new, terms)] = (
                        frozenset((a, new) for a in terms), frozenset((a, old) for a in terms),
                        sum(truths[new].get(a, 0) - truths[old].get(a, 0) for a in terms))
    ranges = ranges_of(numbers, 10, targets + [(plus, minus) for plus, minus, _d in corrections.values()])
    small_counts = small_corrections = 0
    for (low, high), true_value, (rid, _atoms) in zip(ranges, truth_of, hidden):
        if 0 < true_value < 10:
            small_counts += 1
            assert high - low >= 5 - 1e-6, ("hidden cell", rid, true_value, low, high)
    for (low, high), (_plus, _minus, difference) in zip(ranges[len(targets):], corrections.values()):
        if 0 < abs(difference) < 10:
            small_corrections += 1
            assert high - low >= 5 - 1e-6, ("correction", difference, low, high)
    return small_counts, small_corrections


def test_the_attacker_learns_no_small_correction_from_two_versions(app: Flask,
                                                                   clock: Callable[[datetime], None]) -> None:
    clock(NOW)
    with app.app_context():
        _quarter_data()
        first = ops.publish_release(ops.quarter(2025, 1), by=None, config=app.config)
        db.session.commit()
        before = _truth()
        second = _corrected_version(app.config)
        db.session.commit()
        after = _truth()
        ids = [first.id, second.id]
        assert second.version == 2
    small_counts, small_corrections = _attack(_downloaded(app, ids), {ids[0]: 1, ids[1]: 2}, {1: before, 2: after})
    assert small_counts > 0 and small_corrections > 0
    with app.app_context():
        content = db.session.get(Release, ids[1]).content
    assert "apart gecontroleerd" not in str(content)
    assert any("verschillen tussen de versies zijn gecontroleerd" in note for note in content["notes"])
    # The release page tells people, in their words, that this version corrects the earlier one.
    with app.app_context():
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        db.session.commit()
    client = app.test_client()
    make.login(client, lead)
    page = client.get(f"/stuurinformatie/publicaties/{ids[1]}").get_data(as_text=True)
    assert "Sinds de publicatie van K1 2025 zijn gegevens over deze periode gecorrigeerd" in page


def test_a_year_after_a_corrected_quarter_publishes_and_passes_the_joint_audit(
        app: Flask, clock: Callable[[datetime], None]) -> None:
    clock(NOW)
    with app.app_context():
        _quarter_data()
        add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2025, [4, 5, 6], 12))
        first = ops.publish_release(ops.quarter(2025, 1), by=None, config=app.config)
        spring = ops.publish_release(ops.quarter(2025, 2), by=None, config=app.config)
        db.session.commit()
        before = _truth()
        second = _corrected_version(app.config)
        whole = ops.publish_release(ops.year(2025), by=None, config=app.config)
        db.session.commit()
        after = _truth()
        ids = [first.id, spring.id, second.id, whole.id]
        # The year holds the corrected counts: the state of the second version, not of the first.
        assert whole.data_state[" ".join(CORRECTED)][0] == second.data_state[" ".join(CORRECTED)][0] == 2
        assert whole.data_state["verwijzingen 2025-05"][0] == spring.data_state["verwijzingen 2025-05"][0] == 1
        assert any("K1 2025" in note and "gecorrigeerd" in note for note in whole.content["notes"])
    small_counts, _corrections = _attack(_downloaded(app, ids), {ids[0]: 1, ids[1]: 1, ids[2]: 2, ids[3]: 2},
                                         {1: before, 2: after})
    assert small_counts > 0


def test_data_states_follow_the_counts_of_each_month(ctx: Flask, now: None) -> None:
    add_referrals("Venlo", IntakeRoute.ACTIE_OVERLEG, ReferralStatus.DECLINED, spread(2025, [1, 2, 3], 12))
    first = ops.publish_release(ops.quarter(2025, 1), by=None, config=ctx.config)
    whole_before = ops.publish_release(ops.year(2025), by=None, config=ctx.config)
    assert {state for state, _print in first.data_state.values()} == {1}
    assert {state for state, _print in whole_before.data_state.values()} == {1}
    assert first.data_state["verwijzingen 2025-02"] == whole_before.data_state["verwijzingen 2025-02"]
    # A fingerprint, not the counts, and bound to its month: January and February have the same counts.
    assert len(first.data_state["verwijzingen 2025-02"][1]) == 64
    assert first.data_state["verwijzingen 2025-01"][1] != first.data_state["verwijzingen 2025-02"][1]
    extra = spread(2025, [2], 1)
    add_referrals("Venlo", IntakeRoute.CRISIS, ReferralStatus.DECLINED, extra)
    second = ops.publish_release(ops.quarter(2025, 1), by=None, config=ctx.config, new_version=True,
                                 reason="Nagekomen verwijzing")
    changed = {key for key, (state, _p) in second.data_state.items() if state != 1}
    assert changed == {"verwijzingen 2025-02"} and second.data_state["verwijzingen 2025-02"][0] == 2
    # Undoing the correction brings back the first state: same counts, same unknowns.
    for referral in db.session.scalars(select(Referral).where(Referral.intake_route == IntakeRoute.CRISIS)):
        db.session.delete(referral)
    db.session.flush()
    third = ops.publish_release(ops.quarter(2025, 1), by=None, config=ctx.config, new_version=True,
                                reason="Verwijzing toch niet van deze periode")
    assert third.data_state == first.data_state
    [note] = third.content["notes"]
    assert note.startswith("Sinds de publicatie van K1 2025 (versie 2) zijn gegevens over deze periode gecorrigeerd")


@pytest.fixture
def now(clock: Callable[[datetime], None]) -> None:
    clock(NOW)


def test_a_small_correction_between_two_states_is_protected_by_secondary_suppression() -> None:
    """v1 showed 14 for a cell, the corrected data have 15: shown both, the difference is exactly 1."""
    old = [AuditCell(frozenset({(("a",), 1), (("b",), 1)}), Status.SHOWN, 14, "v1 cell")]
    new = [AuditCell(frozenset({(("a",), 2), (("b",), 2)}), Status.SHOWN, 15, "v2 cell"),
           AuditCell(frozenset({(("a",), 2)}), Status.SHOWN, 10, "v2 part a"),
           AuditCell(frozenset({(("b",), 2)}), Status.SHOWN, 5, "v2 part b")]
    correction = AuditCell(frozenset({(("a",), 1), (("b",), 1), (("a",), 2), (("b",), 2)}), Status.CORRECTION,
                           None, "correction", True, frozenset({(("a",), 1), (("b",), 1)}))
    cells = old + new + [correction]
    protection = Protection(10, 5)
    [interval] = failing(cells, protection)
    assert (interval.low, interval.high) == (1.0, 1.0)
    outcome = suppress(cells, {1: Candidate(15, "t", 0, 9, margin=True), 2: Candidate(10, "t", 0, 0),
                               3: Candidate(5, "t", 0, 1)}, protection)
    assert outcome.secondary
    assert not failing([AuditCell(c.atoms, s, c.value if s == Status.SHOWN else None, c.tag, c.sensitive, c.minus)
                        for c, s in zip(cells, outcome.statuses)], protection)
    # A correction of 0 or of at least the threshold may be shown.
    assert protection.holds_correction(0, 0) and protection.holds_correction(12, 12)
    assert protection.holds_correction(-10, -10) and not protection.holds_correction(-3, -3)


def test_a_correction_that_no_cell_of_the_new_release_can_protect_refuses_publication() -> None:
    """Both states shown by earlier releases alone: nothing the new release hides can help."""
    from mda.metrics.sdc import PublicationRefused
    earlier = [AuditCell(frozenset({(("a",), 1)}), Status.SHOWN, 14, "v1"),
               AuditCell(frozenset({(("a",), 2)}), Status.SHOWN, 15, "v2")]
    new = [AuditCell(frozenset({(("b",), 2)}), Status.SHOWN, 20, "new")]
    correction = AuditCell(frozenset({(("a",), 1), (("a",), 2)}), Status.CORRECTION, None, "correction", True,
                           frozenset({(("a",), 1)}))
    with pytest.raises(PublicationRefused):
        suppress(earlier + new + [correction], {2: Candidate(20, "t", 0, 0)}, Protection(10, 5))
