"""What a form held when its session had ended: kept encrypted until its owner logs in again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class FormDraft(RowKeyMixin, Base):
    """A form posted after the session had expired. ``page`` is the path of the page the form was
    on (ids only, no personal data); ``fields`` the posted values as JSON, encrypted."""

    __tablename__ = "form_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    page: Mapped[str] = mapped_column(String(300))
    fields_ciphertext: Mapped[bytes | None] = ciphertext_column()
    fields = EncryptedField()
    kept_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
