"""Wet tijdelijk huisverbod: the order, its protected persons, appeals and breaches.

Instants are stored in UTC; the legal periods (ten days, at most four weeks)
are computed on the Europe/Amsterdam wall clock by ``deadlines.py``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class ImposedBy(LabelledEnum):
    MAYOR = ("mayor", "Burgemeester")
    MANDATED_OFFICER = ("mandated_officer", "Hulpofficier van justitie (in mandaat)")


class OrderForm(LabelledEnum):
    WRITTEN = ("written", "Schriftelijk")
    ORAL = ("oral", "Mondeling (spoed), later op schrift gesteld")


class HouseBanRoute(LabelledEnum):
    """The three routes to an order from the Baronie pilot (003:904-916)."""

    A_ACUTE_POLICE = ("a", "a. Acuut huiselijk geweld, gemeld bij de politie")
    B_THREAT_VEILIG_THUIS = ("b", "b. Geen acuut incident, ernstige dreiging, gemeld bij Veilig Thuis")
    C_STRUCTURAL = ("c", "c. Geen acuut incident, ernstige dreiging en structureel geweld")


class HouseBanStatus(LabelledEnum):
    RUNNING = ("running", "Loopt")
    EXTENDED = ("extended", "Verlengd")
    EXPIRED = ("expired", "Afgelopen")
    WITHDRAWN = ("withdrawn", "Ingetrokken")
    LIFTED_BY_COURT = ("lifted_by_court", "Opgeheven door de rechter")


class HouseBan(RowKeyMixin, Base):
    __tablename__ = "house_bans"
    __table_args__ = (
        CheckConstraint("ends_at > imposed_at", name="ends_after_imposed"),
        CheckConstraint("form = 'written' OR written_up_at IS NULL OR written_up_at >= imposed_at",
                        name="written_up_after_imposed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    imposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    imposed_by: Mapped[ImposedBy] = mapped_column(enum_column_type(ImposedBy, "imposed_by"))
    form: Mapped[OrderForm] = mapped_column(enum_column_type(OrderForm, "order_form"))
    written_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    route: Mapped[HouseBanRoute] = mapped_column(enum_column_type(HouseBanRoute, "house_ban_route"))
    removed_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    dwelling_ciphertext: Mapped[bytes | None] = ciphertext_column()
    dwelling = EncryptedField()
    facts_ciphertext: Mapped[bytes | None] = ciphertext_column()
    facts = EncryptedField()
    reachability_ciphertext: Mapped[bytes | None] = ciphertext_column()
    reachability = EncryptedField()
    reachability_stated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    child_abuse_reason: Mapped[bool] = mapped_column(Boolean, default=False)
    veilig_thuis_consulted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    risk_instrument: Mapped[str | None] = mapped_column(String(80))
    risk_outcome: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[HouseBanStatus] = mapped_column(enum_column_type(HouseBanStatus, "house_ban_status"),
                                                   default=HouseBanStatus.RUNNING, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    extension_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    casemanagement_until: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    removed_person: Mapped["Person"] = relationship()  # noqa: F821
    protected: Mapped[list["HouseBanProtectedPerson"]] = relationship(cascade="all, delete-orphan")
    appeals: Mapped[list["HouseBanAppeal"]] = relationship(cascade="all, delete-orphan")
    breaches: Mapped[list["HouseBanBreach"]] = relationship(cascade="all, delete-orphan")


class HouseBanProtectedPerson(Base):
    __tablename__ = "house_ban_protected_persons"
    __table_args__ = (UniqueConstraint("house_ban_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    house_ban_id: Mapped[int] = mapped_column(ForeignKey("house_bans.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))


class AppealRuling(LabelledEnum):
    UPHELD = ("upheld", "Huisverbod blijft in stand")
    LIFTED = ("lifted", "Huisverbod opgeheven")
    WITHDRAWN = ("withdrawn", "Beroep ingetrokken")


class HouseBanAppeal(Base):
    """Appeal with a request for provisional relief (voorlopige voorziening)."""

    __tablename__ = "house_ban_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_ban_id: Mapped[int] = mapped_column(ForeignKey("house_bans.id", ondelete="CASCADE"), index=True)
    filed_on: Mapped[date] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)
    ruling: Mapped[AppealRuling | None] = mapped_column(enum_column_type(AppealRuling, "appeal_ruling"))
    ruled_on: Mapped[date | None] = mapped_column(Date)


class HouseBanBreach(RowKeyMixin, Base):
    """Breaking the order is a criminal offence; each breach is recorded."""

    __tablename__ = "house_ban_breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_ban_id: Mapped[int] = mapped_column(ForeignKey("house_bans.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reported_to_police: Mapped[bool] = mapped_column(Boolean, default=True)
    notes_ciphertext: Mapped[bytes | None] = ciphertext_column()
    notes = EncryptedField()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
