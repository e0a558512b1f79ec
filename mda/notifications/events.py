"""The events that notify, called by the domain operations in their own transaction.

Each function names who needs to know; ``operations.notify`` then keeps only those who may
see the subject. Links are paths of ids (never names), resolved when the user opens them.
"""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import Role, User, UserRole
from ..cases.models import Case
from ..db import db
from ..security.policy import Permission
from ..timeutil import today
from .models import NotificationKind as Kind
from .operations import Subject, notify


def users_with_role(role: Role, *, organisation_id: int | None = None) -> list[User]:
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == role, User.active.is_(True)).order_by(User.id))
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(db.session.scalars(query).unique())


def case_team(case: Case, *, coordinator_only: bool = False) -> list[User]:
    from ..teams.models import TeamMembership, TeamRole
    day = today()
    query = (select(User).join(TeamMembership, TeamMembership.user_id == User.id)
             .where(TeamMembership.case_id == case.id, TeamMembership.started_on <= day,
                    (TeamMembership.ended_on.is_(None)) | (TeamMembership.ended_on > day))
             .order_by(TeamMembership.team_role, User.id))
    if coordinator_only:
        query = query.where(TeamMembership.role_is(TeamRole.COORDINATOR))
    return list(db.session.scalars(query).unique())


def case_subject(case: Case, object_type: str, object_id: int) -> Subject:
    return Subject(object_type, object_id, Permission.CASE_VIEW, target=case, case=case)


# --- referrals --------------------------------------------------------------------------------

def referral_submitted(referral) -> None:  # noqa: ANN001 - a Referral (imported lazily by its caller)
    from ..referrals.models import Urgency
    kind = Kind.REFERRAL_CRISIS if referral.urgency == Urgency.CRISIS else Kind.REFERRAL_SUBMITTED
    notify(users_with_role(Role.TEAM_LEAD), kind,
           Subject("referral", referral.id, Permission.REFERRAL_TRIAGE, target=referral),
           link=f"/triage/{referral.id}")


def referral_decided(referral, coordinator: User | None = None) -> None:  # noqa: ANN001
    detail = referral.status.label
    if coordinator is not None:
        # The coordinator's name is for the app only; e-mails never carry it.
        detail += f"; coördinator: {coordinator.display_name}"
    notify(users_with_role(Role.VT_REFERRER, organisation_id=referral.organisation_id), Kind.REFERRAL_DECIDED,
           Subject("referral", referral.id, Permission.REFERRAL_VIEW, target=referral),
           link=f"/verwijzingen/{referral.id}", detail=detail)


# --- the case team ----------------------------------------------------------------------------

def team_member_added(membership, by: User) -> None:  # noqa: ANN001 - a TeamMembership
    if membership.user_id == by.id:
        return
    case = db.session.get(Case, membership.case_id)
    notify([db.session.get(User, membership.user_id)], Kind.TEAM_ADDED,
           case_subject(case, "team_membership", membership.id), link=f"/casussen/{case.id}",
           detail=membership.team_role.label)


def team_member_removed(membership, by: User) -> None:  # noqa: ANN001 - a TeamMembership
    """The former member may no longer see the case, so this names no case and links nowhere in it."""
    if membership.user_id == by.id:
        return
    notify([db.session.get(User, membership.user_id)], Kind.TEAM_REMOVED,
           Subject("team_membership", membership.id, Permission.SIGNED_IN), link="/meldingen/",
           detail=membership.team_role.label)


# --- tasks ------------------------------------------------------------------------------------

def task_assigned(task, by: User) -> None:  # noqa: ANN001 - a Task
    if task.owner_id == by.id:
        return
    case = db.session.get(Case, task.case_id)
    notify([db.session.get(User, task.owner_id)], Kind.TASK_ASSIGNED, case_subject(case, "task", task.id),
           link=f"/casussen/{case.id}/journaal")


# --- huisverbod -------------------------------------------------------------------------------

def house_ban_ended(ban) -> None:  # noqa: ANN001 - a HouseBan
    case = db.session.get(Case, ban.case_id)
    notify(case_team(case), Kind.HOUSE_BAN_ENDED, case_subject(case, "house_ban", ban.id),
           link=f"/casussen/{case.id}/huisverboden", detail=ban.status.label,
           due_key=f"ended:{ban.id}")
