"""Legal periods of the Wet tijdelijk huisverbod, on the Dutch wall clock.

"Ten days" is the same local clock time ten calendar days later, not 240
elapsed hours: across a summer-time change the two differ by an hour.

A local clock time that does not exist (the hour skipped on the last Sunday of
March) is read with the offset before the change, as RFC 5545 and java.time do:
02:30 becomes 03:30 summer time. A clock time that occurs twice (the last Sunday
of October) is its first occurrence, in summer time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..timeutil import AMSTERDAM, format_moment

INITIAL_DAYS = 10           # art. 2(1)
MAXIMUM_DAYS = 28           # art. 9(1): at most four weeks after imposition
REACHABILITY_HOURS = 24     # art. 2(6)
CASEMANAGEMENT_YEARS = 1    # the pilot's rule (003:902)
URGENT_WINDOW = timedelta(hours=48)  # the deadlines view shows orders ending within it loudly


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by the change to summer time."""


def add_local_days(moment: datetime, days: int) -> datetime:
    local = moment.astimezone(AMSTERDAM)
    wall_clock = local.replace(tzinfo=None) + timedelta(days=days)
    return wall_clock.replace(tzinfo=AMSTERDAM).astimezone(timezone.utc)


def initial_end(imposed_at: datetime) -> datetime:
    return add_local_days(imposed_at, INITIAL_DAYS)


def latest_extended_end(imposed_at: datetime) -> datetime:
    return add_local_days(imposed_at, MAXIMUM_DAYS)


def extension_decision_due(imposed_at: datetime, ends_at: datetime) -> datetime:
    """The mayor decides on an extension before the order runs out (art. 9(1))."""
    return ends_at


def reachability_due(imposed_at: datetime) -> datetime:
    # 24 hours are elapsed hours, not a wall-clock day.
    return imposed_at + timedelta(hours=REACHABILITY_HOURS)


def casemanagement_end(imposed_at: datetime) -> date:
    start = imposed_at.astimezone(AMSTERDAM).date()
    try:
        return start.replace(year=start.year + CASEMANAGEMENT_YEARS)
    except ValueError:  # 29 February
        return start.replace(year=start.year + CASEMANAGEMENT_YEARS, day=28)


def local_to_utc(wall_clock: datetime) -> datetime:
    """A naive Europe/Amsterdam wall-clock time (as typed in a form) as an aware UTC instant.

    Raises ``NonexistentLocalTime`` for a time in the hour skipped in March; a time that
    occurs twice in October is taken in summer time (its first occurrence).
    """
    if wall_clock.tzinfo is not None:
        raise ValueError("local_to_utc() needs a naive wall-clock time")
    instant = wall_clock.replace(tzinfo=AMSTERDAM, fold=0).astimezone(timezone.utc)
    if instant.astimezone(AMSTERDAM).replace(tzinfo=None) != wall_clock:
        raise NonexistentLocalTime(wall_clock.isoformat())
    return instant


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMSTERDAM)


def format_local(moment: datetime | None) -> str:
    """dd-mm-jjjj HH:MM on the Dutch wall clock."""
    return format_moment(moment)


def format_remaining(remaining: timedelta) -> str:
    """Elapsed time to a deadline, to the minute, in Dutch ("2 dagen, 5 uur en 13 minuten")."""
    if remaining <= timedelta(0):
        return "verstreken"
    minutes = int(remaining.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {'dag' if days == 1 else 'dagen'}")
    if hours:
        parts.append(f"{hours} uur")
    if minutes or not parts:
        parts.append(f"{minutes} {'minuut' if minutes == 1 else 'minuten'}")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


@dataclass(frozen=True)
class Deadlines:
    """Every computed deadline of one order."""

    imposed_at: datetime
    initial_end: datetime
    latest_extended_end: datetime
    ends_at: datetime
    extension_decision_due: datetime
    reachability_due: datetime
    casemanagement_end: date

    @classmethod
    def of(cls, imposed_at: datetime, ends_at: datetime) -> "Deadlines":
        return cls(imposed_at=imposed_at, initial_end=initial_end(imposed_at),
                   latest_extended_end=latest_extended_end(imposed_at), ends_at=ends_at,
                   extension_decision_due=extension_decision_due(imposed_at, ends_at),
                   reachability_due=reachability_due(imposed_at),
                   casemanagement_end=casemanagement_end(imposed_at))
