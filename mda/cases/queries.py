"""Reads for the caseload and the case file. No decryption happens here."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..db import db
from ..people.models import Person
from ..teams.models import TeamMembership, TeamRole
from ..timeutil import today
from .models import Case, CaseStatus


def load_case(case_id: int) -> Case | None:
    return db.session.get(Case, case_id)


def _running_on(day):  # noqa: ANN001, ANN202 - a SQL expression
    return (TeamMembership.started_on <= day) & (TeamMembership.ended_on.is_(None) | (TeamMembership.ended_on > day))


def caseload(user: User, *, everything: bool = False) -> list[tuple[Case, str | None]]:
    """Open cases with the display name of their coordinator; only the user's own unless
    ``everything`` (which the caller has checked the user may see)."""
    day = today()
    coordinator = (select(User.display_name).join(TeamMembership, TeamMembership.user_id == User.id)
                   .where(TeamMembership.case_id == Case.id, TeamMembership.team_role == TeamRole.COORDINATOR,
                          TeamMembership.ended_on.is_(None))
                   .correlate(Case).scalar_subquery())
    query = (select(Case, coordinator).where(Case.status == CaseStatus.OPEN)
             .options(selectinload(Case.municipality)).order_by(Case.reference))
    if not everything:
        mine = select(TeamMembership.case_id).where(TeamMembership.user_id == user.id, _running_on(day))
        query = query.where(Case.id.in_(mine))
    return [(case, name) for case, name in db.session.execute(query)]


def team_of(case: Case) -> list[TeamMembership]:
    day = today()
    return list(db.session.scalars(
        select(TeamMembership).where(TeamMembership.case_id == case.id, _running_on(day))
        .order_by(TeamMembership.team_role, TeamMembership.started_on)))


def persons_of(case: Case) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.case_id == case.id).order_by(Person.id)))
