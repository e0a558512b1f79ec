"""Safety plans (veiligheidsplan, versioned) and assessments (taxaties)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
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
    # The structured plan (per person, the family's and the network's part) as one JSON document,
    # encrypted as a whole; NULL on versions from before the structure existed.
    structure_ciphertext: Mapped[bytes | None] = ciphertext_column()
    structure = EncryptedField()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def is_current_on(self, day: date) -> bool:
        return self.agreed_on <= day <= self.review_on

    @property
    def content(self) -> "PlanContent":
        text = self.structure
        return PlanContent.from_json(text) if text else PlanContent()

    @content.setter
    def content(self, value: "PlanContent") -> None:
        self.structure = value.to_json()


# The parts of the plan for each person of the client system, in the order the plan shows them.
PERSON_PARTS: tuple[tuple[str, str], ...] = (
    ("agreements", "Afspraken (wie doet wat, wanneer)"),
    ("danger_signals", "Signalen van onveiligheid"),
    ("who_to_call", "Wie te bellen als het misgaat"),
    ("next_phase", "Voorwaarden voor de volgende fase"),
)
PLAN_PARTS: tuple[tuple[str, str], ...] = (
    ("family", "Wat het gezin doet"),
    ("network", "Wat het netwerk doet"),
)


@dataclass
class PlanContent:
    """The structured content of one version: per person (by person id) their parts, and the
    family's and the network's part. Empty parts are left out."""

    persons: dict[int, dict[str, str]] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> "PlanContent":
        data = json.loads(text)
        persons = {int(pid): {key: str(value) for key, value in parts.items() if key in dict(PERSON_PARTS)}
                   for pid, parts in data.get("persons", {}).items()}
        return cls(persons=persons, parts={key: str(value) for key, value in data.get("parts", {}).items()
                                           if key in dict(PLAN_PARTS)})

    def to_json(self) -> str:
        persons = {str(pid): {key: value for key, value in parts.items() if value.strip()}
                   for pid, parts in self.persons.items()}
        return json.dumps({"persons": {pid: parts for pid, parts in persons.items() if parts},
                           "parts": {key: value for key, value in self.parts.items() if value.strip()}},
                          ensure_ascii=False, sort_keys=True)

    def person_part(self, person_id: int, key: str) -> str:
        return self.persons.get(person_id, {}).get(key, "")

    def sections(self) -> dict[tuple[int | None, str], str]:
        """Every filled part by (person id or None, part key): what a comparison of versions uses."""
        found: dict[tuple[int | None, str], str] = {(None, key): value for key, value in self.parts.items() if value}
        for pid, parts in self.persons.items():
            found.update({(pid, key): value for key, value in parts.items() if value})
        return found


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
