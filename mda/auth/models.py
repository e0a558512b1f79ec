"""Server-side record of each login session, so that logging out ends that session for good.

A signed cookie alone cannot be revoked: a copy of it stays valid until it expires. The cookie
therefore also names a random session token; the server keeps only its SHA-256 digest, and a
cookie whose token has no row here (logged out, or pruned after the absolute lifetime) is refused.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime
from ..timeutil import utcnow


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie: reading this table does not give a usable session.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
