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


def format_moment(moment: datetime | None, *, with_time: bool = True) -> str:
    """An instant as every page shows it: on the Dutch wall clock, in Dutch notation
    (dd-mm-jjjj HH:MM), whatever zone it was stored or computed in. The one formatter
    for instants on pages and in messages, so no page says "UTC"."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        raise ValueError("format_moment() needs an aware datetime")
    local = moment.astimezone(AMSTERDAM)
    # The same text as strftime("%d-%m-%Y %H:%M"), built directly: strftime goes through the C
    # library's time formatting with a converted format, several times the cost, on every row.
    day = f"{local.day:02d}-{local.month:02d}-{local.year:04d}"
    return f"{day} {local.hour:02d}:{local.minute:02d}" if with_time else day


def freeze(moment: datetime | None) -> None:
    """Set (or with None, release) the clock; for tests and the demo's time travel only."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    # In UTC, as the real clock: a moment frozen on the Dutch clock would otherwise reach
    # ``utcnow()`` users (the audit chain hashes its text) with a +01:00 offset.
    _frozen = moment.astimezone(timezone.utc) if moment is not None else None


def local_now_input() -> datetime:
    """Now on the Dutch wall clock, naive, to prefill a datetime-local field with 'now'."""
    return utcnow().astimezone(AMSTERDAM).replace(tzinfo=None, second=0, microsecond=0)
