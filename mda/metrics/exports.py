"""Exports of the suppressed tables: CSV (semicolons, BOM, every cell neutralised) and Excel."""
from __future__ import annotations

import csv
import io
import re

from ..exports import neutralise_cell
from .disclosure import COMPLEMENTARY_MARK, DisplayTable
from .queries import Period


def legend(threshold: int) -> list[str]:
    return [f"<{threshold}: een aantal van 1 tot en met {threshold - 1}, niet getoond.",
            f"{COMPLEMENTARY_MARK}: niet getoond; een klein aantal, of een aantal dat verborgen is zodat een "
            "klein aantal niet uit de andere getallen kan worden teruggerekend.",
            f"—: percentage of mediaan niet getoond bij een groep kleiner dan {threshold}."]


def table_csv(table: DisplayTable, period: Period, threshold: int) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(table.title)])
    writer.writerow([neutralise_cell(f"Periode: {period.label}")])
    for row in table.matrix():
        writer.writerow([neutralise_cell(cell) for cell in row])
    writer.writerow([])
    for line in legend(threshold):
        writer.writerow([neutralise_cell(line)])
    return buffer.getvalue().encode("utf-8")


SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def sheet_name(title: str, used: set[str]) -> str:
    """A Dutch sheet name from the table's title: at most 31 characters, none that Excel refuses."""
    base = SHEET_FORBIDDEN.sub("", title).strip()[:31] or "Tabel"
    name, number = base, 2
    while name.lower() in used:
        suffix = f" ({number})"
        name, number = base[:31 - len(suffix)] + suffix, number + 1
    used.add(name.lower())
    return name


def _cell_value(text: str) -> int | str:
    """A shown count is a number in the sheet; a suppression mark or a share stays text."""
    return int(text) if text.isdigit() else neutralise_cell(text)


def workbook(tables: list[DisplayTable], period: Period, threshold: int) -> bytes:
    """One sheet per table, named after it in Dutch; counts are numbers, hidden cells are their
    mark as text ("<10", "×"), so nothing hidden can be summed as 0 by accident."""
    # Imported here: openpyxl is some 30 MB of a worker's memory, needed only for this download.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(sheet_name(table.title, used))
        sheet.append([neutralise_cell(table.title)])
        sheet["A1"].font = Font(bold=True)
        sheet.append([neutralise_cell(f"Periode: {period.label}")])
        header, *rows = table.matrix()
        sheet.append([neutralise_cell(cell) for cell in header])
        for row in rows:
            sheet.append([neutralise_cell(row[0]), *[_cell_value(cell) for cell in row[1:]]])
        sheet.append([])
        for line in legend(threshold):
            sheet.append([neutralise_cell(line)])
        sheet.column_dimensions["A"].width = 40
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
