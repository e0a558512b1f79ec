"""Changing the team of a case. Handing over casusregie keeps the history."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..accounts.models import Role, User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..cases.operations import check_version, touch
from ..db import db
from ..errors import InvalidInput, InvalidTransition
from ..notifications import events as notifications
from ..timeutil import today
from .models import TeamMembership, TeamPhase, TeamRole


def current_coordinator(case: Case) -> TeamMembership | None:
    return db.session.execute(
        select(TeamMembership).where(TeamMembership.case_id == case.id,
                                     TeamMembership.role_is(TeamRole.COORDINATOR),
                                     TeamMembership.ended_on.is_(None))
    ).scalar_one_or_none()


def change_coordinator(case: Case, new_coordinator: User, *, by: User, on: date | None = None,
                       expected_version: int | None = None) -> TeamMembership:
    """End the running coordinatorship and start the new one in the same transaction."""
    check_version(case, expected_version)
    if not new_coordinator.has_role(Role.COORDINATOR) or not new_coordinator.active:
        raise InvalidInput("Alleen een actieve MDA++-coördinator kan coördinator van een casus zijn.",
                           field="coordinator")
    on = on or today()
    running = current_coordinator(case)
    if running is not None:
        # A handover, not a first appointment: it needs a current safety plan, as closing does.
        from ..cases.rules import check_handover
        from ..safety.queries import current_plan
        if running.user_id != new_coordinator.id:
            check_handover(current_plan(case, on) is not None)
        if running.user_id == new_coordinator.id:
            raise InvalidTransition("Deze medewerker is al de coördinator van de casus.", field="coordinator")
        running.ended_on = on
        db.session.flush()  # the partial unique index sees the old row end before the new one starts
    membership = TeamMembership(case_id=case.id, user_id=new_coordinator.id,
                                organisation_id=new_coordinator.organisation_id,
                                team_role=TeamRole.COORDINATOR, team_phase=TeamPhase.BASISTEAM,
                                started_on=on, added_by_id=by.id)
    db.session.add(membership)
    touch(case)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="team_membership",
           object_id=membership.id, detail="coördinator gewisseld")
    if running is not None:
        notifications.team_member_removed(running, by=by)
    notifications.team_member_added(membership, by=by)
    return membership


def add_expert(case: Case, expert: User, *, discipline_code: str, team_phase: TeamPhase, by: User,
               on: date | None = None) -> TeamMembership:
    if not expert.has_role(Role.EXPERT) or expert.organisation_id is None:
        raise InvalidInput("Alleen een gedetacheerd expert van een ketenpartner kan als expert "
                           "worden toegevoegd.", field="user")
    membership = TeamMembership(case_id=case.id, user_id=expert.id, organisation_id=expert.organisation_id,
                                team_role=TeamRole.EXPERT, discipline_code=discipline_code,
                                team_phase=team_phase, started_on=on or today(), added_by_id=by.id)
    db.session.add(membership)
    touch(case)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="team_membership",
           object_id=membership.id, detail="expert toegevoegd")
    notifications.team_member_added(membership, by=by)
    return membership


def end_expert_membership(membership: TeamMembership, *, by: User, on: date | None = None) -> None:
    if membership.team_role != TeamRole.EXPERT:
        raise InvalidTransition("De coördinator wordt gewisseld, niet verwijderd: "
                                "een casus heeft altijd één coördinator.")
    membership.ended_on = on or today()
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=membership.case_id, object_type="team_membership",
           object_id=membership.id, detail="expert beëindigd")
    notifications.team_member_removed(membership, by=by)
