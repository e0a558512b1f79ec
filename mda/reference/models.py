"""Reference data a functional administrator maintains: municipalities, AVE levels,
disciplines and the pilot's own periods. Seeded by the first migration."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..enums import LabelledEnum, enum_column_type


class Subregion(LabelledEnum):
    NOORD_LIMBURG = ("noord_limburg", "Noord-Limburg")
    MIDDEN_LIMBURG = ("midden_limburg", "Midden-Limburg")


class Municipality(Base):
    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    subregion: Mapped[Subregion] = mapped_column(enum_column_type(Subregion, "subregion"))
    active: Mapped[bool] = mapped_column(default=True)


class AveLevel(Base):
    """A rung of the regional AVE ladder; descriptions are regional settings."""

    __tablename__ = "ave_levels"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)


class Discipline(Base):
    __tablename__ = "disciplines"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class PilotPeriodKind(LabelledEnum):
    PHASE = ("phase", "Fase")
    EVALUATION = ("evaluation", "Evaluatiemoment")


class PilotPeriod(Base):
    """Pilot phases and evaluation moments, used as period presets for the metrics."""

    __tablename__ = "pilot_periods"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[PilotPeriodKind] = mapped_column(enum_column_type(PilotPeriodKind, "pilot_period_kind"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
