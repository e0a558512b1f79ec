"""The verbs of a case's documents: upload, replace by a new version, delete with a reason,
erase. Each takes its actor, writes its audit record and only flushes; a refused upload raises
before anything is kept, and the request's rollback takes back any chunk already written."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO, Iterable

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import DomainError, InvalidInput, StaleVersion
from ..huisverbod.models import HouseBan
from ..journal.models import JournalEntry
from ..people.models import Person
from ..safety.models import SafetyPlan
from ..timeutil import utcnow
from . import filetypes
from .models import Attachment, AttachmentKind
from .storage import ContentTooLarge, delete_chunks, too_large_message, write_chunks

OBJECT = "attachment"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION = 1000
ERASED_REASON = "Verwijderd bij het uitvoeren van een verzoek tot wissen."
REFUSED_TYPE = ("Dit bestand wordt niet bewaard: de inhoud is geen PDF, afbeelding (PNG, JPEG, GIF, WebP) of "
                "kantoordocument (Word, Excel of OpenDocument-tekst, zonder macro's). Kijk naar de inhoud, "
                "niet alleen de naam: een hernoemd bestand wordt ook geweigerd.")


def max_bytes() -> int:
    """The size limit (``ATTACHMENT_MAX_BYTES``, ``MDA_ATTACHMENT_MAX_BYTES``; default 25 MB)."""
    try:
        value = int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))
    except (TypeError, ValueError):
        value = DEFAULT_MAX_BYTES
    return value if value > 0 else DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class Link:
    """What a document belongs to besides its case: at most one of these."""

    house_ban: HouseBan | None = None
    safety_plan: SafetyPlan | None = None
    journal_entry: JournalEntry | None = None


def clean_file_name(name: str | None) -> str:
    """The user's own name for the file, without a path or control characters (kept encrypted)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = re.sub(r"\s+", " ", name)
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:MAX_NAME_LENGTH - len(extension) - 1] + dot + extension) if dot and len(extension) <= 10 \
            else name[:MAX_NAME_LENGTH]
    return name or "document"


def _check_links(case: Case, link: Link, person: Person | None) -> None:
    for item, message in ((link.house_ban, "Dit huisverbod"), (link.safety_plan, "Deze versie van het veiligheidsplan"),
                          (link.journal_entry, "Dit journaalbericht"), (person, "Deze persoon")):
        if item is not None and item.case_id != case.id:
            raise InvalidInput(f"{message} hoort niet bij deze casus.", field="link" if item is not person else "person")
    if sum(item is not None for item in (link.house_ban, link.safety_plan, link.journal_entry)) > 1:
        raise InvalidInput("Koppel een document aan één onderdeel van de casus.", field="link")


def _store(attachment: Attachment, source: BinaryIO) -> None:
    limit = max_bytes()
    try:
        source.seek(0, 2)
        size = source.tell()
        source.seek(0)
    except (OSError, ValueError) as exc:
        raise InvalidInput("Het bestand kon niet worden gelezen. Probeer het opnieuw.", field="file") from exc
    if size == 0:
        raise InvalidInput("Het bestand is leeg.", field="file")
    if size > limit:
        raise ContentTooLarge(too_large_message(limit), field="file")
    file_type = filetypes.detect(source)
    if file_type is None:
        raise InvalidInput(REFUSED_TYPE, field="file")
    attachment.file_type = file_type
    attachment.size_bytes, attachment.chunk_count = size, 0
    db.session.add(attachment)
    db.session.flush()  # the chunks need the attachment's id
    write_chunks(attachment, source, limit)
    db.session.flush()


def upload(case: Case, *, source: BinaryIO, file_name: str | None, kind: AttachmentKind, description: str | None,
           by: User, link: Link = Link(), person: Person | None = None) -> Attachment:
    """Keep a new document with the case. Refused (nothing kept) when it is empty, too large or
    not an allowed type by its content."""
    _check_links(case, link, person)
    if description and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"Hoogstens {MAX_DESCRIPTION} tekens.", field="description")
    attachment = Attachment(case_id=case.id, kind=kind, uploaded_by_id=by.id, uploaded_at=utcnow(), version_number=1,
                            house_ban_id=link.house_ban.id if link.house_ban else None,
                            safety_plan_id=link.safety_plan.id if link.safety_plan else None,
                            journal_entry_id=link.journal_entry.id if link.journal_entry else None,
                            person_id=person.id if person else None)
    attachment.file_name = clean_file_name(file_name)
    attachment.description = description
    _store(attachment, source)
    record(AuditAction.CREATE, by=by, case_id=case.id, person_id=attachment.person_id, object_type=OBJECT,
           object_id=attachment.id, detail=f"document toegevoegd ({kind.label}, {attachment.file_type.label})")
    return attachment


