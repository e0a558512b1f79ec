"""Right of access (AVG art. 15, NEN 7513 "who looked at my file"): one person's data and its readers.

The report holds the person's own fields from every record of that person (matched through the
blind index), the non-identifying facts around them (case reference, role, relations by kind and
the other person's role, orders in which they are the removed or a protected person), and every
audit record about them: records naming this person, and reads of their case files that named no
other person. Other family members appear only by role, never by name or id. Free text of the
family's file (journal, plans, assessments) concerns the whole family; the report counts it so
the privacy officer can review it by hand before disclosing it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from ..audit.models import AuditAction, AuditEvent, AuditOutcome
from ..audit.labels import object_name
from ..audit.views import _role_labels
from ..cases.models import Case
from ..db import db
from ..documents import queries as documents_queries
from ..huisverbod.models import HouseBan, HouseBanProtectedPerson
from ..people.models import Person, PersonRelation
from ..timeutil import AMSTERDAM
from .erasure import same_person
from .scrub import case_scoped_models, rows_of_cases

OBJECT_LABELS = {
    "case": "casusdossier", "person": "persoonsgegevens", "person_relation": "relatie",
    "erasure_request": "verzoek tot wissen", "access_report": "inzageoverzicht", "referral": "verwijzing",
    "attachment": "document", "handover_summary": "overdrachtsamenvatting",
}


@dataclass
class PersonRecord:
    person_id: int
    where: str
    role: str
    age_band: str
    gender: str
    fields: list[tuple[str, str]]
    relations: list[str]
    orders: list[str]


@dataclass
class AccessLine:
    occurred_at: datetime
    local_time: str
    username: str
    roles: str
    action: str
    what: str
    case: str
    outcome: str


@dataclass
class DocumentLine:
    """A document (one version) about the person: listed, its content handed over on request."""

    case: str
    kind: str
    file_name: str
    file_type: str
    size: str
    uploaded_on: str
    status: str


@dataclass
class AccessReport:
    person_id: int
    records: list[PersonRecord] = field(default_factory=list)
    accesses: list[AccessLine] = field(default_factory=list)
    family_text_records: int = 0
    case_ids: list[int] = field(default_factory=list)
    documents: list[DocumentLine] = field(default_factory=list)
    family_documents: int = 0


FIELD_LABELS = (("name", "Naam"), ("bsn", "BSN"), ("date_of_birth", "Geboortedatum"), ("address", "Adres"),
                ("phone", "Telefoon"), ("notes", "Notities over deze persoon"))


def _show(value: Any) -> str:
    return value.strftime("%d-%m-%Y") if isinstance(value, date) else str(value)


def build(person: Person) -> AccessReport:
    records = same_person(person)
    report = AccessReport(person_id=person.id)
    ids = {row.id for row in records}
    references = dict(db.session.execute(
        select(Case.id, Case.reference).where(Case.id.in_({row.case_id for row in records if row.case_id}))).all())
    for row in records:
        fields = [(label, _show(getattr(row, name))) for name, label in FIELD_LABELS
                  if getattr(row, name) is not None]
        where = references.get(row.case_id) or (f"verwijzing {row.referral_id}" if row.referral_id else "")
        report.records.append(PersonRecord(
            person_id=row.id, where=where, role=row.role.label, age_band=row.age_band.label,
            gender=row.gender.label, fields=fields, relations=_relations(row), orders=_orders(row)))
    report.case_ids = sorted(references)
    if report.case_ids:
        report.family_text_records = sum(
            db.session.scalar(select(func.count()).select_from(rows_of_cases(model, report.case_ids).subquery())) or 0
            for model in case_scoped_models() if model is not Person)
    report.documents = _documents(ids, references)
    report.family_documents = documents_queries.count_of_cases(set(report.case_ids))
    report.accesses = _accesses(ids, set(report.case_ids), references)
    return report


def _documents(person_ids: set[int], references: dict[int, str]) -> list[DocumentLine]:
    from ..documents.storage import format_size
    lines = []
    for attachment in documents_queries.documents_about(person_ids):
        if attachment.deleted_at is not None:
            status = "verwijderd"
        elif attachment.replaced_at is not None:
            status = f"versie {attachment.version_number}, vervangen"
        else:
            status = f"versie {attachment.version_number}, huidig"
        lines.append(DocumentLine(
            case=references.get(attachment.case_id, ""), kind=attachment.kind.label,
            file_name=attachment.file_name or "(naam verwijderd)", file_type=attachment.file_type.label,
            size=format_size(attachment.size_bytes),
            uploaded_on=attachment.uploaded_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y"), status=status))
    return lines


def _relations(person: Person) -> list[str]:
    lines = []
    other = Person.__table__.alias("other")
    for kind, other_role, direction in db.session.execute(
            select(PersonRelation.kind, other.c.role, PersonRelation.person_id == person.id)
            .join(other, or_(and_(PersonRelation.person_id == person.id, other.c.id == PersonRelation.other_person_id),
                             and_(PersonRelation.other_person_id == person.id, other.c.id == PersonRelation.person_id)))
            .order_by(PersonRelation.id)):
        role_label = type(person.role)(other_role).label.lower()
        if direction:
            lines.append(f"{kind.label} (andere persoon: {role_label})")
        else:
            lines.append(f"andere persoon ({role_label}) is: {kind.label.lower()} deze persoon")
    return lines


def _orders(person: Person) -> list[str]:
    lines = []
    for ban in db.session.scalars(select(HouseBan).where(HouseBan.removed_person_id == person.id)
                                  .order_by(HouseBan.imposed_at)):
        line = (f"Huisverbod opgelegd {ban.imposed_at.astimezone(AMSTERDAM):%d-%m-%Y}, tot "
                f"{ban.ends_at.astimezone(AMSTERDAM):%d-%m-%Y} ({ban.status.label}); deze persoon is uithuisgeplaatst")
        if ban.reachability:
            line += f"; opgegeven bereikbaarheid: {ban.reachability}"
        lines.append(line)
    for ban in db.session.scalars(select(HouseBan).join(HouseBanProtectedPerson)
                                  .where(HouseBanProtectedPerson.person_id == person.id)
                                  .order_by(HouseBan.imposed_at)):
        lines.append(f"Huisverbod opgelegd {ban.imposed_at.astimezone(AMSTERDAM):%d-%m-%Y}, tot "
                     f"{ban.ends_at.astimezone(AMSTERDAM):%d-%m-%Y} ({ban.status.label}); deze persoon wordt beschermd")
    return lines


def _accesses(person_ids: set[int], case_ids: set[int], references: dict[int, str]) -> list[AccessLine]:
    """Records naming this person, and case-level records of their cases that name nobody else."""
    condition = AuditEvent.person_id.in_(person_ids)
    if case_ids:
        condition = or_(condition, and_(AuditEvent.case_id.in_(case_ids), AuditEvent.person_id.is_(None)))
    lines = []
    for event in db.session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id)):
        lines.append(AccessLine(
            occurred_at=event.occurred_at,
            local_time=event.occurred_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M:%S"),
            username=event.username or "", roles=_role_labels(event.role),
            action=_label(AuditAction, event.action),
            what=OBJECT_LABELS.get(event.object_type or "") or object_name(event.object_type),
            case=references.get(event.case_id, "") if event.case_id else "",
            outcome=_label(AuditOutcome, event.outcome)))
    return lines


def _label(enum_class: Any, value: Any) -> str:
    try:
        return enum_class(value).label
    except ValueError:
        return str(value)
