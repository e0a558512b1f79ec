"""Exports of the suppressed tables: CSV (semicolons, BOM, every cell neutralised) and Excel."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

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


def workbook(tables: list[DisplayTable], period: Period, threshold: int) -> bytes:
    """One sheet per table; every cell is text as shown on the page (suppression marks included)."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        name = table.key[:31]
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        sheet = book.create_sheet(name)
        sheet.append([neutralise_cell(table.title)])
        sheet["A1"].font = Font(bold=True)
        sheet.append([neutralise_cell(f"Periode: {period.label}")])
        for row in table.matrix():
            sheet.append([neutralise_cell(cell) for cell in row])
        sheet.append([])
        for line in legend(threshold):
            sheet.append([neutralise_cell(line)])
        sheet.column_dimensions["A"].width = 40
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