def _check_current(attachment: Attachment, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != attachment.version:
        raise StaleVersion("Dit document is intussen door iemand anders gewijzigd. Bekijk de lijst opnieuw.")
    if attachment.deleted_at is not None:
        raise DomainError("Dit document is verwijderd.")
    if attachment.replaced_at is not None:
        raise DomainError("Van dit document is al een nieuwere versie; vervang die.")


def replace(attachment: Attachment, *, source: BinaryIO, file_name: str | None, description: str | None,
            by: User, expected_version: int | None) -> Attachment:
    """A new version of the document; the earlier one stays downloadable in its history."""
    _check_current(attachment, expected_version)
    if description and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"Hoogstens {MAX_DESCRIPTION} tekens.", field="description")
    newer = Attachment(case_id=attachment.case_id, kind=attachment.kind, uploaded_by_id=by.id, uploaded_at=utcnow(),
                       house_ban_id=attachment.house_ban_id, safety_plan_id=attachment.safety_plan_id,
                       journal_entry_id=attachment.journal_entry_id, person_id=attachment.person_id,
                       previous_id=attachment.id, version_number=attachment.version_number + 1)
    newer.file_name = clean_file_name(file_name)
    newer.description = description if description and description.strip() else attachment.description
    attachment.replaced_at = utcnow()
    _store(newer, source)  # flushes both: the unique previous_id refuses a second, concurrent successor
    record(AuditAction.CHANGE, by=by, case_id=attachment.case_id, person_id=attachment.person_id, object_type=OBJECT,
           object_id=newer.id, detail=f"nieuwe versie {newer.version_number} van document {attachment.id} "
                                      f"({newer.file_type.value})")
    return newer


def versions_of(attachment: Attachment) -> list[Attachment]:
    """This version and every earlier one, newest first."""
    chain = [attachment]
    while chain[-1].previous_id is not None:
        previous = db.session.get(Attachment, chain[-1].previous_id)
        if previous is None:
            break
        chain.append(previous)
    return chain


def delete(attachment: Attachment, *, reason: str, by: User, expected_version: int | None) -> None:
    """Delete the document with every earlier version: their content goes, their entry in the
    history stays with who deleted it, when and why."""
    _check_current(attachment, expected_version)
    if not reason or not reason.strip():
        raise InvalidInput("Geef de reden van het verwijderen.", field="reason")
    if len(reason) > MAX_DESCRIPTION:
        raise InvalidInput(f"Hoogstens {MAX_DESCRIPTION} tekens.", field="reason")
    now = utcnow()
    for version in versions_of(attachment):
        if version.holds_content:
            delete_chunks(version)
        version.deleted_at, version.deleted_by_id = now, by.id
    attachment.deletion_reason = reason
    db.session.flush()
    record(AuditAction.DELETE, by=by, case_id=attachment.case_id, person_id=attachment.person_id, object_type=OBJECT,
           object_id=attachment.id, detail="document verwijderd met reden")


def record_download(attachment: Attachment, *, by: User) -> None:
    record(AuditAction.READ, by=by, case_id=attachment.case_id, person_id=attachment.person_id, object_type=OBJECT,
           object_id=attachment.id, detail="document gedownload")


def erase_about(person_ids: Iterable[int]) -> int:
    """For an erasure: remove every document about these persons, content, name and description,
    leaving a row that says a document was removed. Returns the number of documents changed."""
    from ..lifecycle.scrub import wipe
    person_ids = list(person_ids)
    if not person_ids:
        return 0
    changed = 0
    now = utcnow()
    for attachment in db.session.scalars(select(Attachment).where(Attachment.person_id.in_(person_ids))):
        if wipe(attachment):
            changed += 1
        if attachment.deleted_at is None:
            attachment.deleted_at = now
            attachment.deletion_reason = ERASED_REASON
    db.session.flush()
    return changed
