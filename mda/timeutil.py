"""Time in one place, so tests can move the clock and legal periods use the Dutch wall clock."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_frozen: datetime | None = None


def utcnow() -> datetime:
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def today() -> date:
    """Today's date on the Dutch wall clock."""
    return utcnow().astimezone(AMSTERDAM).date()


def freeze(moment: datetime | None) -> None:
    """Set (or with None, release) the clock; for tests and the demo's time travel only."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment
