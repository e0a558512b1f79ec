"""Safety plans (veiligheidsplan, versioned) and assessments (taxaties)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class SafetyPlan(RowKeyMixin, Base):
    """One version of a case's safety plan; a new agreement is a new version, never an edit."""

    __tablename__ = "safety_plans"
    __table_args__ = (
        UniqueConstraint("case_id", "version_number"),
        CheckConstraint("review_on >= agreed_on", name="review_after_agreement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    agreed_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date] = mapped_column(Date, index=True)
    agreements_ciphertext: Mapped[bytes | None] = ciphertext_column()
    agreements = EncryptedField()
    # Who agreed: family members and professionals by name, so encrypted.
    agreed_by_ciphertext: Mapped[bytes | None] = ciphertext_column()
    agreed_by = EncryptedField()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def is_current_on(self, day: date) -> bool:
        return self.agreed_on <= day <= self.review_on


class AssessmentKind(LabelledEnum):
    """The phased analysis (003:871): each assessment leads to its own kind of care."""

    VEILIGHEIDSTAXATIE = ("veiligheidstaxatie", "Veiligheidstaxatie")
    RISICOTAXATIE = ("risicotaxatie", "Risicotaxatie")
    DIAGNOSTIEK = ("diagnostiek", "Diagnostiek")


class RiskLevel(LabelledEnum):
    LOW = ("low", "Laag")
    MEDIUM = ("medium", "Verhoogd")
    HIGH = ("high", "Hoog")
    NOT_APPLICABLE = ("not_applicable", "Niet van toepassing")


class Assessment(RowKeyMixin, Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AssessmentKind] = mapped_column(enum_column_type(AssessmentKind, "assessment_kind"))
    assessed_on: Mapped[date] = mapped_column(Date)
    instrument: Mapped[str] = mapped_column(String(80))
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column_type(RiskLevel, "risk_level"),
                                                  default=RiskLevel.NOT_APPLICABLE)
    outcome_ciphertext: Mapped[bytes | None] = ciphertext_column()
    outcome = EncryptedField()
    performed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The plan this assessment led to, when there is one.
    safety_plan_id: Mapped[int | None] = mapped_column(ForeignKey("safety_plans.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    performed_by: Mapped["User"] = relationship()  # noqa: F821
