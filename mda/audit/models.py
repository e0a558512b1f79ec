"""The append-only audit trail (NEN 7513) and the head of its hash chain.

Records hold ids and codes only, never names or case content.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type


class AuditAction(LabelledEnum):
    CREATE = ("create", "Aanmaken")
    READ = ("read", "Inzien")
    CHANGE = ("change", "Wijzigen")
    DELETE = ("delete", "Verwijderen")
    EXPORT = ("export", "Exporteren")
    PRINT = ("print", "Afdrukken")
    SEARCH = ("search", "Zoeken")
    TRANSFER = ("transfer", "Overdragen")
    EMERGENCY_ACCESS = ("emergency_access", "Noodtoegang")
    LOGIN = ("login", "Inloggen")
    LOGIN_FAILED = ("login_failed", "Mislukte inlogpoging")
    LOGOUT = ("logout", "Uitloggen")
    MFA_CHANGE = ("mfa_change", "Tweestapsverificatie gewijzigd")
    ROLE_CHANGE = ("role_change", "Rollen gewijzigd")
    ACCOUNT_CHANGE = ("account_change", "Account gewijzigd")
    KEY_ROTATION = ("key_rotation", "Sleutelrotatie")


class AuditOutcome(LabelledEnum):
    SUCCESS = ("success", "Gelukt")
    DENIED = ("denied", "Geweigerd")
    FAILED = ("failed", "Mislukt")


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the trail outlives accounts
    username: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[AuditAction] = mapped_column(enum_column_type(AuditAction, "audit_action"))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: kept after a purge
    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    access_point: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[AuditOutcome] = mapped_column(enum_column_type(AuditOutcome, "audit_outcome"))
    detail: Mapped[str | None] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # not indexed: nothing looks a record up by it (p19_1)


class AuditChainHead(Base):
    """One row: the newest hash. Locking it serialises appends across workers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrites(_mapper: object, _connection: object, _target: AuditEvent) -> None:
    raise RuntimeError("audit events are append-only")
