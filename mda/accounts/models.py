"""Users and their roles. A user may hold several roles (a coordinator may also be team lead)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..organisations.models import Organisation
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class Role(LabelledEnum):
    COORDINATOR = ("coordinator", "MDA++-coördinator")
    TEAM_LEAD = ("team_lead", "Teamleider MDA++")
    EXPERT = ("expert", "Gedetacheerd expert")
    VT_REFERRER = ("vt_referrer", "Verwijzer Veilig Thuis")
    STEERING = ("steering", "Lid stuurgroep")
    ADMIN = ("admin", "Functioneel beheerder")
    PRIVACY_OFFICER = ("privacy_officer", "Privacy officer")


class User(RowKeyMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # Staff names are shown to colleagues and in the audit trail; they are not client data.
    display_name: Mapped[str] = mapped_column(String(120))
    # Work telephone and e-mail of a staff member, shown to Veilig Thuis on an accepted referral.
    work_contact: Mapped[str | None] = mapped_column(String(200))
    # The start page's "since your last visit" is the login before the current one.
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    previous_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    totp_secret_ciphertext: Mapped[bytes | None] = ciphertext_column()
    totp_secret = EncryptedField()
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Last accepted TOTP time step: a code from this step or earlier is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Bumped on password change, disabling and administrator reset: older sessions stop working.
    session_generation: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    roles: Mapped[list["UserRole"]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                   lazy="selectin")

    def has_role(self, role: Role) -> bool:
        return any(assignment.role == role for assignment in self.roles)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(assignment.role for assignment in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")
