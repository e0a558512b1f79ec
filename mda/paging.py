"""Long lists shown a page at a time: the page asked for, made safe, and that page's rows.

A list that grows with the years (an organisation's referrals, the triage queue on a busy week)
is read a page at a time, so its page costs the same with ten rows or ten thousand. The page
number comes from the URL (``?pagina=``), where anyone can type anything: it is never trusted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select, func

from .db import db

Item = TypeVar("Item")

# Any number can be typed into a URL; this bound keeps the offset an integer every database takes.
MAX_PAGE_ASKED = 1_000_000


def page_asked(value: Any) -> int:
    """The page number in ``?pagina=``: a whole number from 1, anything else (missing, text,
    zero, negative, absurdly large) is page 1 or the highest page anyone can ask for."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return 1
    return MAX_PAGE_ASKED if len(text) > 7 else max(1, int(text))


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_shown(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_shown(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def page_of(statement: Select[Any], number: int, size: int, *, options: Sequence[Any] = ()) -> Page[Any]:
    """Page ``number`` of the ORM entities ``statement`` selects, in its order (which must end on
    a unique key, or rows could appear on two pages), loaded with ``options``. A number past the
    end (an old link, a typed number) gives the last page, as the caseload does."""
    count = statement.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    total = db.session.scalar(count) or 0
    number = min(max(1, number), max(1, -(-total // size)))
    items = list(db.session.scalars(statement.options(*options).limit(size).offset((number - 1) * size)).unique())
    return Page(items=items, total=total, number=number, size=size)
