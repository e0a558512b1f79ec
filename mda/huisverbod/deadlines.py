"""Legal periods of the Wet tijdelijk huisverbod, on the Dutch wall clock.

"Ten days" is the same local clock time ten calendar days later, not 240
elapsed hours: across a summer-time change the two differ by an hour.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from ..timeutil import AMSTERDAM

INITIAL_DAYS = 10           # art. 2(1)
MAXIMUM_DAYS = 28           # art. 9(1): at most four weeks after imposition
REACHABILITY_HOURS = 24     # art. 2(6)
CASEMANAGEMENT_YEARS = 1    # the pilot's rule (003:902)


def add_local_days(moment: datetime, days: int) -> datetime:
    local = moment.astimezone(AMSTERDAM)
    wall_clock = local.replace(tzinfo=None) + timedelta(days=days)
    return wall_clock.replace(tzinfo=AMSTERDAM).astimezone(timezone.utc)


def initial_end(imposed_at: datetime) -> datetime:
    return add_local_days(imposed_at, INITIAL_DAYS)


def latest_extended_end(imposed_at: datetime) -> datetime:
    return add_local_days(imposed_at, MAXIMUM_DAYS)


def reachability_due(imposed_at: datetime) -> datetime:
    return imposed_at + timedelta(hours=REACHABILITY_HOURS)


def casemanagement_end(imposed_at: datetime) -> date:
    start = imposed_at.astimezone(AMSTERDAM).date()
    try:
        return start.replace(year=start.year + CASEMANAGEMENT_YEARS)
    except ValueError:  # 29 February
        return start.replace(year=start.year + CASEMANAGEMENT_YEARS, day=28)
