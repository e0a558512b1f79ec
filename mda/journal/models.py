"""The case journal, tasks and the family's participation."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class JournalKind(LabelledEnum):
    CONTACT_FAMILY = ("contact_family", "Contact met het gezin")
    CONTACT_PARTNER = ("contact_partner", "Contact met ketenpartner")
    ACTIE_OVERLEG = ("actie_overleg", "Actie-overleg")
    TEAM_MEETING = ("team_meeting", "Teamoverleg")
    ACTION = ("action", "Actie")


class JournalEntry(RowKeyMixin, Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[JournalKind] = mapped_column(enum_column_type(JournalKind, "journal_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    body_ciphertext: Mapped[bytes | None] = ciphertext_column()
    body = EncryptedField()
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    author: Mapped["User"] = relationship()  # noqa: F821
    # The persons of the case this entry is about (for filtering; ids only, nothing decrypted).
    persons: Mapped[list["Person"]] = relationship(secondary="journal_entry_persons",  # noqa: F821
                                                   order_by="Person.id", viewonly=True)


class JournalEntryPerson(Base):
    __tablename__ = "journal_entry_persons"

    journal_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"),
                                                  primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class Task(RowKeyMixin, Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # Task descriptions tend to name people ("bel moeder over ..."), so they are encrypted.
    description_ciphertext: Mapped[bytes | None] = ciphertext_column()
    description = EncryptedField()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    owner: Mapped["User"] = relationship(foreign_keys=[owner_id])  # noqa: F821

    def is_overdue_on(self, day: date) -> bool:
        return self.done_at is None and self.due_on < day


class ParticipationRecord(RowKeyMixin, Base):
    """What the family was told, what they decided along, and their own view."""

    __tablename__ = "participation_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    recorded_on: Mapped[date] = mapped_column(Date)
    informed_ciphertext: Mapped[bytes | None] = ciphertext_column()
    informed = EncryptedField()
    decided_along_ciphertext: Mapped[bytes | None] = ciphertext_column()
    decided_along = EncryptedField()
    own_view_ciphertext: Mapped[bytes | None] = ciphertext_column()
    own_view = EncryptedField()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
