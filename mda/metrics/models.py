"""A published release of the steering information: computed once, stored, never recomputed."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type


class ReleaseKind(LabelledEnum):
    QUARTER = ("quarter", "Kwartaal")
    YEAR = ("year", "Jaar")
    PILOT_PERIOD = ("pilot_period", "Periode van de pilot")


class Release(Base):
    """The tables of one fixed period as published: shown numbers, suppression marks, the chosen
    level of detail per table, and what the audit needs to check later releases against this one
    (for every published number: which counts it adds up and whether it was shown). The true
    value of a hidden cell is never stored."""

    __tablename__ = "metrics_releases"
    __table_args__ = (
        UniqueConstraint("kind", "starts_on", "ends_on", "version", name="period_version"),
        CheckConstraint("ends_on >= starts_on", name="release_period_order"),
        CheckConstraint("version >= 1", name="release_version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReleaseKind] = mapped_column(enum_column_type(ReleaseKind, "release_kind"))
    label: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(300))   # why a new version was published
    threshold: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)     # tables, headlines and levels as shown
    audit_basis: Mapped[list[Any]] = mapped_column(JSON)      # [population, months, filters, status, value]
    # Per slice of the data (one population in one month, "verwijzingen 2026-02"): [state, fingerprint].
    # Releases computed from the same counts of a slice share its state; see operations.slice_states.
    # None for releases published before states were kept.
    data_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def title(self) -> str:
        return self.label if self.version == 1 else f"{self.label} (versie {self.version})"
