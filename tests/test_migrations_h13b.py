"""The data steps of the issue-13 migrations: when a case left AVE 3-4, from its history, and
casemanagement one year from the order (h13b_1, h13b_2)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy.engine import Engine

from mda.migrate import downgrade, upgrade
from tests.test_migrations import _differences, scratch_engine  # noqa: F401 - the fixture

UUIDS = iter(f"{n:032x}" for n in range(1, 1000))


def _at(day: int) -> str:
    return f"2026-01-{day:02d} 10:00:00+00"


def test_outside_band_since_is_filled_from_the_history_and_casemanagement_end_reset(
        scratch_engine: Engine) -> None:  # noqa: F811
    upgrade(scratch_engine, "0007")
    with scratch_engine.begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO organisations (id, name, kind, active) VALUES (1, 'Team', 'mda_team', true)")
        run("INSERT INTO users (id, username, display_name, organisation_id, password_hash, password_changed_at, "
            "failed_logins, session_generation, active, created_at, uuid) VALUES (1, 'c', 'C', 1, 'x', "
            f"'{_at(1)}', 0, 1, true, '{_at(1)}', '{next(UUIDS)}')")
        # case: (level now, ave_since, [(to_level, day)])
        cases = {1: (1, _at(20), [(3, 1), (2, 5), (1, 20)]),      # 3 -> 2 -> 1: outside since day 5
                 2: (4, _at(9), [(3, 1), (2, 5), (4, 9)]),       # back inside
                 3: (2, _at(15), [(2, 1), (3, 10), (2, 15)]),    # left again on day 15
                 4: (5, _at(3), [(5, 3)]),                       # opened outside the band
                 5: (2, _at(7), [])}                             # no history: ave_since
        for case_id, (level, since, changes) in cases.items():
            run("INSERT INTO cases (id, reference, municipality_id, intake_route, status, phase, phase_since, "
                f"ave_level, ave_since, opened_on, version) VALUES ({case_id}, 'MDA-2026-000{case_id}', 1, "
                f"'actie_overleg', 'open', 'directe_veiligheid', '{_at(1)}', {level}, '{since}', '2026-01-01', 1)")
            previous = None
            for to_level, day in changes:
                run("INSERT INTO ave_changes (case_id, from_level, to_level, changed_at, changed_by_id, uuid) "
                    f"VALUES ({case_id}, {previous or 'NULL'}, {to_level}, '{_at(day)}', 1, '{next(UUIDS)}')")
                previous = to_level
        run("INSERT INTO persons (id, case_id, role, age_band, gender, uuid) VALUES (1, 1, 'using_violence', "
            f"'25-44', 'unknown', '{next(UUIDS)}')")
        # Imposed 23:30 UTC on 31-12-2025 = 00:30 on 01-01-2026 on the Dutch clock; casemanagement was moved
        # to a year after its (later) start.
        run("INSERT INTO house_bans (id, case_id, municipality_id, imposed_at, imposed_by, form, route, "
            "removed_person_id, child_abuse_reason, status, ends_at, casemanagement_until, "
            "casemanagement_started_at, recorded_by_id, recorded_at, version, uuid) VALUES (1, 1, 1, "
            "'2025-12-31 23:30:00+00', 'mayor', 'written', 'a', 1, false, 'expired', '2026-01-10 23:30:00+00', "
            f"'2027-01-20', '2026-01-20 09:00:00+00', 1, '{_at(1)}', 1, '{next(UUIDS)}')")
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, ave_outside_band_since FROM cases ORDER BY id").all()
        since = {case_id: value for case_id, value in rows}
        until = connection.exec_driver_sql("SELECT casemanagement_until FROM house_bans").scalar()

    def instant(value: object) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment

    assert instant(since[1]) == datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
    assert since[2] is None
    assert instant(since[3]) == datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc)
    assert instant(since[4]) == datetime(2026, 1, 3, 10, 0, tzinfo=timezone.utc)
    assert instant(since[5]) == datetime(2026, 1, 7, 10, 0, tzinfo=timezone.utc)
    assert str(until) == date(2027, 1, 1).isoformat()
    assert _differences(scratch_engine) == []
    downgrade(scratch_engine, "0007")
    upgrade(scratch_engine)
    assert _differences(scratch_engine) == []
