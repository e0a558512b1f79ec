"""Personal fields never reach the database in plaintext, and ciphertexts cannot be moved."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text, update

from mda.accounts.models import Role
from mda.db import db
from mda.journal.models import JournalKind
from mda.journal.operations import write_journal_entry
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person
from mda.security.crypto import DecryptionError
from mda.timeutil import utcnow
from tests import factories as make

MARKERS = {
    "name": "Zzmarkername Qqvoorbeeld",
    "bsn": make.BSN_A,
    "date_of_birth": date(1987, 6, 5),
    "address": "Zzmarkerstraat 77, Venlo",
    "phone": "06-98765432",
    "notes": "Zzmarkernotitie over het gezin",
}
JOURNAL_MARKER = "Zzmarkerjournaal huisbezoek"


def _raw_database_text(app: Flask) -> str:
    """Everything the database holds, as the server or the file would give it to an attacker."""
    url = app.extensions["mda.settings"].database_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).decode("latin-1")
    chunks = []
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.extend(bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview))
                              else str(value) for value in row)
    return "\n".join(chunks)


def _write_marked_person(ctx: Flask) -> Person:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    person = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, **MARKERS)
    write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, occurred_at=utcnow(), body=JOURNAL_MARKER,
                        by=coordinator)
    db.session.commit()
    return person


def test_markers_absent_from_raw_database_but_readable_through_app(ctx: Flask) -> None:
    person = _write_marked_person(ctx)
    raw = _raw_database_text(ctx)
    for value in list(MARKERS.values()) + [JOURNAL_MARKER]:
        needle = value.isoformat() if isinstance(value, date) else value
        assert needle not in raw
    assert "Zzmarker" not in raw and "Qqvoorbeeld" not in raw

    db.session.expire_all()
    again = db.session.get(Person, person.id)
    for field, value in MARKERS.items():
        assert getattr(again, field) == value


def test_ciphertext_copied_to_another_row_is_rejected(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    victim = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Anna Kopie")
    other = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name="Bram Kopie")
    db.session.commit()
    db.session.execute(update(Person).where(Person.id == other.id)
                       .values(name_ciphertext=victim.name_ciphertext))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = db.session.get(Person, other.id).name


def test_ciphertext_moved_to_another_column_is_rejected(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    person = add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator, name="Kim", notes="n")
    db.session.commit()
    db.session.execute(update(Person).where(Person.id == person.id).values(notes_ciphertext=person.name_ciphertext))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = db.session.get(Person, person.id).notes


def test_tampered_ciphertext_is_rejected(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    person = add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator, name="Kim Knoei")
    db.session.commit()
    tampered = bytearray(person.name_ciphertext)
    tampered[-5] ^= 0xFF
    db.session.execute(update(Person).where(Person.id == person.id).values(name_ciphertext=bytes(tampered)))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = db.session.scalars(select(Person).where(Person.id == person.id)).one().name


def test_blind_index_columns_hold_no_plaintext(ctx: Flask) -> None:
    person = _write_marked_person(ctx)
    assert person.bsn_index and make.BSN_A not in person.bsn_index
    assert person.name_birth_index and len(person.name_birth_index) == 64
