"""Documents kept with a case: encrypted attachments in versions, and their chunks.

An attachment's content is stored as encrypted chunks (``attachment_chunks``), each a field-cipher
token bound to ``attachment_chunks|<attachment uuid>|<chunk number>|<last-chunk flag>``: a chunk
moved to another attachment, put in another place, or a file cut short after any chunk fails to
decrypt. The original file name, the description and a deletion's reason are encrypted fields.
The file type is the one found in the content, never the name or the browser's claim.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class AttachmentKind(LabelledEnum):
    DECISION = ("decision", "Beschikking")
    SIGNED_SAFETY_PLAN = ("signed_safety_plan", "Veiligheidsplan getekend")
    REPORT = ("report", "Rapportage")
    MINUTES = ("minutes", "Verslag")
    OTHER = ("other", "Overig")


class FileType(LabelledEnum):
    """The allowed types, as recognised from the content (``mda.documents.filetypes``)."""

    PDF = ("pdf", "PDF")
    PNG = ("png", "PNG-afbeelding")
    JPEG = ("jpeg", "JPEG-afbeelding")
    GIF = ("gif", "GIF-afbeelding")
    WEBP = ("webp", "WebP-afbeelding")
    DOCX = ("docx", "Word-document")
    XLSX = ("xlsx", "Excel-werkmap")
    ODT = ("odt", "OpenDocument-tekst")
    DOC = ("doc", "Word-document (oud formaat)")

    @property
    def extension(self) -> str:
        return {"jpeg": "jpg"}.get(self.value, self.value)

    @property
    def mimetype(self) -> str:
        return {
            "pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif",
            "webp": "image/webp",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "odt": "application/vnd.oasis.opendocument.text", "doc": "application/msword",
        }[self.value]


class Attachment(RowKeyMixin, Base):
    """One version of a document of a case. A new version points at the one it replaces."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("previous_id"),)  # a version is replaced at most once

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(enum_column_type(AttachmentKind, "attachment_kind"))
    file_type: Mapped[FileType] = mapped_column(enum_column_type(FileType, "attachment_file_type"))
    size_bytes: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer)
    file_name_ciphertext: Mapped[bytes | None] = ciphertext_column()
    file_name = EncryptedField()
    description_ciphertext: Mapped[bytes | None] = ciphertext_column()
    description = EncryptedField()
    # What it belongs to, besides the case (optional, each checked to be of the same case).
    house_ban_id: Mapped[int | None] = mapped_column(ForeignKey("house_bans.id", ondelete="SET NULL"))
    safety_plan_id: Mapped[int | None] = mapped_column(ForeignKey("safety_plans.id", ondelete="SET NULL"))
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="SET NULL"))
    # The person the document is about, if it is about one: an erasure of that person removes it.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deletion_reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    deletion_reason = EncryptedField()
    # When the content was removed (deletion, erasure or the retention purge): the chunks are gone.
    content_removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    uploaded_by: Mapped["User"] = relationship(foreign_keys=[uploaded_by_id])  # noqa: F821
    deleted_by: Mapped["User | None"] = relationship(foreign_keys=[deleted_by_id])  # noqa: F821

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None and self.deleted_at is None

    @property
    def holds_content(self) -> bool:
        """Read by ``mda.lifecycle.scrub``: chunks with the file's content still exist."""
        return self.content_removed_at is None and self.chunk_count > 0

    def remove_content(self) -> None:
        """Called by ``mda.lifecycle.scrub.wipe``: the chunks go, not only their key."""
        from .storage import delete_chunks
        delete_chunks(self)


class AttachmentChunk(Base):
    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
