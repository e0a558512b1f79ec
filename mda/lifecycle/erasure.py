"""Erasure on request (AVG art. 17): record the request, decide, and carry out a granted one.

Carrying it out removes the person's own fields and blind-index values from every record of the
same person (matched through the blind index, so a second case or referral is included), the
removed person's stated whereabouts on an order, and the person's full name, BSN and phone
number wherever they appear in the free text of the same files (replaced by "[verwijderd]").
Documents (attachments) marked as being about the person are removed whole: their content, file
name and description; other documents of the family have their description and file name
redacted like free text, but their content cannot be checked automatically.
The rest of the family's file stays as it was; non-identifying facts (role, age band, gender,
orders, history) stay for the metrics. The audit trail records that an erasure was carried out,
never what was erased.

Limit: free text that refers to the person in other ways (a first name alone, "moeder") cannot
be recognised automatically; the privacy officer checks the file with the coordinator.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Iterable

from sqlalchemy import or_, select

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import DomainError, InvalidInput, StaleVersion
from ..huisverbod.models import HouseBan
from ..people.models import Person
from ..security.fields import ENCRYPTED_FIELDS
from ..timeutil import today, utcnow
from .models import ErasureRequest, ErasureStatus, RefusalGround
from .scrub import case_scoped_models, rows_of_cases, rows_of_referrals, wipe

REQUEST_OBJECT = "erasure_request"
REDACTED = "[verwijderd]"
# Fields of other persons that are identity, not free text: never rewritten by a redaction.
PERSON_IDENTITY_FIELDS = frozenset({"name", "bsn", "date_of_birth", "address", "phone"})


def same_person(person: Person) -> list[Person]:
    """This record and every other record of the same person, found through the blind index."""
    conditions = [Person.id == person.id]
    if person.bsn_index:
        conditions.append(Person.bsn_index == person.bsn_index)
    if person.name_birth_index:
        conditions.append(Person.name_birth_index == person.name_birth_index)
    return list(db.session.scalars(select(Person).where(or_(*conditions)).order_by(Person.id)))


def record_request(person: Person, *, received_on: date, by: User) -> ErasureRequest:
    if received_on > today():
        raise InvalidInput("De datum van ontvangst kan niet in de toekomst liggen.", field="received_on")
    request = ErasureRequest(person_id=person.id, case_id=person.case_id, received_on=received_on,
                             recorded_by_id=by.id, status=ErasureStatus.RECEIVED)
    db.session.add(request)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=person.case_id, person_id=person.id,
           object_type=REQUEST_OBJECT, object_id=request.id, detail="verzoek tot wissen vastgelegd")
    return request


def _check_version(request: ErasureRequest, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != request.version:
        raise StaleVersion()


def decide(request: ErasureRequest, *, granted: bool, by: User, refusal_ground: RefusalGround | None = None,
           explanation: str | None = None, expected_version: int | None = None) -> None:
    _check_version(request, expected_version)
    if request.status != ErasureStatus.RECEIVED:
        raise DomainError("Over dit verzoek is al besloten.")
    if not granted and refusal_ground is None:
        raise InvalidInput("Kies de wettelijke grond voor de afwijzing.", field="refusal_ground")
    if not granted and refusal_ground == RefusalGround.OTHER and not (explanation or "").strip():
        raise InvalidInput("Licht de andere wettelijke grond toe.", field="explanation")
    with db.session.no_autoflush:  # the row is only consistent once every field is set
        request.decided_at, request.decided_by_id = utcnow(), by.id
        request.status = ErasureStatus.GRANTED if granted else ErasureStatus.REFUSED
        request.refusal_ground = None if granted else refusal_ground
        request.explanation = explanation
    db.session.flush()
    detail = "besluit: toegewezen" if granted else f"besluit: afgewezen ({refusal_ground.value})"
    record(AuditAction.CHANGE, by=by, case_id=request.case_id, person_id=request.person_id,
           object_type=REQUEST_OBJECT, object_id=request.id, detail=detail)


def execute(request: ErasureRequest, *, by: User, expected_version: int | None = None) -> int:
    """Carry out a granted request; returns the number of records changed. The caller commits."""
    _check_version(request, expected_version)
    if request.status != ErasureStatus.GRANTED:
        raise DomainError("Alleen een toegewezen verzoek dat nog niet is uitgevoerd kan worden uitgevoerd.")
    person = db.session.get(Person, request.person_id)
    changed = 0
    if person is not None:
        records = same_person(person)
        terms = _identifying_terms(records)
        person_ids = {row.id for row in records}
        case_ids = {row.case_id for row in records if row.case_id is not None}
        referral_ids = {row.referral_id for row in records if row.referral_id is not None}
        changed += sum(1 for row in records if wipe(row))
        # Documents about the person cannot be redacted: they go as a whole (content, name, description).
        from ..documents.operations import erase_about
        changed += erase_about(person_ids)
        # Where the removed person can be reached is theirs alone; the dwelling and the facts
        # are the family's and stay.
        for ban in db.session.scalars(select(HouseBan).where(HouseBan.removed_person_id.in_(person_ids))):
            changed += wipe(ban, only={"reachability"})
        changed += _redact(_file_rows(case_ids, referral_ids, exclude=person_ids), terms)
    with db.session.no_autoflush:
        request.executed_at, request.executed_by_id = utcnow(), by.id
        request.status = ErasureStatus.EXECUTED
    db.session.flush()
    record(AuditAction.DELETE, by=by, case_id=request.case_id, person_id=request.person_id,
           object_type=REQUEST_OBJECT, object_id=request.id, detail="wissing uitgevoerd")
    return changed


def _identifying_terms(records: Iterable[Person]) -> list[str]:
    terms = set()
    for row in records:
        for value in (row.name, row.bsn, row.phone):
            if value and len(value.strip()) >= 4:
                terms.add(value.strip())
    return sorted(terms, key=len, reverse=True)


def _file_rows(case_ids: set[int], referral_ids: set[int], exclude: set[int]) -> list[Any]:
    rows: list[Any] = []
    seen: set[tuple[str, int]] = set()
    for model in case_scoped_models():
        queries = [rows_of_cases(model, case_ids)] if case_ids else []
        if referral_ids:
            query = rows_of_referrals(model, referral_ids)
            if query is not None:
                queries.append(query)
        for query in queries:
            for row in db.session.scalars(query):
                key = (model.__tablename__, row.id)
                if key in seen or (isinstance(row, Person) and row.id in exclude):
                    continue
                seen.add(key)
                rows.append(row)
    return rows


def _redact(rows: Iterable[Any], terms: list[str]) -> int:
    if not terms:
        return 0
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    changed = 0
    for row in rows:
        row_changed = False
        for field in ENCRYPTED_FIELDS.get(type(row), []):
            if field.kind is not str or getattr(row, field.column_attribute) is None:
                continue
            if isinstance(row, Person) and field.name in PERSON_IDENTITY_FIELDS:
                continue
            text = getattr(row, field.name)
            redacted = pattern.sub(REDACTED, text)
            if redacted != text:
                setattr(row, field.name, redacted)
                row_changed = True
        changed += row_changed
    db.session.flush()
    return changed
