"""Wet tijdelijk huisverbod: the order, its protected persons, appeals and breaches.

Instants are stored in UTC; the legal periods (ten days, at most four weeks)
are computed on the Europe/Amsterdam wall clock by ``deadlines.py``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
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

    @property
    def is_running(self) -> bool:
        return self in (HouseBanStatus.RUNNING, HouseBanStatus.EXTENDED)


RUNNING_STATUSES = (HouseBanStatus.RUNNING, HouseBanStatus.EXTENDED)


class HouseBan(RowKeyMixin, Base):
    __tablename__ = "house_bans"
    __table_args__ = (
        CheckConstraint("ends_at > imposed_at", name="ends_after_imposed"),
        CheckConstraint("form = 'written' OR written_up_at IS NULL OR written_up_at >= imposed_at",
                        name="written_up_after_imposed"),
        # The database itself refuses a second running order for the same removed person
        # (the operations also compare persons across cases through the blind index).
        Index("uq_house_bans_one_running_per_person", "removed_person_id", unique=True,
              sqlite_where=text("status IN ('running', 'extended')"),
              postgresql_where=text("status IN ('running', 'extended')")),
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
    casemanagement_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    casemanagement_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    removed_person: Mapped["Person"] = relationship()  # noqa: F821
    protected: Mapped[list["HouseBanProtectedPerson"]] = relationship(cascade="all, delete-orphan")
    appeals: Mapped[list["HouseBanAppeal"]] = relationship(cascade="all, delete-orphan",
                                                           order_by=lambda: HouseBanAppeal.id)
    breaches: Mapped[list["HouseBanBreach"]] = relationship(cascade="all, delete-orphan",
                                                            order_by="HouseBanBreach.occurred_at")
    events: Mapped[list["HouseBanEvent"]] = relationship(cascade="all, delete-orphan",
                                                         order_by=lambda: [HouseBanEvent.occurred_at,
                                                                           HouseBanEvent.id])
    recorded_by: Mapped["User"] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    case: Mapped["Case"] = relationship()  # noqa: F821
    municipality: Mapped["Municipality"] = relationship()  # noqa: F821

    def status_at(self, moment: datetime) -> HouseBanStatus:
        """The status on the clock: a running order past its end has ended even before
        ``operations.expire_due_orders`` has written that down."""
        if self.status.is_running and self.ends_at <= moment:
            return HouseBanStatus.EXPIRED
        return self.status

    def is_running_at(self, moment: datetime) -> bool:
        return self.status.is_running and self.imposed_at <= moment < self.ends_at

    @property
    def open_appeal(self) -> "HouseBanAppeal | None":
        return next((appeal for appeal in self.appeals if appeal.ruling is None), None)


class HouseBanProtectedPerson(Base):
    __tablename__ = "house_ban_protected_persons"
    __table_args__ = (UniqueConstraint("house_ban_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    house_ban_id: Mapped[int] = mapped_column(ForeignKey("house_bans.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))

    person: Mapped["Person"] = relationship()  # noqa: F821


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
    provisional_relief: Mapped[bool] = mapped_column(Boolean, default=True)  # voorlopige voorziening
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

    recorded_by: Mapped["User"] = relationship()  # noqa: F821


class HouseBanEventKind(LabelledEnum):
    IMPOSED = ("imposed", "Huisverbod opgelegd")
    WRITTEN_UP = ("written_up", "Mondeling huisverbod op schrift gesteld")
    REACHABILITY_STATED = ("reachability_stated", "Bereikbaarheid uithuisgeplaatste opgegeven")
    EXTENDED = ("extended", "Verlengd door de burgemeester")
    NOT_EXTENDED = ("not_extended", "Besloten niet te verlengen")
    WITHDRAWN = ("withdrawn", "Ingetrokken door de burgemeester")
    APPEAL_FILED = ("appeal_filed", "Beroep ingesteld")
    HEARING_SET = ("hearing_set", "Zitting bij de rechter gepland")
    RULING = ("ruling", "Uitspraak van de rechter")
    BREACH = ("breach", "Overtreding van het huisverbod")
    EXPIRED = ("expired", "Huisverbod afgelopen")
    CASEMANAGEMENT_STARTED = ("casemanagement_started", "Casemanagement gestart")
    CASEMANAGEMENT_ENDED = ("casemanagement_ended", "Casemanagement beëindigd")
    # An order the clock had marked as ended, reopened because a timely extension (decided before
    # the end) was recorded afterwards. The earlier EXPIRED event stays: it is what was recorded.
    EXPIRY_RETRACTED = ("expiry_retracted", "Afloop herzien: tijdig besluit achteraf vastgelegd")


class HouseBanEvent(RowKeyMixin, Base):
    """The history of an order, one row per event, with who recorded it and when it happened.

    Everything but the note is non-identifying (kinds, instants, the deciding authority),
    so the steering metrics count from this table without decrypting anything.
    """

    __tablename__ = "house_ban_events"
    __table_args__ = (
        CheckConstraint("kind <> 'extended' OR new_end IS NOT NULL", name="extension_has_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    house_ban_id: Mapped[int] = mapped_column(ForeignKey("house_bans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[HouseBanEventKind] = mapped_column(enum_column_type(HouseBanEventKind, "house_ban_event_kind"),
                                                    index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The authority that decided (imposing, extending, withdrawing); NULL for other events.
    decided_by: Mapped[ImposedBy | None] = mapped_column(enum_column_type(ImposedBy, "event_decided_by"))
    new_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # NULL for what the system records itself (an order that reached its end).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note_ciphertext: Mapped[bytes | None] = ciphertext_column()
    note = EncryptedField()

    recorded_by: Mapped["User | None"] = relationship()  # noqa: F821
