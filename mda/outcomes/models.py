"""What the pilot asks: did the family reach lasting safety, and is it still safe a year on?

The judgement at closure and the follow-up check are structured (no free text), so the steering
information can count them without touching personal data.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type


class SafetyJudgement(LabelledEnum):
    LASTING = ("lasting", "Duurzaam veilig")
    PARTLY = ("partly", "Deels veilig")
    NOT = ("not", "Niet veilig")


class FamilySafe(LabelledEnum):
    YES = ("yes", "Ja, het gezin is veilig")
    PARTLY = ("partly", "Deels")
    NO = ("no", "Nee, het gezin is niet veilig")
    UNKNOWN = ("unknown", "Niet na te gaan")


class ClosureOutcome(Base):
    """The coordinator's judgement of safety when the case was closed (one per closure)."""

    __tablename__ = "closure_outcomes"
    __table_args__ = (
        CheckConstraint("professional_rating BETWEEN 0 AND 10", name="professional_rating_range"),
        CheckConstraint("family_rating IS NULL OR family_rating BETWEEN 0 AND 10", name="family_rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status_change_id: Mapped[int] = mapped_column(ForeignKey("case_status_changes.id", ondelete="CASCADE"),
                                                  unique=True)
    closed_on: Mapped[date] = mapped_column(Date)
    judgement: Mapped[SafetyJudgement] = mapped_column(enum_column_type(SafetyJudgement, "safety_judgement"))
    professional_rating: Mapped[int] = mapped_column(Integer)
    family_rating: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class FollowUpCheck(Base):
    """Twelve months after closure: is the family safe, and did violence come back into view?"""

    __tablename__ = "follow_up_checks"
    __table_args__ = (
        CheckConstraint("(recorded_at IS NULL) = (family_safe IS NULL)", name="recorded_has_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    closure_outcome_id: Mapped[int] = mapped_column(ForeignKey("closure_outcomes.id", ondelete="CASCADE"),
                                                    unique=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    family_safe: Mapped[FamilySafe | None] = mapped_column(enum_column_type(FamilySafe, "family_safe"))
    new_vt_report: Mapped[bool | None] = mapped_column(Boolean)
    new_house_ban: Mapped[bool | None] = mapped_column(Boolean)
    new_referral: Mapped[bool | None] = mapped_column(Boolean)
