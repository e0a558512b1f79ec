"""A stored release as the pages, charts and exports show it: nothing is recomputed."""
from __future__ import annotations

import re

from .disclosure import DisplayRow, DisplayTable
from .models import Release


def release_display(table: dict) -> DisplayTable:
    rows = [DisplayRow(row["label"], list(row["cells"]), list(row["numbers"]), row["kind"]) for row in table["rows"]]
    return DisplayTable(table["key"], table["title"], list(table["header"]), rows, table.get("description", ""))


def file_stem(release: Release) -> str:
    """'stuurinformatie_K4-2026' (with '_versie-2' for a later version): safe in any file system."""
    label = re.sub(r"[^0-9A-Za-z]+", "-", release.label).strip("-")
    return f"stuurinformatie_{label}" + (f"_versie-{release.version}" if release.version > 1 else "")
