"""Referrals from Veilig Thuis after the Actie-overleg, and consultation questions (consultvragen)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..cases.models import IntakeRoute, validate_family_label
from ..organisations.models import Organisation
from ..reference.models import Municipality
from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class ReferralStatus(LabelledEnum):
    DRAFT = ("draft", "Concept")
    SUBMITTED = ("submitted", "Ingediend")
    ACCEPTED = ("accepted", "Geaccepteerd")
    DECLINED = ("declined", "Afgewezen")
    REDIRECTED = ("redirected", "Doorgeleid")


class Urgency(LabelledEnum):
    NORMAL = ("normal", "Regulier")
    URGENT = ("urgent", "Urgent")
    CRISIS = ("crisis", "Crisis")


class HouseBanSituation(LabelledEnum):
    NONE = ("none", "Geen huisverbod")
    CONSIDERED = ("considered", "Huisverbod wordt overwogen")
    RUNNING = ("running", "Huisverbod loopt")


class RedirectTarget(LabelledEnum):
    LOCAL_TEAM = ("local_team", "Lokaal team")
    SAFETY_HOUSE = ("safety_house", "Zorg- en Veiligheidshuis")
    REGULAR_CARE = ("regular_care", "Reguliere zorg")


class ActieOverlegPartner(LabelledEnum):
    VEILIG_THUIS = ("veilig_thuis", "Veilig Thuis")
    POLICE = ("police", "Politie")
    PUBLIC_PROSECUTOR = ("public_prosecutor", "Openbaar Ministerie")
    PROBATION = ("probation", "Reclassering")
    CHILD_PROTECTION_BOARD = ("child_protection_board", "Raad voor de Kinderbescherming")


class Referral(RowKeyMixin, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("status <> 'accepted' OR case_id IS NOT NULL", name="accepted_has_case"),
        CheckConstraint("status <> 'redirected' OR redirected_to IS NOT NULL", name="redirect_has_target"),
        CheckConstraint("current_ave_level IS NULL OR current_ave_level BETWEEN 1 AND 5", name="ave_range"),
        # Written by a Veilig Thuis user in the web form, or by a registration system through the API.
        CheckConstraint("created_by_id IS NOT NULL OR api_token_id IS NOT NULL", name="has_author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    intake_route: Mapped[IntakeRoute] = mapped_column(enum_column_type(IntakeRoute, "referral_route"),
                                                      default=IntakeRoute.ACTIE_OVERLEG)
    status: Mapped[ReferralStatus] = mapped_column(enum_column_type(ReferralStatus, "referral_status"),
                                                   default=ReferralStatus.DRAFT, index=True)
    actie_overleg_on: Mapped[date | None] = mapped_column(Date)
    partners_present: Mapped[list[str]] = mapped_column(JSON, default=list)
    violence_forms: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[Urgency] = mapped_column(enum_column_type(Urgency, "urgency"), default=Urgency.NORMAL)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"))
    # The local team that asked for coordination (intake route "regieverzoek lokaal team via VT").
    requesting_team_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    current_ave_level: Mapped[int | None] = mapped_column(Integer)
    house_ban_situation: Mapped[HouseBanSituation] = mapped_column(
        enum_column_type(HouseBanSituation, "house_ban_situation"), default=HouseBanSituation.NONE)
    reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    reason = EncryptedField()
    # The label Veilig Thuis gives the family ("Gezin De Vries"); it becomes the case's label.
    family_label_ciphertext: Mapped[bytes | None] = ciphertext_column()
    family_label = EncryptedField(validate=validate_family_label)
    tried_before_ciphertext: Mapped[bytes | None] = ciphertext_column()
    tried_before = EncryptedField()
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Shown to Veilig Thuis; kept free of names by instruction, encrypted because it is free text.
    decision_reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    decision_reason = EncryptedField()
    redirected_to: Mapped[RedirectTarget | None] = mapped_column(enum_column_type(RedirectTarget, "redirect_target"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    persons: Mapped[list["Person"]] = relationship(foreign_keys="Person.referral_id",  # noqa: F821
                                                   order_by="Person.id", viewonly=True)
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    requesting_team: Mapped[Organisation | None] = relationship(foreign_keys=[requesting_team_id])
    municipality: Mapped[Municipality | None] = relationship()


class ConsultationQuestion(RowKeyMixin, Base):
    """A lighter record than a case: a local team asks, the MDA++ team advises.

    It must carry no personal data; question and advice are still encrypted
    because free text cannot be trusted to stay anonymous.
    """

    __tablename__ = "consultation_questions"
    __table_args__ = (CheckConstraint("minutes_spent IS NULL OR minutes_spent >= 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asked_on: Mapped[date] = mapped_column(Date)
    asking_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    question_ciphertext: Mapped[bytes | None] = ciphertext_column()
    question = EncryptedField()
    advice_ciphertext: Mapped[bytes | None] = ciphertext_column()
    advice = EncryptedField()
    advised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    advised_on: Mapped[date | None] = mapped_column(Date)
    minutes_spent: Mapped[int | None] = mapped_column(Integer)
    escalation_advised: Mapped[bool] = mapped_column(Boolean, default=False)
    led_to_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    asking_organisation: Mapped[Organisation] = relationship()
    municipality: Mapped[Municipality] = relationship()
    advised_by: Mapped[User | None] = relationship(foreign_keys=[advised_by_id])


class ApiToken(Base):
    """A key with which one organisation's registration system submits referrals.

    Only the SHA-256 digest is stored: the token is 256 random bits, so a plain digest cannot be
    reversed by guessing, and a copy of the database alone does not let anyone submit. The token
    itself is shown once, when it is issued.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so an administrator can tell keys apart; far too short to be of use.
    token_prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None
