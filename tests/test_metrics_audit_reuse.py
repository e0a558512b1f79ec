"""Fewer linear programs, the same decisions: secondary suppression re-solves only the components a
round changed, and a target already seen far enough apart at other solutions is not solved again.
The reference run solves every target of every component in every round."""
from __future__ import annotations

import random

import pytest

from mda.metrics import sdc
from mda.metrics.sdc import AuditCell, Candidate, Protection, PublicationRefused, Status, suppress


def _tables(seed: int, count: int = 4, rows: int = 5, columns: int = 4):
    """``count`` tables with row totals, column totals and a grand total over their own atoms;
    many small counts, some zeros."""
    rng = random.Random(seed)
    cells: list[AuditCell] = []
    candidates: dict[int, Candidate] = {}

    def add(atoms: frozenset, value: int, table: int, row: object, column: object, margin: bool) -> None:
        status = Status.PRIMARY if 0 < value < 10 else Status.SHOWN
        cells.append(AuditCell(atoms, status, value if status == Status.SHOWN else None, (table, row, column),
                               sensitive=0 < value < 10))
        candidates[len(cells) - 1] = Candidate(value, table, row, column, margin)

    for table in range(count):
        grid = {(i, j): rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 15, 30]) for i in range(rows) for j in range(columns)}
        for (i, j), value in grid.items():
            add(frozenset({(table, i, j)}), value, table, i, j, False)
        for i in range(rows):
            add(frozenset((table, i, j) for j in range(columns)), sum(grid[i, j] for j in range(columns)),
                table, i, "T", True)
        for j in range(columns):
            add(frozenset((table, i, j) for i in range(rows)), sum(grid[i, j] for i in range(rows)),
                table, "T", j, True)
        add(frozenset(grid), sum(grid.values()), table, "T", "T", True)
    return cells, candidates


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    solve = sdc.linprog

    def counting(*args, **kwargs):
        calls[0] += 1
        return solve(*args, **kwargs)

    monkeypatch.setattr(sdc, "linprog", counting)
    return calls


@pytest.mark.parametrize("seed", range(6))
def test_reusing_unchanged_components_gives_the_same_pattern_with_fewer_solves(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch)
    protection = Protection(10, 5)
    outcomes = {}
    for fast in (False, True):
        cells, candidates = _tables(seed)
        calls[0] = 0
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(Protection, "wide", lambda *_args, **_kwargs: False)
            try:
                outcome = suppress(cells, candidates, protection, reuse=fast)
                outcomes[fast] = (outcome.statuses, outcome.secondary, outcome.rounds, calls[0])
            except PublicationRefused as refused:
                outcomes[fast] = (str(refused), None, None, calls[0])
    plain, fast = outcomes[False], outcomes[True]
    assert fast[:3] == plain[:3]
    assert Status.SECONDARY in (plain[0] or []) or plain[1] is None
    assert fast[3] < 0.8 * plain[3]


def test_an_interval_proven_wide_by_seen_points_is_marked_inexact_and_still_holds() -> None:
    cells, candidates = _tables(0, count=1)
    protection = Protection(10, 5)
    outcome = suppress(cells, candidates, protection)
    published = [AuditCell(c.atoms, s, c.value if s == Status.SHOWN else None, c.tag, c.sensitive)
                 for c, s in zip(cells, outcome.statuses)]
    found = sdc.intervals(published, protection)
    assert any(not iv.exact for iv in found)
    assert all(protection.holds(iv.low, iv.high) for iv in found if not iv.exact)
