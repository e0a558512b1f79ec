"""Adding persons to a client system, finding them through the blind index, and recomputing
the blind index and age bands of everyone stored."""
from __future__ import annotations

from datetime import date

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput
from ..security.fields import blind_index
from ..timeutil import today
from .identity import GenderCategory, validate_bsn
from .models import Person, PersonRelation, PersonRole, RelationKind


def add_person(case: Case, *, role: PersonRole, by: User, name: str | None = None,
               bsn: str | None = None, date_of_birth: date | None = None, address: str | None = None,
               phone: str | None = None, notes: str | None = None,
               gender: GenderCategory = GenderCategory.UNKNOWN) -> Person:
    person = Person(case_id=case.id, role=role, gender=gender)
    # Validation happens in the setters; a refused value leaves nothing behind in the session.
    person.name, person.bsn, person.date_of_birth = name, bsn, date_of_birth
    person.address, person.phone, person.notes = address, phone, notes
    db.session.add(person)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, person_id=person.id, object_type="person",
           object_id=person.id)
    return person


def relate(person: Person, other: Person, kind: RelationKind, *, by: User) -> PersonRelation:
    relation = PersonRelation(person_id=person.id, other_person_id=other.id, kind=kind)
    try:
        with db.session.begin_nested():  # the unique constraint decides, not a check before
            db.session.add(relation)
            db.session.flush()
    except IntegrityError as exc:
        raise InvalidInput("Deze relatie is al vastgelegd.", field="kind") from exc
    record(AuditAction.CHANGE, by=by, case_id=person.case_id, person_id=person.id,
           object_type="person_relation", object_id=relation.id)
    return relation


def find_by_bsn(bsn: str) -> list[Person]:
    digest = blind_index().bsn(validate_bsn(bsn))
    return list(db.session.scalars(select(Person).where(Person.bsn_index == digest)))


def find_by_name_and_birth_date(name: str, birth_date: date) -> list[Person]:
    digest = blind_index().name_and_birth_date(name, birth_date)
    return list(db.session.scalars(select(Person).where(Person.name_birth_index == digest)))


EDITABLE_FIELDS = ("name", "bsn", "date_of_birth", "address", "phone", "notes")


def update_person(person: Person, *, by: User, expected_version: int, role: PersonRole,
                  gender: GenderCategory, **fields: object) -> list[str]:
    """Apply an edit made on the version the user saw; returns the names of changed fields."""
    from ..errors import StaleVersion

    if int(expected_version) != person.version:
        raise StaleVersion()
    changed = [name for name in EDITABLE_FIELDS if name in fields and (fields[name] or None) != getattr(person, name)]
    # Validation runs in the setters; the caller rolls back if one refuses.
    for name in changed:
        setattr(person, name, fields[name])
    if person.role != role:
        person.role, changed = role, [*changed, "role"]
    if person.gender != gender:
        person.gender, changed = gender, [*changed, "gender"]
    db.session.flush()
    if changed:
        record(AuditAction.CHANGE, by=by, case_id=person.case_id, person_id=person.id, object_type="person",
               object_id=person.id, detail="gewijzigd: " + ",".join(changed))
    return changed


@dataclass(frozen=True)
class ReindexReport:
    checked: int   # persons read
    changed: int   # persons whose blind-index values or age band were rewritten


def reindex_persons(*, batch_size: int = 500) -> ReindexReport:
    """Recompute every person's blind-index values and age band from the encrypted fields.

    For after a change of the name normalisation (typographic apostrophes, dashes) or of the
    age-band rule: a migration cannot do this, it has no keys. Idempotent (a second run changes
    nothing) and batched, committing each batch, so it is safe to interrupt and run again.
    Each row is written only if its version is still the one read, without advancing it: an
    edit saved meanwhile computed its own values already, and no open form becomes stale.
    One audit record says how many persons were read and changed; never who.
    """
    from ..cases.models import Case

    session = db.session
    persons = Person.__table__
    checked = changed = 0
    last_id = 0
    while True:
        rows = session.scalars(select(Person).where(Person.id > last_id).order_by(Person.id).limit(batch_size)).all()
        if not rows:
            break
        case_ids = sorted({row.case_id for row in rows if row.case_id is not None})
        opened = dict(session.execute(select(Case.id, Case.opened_on).where(Case.id.in_(case_ids))).tuples().all()) \
            if case_ids else {}
        for person in rows:
            values = person.derived_values(opened.get(person.case_id) or today())
            if any(getattr(person, column) != value for column, value in values.items()):
                result = session.execute(update(persons)
                                         .where(persons.c.id == person.id, persons.c.version == person.version)
                                         .values(**values))
                changed += result.rowcount
        checked += len(rows)
        last_id = rows[-1].id
        session.commit()
    record(AuditAction.CHANGE, username="(systeem)", object_type="person",
           detail=f"zoeksleutels en leeftijdsgroepen herberekend: {changed} van {checked} personen gewijzigd")
    session.commit()
    return ReindexReport(checked=checked, changed=changed)
