"""Requests to erase a person's data (AVG art. 17) and the privacy officer's decision on them.

The request names the person and case by id only, without foreign keys, like the audit trail:
it is the privacy officer's evidence that a request was handled, and it outlives what it erased.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, ciphertext_column
from ..timeutil import utcnow


class ErasureStatus(LabelledEnum):
    RECEIVED = ("received", "Ontvangen, nog geen besluit")
    GRANTED = ("granted", "Toegewezen, nog uit te voeren")
    REFUSED = ("refused", "Afgewezen")
    EXECUTED = ("executed", "Toegewezen en uitgevoerd")


class RefusalGround(LabelledEnum):
    """Legal grounds for refusing erasure (AVG art. 17(3), art. 23; Jeugdwet; BW 7:455)."""

    INTEREST_OF_ANOTHER = ("interest_of_another", "Aanmerkelijk belang van een ander dan de verzoeker "
                                                  "(bijvoorbeeld de veiligheid van een gezinslid)")
    LEGAL_OBLIGATION = ("legal_obligation", "Wettelijke bewaarplicht")
    LEGAL_CLAIMS = ("legal_claims", "Nodig voor een rechtsvordering of lopende procedure")
    PUBLIC_TASK = ("public_task", "Noodzakelijk voor de wettelijke taak (lopende casus)")
    OTHER = ("other", "Andere wettelijke grond (zie toelichting)")


class ErasureRequest(RowKeyMixin, Base):
    __tablename__ = "erasure_requests"
    __table_args__ = (
        CheckConstraint("status <> 'refused' OR refusal_ground IS NOT NULL", name="refusal_has_ground"),
        CheckConstraint("status = 'received' OR decided_at IS NOT NULL", name="decision_has_date"),
        CheckConstraint("status <> 'executed' OR executed_at IS NOT NULL", name="execution_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: kept after the erasure
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[ErasureStatus] = mapped_column(enum_column_type(ErasureStatus, "erasure_status"),
                                                  default=ErasureStatus.RECEIVED, index=True)
    refusal_ground: Mapped[RefusalGround | None] = mapped_column(enum_column_type(RefusalGround, "refusal_ground"))
    # The reasoning may have to name what weighs against the request, so it is encrypted.
    explanation_ciphertext: Mapped[bytes | None] = ciphertext_column()
    explanation = EncryptedField()
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    recorded_by: Mapped["User"] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    executed_by: Mapped["User | None"] = relationship(foreign_keys=[executed_by_id])  # noqa: F821


class AccessRequestStatus(LabelledEnum):
    OPEN = ("open", "In behandeling")
    COMPLETED = ("completed", "Afgehandeld: overzicht verstrekt")


class AccessRequest(RowKeyMixin, Base):
    """A request for access to one's own data (AVG art. 15), registered after the person was found
    by BSN or by name with date of birth. The access report is made only for such a request.

    The answer is due one month after receipt; it may be extended once by two further months,
    with a reason, while the first month runs (AVG art. 12(3))."""

    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name="completion_has_date"),
        CheckConstraint("due_on > received_on", name="due_after_receipt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK, like the audit trail
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    extended_until: Mapped[date | None] = mapped_column(Date)
    # The reason may say what makes the request complex, so it is encrypted. No CHECK ties it to
    # ``extended_until``: the retention purge and an erasure wipe ciphertexts and keep the dates.
    extension_reason_ciphertext: Mapped[bytes | None] = ciphertext_column()
    extension_reason = EncryptedField()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[AccessRequestStatus] = mapped_column(
        enum_column_type(AccessRequestStatus, "access_request_status"), default=AccessRequestStatus.OPEN, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    recorded_by: Mapped["User"] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    completed_by: Mapped["User | None"] = relationship(foreign_keys=[completed_by_id])  # noqa: F821

    @property
    def deadline(self) -> date:
        return self.extended_until or self.due_on
