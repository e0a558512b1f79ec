"""Reads of a case's documents."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..cases.models import Case
from ..db import db
from ..huisverbod.models import HouseBan
from ..journal.models import JournalEntry
from ..people.models import Person
from ..safety.models import SafetyPlan
from ..timeutil import AMSTERDAM
from .models import Attachment

LINKABLE_JOURNAL_ENTRIES = 100


@dataclass
class Document:
    """A document with its versions, newest first; ``latest`` is the current or last version."""

    versions: list[Attachment] = field(default_factory=list)

    @property
    def latest(self) -> Attachment:
        return self.versions[0]

    @property
    def deleted(self) -> bool:
        return self.latest.deleted_at is not None


def attachment_of(case: Case, attachment_id: int) -> Attachment | None:
    """The attachment, only when it belongs to this case (the case's access was checked)."""
    attachment = db.session.get(Attachment, attachment_id)
    return attachment if attachment is not None and attachment.case_id == case.id else None


def documents_of(case: Case) -> list[Document]:
    """Every document of the case with its versions; current ones first, newest upload first."""
    rows = list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                   .options(selectinload(Attachment.uploaded_by), selectinload(Attachment.deleted_by))
                                   .order_by(Attachment.id)))
    successor = {row.previous_id: row for row in rows if row.previous_id is not None}
    documents = []
    for row in rows:
        if row.previous_id is not None:
            continue
        chain = [row]
        while chain[-1].id in successor:
            chain.append(successor[chain[-1].id])
        documents.append(Document(list(reversed(chain))))
    documents.sort(key=lambda document: (document.deleted, -document.latest.uploaded_at.timestamp()))
    return documents


def document_of(attachment: Attachment) -> Document:
    for document in documents_of(db.session.get(Case, attachment.case_id)):
        if any(version.id == attachment.id for version in document.versions):
            return document
    return Document([attachment])


def link_choices(case: Case) -> list[tuple[str, str]]:
    """What a document can belong to, as ``(part:id, label)``; labels hold no personal data."""
    choices = [("", "Alleen de casus")]
    for ban in db.session.scalars(select(HouseBan).where(HouseBan.case_id == case.id).order_by(HouseBan.imposed_at)):
        choices.append((f"huisverbod:{ban.id}", f"Huisverbod van {ban.imposed_at.astimezone(AMSTERDAM):%d-%m-%Y}"))
    for plan in db.session.scalars(select(SafetyPlan).where(SafetyPlan.case_id == case.id)
                                   .order_by(SafetyPlan.version_number)):
        choices.append((f"veiligheidsplan:{plan.id}",
                        f"Veiligheidsplan versie {plan.version_number} ({plan.agreed_on:%d-%m-%Y})"))
    for entry in db.session.scalars(select(JournalEntry).where(JournalEntry.case_id == case.id)
                                    .order_by(JournalEntry.occurred_at.desc()).limit(LINKABLE_JOURNAL_ENTRIES)):
        choices.append((f"journaal:{entry.id}",
                        f"Journaal: {entry.kind.label} {entry.occurred_at.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}"))
    return choices


LINK_MODELS = {"huisverbod": HouseBan, "veiligheidsplan": SafetyPlan, "journaal": JournalEntry}


def resolve_link(value: str | None) -> HouseBan | SafetyPlan | JournalEntry | None:
    """The object a posted ``part:id`` names, or None; its case is checked by the operation."""
    part, _, number = (value or "").partition(":")
    model = LINK_MODELS.get(part)
    if model is None or not number.isdigit():
        return None
    return db.session.get(model, int(number))


def person_choices(case: Case) -> list[tuple[int, str]]:
    persons = db.session.scalars(select(Person).where(Person.case_id == case.id).order_by(Person.id))
    return [(0, "Niet over één persoon")] + [(person.id, f"{person.name or 'Naam onbekend'} ({person.role.label.lower()})")
                                            for person in persons]


def link_label(attachment: Attachment) -> str | None:
    if attachment.house_ban_id:
        ban = db.session.get(HouseBan, attachment.house_ban_id)
        return f"Huisverbod van {ban.imposed_at.astimezone(AMSTERDAM):%d-%m-%Y}" if ban else None
    if attachment.safety_plan_id:
        plan = db.session.get(SafetyPlan, attachment.safety_plan_id)
        return f"Veiligheidsplan versie {plan.version_number}" if plan else None
    if attachment.journal_entry_id:
        entry = db.session.get(JournalEntry, attachment.journal_entry_id)
        return (f"Journaal: {entry.kind.label} {entry.occurred_at.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}"
                if entry else None)
    return None


def documents_about(person_ids: set[int]) -> list[Attachment]:
    """For the access report: every version of every document about these persons."""
    if not person_ids:
        return []
    return list(db.session.scalars(select(Attachment).where(Attachment.person_id.in_(person_ids))
                                   .order_by(Attachment.uploaded_at, Attachment.id)))


def count_of_cases(case_ids: set[int]) -> int:
    from sqlalchemy import func
    if not case_ids:
        return 0
    return db.session.scalar(select(func.count()).select_from(Attachment)
                             .where(Attachment.case_id.in_(case_ids))) or 0


def current_documents_of_entries(entry_ids: list[int]) -> dict[int, list[Attachment]]:
    """The current (not replaced, not deleted) documents tied to these journal entries."""
    if not entry_ids:
        return {}
    linked: dict[int, list[Attachment]] = {}
    for attachment in db.session.scalars(select(Attachment).where(
            Attachment.journal_entry_id.in_(entry_ids), Attachment.replaced_at.is_(None),
            Attachment.deleted_at.is_(None)).order_by(Attachment.id)):
        linked.setdefault(attachment.journal_entry_id, []).append(attachment)
    return linked
