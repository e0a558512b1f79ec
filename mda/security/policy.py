"""Who may do what: the one place that answers it.

Every view declares the permission it needs with ``@requires``; a view without
a declaration is refused (deny by default). Object-level checks (is this user
on this case, is this referral from their organisation) live here too, so
templates and views never decide access themselves.
"""
from __future__ import annotations

import enum
import inspect
from functools import cache, wraps
from typing import Any, Callable, TypeVar

from flask import abort, current_app, g
from flask_login import current_user
from sqlalchemy import Select, bindparam, event as sa_event, false, or_, select
from sqlalchemy.orm import Session

from ..accounts.models import Role, User
from ..cases.models import Case
from ..db import db
from ..notifications.models import Notification
from ..referrals.models import Referral, ReferralStatus
from ..teams.models import TeamMembership, TeamRole
from ..timeutil import today


class Permission(str, enum.Enum):
    SIGNED_IN = "signed-in"                  # any signed-in account: home page, own session
    CASELOAD_OWN = "caseload:own"            # the list of one's own cases
    CASELOAD_ALL = "caseload:all"            # the whole caseload (team lead)
    CASE_VIEW = "case:view"                  # a case file and its personal data
    CASE_EDIT = "case:edit"                  # journal, tasks, assessments: every member of the case
    CASE_DIRECT = "case:direct"              # casusregie: phase, AVE, close/reopen, safety plan, label, huisverbod,
    #                                          the client system (persons, relations) and the family's participation
    CASE_MANAGE_TEAM = "case:manage-team"    # coordinator and experts of a case
    REFERRAL_CREATE = "referral:create"
    REFERRAL_EDIT = "referral:edit"          # a draft of one's own organisation
    REFERRAL_VIEW = "referral:view"
    REFERRAL_TRIAGE = "referral:triage"
    CONSULTATION_RECORD = "consultation:record"
    HOUSE_BANS_OVERVIEW = "house-bans:overview"
    API_TOKENS_MANAGE = "api-tokens:manage"
    METRICS_VIEW = "metrics:view"            # published releases of the steering information
    METRICS_LIVE = "metrics:live"            # live figures for any period (team lead, not steering)
    AUDIT_VIEW = "audit:view"
    USERS_MANAGE = "users:manage"
    REFERENCE_MANAGE = "reference:manage"
    SEARCH = "search"                        # the search box: within what the user may see


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.COORDINATOR: frozenset({P.SIGNED_IN, P.CASELOAD_OWN, P.CASE_VIEW, P.CASE_EDIT, P.CASE_DIRECT,
                                 P.CASE_MANAGE_TEAM,
                                 P.CONSULTATION_RECORD, P.HOUSE_BANS_OVERVIEW, P.SEARCH}),
    Role.TEAM_LEAD: frozenset({P.SIGNED_IN, P.CASELOAD_OWN, P.CASELOAD_ALL, P.CASE_VIEW, P.CASE_MANAGE_TEAM,
                               P.REFERRAL_VIEW, P.REFERRAL_TRIAGE, P.METRICS_VIEW, P.METRICS_LIVE,
                               P.CONSULTATION_RECORD,
                               P.HOUSE_BANS_OVERVIEW, P.SEARCH}),
    Role.EXPERT: frozenset({P.SIGNED_IN, P.CASELOAD_OWN, P.CASE_VIEW, P.CASE_EDIT, P.SEARCH}),
    Role.VT_REFERRER: frozenset({P.SIGNED_IN, P.REFERRAL_CREATE, P.REFERRAL_EDIT, P.REFERRAL_VIEW, P.SEARCH}),
    Role.STEERING: frozenset({P.SIGNED_IN, P.METRICS_VIEW}),
    Role.ADMIN: frozenset({P.SIGNED_IN, P.USERS_MANAGE, P.REFERENCE_MANAGE, P.API_TOKENS_MANAGE}),
    Role.PRIVACY_OFFICER: frozenset({P.SIGNED_IN, P.AUDIT_VIEW}),
}

CASE_PERMISSIONS = frozenset({P.CASE_VIEW, P.CASE_EDIT, P.CASE_DIRECT, P.CASE_MANAGE_TEAM})


def role_grants(user: User, permission: Permission) -> bool:
    return user.active and any(permission in ROLE_PERMISSIONS[role] for role in user.role_set)


_MEMBERSHIPS_SEEN = "mda.policy.memberships"


