"""Server-side record of each login session, so that logging out ends that session for good.

A signed cookie alone cannot be revoked: a copy of it stays valid until it expires. The cookie
therefore also names a random session token; the server keeps only its SHA-256 digest, and a
cookie whose token has no row here (logged out, or pruned after the absolute lifetime) is refused.

``FormDraft`` keeps what a form held when its session had ended: encrypted until its owner logs in again.
"""
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


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie: reading this table does not give a usable session.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
