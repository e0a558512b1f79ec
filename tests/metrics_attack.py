"""An attacker for the suppressed tables: computes hidden cells back from what is shown.

It knows the structure of a displayed table (row totals in the last column, the Totaal row,
subtotal rows of groups) and solves every line that has exactly one unknown, repeatedly.
"""
from __future__ import annotations

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