def granted_without_target(user: User | None) -> frozenset[str]:
    """The codes of every permission ``may(user, permission)`` grants without a target: the main
    menu's, as one set that names the menu (mda.web.main_menu remembers the menu per set)."""
    if user is None or not user.active:
        return frozenset()
    return frozenset(permission.value for role in user.role_set for permission in ROLE_PERMISSIONS[role]
                     if permission not in CASE_PERMISSIONS)


def running_team_role(user: User, case: Case) -> TeamRole | None:
    """The role of the user's assignment to the case that runs today; an ended one grants nothing.
    Only the role decides (``_membership_grants``), so only the role is read, not the whole row.

    A page asks this several times for the same case (the guard, what the page offers, the note on
    casusregie): the answer is kept in the session while nothing changes in it. It is asked again
    when the session holds unflushed changes (the query flushes them first, so a change of the team
    in the same request is always seen), and forgotten after every flush and at the end of the
    transaction (``_forget_memberships``)."""
    day = today()
    session = db.session
    seen = session.info.setdefault(_MEMBERSHIPS_SEEN, {})
    key = (user.id, case.id, day)
    if key not in seen or session.new or session.dirty or session.deleted:
        seen[key] = db.read(_running_team_role_statement(),
                            {"case_id": case.id, "user_id": user.id, "day": day}).scalars().first()
    return seen[key]


@cache
def _running_team_role_statement() -> Select:
    """Built once with its values as parameters: every case page asks it (a new statement per
    request cost more to build than to run)."""
    day = bindparam("day")
    return (select(TeamMembership.team_role).where(
        TeamMembership.case_id == bindparam("case_id"), TeamMembership.user_id == bindparam("user_id"),
        TeamMembership.started_on <= day, (TeamMembership.ended_on.is_(None)) | (TeamMembership.ended_on > day))
        .order_by(TeamMembership.team_role))  # 'coordinator' sorts before 'expert'


@sa_event.listens_for(Session, "after_flush")
@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_memberships(session: Session, *_: Any) -> None:
    session.info.pop(_MEMBERSHIPS_SEEN, None)


def may(user: User | None, permission: Permission, target: Any = None) -> bool:
    """The single answer to "may this user do this, on this object?"."""
    if user is None or not role_grants(user, permission):
        return False
    if isinstance(target, Case):
        return _may_on_case(user, permission, target)
    if isinstance(target, Referral):
        return _may_on_referral(user, permission, target)
    if isinstance(target, Notification):
        return permission == P.SIGNED_IN and target.recipient_id == user.id  # one's own inbox only
    if permission in CASE_PERMISSIONS:
        return False  # a case permission always needs its case
    return target is None


def _may_on_case(user: User, permission: Permission, case: Case) -> bool:
    if permission not in CASE_PERMISSIONS:
        return False
    if user.has_role(Role.TEAM_LEAD) and permission in (P.CASE_VIEW, P.CASE_MANAGE_TEAM):
        return True
    return _membership_grants(user, permission, running_team_role(user, case))


def may_each(user: User | None, permission: Permission, cases: list[Case]) -> list[bool]:
    """``may(user, permission, case)`` for each of many cases (the hits of a search), the same rules
    with one query for the user's running memberships instead of one per case."""
    if not cases:
        return []
    if user is None or not role_grants(user, permission) or permission not in CASE_PERMISSIONS:
        return [False] * len(cases)
    if user.has_role(Role.TEAM_LEAD) and permission in (P.CASE_VIEW, P.CASE_MANAGE_TEAM):
        return [True] * len(cases)
    day = today()
    first: dict[int, TeamRole] = {}
    for case_id, team_role in db.session.execute(select(TeamMembership.case_id, TeamMembership.team_role).where(
            TeamMembership.case_id.in_([case.id for case in cases]), TeamMembership.user_id == user.id,
            TeamMembership.started_on <= day,
            (TeamMembership.ended_on.is_(None)) | (TeamMembership.ended_on > day))
            .order_by(TeamMembership.team_role)):  # as running_team_role: the coordinator's first
        first.setdefault(case_id, team_role)
    return [_membership_grants(user, permission, first.get(case.id)) for case in cases]


def _membership_grants(user: User, permission: Permission, team_role: TeamRole | None) -> bool:
    if team_role is None:
        return False
    if team_role == TeamRole.COORDINATOR:
        return user.has_role(Role.COORDINATOR)
    # Casusregie stays with the coordinator: a seconded expert adds journal entries, tasks and
    # assessments in their field and sees the rest (never CASE_DIRECT: not the persons of the client
    # system nor the family's participation either).
    return user.has_role(Role.EXPERT) and permission in (P.CASE_VIEW, P.CASE_EDIT)


