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


# --- issue 13 item 15: names as people type them ----------------------------------------------

@pytest.mark.parametrize("typed", [
    "Anne-Marie D’Souza", "Anne-Marie D‘Souza", "Anne-Marie D`Souza", "Anne-Marie D´Souza", "Anne-Marie DʼSouza",
    "Anne–Marie D'Souza", "Anne—Marie D'Souza", "Anne\u2011Marie D'Souza", "Anne-Marie\u00a0D'Souza",
    "ANNE-MARIE  d'souza", "Anne-Marie D'\u200bSouza", "Änne-Marie D'Souza",
])
def test_typographic_apostrophes_dashes_and_spaces_are_the_plain_ones(typed: str) -> None:
    from mda.security.crypto import BlindIndex, normalise_name
    assert normalise_name(typed) == normalise_name("Anne-Marie D'Souza") == "anne-marie d'souza"
    index = BlindIndex(b"k" * 32)
    assert index.name_and_birth_date(typed, date(1990, 1, 2)) == index.name_and_birth_date(
        "Anne-Marie D'Souza", date(1990, 1, 2))


def test_typographic_quotation_marks_are_the_plain_ones() -> None:
    from mda.security.crypto import normalise_name
    assert normalise_name("Johannes “Hans” de Boer") == normalise_name('Johannes "Hans" de Boer') \
        == normalise_name("Johannes „Hans“ de Boer") == normalise_name("Johannes «Hans» de Boer")
    assert normalise_name("D'Souza") != normalise_name("DSouza")  # normalised, not removed


def test_a_name_typed_with_a_curly_apostrophe_is_found_with_a_straight_one(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    person = add_person(make.case(coordinator), role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator,
                        name="Anne-Marie D’Souza", date_of_birth=date(1990, 1, 2))
    db.session.commit()
    assert [p.id for p in find_by_name_and_birth_date("Anne-Marie D'Souza", date(1990, 1, 2))] == [person.id]
    assert [p.id for p in find_by_name_and_birth_date("anne–marie d´souza", date(1990, 1, 2))] == [person.id]


def _legacy_name_index(name: str, born: date) -> str:
    """The blind-index value the old normaliser (before issue 13) stored."""
    import unicodedata
    from mda.security.fields import blind_index
    decomposed = unicodedata.normalize("NFKD", name)
    old = " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())
    return blind_index()._digest("name-dob", f"{old}|{born.isoformat()}")


def test_people_reindex_recomputes_stored_values_once_and_leaves_versions_alone(app: Flask) -> None:
    from sqlalchemy import select, text
    from mda.audit.models import AuditEvent
    born = date(1990, 1, 2)
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        curly = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Anne-Marie D’Souza",
                           date_of_birth=born, bsn=make.BSN_A)
        plain = add_person(case, role=PersonRole.CHILD, by=coordinator, name="Kim Gewoon",
                           date_of_birth=date(2015, 5, 5))
        db.session.commit()
        ids, versions = (curly.id, plain.id), (curly.version, plain.version)
        # As stored before the normaliser knew typographic apostrophes, with a band from entry.
        db.session.execute(text("UPDATE persons SET name_birth_index = :old, age_band = '65+' WHERE id = :id"),
                           {"old": _legacy_name_index("Anne-Marie D’Souza", born), "id": curly.id})
        db.session.commit()
        assert find_by_name_and_birth_date("Anne-Marie D'Souza", born) == []

    runner = app.test_cli_runner()
    first = runner.invoke(args=["people", "reindex", "--batch-size", "1"])
    assert first.exit_code == 0 and "2 personen gelezen, 1 bijgewerkt" in first.output, first.output
    again = runner.invoke(args=["people", "reindex"])
    assert again.exit_code == 0 and "2 personen gelezen, 0 bijgewerkt" in again.output

    with app.app_context():
        assert [p.id for p in find_by_name_and_birth_date("Anne-Marie D'Souza", born)] == [ids[0]]
        assert [p.id for p in find_by_bsn(make.BSN_A)] == [ids[0]]
        stored = [db.session.get(Person, person_id) for person_id in ids]
        from mda.cases.models import Case
        opened_on = db.session.get(Case, stored[0].case_id).opened_on
        assert stored[0].age_band == AgeBand.for_birth_date(born, opened_on) != AgeBand.AGE_65_PLUS
        assert tuple(person.version for person in stored) == versions  # no open form became stale
        audits = db.session.scalars(select(AuditEvent).where(AuditEvent.detail.like("zoeksleutels%"))).all()
        assert len(audits) == 2 and "1 van 2" in audits[0].detail and "D'Souza" not in audits[0].detail


# --- issue 13 item 11: the stored age band is the age at case opening -------------------------

def test_stored_age_band_is_the_age_on_the_day_the_case_opened(ctx: Flask, clock) -> None:  # noqa: ANN001
    from datetime import datetime, timezone
    clock(datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc))
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator, opened_on=date(2026, 3, 1))
    # 17 when the case opened, 18 when entered in June: the band is the one at opening.
    person = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name="Sem Laat",
                        date_of_birth=date(2008, 5, 1))
    assert person.age_band == AgeBand.AGE_12_17
    person.date_of_birth = date(2008, 2, 1)  # a correction later on: still measured at opening
    assert person.age_band == AgeBand.AGE_18_24
