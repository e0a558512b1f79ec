"""Adding persons to a client system and finding them through the blind index."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..security.fields import blind_index
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
    db.session.add(relation)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=person.case_id, person_id=person.id,
           object_type="person_relation", object_id=relation.id)
    return relation


def find_by_bsn(bsn: str) -> list[Person]:
    digest = blind_index().bsn(validate_bsn(bsn))
    return list(db.session.scalars(select(Person).where(Person.bsn_index == digest)))


def find_by_name_and_birth_date(name: str, birth_date: date) -> list[Person]:
    digest = blind_index().name_and_birth_date(name, birth_date)
    return list(db.session.scalars(select(Person).where(Person.name_birth_index == digest)))
