"""Reads of the reference lists (municipalities, disciplines) for other areas' pages."""
from __future__ import annotations

import functools

from sqlalchemy import Select, select

from ..db import db
from .models import Municipality


def municipality_choices() -> list[tuple[int, str]]:
    """(id, name) of every municipality, inactive ones too (old cases can still be filtered on
    them), by name: the caseload's filter."""
    return list(db.read(_municipalities_by_name()).tuples())


@functools.cache
def _municipalities_by_name() -> Select:
    # Built once: the caseload asks it on every request (see mda.cases.queries).
    return select(Municipality.id, Municipality.name).order_by(Municipality.name)
