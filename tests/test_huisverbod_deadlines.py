"""Legal periods on the Dutch wall clock, across both summer-time changes."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from mda.huisverbod import deadlines
from mda.timeutil import AMSTERDAM


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM).astimezone(timezone.utc)


@pytest.mark.parametrize("imposed, expected_end", [
    # The week before the last Sunday of March 2026 (29 March): ten days is 239 elapsed hours.
    (local(2026, 3, 24, 14, 30), local(2026, 4, 3, 14, 30)),
    # The week before the last Sunday of October 2026 (25 October): ten days is 241 elapsed hours.
    (local(2026, 10, 20, 22, 15), local(2026, 10, 30, 22, 15)),
    (local(2026, 6, 1, 9, 0), local(2026, 6, 11, 9, 0)),
])
def test_ten_days_is_same_local_clock_time(imposed: datetime, expected_end: datetime) -> None:
    end = deadlines.initial_end(imposed)
    assert end == expected_end
    assert end.astimezone(AMSTERDAM).hour == imposed.astimezone(AMSTERDAM).hour


def test_elapsed_hours_differ_across_the_change() -> None:
    spring = deadlines.initial_end(local(2026, 3, 24, 14, 30)) - local(2026, 3, 24, 14, 30)
    autumn = deadlines.initial_end(local(2026, 10, 20, 22, 15)) - local(2026, 10, 20, 22, 15)
    assert spring.total_seconds() / 3600 == 239 and autumn.total_seconds() / 3600 == 241


def test_maximum_is_four_weeks_and_casemanagement_one_year() -> None:
    imposed = local(2026, 3, 20, 8, 0)
    assert deadlines.latest_extended_end(imposed) == local(2026, 4, 17, 8, 0)
    assert deadlines.casemanagement_end(local(2028, 2, 29, 12, 0)) == date(2029, 2, 28)
    assert deadlines.reachability_due(imposed) == local(2026, 3, 21, 8, 0)
