"""The case (casus): its place in the phased approach and on the AVE ladder."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..errors import InvalidInput
from ..organisations.models import OrganisationKind
from ..reference.models import AveLevel, Municipality
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class Phase(LabelledEnum):
    """The four ambitions of the phased approach, realised one after another (003:860-865)."""

    DIRECTE_VEILIGHEID = ("directe_veiligheid", "Directe veiligheid")
    STABIELE_VEILIGHEID = ("stabiele_veiligheid", "Stabiele veiligheid")
    HERSTEL = ("herstel", "Herstel")
    PARTICIPATIE = ("participatie", "Participatie")

    @property
    def position(self) -> int:
        return list(Phase).index(self)


class CaseStatus(LabelledEnum):
    OPEN = ("open", "Lopend")
    CLOSED = ("closed", "Afgesloten")


class IntakeRoute(LabelledEnum):
    ACTIE_OVERLEG = ("actie_overleg", "Na Actie-overleg Veilig Thuis")
    HUISVERBOD = ("huisverbod", "Casemanagement na tijdelijk huisverbod")
    LOCAL_TEAM_REQUEST = ("local_team_request", "Regieverzoek lokaal team via Veilig Thuis")
    CONSULTATION = ("consultation", "Na consultvraag lokaal team")
    CRISIS = ("crisis", "Crisis")


class ViolenceForm(LabelledEnum):
    PARTNER_VIOLENCE = ("partner_violence", "Partnergeweld")
    CHILD_ABUSE = ("child_abuse", "Kindermishandeling")
    CHILD_NEGLECT = ("child_neglect", "Verwaarlozing")
    WITNESSING_PARTNER_VIOLENCE = ("witnessing_partner_violence", "Getuige van partnergeweld")
    SEXUAL_VIOLENCE = ("sexual_violence", "Seksueel geweld")
    SEXUAL_ABUSE = ("sexual_abuse", "Seksueel misbruik")
    INCEST = ("incest", "Incest")
    ELDER_ABUSE = ("elder_abuse", "Ouderenmishandeling")
    ABUSE_OF_PARENTS = ("abuse_of_parents", "Oudermishandeling")
    HONOUR_RELATED = ("honour_related", "Eergerelateerd geweld")
    HUMAN_TRAFFICKING = ("human_trafficking", "Mensenhandel")
    STALKING = ("stalking", "Stalking")
    FINANCIAL_EXPLOITATION = ("financial_exploitation", "Financiële uitbuiting")
    OTHER = ("other", "Overig huiselijk geweld")


class ClosureReason(LabelledEnum):
    LASTING_SAFETY = ("lasting_safety", "Duurzaam veilig, overgedragen aan het lokale veld")
    HANDED_TO_REGULAR_CARE = ("handed_to_regular_care", "Overgedragen aan reguliere zorg")
    HANDED_TO_SAFETY_HOUSE = ("handed_to_safety_house", "Overgedragen aan het (Zorg- en) Veiligheidshuis")
    HANDED_TO_YOUTH_PROTECTION = ("handed_to_youth_protection", "Overgedragen aan jeugdbescherming")
    MOVED_OUT_OF_REGION = ("moved_out_of_region", "Verhuisd buiten de regio")
    OTHER = ("other", "Andere reden")


FAMILY_LABEL_MAX = 80


def validate_family_label(value: str) -> str:
    """A short label the team knows the family by ("Gezin De Vries"): one line, at most 80 characters."""
    label = " ".join(str(value).split())
    if len(label) > FAMILY_LABEL_MAX:
        raise InvalidInput(f"Het gezinslabel is te lang: hoogstens {FAMILY_LABEL_MAX} tekens.", field="family_label")
    return label


class Case(RowKeyMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_has_date"),
        CheckConstraint("(status = 'closed') = (closure_reason IS NOT NULL)", name="closed_has_reason"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"),
        # The caseload's default order: the first page is read from this index, not sorted.
        Index("ix_cases_next_deadline_reference", "next_deadline", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    intake_route: Mapped[IntakeRoute] = mapped_column(enum_column_type(IntakeRoute, "intake_route"))
    status: Mapped[CaseStatus] = mapped_column(enum_column_type(CaseStatus, "case_status"),
                                               default=CaseStatus.OPEN, index=True)
    phase: Mapped[Phase] = mapped_column(enum_column_type(Phase, "phase"), default=Phase.DIRECTE_VEILIGHEID)
    phase_since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ave_level: Mapped[int] = mapped_column(ForeignKey("ave_levels.level"))
    ave_since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # When the case left the MDA++ band (AVE 3-4), kept while it moves between levels outside it
    # (3 -> 2 -> 1 is one stay outside); NULL while inside. See rules.outside_band_since.
    ave_outside_band_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closure_reason: Mapped[ClosureReason | None] = mapped_column(enum_column_type(ClosureReason, "closure_reason"))
    closure_receiving_party: Mapped[OrganisationKind | None] = mapped_column(
        enum_column_type(OrganisationKind, "receiving_party"))
    # The named receiving organisation or team (not a person), e.g. "Lokaal team Venlo-Zuid".
    closure_receiving_name: Mapped[str | None] = mapped_column(String(120))
    # A new case for the same family within 12 months of closure is a her-melding of that case.
    previous_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # Kept by mda.cases.deadlines from the case's tasks and safety plans; only sorts the caseload.
    next_deadline: Mapped[date | None] = mapped_column(Date)
    # The short label the team knows the family by ("Gezin De Vries"): personal data, so encrypted.
    family_label_ciphertext: Mapped[bytes | None] = ciphertext_column()
    family_label = EncryptedField(validate=validate_family_label)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    # Reference rows shown with every case: loaded in the case's own query, not one query each.
    municipality: Mapped[Municipality] = relationship(lazy="joined", innerjoin=True)
    ave: Mapped[AveLevel] = relationship(lazy="joined", innerjoin=True)
    violence_forms: Mapped[list["CaseViolenceForm"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")
    phase_changes: Mapped[list["PhaseChange"]] = relationship(
        back_populates="case", order_by="PhaseChange.changed_at", cascade="all, delete-orphan")
    ave_changes: Mapped[list["AveChange"]] = relationship(
        back_populates="case", order_by="AveChange.changed_at", cascade="all, delete-orphan")

    @property
    def forms(self) -> list[ViolenceForm]:
        return [item.form for item in self.violence_forms]


class CaseViolenceForm(Base):
    __tablename__ = "case_violence_forms"
    __table_args__ = (UniqueConstraint("case_id", "form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    form: Mapped[ViolenceForm] = mapped_column(enum_column_type(ViolenceForm, "violence_form"))


class PhaseChange(RowKeyMixin, Base):
    __tablename__ = "phase_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_phase: Mapped[Phase | None] = mapped_column(enum_column_type(Phase, "from_phase"))
    to_phase: Mapped[Phase] = mapped_column(enum_column_type(Phase, "to_phase"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    reason = EncryptedField()

    case: Mapped[Case] = relationship(back_populates="phase_changes")
    changed_by: Mapped["User"] = relationship()  # noqa: F821


class AveChange(RowKeyMixin, Base):
    __tablename__ = "ave_changes"
    __table_args__ = (CheckConstraint("from_level IS NULL OR from_level <> to_level", name="real_change"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_level: Mapped[int | None] = mapped_column(ForeignKey("ave_levels.level"))
    to_level: Mapped[int] = mapped_column(ForeignKey("ave_levels.level"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    reason = EncryptedField()

    case: Mapped[Case] = relationship(back_populates="ave_changes")
    changed_by: Mapped["User"] = relationship()  # noqa: F821

    @property
    def is_escalation(self) -> bool:
        return self.from_level is not None and self.to_level > self.from_level


class CaseStatusChange(RowKeyMixin, Base):
    """Closing (with outcome and receiving party) and reopening (with a reason), kept as history."""

    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    to_status: Mapped[CaseStatus] = mapped_column(enum_column_type(CaseStatus, "to_status"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closure_reason: Mapped[ClosureReason | None] = mapped_column(enum_column_type(ClosureReason, "change_closure_reason"))
    receiving_party: Mapped[OrganisationKind | None] = mapped_column(
        enum_column_type(OrganisationKind, "change_receiving_party"))
    receiving_name: Mapped[str | None] = mapped_column(String(120))
    reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    reason = EncryptedField()

    changed_by: Mapped["User"] = relationship()  # noqa: F821


class CaseReferenceCounter(Base):
    """Last number handed out per year, for references like MDA-2026-0007."""

    __tablename__ = "case_reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
