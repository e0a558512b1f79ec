"""Finding persons through the blind index, and the rules for identifying data."""
from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from mda.accounts.models import Role
from mda.db import db
from mda.errors import InvalidInput
from mda.people.identity import AgeBand, validate_bsn
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person, find_by_bsn, find_by_name_and_birth_date
from tests import factories as make


def test_blind_index_finds_person_by_bsn_in_any_notation(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    wanted = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name="Bram Zoek", bsn=make.BSN_A)
    add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Anna Zoek", bsn=make.BSN_B)
    db.session.commit()
    for notation in (make.BSN_A, "9999.90.019", " 999 990 019 "):
        assert [person.id for person in find_by_bsn(notation)] == [wanted.id]


def test_blind_index_finds_by_name_and_birth_date_ignoring_case_and_accents(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    person = add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator,
                        name="Zoë  de Vries", date_of_birth=date(2015, 4, 3))
    db.session.commit()
    assert [p.id for p in find_by_name_and_birth_date("zoe de vries", date(2015, 4, 3))] == [person.id]
    assert find_by_name_and_birth_date("zoe de vries", date(2015, 4, 4)) == []


@pytest.mark.parametrize("bad", ["999990018", "123456789", "000000000", "12345", "abcdefghi"])
def test_invalid_bsn_refused_with_dutch_message_and_nothing_saved(ctx: Flask, bad: str) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    before = db.session.query(Person).count()
    with pytest.raises(InvalidInput) as refused:
        add_person(case, role=PersonRole.CHILD, by=coordinator, name="Kim Fout", bsn=bad)
    assert refused.value.field == "bsn"
    assert "BSN" in refused.value.message
    assert db.session.query(Person).count() == before


def test_eleven_test_accepts_valid_and_eight_digit_numbers() -> None:
    assert validate_bsn("999990019") == "999990019"
    # An eight-digit BSN is a nine-digit one with its leading zero dropped.
    assert validate_bsn("11222335") == "011222335"
    with pytest.raises(InvalidInput, match="elfproef"):
        validate_bsn("999990018")


def test_changing_identity_refreshes_index_and_age_band(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    person = add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator, name="Kim",
                        bsn=make.BSN_A, date_of_birth=date(2012, 1, 1))
    assert person.age_band in (AgeBand.AGE_12_17, AgeBand.AGE_4_11)
    person.bsn = make.BSN_C
    db.session.commit()
    assert find_by_bsn(make.BSN_A) == []
    assert [p.id for p in find_by_bsn(make.BSN_C)] == [person.id]
    person.bsn = None
    assert person.bsn_index is None


@pytest.mark.parametrize("born, on, band", [
    (date(2020, 5, 1), date(2024, 4, 30), AgeBand.UNDER_4),
    (date(2020, 5, 1), date(2024, 5, 1), AgeBand.AGE_4_11),
    (date(2008, 5, 1), date(2026, 4, 30), AgeBand.AGE_12_17),
    (date(2008, 5, 1), date(2026, 5, 1), AgeBand.AGE_18_24),
    (date(1950, 1, 1), date(2026, 1, 1), AgeBand.AGE_65_PLUS),
    (None, date(2026, 1, 1), AgeBand.UNKNOWN),
])
def test_age_bands(born: date | None, on: date, band: AgeBand) -> None:
    assert AgeBand.for_birth_date(born, on) is band


def test_future_birth_date_refused(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    with pytest.raises(InvalidInput, match="toekomst"):
        add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator, date_of_birth=date(2999, 1, 1))
