"""An attacker for the suppressed tables: computes hidden cells back from what is shown.

It knows the structure of a displayed table (row totals in the last column, the Totaal row,
subtotal rows of groups) and solves every line that has exactly one unknown, repeatedly.
"""
from __future__ import annotations

import csv
import io

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, vstack

from mda.metrics.disclosure import DisplayTable


def _parse(cell: str) -> int | None:
    return int(cell) if cell.isdigit() else None


def lines_of(table: DisplayTable) -> tuple[dict[tuple[int, int], int | None], list[list[tuple[int, int]]]]:
    """The shown grid (None where hidden) and the equations a reader can write down."""
    count_columns = [j for j, heading in enumerate(table.header[1:])
                     if not heading.startswith(("Mediaan", "Spreiding")) and not heading.endswith("(%)")]
    grid = {(i, j): _parse(row.cells[j]) for i, row in enumerate(table.rows) for j in count_columns}
    has_row_total = table.header[-1] == "Totaal"
    lines: list[list[tuple[int, int]]] = []
    if has_row_total:
        for i, _row in enumerate(table.rows):
            lines.append([(i, j) for j in count_columns])   # cells ... and the total, one equation
    kinds = [row.kind for row in table.rows]
    if "total" in kinds:
        total = kinds.index("total")
        plain = [i for i, kind in enumerate(kinds) if kind == "row"]
        group_rows = [i for i, kind in enumerate(kinds) if kind == "group"]
        for j in count_columns:
            lines.append([(i, j) for i in plain] + [(total, j)])
            if group_rows:
                lines.append([(i, j) for i in group_rows] + [(total, j)])
        for position, g in enumerate(group_rows):
            end = group_rows[position + 1] if position + 1 < len(group_rows) else total
            for j in count_columns:
                lines.append([(i, j) for i in range(g + 1, end)] + [(g, j)])
    return grid, lines


def recover(table: DisplayTable) -> dict[tuple[int, int], int]:
    """Every hidden cell the attacker can compute exactly, with its value."""
    grid, lines = lines_of(table)
    known = {key: value for key, value in grid.items() if value is not None}
    recovered: dict[tuple[int, int], int] = {}
    progress = True
    while progress:
        progress = False
        for line in lines:
            *members, total = line
            unknown = [key for key in line if key not in known]
            if len(unknown) != 1:
                continue
            key = unknown[0]
            if key == total:
                value = sum(known[k] for k in members)
            else:
                value = known[total] - sum(known[k] for k in members if k != key)
            known[key] = recovered[key] = value
            progress = True
    return recovered


# --- the linear attacker on published releases --------------------------------------------------

def read_csv(body: bytes) -> list[list[str]]:
    """The table part of a downloaded CSV: the header row and the data rows, suppression marks as text."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    table = rows[2:]
    return table[:table.index([])] if [] in table else table


def intervals_of(numbers: list[tuple[frozenset, str]], threshold: int) -> list[tuple[int, float, float]]:
    """For every hidden number (index into ``numbers``), the lowest and highest value it can take
    given all the others: shown numbers exact, '<threshold' in 1..threshold-1, '×' anything ≥ 0.
    Each number is given with the set of finest counts it adds up."""
    hidden = [index for index, (cell, text) in enumerate(numbers) if not text.isdigit() and cell]
    ranges = ranges_of(numbers, threshold, [(numbers[index][0], frozenset()) for index in hidden])
    return [(index, low, high) for index, (low, high) in zip(hidden, ranges)]


def ranges_of(numbers: list[tuple[frozenset, str]], threshold: int,
              targets: list[tuple[frozenset, frozenset]]) -> list[tuple[float, float]]:
    """The lowest and highest value of each target, a sum of counts minus a sum of counts (for a
    correction: a number's counts after it minus the same counts before), given ``numbers``."""
    # Counts that appear in exactly the same numbers and targets are one unknown to the attacker.
    members: dict = {}
    for index, (cell, _text) in enumerate(numbers):
        for atom in cell:
            members.setdefault(atom, []).append(index)
    for index, (plus, minus) in enumerate(targets):
        for atom in plus | minus:
            members.setdefault(atom, []).append((index, atom in minus))
    signatures: dict[tuple, int] = {}
    column = {}
    for atom, where in members.items():
        column[atom] = signatures.setdefault(tuple(where), len(signatures))
    width = len(signatures)

    def row(plus: frozenset, minus: frozenset = frozenset()):
        vector = np.zeros(width)
        vector[sorted({column[a] for a in plus})] = 1.0
        vector[sorted({column[a] for a in minus})] = -1.0
        return csr_matrix(vector)

    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for cell, text in numbers:
        if text.isdigit():
            a_eq.append(row(cell))
            b_eq.append(float(text))
        elif text == f"<{threshold}":
            a_ub.extend([row(cell), -row(cell)])
            b_ub.extend([threshold - 1.0, -1.0])
    a_eq_matrix = vstack(a_eq) if a_eq else None
    a_ub_matrix = vstack(a_ub) if a_ub else None
    result = []
    for plus, minus in targets:
        objective = row(plus, minus).toarray().ravel()
        bounds = []
        for sign in (1.0, -1.0):
            solution = linprog(sign * objective, A_ub=a_ub_matrix, b_ub=b_ub or None,
                               A_eq=a_eq_matrix, b_eq=b_eq or None, bounds=(0, None), method="highs")
            assert solution.status in (0, 3), solution.message
            bounds.append(sign * solution.fun if solution.status == 0 else -sign * float("inf"))
        result.append((bounds[0], bounds[1]))
    return result
