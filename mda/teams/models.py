"""The team around a case: one coordinator at any time, plus seconded experts."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, literal, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..enums import LabelledEnum, enum_column_type
from ..reference.models import Discipline


class TeamRole(LabelledEnum):
    COORDINATOR = ("coordinator", "Coördinator (vaste contactpersoon)")
    EXPERT = ("expert", "Gedetacheerd expert")


class TeamPhase(LabelledEnum):
    """A fixed basisteam investigates and plans; the execution team varies per case (003:991)."""

    BASISTEAM = ("basisteam", "Basisteam (onderzoeks- en planfase)")
    UITVOERING = ("uitvoering", "Uitvoeringsfase")


class TeamMembership(Base):
    __tablename__ = "team_memberships"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        CheckConstraint("team_role = 'coordinator' OR discipline_code IS NOT NULL", name="expert_has_discipline"),
        # The database itself guarantees at most one running coordinator per case.
        Index("uq_team_memberships_one_coordinator", "case_id", unique=True,
              sqlite_where=text("team_role = 'coordinator' AND ended_on IS NULL"),
              postgresql_where=text("team_role = 'coordinator' AND ended_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    team_role: Mapped[TeamRole] = mapped_column(enum_column_type(TeamRole, "team_role"))
    discipline_code: Mapped[str | None] = mapped_column(ForeignKey("disciplines.code"))
    team_phase: Mapped[TeamPhase] = mapped_column(enum_column_type(TeamPhase, "team_phase"),
                                                  default=TeamPhase.BASISTEAM)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    discipline: Mapped[Discipline | None] = relationship()

    @classmethod
    def role_is(cls, role: TeamRole) -> ColumnElement[bool]:
        """``team_role = 'coordinator'`` with the role written into the SQL, not bound as a parameter.
        SQLite decides whether the partial index above fits a query by looking at the bound value;
        a statement that looked is prepared again every time it is run with a new binding (each
        request: about half a million instructions for the caseload's statements). A written
        value fits the index as it stands, and on PostgreSQL a generic plan can use it too."""
        return cls.team_role == literal(role, cls.team_role.type, literal_execute=True)

    def is_active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)
