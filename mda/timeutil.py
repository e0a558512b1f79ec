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


def local_moment(moment: datetime) -> str:
    """An instant on the Dutch wall clock in Dutch notation, for messages (pages use |localtime)."""
    return moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


def local_now_input() -> datetime:
    """Now on the Dutch wall clock, naive, to prefill a datetime-local field with 'now'."""
    return utcnow().astimezone(AMSTERDAM).replace(tzinfo=None, second=0, microsecond=0)