def _may_on_referral(user: User, permission: Permission, referral: Referral) -> bool:
    if user.has_role(Role.TEAM_LEAD) and permission in (P.REFERRAL_VIEW, P.REFERRAL_TRIAGE) \
            and referral.status != ReferralStatus.DRAFT:
        return True  # a draft is Veilig Thuis's own until it is submitted
    # Veilig Thuis sees the referrals of its own organisation, never the case behind them,
    # and edits them only while they are drafts.
    own = (user.has_role(Role.VT_REFERRER) and user.organisation_id is not None
           and referral.organisation_id == user.organisation_id)
    if permission == P.REFERRAL_EDIT:
        return own and referral.status == ReferralStatus.DRAFT
    return own and permission == P.REFERRAL_VIEW


def viewable_case_ids(user: User | None) -> Any:
    """A SELECT of the ids of every case ``may(user, CASE_VIEW, case)`` allows, for reads over many
    cases (search). The same rules as ``_may_on_case``: the team lead every case; otherwise a running
    membership, as coordinator with the coordinator role or as expert with the expert role."""
    if user is None or not role_grants(user, P.CASE_VIEW):
        return select(Case.id).where(false())
    if user.has_role(Role.TEAM_LEAD):
        return select(Case.id)
    day = today()
    allowed_roles = [team_role for team_role, role in ((TeamRole.COORDINATOR, Role.COORDINATOR),
                                                       (TeamRole.EXPERT, Role.EXPERT)) if user.has_role(role)]
    return select(TeamMembership.case_id).where(
        TeamMembership.user_id == user.id, TeamMembership.team_role.in_(allowed_roles),
        TeamMembership.started_on <= day,
        (TeamMembership.ended_on.is_(None)) | (TeamMembership.ended_on > day))


def viewable_referral_ids(user: User | None) -> Any:
    """A SELECT of the ids of every referral ``may(user, REFERRAL_VIEW, referral)`` allows."""
    if user is None or not role_grants(user, P.REFERRAL_VIEW):
        return select(Referral.id).where(false())
    conditions = []
    if user.has_role(Role.TEAM_LEAD):
        conditions.append(Referral.status != ReferralStatus.DRAFT)
    if user.has_role(Role.VT_REFERRER) and user.organisation_id is not None:
        conditions.append(Referral.organisation_id == user.organisation_id)
    return select(Referral.id).where(or_(*conditions) if conditions else false())


def current_account() -> User | None:
    # Resolved once: each attribute read through the current_user proxy looks the user up again,
    # and a page asks this some forty times (the guard, the views, ``can`` in its templates).
    user = current_user._get_current_object()
    return user.account if user.is_authenticated else None


View = TypeVar("View", bound=Callable[..., Any])


def requires(permission: Permission, load: Callable[..., Any] | None = None) -> Callable[[View], View]:
    """Declare what a view needs. With ``load``, the view's URL arguments are turned into the
    target object first; a missing object, or one the user may not see, answers 404 so that
    ids cannot be probed. The loaded object is passed to the view as ``target``."""

    load_arguments = frozenset(inspect.signature(load).parameters) if load else frozenset()

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(**kwargs: Any) -> Any:
            account = current_account()
            if load is None:
                if not may(account, permission):
                    abort(403)
                return view(**kwargs)
            target = load(**{name: value for name, value in kwargs.items() if name in load_arguments})
            if target is None or not may(account, permission, target):
                _record_refusal(account, target)
                abort(404)
            g.access_target = target
            return view(target=target, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def _record_refusal(account: User | None, target: Any) -> None:
    """A refused attempt on an existing case is audited in its own transaction: the request
    itself is rolled back, but probing must still leave a trace."""
    if not isinstance(target, (Case, Referral)):
        return
    from ..audit.models import AuditAction, AuditOutcome
    from ..audit.trail import record
    session = db.new_session_for(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        record(AuditAction.READ, by=account, outcome=AuditOutcome.DENIED, session=session,
               case_id=target.id if isinstance(target, Case) else target.case_id,
               object_type="case" if isinstance(target, Case) else "referral", object_id=target.id)
        session.commit()
    finally:
        session.close()


def declared_permission(view: Callable[..., Any]) -> Permission | None:
    return getattr(view, "required_permission", None)
