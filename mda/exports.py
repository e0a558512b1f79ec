"""Helpers shared by every CSV export."""
from __future__ import annotations

from typing import Any

# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, may strip them and then read a formula): OWASP "CSV injection", ASVS 1.2.10.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> str:
    """The cell as text that a spreadsheet shows literally: a leading single quote disarms a
    formula trigger. ``None`` becomes an empty cell. Use this on every cell, headers included."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text
