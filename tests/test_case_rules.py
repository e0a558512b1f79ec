"""The phased approach and the AVE ladder, enforced in the domain layer."""
from __future__ import annotations

import pytest
from flask import Flask

from mda.accounts.models import Role
from mda.cases.models import Phase
from mda.cases.operations import change_ave_level, move_phase
from mda.cases.rules import CaseEvidence, check_ave_move, check_phase_move, outside_mda_band
from mda.db import db
from mda.errors import InvalidTransition
from tests import factories as make

P = Phase


@pytest.mark.parametrize("current, target", [
    (P.DIRECTE_VEILIGHEID, P.STABIELE_VEILIGHEID), (P.STABIELE_VEILIGHEID, P.HERSTEL),
    (P.HERSTEL, P.PARTICIPATIE)])
def test_forward_one_phase_at_a_time(current: Phase, target: Phase) -> None:
    check_phase_move(current, target, None)


@pytest.mark.parametrize("current, target", [
    (P.DIRECTE_VEILIGHEID, P.HERSTEL), (P.DIRECTE_VEILIGHEID, P.PARTICIPATIE),
    (P.STABIELE_VEILIGHEID, P.PARTICIPATIE), (P.PARTICIPATIE, P.HERSTEL), (P.HERSTEL, P.HERSTEL)])
def test_skipping_or_stepping_back_other_than_to_directe_veiligheid_is_refused(current: Phase,
                                                                              target: Phase) -> None:
    with pytest.raises(InvalidTransition):
        check_phase_move(current, target, "reden")


@pytest.mark.parametrize("current", [P.STABIELE_VEILIGHEID, P.HERSTEL, P.PARTICIPATIE])
def test_fall_back_to_directe_veiligheid_any_time_but_with_reason(current: Phase) -> None:
    with pytest.raises(InvalidTransition, match="reden"):
        check_phase_move(current, P.DIRECTE_VEILIGHEID, "  ")
    check_phase_move(current, P.DIRECTE_VEILIGHEID, "Nieuw incident")


def test_ave_moves_need_reason_and_valid_level() -> None:
    with pytest.raises(InvalidTransition, match="opschalen"):
        check_ave_move(3, 4, "")
    with pytest.raises(InvalidTransition, match="afschalen"):
        check_ave_move(3, 2, None)
    with pytest.raises(InvalidTransition):
        check_ave_move(3, 6, "reden")
    with pytest.raises(InvalidTransition):
        check_ave_move(3, 3, "reden")
    assert outside_mda_band(2) and outside_mda_band(5) and not outside_mda_band(3)


