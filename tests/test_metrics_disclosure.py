"""Primary and complementary suppression, proven by trying to compute hidden cells back."""
from __future__ import annotations

import random

import pytest

from mda.metrics.disclosure import COMPLEMENTARY, PRIMARY, CountTable, percentage, protect, quantiles, render
from tests.metrics_attack import recover


def table(counts: list[list[int]], **options: object) -> CountTable:
    return CountTable("t", "Test", "Rij", [f"r{i}" for i in range(len(counts))],
                      [f"k{j}" for j in range(len(counts[0]))], counts, **options)


def test_small_counts_are_shown_as_below_threshold_and_zero_stays_zero() -> None:
    shown = render(table([[3, 0, 12], [20, 15, 30]]), 10)
    assert shown.rows[0].cells[0] == "<10"
    assert shown.rows[0].cells[1] == "0"
    assert "3" not in [cell for row in shown.rows for cell in row.cells]


def test_the_threshold_is_a_setting() -> None:
    assert render(table([[6, 20], [30, 40]]), 5).rows[0].cells[0] == "6"
    assert render(table([[6, 20], [30, 40]]), 10).rows[0].cells[0] == "<10"


def test_a_single_hidden_cell_in_a_line_gets_a_partner() -> None:
    #      k0  k1  k2 | T
    # r0    3  20  25 | 48
    # r1   30  40  50 | 120
    hidden = protect({("a", 0): 3, ("a", 1): 20, ("a", 2): 25, ("a", "T"): 48},
                     [[("a", 0), ("a", 1), ("a", 2), ("a", "T")]], 10)
    assert hidden == {("a", 0): PRIMARY, ("a", 1): COMPLEMENTARY}   # the smallest other cell


def test_municipality_with_three_cases_cannot_be_computed_back() -> None:
    counts = [[3, 14, 22], [25, 30, 41], [17, 12, 19]]
    shown = render(table(counts), 10)
    assert shown.rows[0].cells[0] == "<10"
    assert recover(shown) == {}
    hidden = [(i, j) for i, row in enumerate(shown.rows) for j, cell in enumerate(row.cells) if not cell.isdigit()]
    assert len(hidden) >= 4   # a hidden cell always needs partners in its row and its column


def test_grouped_rows_with_subtotals_are_protected_too() -> None:
    counts = [[3, 14], [25, 30], [17, 12], [40, 11]]
    shown = render(table(counts, groups=[("Noord", [0, 1]), ("Midden", [2, 3])]), 10)
    labels = [row.label for row in shown.rows]
    assert labels == ["Noord", "r0", "r1", "Midden", "r2", "r3", "Totaal"]
    assert shown.rows[1].cells[0] == "<10"
    assert recover(shown) == {}


@pytest.mark.parametrize("seed", range(200))
def test_random_tables_leak_no_hidden_cell(seed: int) -> None:
    rng = random.Random(seed)
    rows, columns = rng.randint(1, 6), rng.randint(1, 5)
    counts = [[rng.choice([0, 0, 1, 2, 5, 9, 10, 11, 25, 60]) for _ in range(columns)] for _ in range(rows)]
    options: dict[str, object] = {"row_totals": rng.random() < 0.7, "column_totals": rng.random() < 0.8}
    if rows >= 2 and rng.random() < 0.4:
        cut = rng.randint(1, rows - 1)
        options["groups"] = [("A", list(range(cut))), ("B", list(range(cut, rows)))]
    shown = render(table(counts, **options), 10)
    assert recover(shown) == {}
    for row in shown.rows:
        for cell in row.cells:
            assert not (cell.isdigit() and 0 < int(cell) < 10)


def test_percentages_and_medians_follow_their_counts() -> None:
    assert percentage(5, 20, 10) == "25%"
    assert percentage(None, 20, 10) == "—"       # the numerator is hidden
    assert percentage(3, 8, 10) == "—"           # the group is too small
    assert quantiles([(4, 1), (2, 1), (16, 1)]) == (3.0, 4.0, 10.0)
    assert quantiles([]) is None
