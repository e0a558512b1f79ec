"""Disclosure control for the steering tables: primary and complementary suppression.

Pure functions on counts; nothing here touches the database. A table is a set of cells and
a set of *lines*: groups of cells tied by one linear equation (a row with its row total, a
column with its column total, the subtotals of a group of rows, ...). A line with exactly one
hidden cell gives that cell away by subtraction, so another cell of the line is hidden too,
until no line has a single hidden cell.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping, Sequence

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
COMPLEMENTARY_MARK = "×"   # hidden so that a small cell cannot be computed back


def protect(values: Mapping[Hashable, int], lines: Iterable[Sequence[Hashable]], threshold: int,
            margins: frozenset[Hashable] = frozenset()) -> dict[Hashable, str]:
    """Which cells to hide, and why. Counts from 1 to ``threshold - 1`` are hidden (primary);
    then, while a line has exactly one hidden cell, its smallest other visible non-zero cell is
    hidden as well (a zero only when nothing else is left). Among equal values an inner cell is
    preferred over a margin in ``margins``, so totals stay visible where possible."""
    lines = [tuple(line) for line in lines if len(line) > 1]
    hidden: dict[Hashable, str] = {key: PRIMARY for key, value in values.items() if 0 < value < threshold}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for key in line if key in hidden) != 1:
                continue
            visible = [key for key in line if key not in hidden]
            candidates = [key for key in visible if values[key] > 0] or visible
            if not candidates:
                continue
            pick = min(candidates, key=lambda key: (values[key], key in margins))
            hidden[pick] = COMPLEMENTARY
            changed = True
    return hidden


TOTAL = "T"


@dataclass
class CountTable:
    """Counts with optional row totals, column totals and subtotal groups of rows.

    ``groups`` is a list of (label, row indices); when given, every row belongs to exactly one
    group and each group gets a subtotal row, shown before its rows."""

    key: str
    title: str
    row_header: str
    rows: list[str]
    columns: list[str]
    counts: list[list[int]]
    row_totals: bool = True
    column_totals: bool = True
    groups: list[tuple[str, list[int]]] | None = None
    description: str = ""

    def cells(self) -> tuple[dict[Hashable, int], list[list[Hashable]], frozenset[Hashable]]:
        """All cells (inner and margins) with their values, the lines that tie them, and
        which cells are margins."""
        values: dict[Hashable, int] = {}
        lines: list[list[Hashable]] = []
        margins: set[Hashable] = set()
        n_rows, n_cols = len(self.rows), len(self.columns)
        for i in range(n_rows):
            for j in range(n_cols):
                values[(i, j)] = self.counts[i][j]
        if self.row_totals:
            for i in range(n_rows):
                values[(i, TOTAL)] = sum(self.counts[i])
                lines.append([(i, j) for j in range(n_cols)] + [(i, TOTAL)])
                margins.add((i, TOTAL))
        column_keys: list[Hashable] = list(range(n_cols)) + ([TOTAL] if self.row_totals else [])
        if self.column_totals:
            for j in column_keys:
                values[(TOTAL, j)] = sum(values[(i, j)] for i in range(n_rows))
                lines.append([(i, j) for i in range(n_rows)] + [(TOTAL, j)])
                margins.add((TOTAL, j))
            if self.row_totals:
                lines.append([(TOTAL, j) for j in range(n_cols)] + [(TOTAL, TOTAL)])
        for g, (_label, members) in enumerate(self.groups or []):
            for j in column_keys:
                values[(("G", g), j)] = sum(values[(i, j)] for i in members)
                lines.append([(i, j) for i in members] + [(("G", g), j)])
                margins.add((("G", g), j))
            if self.row_totals:
                lines.append([(("G", g), j) for j in range(n_cols)] + [(("G", g), TOTAL)])
        if self.groups and self.column_totals:
            for j in column_keys:
                lines.append([(("G", g), j) for g in range(len(self.groups))] + [(TOTAL, j)])
        return values, lines, frozenset(margins)


@dataclass
class DisplayRow:
    label: str
    cells: list[str]
    numbers: list[int | None]          # what a chart may draw: None where hidden
    kind: str = "row"                  # "row", "group" (subtotal) or "total"


@dataclass
class DisplayTable:
    """What a page, a chart or an export may show: strings, never the raw hidden counts."""

    key: str
    title: str
    header: list[str]
    rows: list[DisplayRow]
    description: str = ""
    notes: list[str] = field(default_factory=list)

    def matrix(self) -> list[list[str]]:
        return [self.header] + [[row.label, *row.cells] for row in self.rows]


def shown(value: int, mark: str | None, threshold: int) -> str:
    if mark == PRIMARY:
        return f"<{threshold}"
    if mark == COMPLEMENTARY:
        return COMPLEMENTARY_MARK
    return str(value)


def render(table: CountTable, threshold: int) -> DisplayTable:
    """Suppress and format: the only way a count table leaves the metrics code."""
    values, lines, margins = table.cells()
    hidden = protect(values, lines, threshold, margins)
    column_keys: list[Hashable] = list(range(len(table.columns))) + ([TOTAL] if table.row_totals else [])
    header = [table.row_header, *table.columns] + (["Totaal"] if table.row_totals else [])

    def line(row_key: Hashable, label: str, kind: str) -> DisplayRow:
        keys = [(row_key, j) for j in column_keys]
        return DisplayRow(label, [shown(values[k], hidden.get(k), threshold) for k in keys],
                          [None if k in hidden else values[k] for k in keys], kind)

    rows: list[DisplayRow] = []
    if table.groups:
        for g, (label, members) in enumerate(table.groups):
            rows.append(line(("G", g), label, "group"))
            rows.extend(line(i, table.rows[i], "row") for i in members)
    else:
        rows.extend(line(i, label, "row") for i, label in enumerate(table.rows))
    if table.column_totals:
        rows.append(line(TOTAL, "Totaal", "total"))
    return DisplayTable(table.key, table.title, header, rows, table.description)


def percentage(numerator: int | None, denominator: int | None, threshold: int) -> str:
    """A share follows its counts: shown only when both are visible and the group is large enough."""
    if numerator is None or denominator is None or denominator < threshold or denominator == 0:
        return "—"
    return f"{round(100 * numerator / denominator)}%"


def quantiles(histogram: Iterable[tuple[int, int]]) -> tuple[float, float, float] | None:
    """25th, 50th and 75th percentile (nearest-rank midpoint rule) of a histogram of
    (value, count) pairs, as aggregated by SQL."""
    pairs = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _value, count in pairs)
    if total == 0:
        return None

    def at(position: float) -> float:
        # value at a 0-based fractional rank, interpolating between neighbours
        low, high = int(position), min(int(position) + 1, total - 1)
        fraction = position - low
        return value_at(low) + (value_at(high) - value_at(low)) * fraction

    def value_at(rank: int) -> int:
        seen = 0
        for value, count in pairs:
            seen += count
            if rank < seen:
                return value
        return pairs[-1][0]

    return at((total - 1) * 0.25), at((total - 1) * 0.5), at((total - 1) * 0.75)
