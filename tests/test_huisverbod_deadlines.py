"""Legal periods on the Dutch wall clock, across both summer-time changes."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

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


# (imposed, end after ten days, latest end after 28 days, reachability due), all on the Dutch clock.
DEADLINE_TABLE = [
    # An ordinary week in June.
    ((2026, 6, 1, 9, 0), (2026, 6, 11, 9, 0), (2026, 6, 29, 9, 0), (2026, 6, 2, 9, 0)),
    # Just before midnight, the week before the change to summer time (29 March 2026).
    ((2026, 3, 19, 23, 59), (2026, 3, 29, 23, 59), (2026, 4, 16, 23, 59), (2026, 3, 20, 23, 59)),
    # Just before midnight on the eve of the change: 24 elapsed hours end at 00:30 summer time.
    ((2026, 3, 28, 23, 30), (2026, 4, 7, 23, 30), (2026, 4, 25, 23, 30), (2026, 3, 30, 0, 30)),
    # Just after midnight in winter time: in UTC it is still the previous day.
    ((2026, 3, 25, 0, 30), (2026, 4, 4, 0, 30), (2026, 4, 22, 0, 30), (2026, 3, 26, 0, 30)),
    # Just before midnight, the week before the change to winter time (25 October 2026).
    ((2026, 10, 20, 23, 59), (2026, 10, 30, 23, 59), (2026, 11, 17, 23, 59), (2026, 10, 21, 23, 59)),
    # Just before midnight on the eve of the change: 24 elapsed hours end at 22:45 winter time.
    ((2026, 10, 24, 23, 45), (2026, 11, 3, 23, 45), (2026, 11, 21, 23, 45), (2026, 10, 25, 22, 45)),
    # The last minute of the year.
    ((2026, 12, 31, 23, 59), (2027, 1, 10, 23, 59), (2027, 1, 28, 23, 59), (2027, 1, 1, 23, 59)),
    # A clock time that does not exist on the tenth day (02:30 on 29 March) is read as 03:30 summer time.
    ((2026, 3, 19, 2, 30), (2026, 3, 29, 3, 30), (2026, 4, 16, 2, 30), (2026, 3, 20, 2, 30)),
]


@pytest.mark.parametrize("imposed, ten_days, four_weeks, reachable", DEADLINE_TABLE)
def test_deadline_table(imposed: tuple[int, ...], ten_days: tuple[int, ...], four_weeks: tuple[int, ...],
                        reachable: tuple[int, ...]) -> None:
    moment = local(*imposed)
    assert deadlines.initial_end(moment) == local(*ten_days)
    assert deadlines.latest_extended_end(moment) == local(*four_weeks)
    assert deadlines.reachability_due(moment) == local(*reachable)
    assert deadlines.reachability_due(moment) - moment == timedelta(hours=24)
    table = deadlines.Deadlines.of(moment, deadlines.initial_end(moment))
    assert table.extension_decision_due == table.initial_end == local(*ten_days)


def test_a_clock_time_that_occurs_twice_is_its_first_occurrence() -> None:
    # 02:30 on 25 October 2026 happens twice; ten days after 02:30 on 15 October is the first one.
    end = deadlines.initial_end(local(2026, 10, 15, 2, 30))
    assert end == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


def test_typed_wall_clock_times_become_utc() -> None:
    assert deadlines.local_to_utc(datetime(2026, 7, 1, 12, 0)) == datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)
    assert deadlines.local_to_utc(datetime(2026, 1, 1, 12, 0)) == datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc)
    with pytest.raises(deadlines.NonexistentLocalTime):
        deadlines.local_to_utc(datetime(2026, 3, 29, 2, 30))
    assert deadlines.local_to_utc(datetime(2026, 10, 25, 2, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


def test_display_to_the_minute_in_dutch() -> None:
    assert deadlines.format_local(local(2026, 3, 29, 3, 5)) == "29-03-2026 03:05"
    assert deadlines.format_remaining(timedelta(days=2, hours=5, minutes=13, seconds=59)) == \
        "2 dagen, 5 uur en 13 minuten"
    assert deadlines.format_remaining(timedelta(minutes=1)) == "1 minuut"
    assert deadlines.format_remaining(timedelta(hours=1)) == "1 uur"
    assert deadlines.format_remaining(timedelta(0)) == "verstreken"