def test_history_records_who_when_and_encrypted_why(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    make.safe_start(case, coordinator)
    move_phase(case, P.STABIELE_VEILIGHEID, by=coordinator)
    change = move_phase(case, P.DIRECTE_VEILIGHEID, by=coordinator, reason="Nieuw incident bij Anna")
    escalation = change_ave_level(case, 4, by=coordinator, reason="Samenwerking stokt")
    db.session.commit()
    assert [c.to_phase for c in case.phase_changes] == [P.DIRECTE_VEILIGHEID, P.STABIELE_VEILIGHEID,
                                                        P.DIRECTE_VEILIGHEID]
    assert change.changed_by_id == coordinator.id and change.reason == "Nieuw incident bij Anna"
    assert b"Anna" not in change.reason_ciphertext
    assert escalation.is_escalation and case.ave_level == 4


def test_refused_move_changes_nothing(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        move_phase(case, P.HERSTEL, by=coordinator)
    assert case.phase == P.DIRECTE_VEILIGHEID and len(case.phase_changes) == 1


def test_case_references_count_per_year(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    from datetime import date
    first = make.case(coordinator, opened_on=date(2026, 3, 1))
    second = make.case(coordinator, opened_on=date(2026, 4, 1))
    other_year = make.case(coordinator, opened_on=date(2025, 12, 31))
    assert (first.reference, second.reference, other_year.reference) == ("MDA-2026-0001", "MDA-2026-0002",
                                                                         "MDA-2025-0001")


NOTHING = CaseEvidence(False, False, False, False)
EVERYTHING = CaseEvidence(True, True, True, True)


@pytest.mark.parametrize("evidence, allowed", [
    (NOTHING, False),
    (CaseEvidence(True, False, False, False), False),   # taxatie but no current plan
    (CaseEvidence(False, True, False, False), False),   # plan but no veiligheidstaxatie
    (CaseEvidence(True, True, False, False), True),
])
def test_leaving_directe_veiligheid_needs_taxatie_and_current_plan(evidence: CaseEvidence, allowed: bool) -> None:
    if allowed:
        check_phase_move(P.DIRECTE_VEILIGHEID, P.STABIELE_VEILIGHEID, None, evidence)
    else:
        with pytest.raises(InvalidTransition, match="Directe veiligheid verlaten"):
            check_phase_move(P.DIRECTE_VEILIGHEID, P.STABIELE_VEILIGHEID, None, evidence)


def test_herstel_needs_risicotaxatie() -> None:
    with pytest.raises(InvalidTransition, match="risicotaxatie"):
        check_phase_move(P.STABIELE_VEILIGHEID, P.HERSTEL, None, CaseEvidence(True, True, False, True))
    check_phase_move(P.STABIELE_VEILIGHEID, P.HERSTEL, None, CaseEvidence(True, True, True, False))


def test_participatie_needs_diagnostiek_or_a_reason() -> None:
    without = CaseEvidence(True, True, True, False)
    with pytest.raises(InvalidTransition, match="diagnostiek"):
        check_phase_move(P.HERSTEL, P.PARTICIPATIE, None, without)
    check_phase_move(P.HERSTEL, P.PARTICIPATIE, None, without, no_diagnostics_reason="Geen aanwijzingen")
    check_phase_move(P.HERSTEL, P.PARTICIPATIE, None, EVERYTHING)


def test_falling_back_needs_no_evidence() -> None:
    check_phase_move(P.HERSTEL, P.DIRECTE_VEILIGHEID, "Nieuw incident", NOTHING)


# --- issue 13 item 12: the time outside AVE 3-4 counts from leaving the band --------------------

def test_outside_band_since_is_kept_between_levels_outside_the_band() -> None:
    from datetime import datetime, timezone
    from mda.cases.rules import outside_band_since
    left, later = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert outside_band_since(None, 2, left) == left               # 3 -> 2: leaves the band
    assert outside_band_since(left, 1, later) == left              # 2 -> 1: still outside since then
    assert outside_band_since(left, 5, later) == left              # 1 -> 5 jumps over the band
    assert outside_band_since(left, 3, later) is None              # back in the band
    assert outside_band_since(None, 4, later) is None


def test_too_long_outside_the_band_keeps_counting_after_3_to_2_to_1(ctx: Flask, clock) -> None:  # noqa: ANN001
    from datetime import datetime, timedelta, timezone
    from mda.cases.queries import attention_flags

    def flags(case) -> list[str]:  # noqa: ANN001
        return [f for f in attention_flags(case, overdue_tasks=0, plan_review_on=None, day=start.date(),
                                           ave_band_days=30) if f.startswith("AVE")]

    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    clock(start)
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator, ave_level=3)
    assert case.ave_outside_band_since is None
    change_ave_level(case, 2, by=coordinator, reason="Lokaal team neemt het over")
    clock(start + timedelta(days=31))
    assert flags(case) == ["AVE 2 langer dan 30 dagen buiten AVE 3-4"]
    change_ave_level(case, 1, by=coordinator, reason="Eigen organisatie pakt het op")
    assert flags(case) == ["AVE 1 langer dan 30 dagen buiten AVE 3-4"]   # no reset on 2 -> 1
    clock(start + timedelta(days=45))
    db.session.commit()
    assert flags(case) == ["AVE 1 langer dan 30 dagen buiten AVE 3-4"]
    assert case.ave_outside_band_since == start
    change_ave_level(case, 3, by=coordinator, reason="Escalatie, weer MDA++")
    assert flags(case) == [] and case.ave_outside_band_since is None
    change_ave_level(case, 2, by=coordinator, reason="Afschalen")
    clock(start + timedelta(days=75))
    assert flags(case) == []                                            # a new stay: 30 days, not more
    clock(start + timedelta(days=76))
    assert flags(case) == ["AVE 2 langer dan 30 dagen buiten AVE 3-4"]


def test_a_case_opened_outside_the_band_counts_from_opening(ctx: Flask, clock) -> None:  # noqa: ANN001
    from datetime import datetime, timezone
    opened = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    clock(opened)
    case = make.case(make.user(Role.COORDINATOR), ave_level=2)
    assert case.ave_outside_band_since == opened
