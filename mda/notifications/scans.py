"""Time-based notifications: what is due, found by looking at the clock (run by the worker).

Each scan is idempotent: a notification carries its due moment as ``due_key`` and is written
once per recipient, kind, object and due moment, so running a scan every few minutes, or in
two workers at once, notifies each person once per deadline. A changed deadline (an order
extended, a task moved) is a new due moment and notifies again.

To add a scan: write a function here that
finds what is due and calls ``notify`` with a due key, and list it in ``SCANS``.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import func, select

from ..accounts.models import Role, User
from ..cases.models import Case, CaseStatus
from ..db import db
from ..security.policy import Permission
from ..timeutil import today, utcnow
from .events import case_subject, case_team, users_with_role
from .models import NotificationKind as Kind
from .operations import Subject, notify

REACHABILITY_WARNING = timedelta(hours=6)
EXPIRY_WARNING = timedelta(hours=48)
# The mayor decides on an extension before the order ends; the advice of Veilig Thuis and the
# case team has to be in before that, so the coordinator is told four days ahead.
EXTENSION_WARNING = timedelta(days=4)
SAFETY_PLAN_WARNING_DAYS = 7
ERASURE_TERM_MONTHS = 1          # AVG art. 12(3): answer within one month of receipt
ERASURE_WARNING_DAYS = 7
FOLLOW_UP_WARNING_DAYS = 7       # the 12-month follow-up after closure: a week ahead (and while overdue)


def add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in range(day.day, 27, -1):  # 31 January + 1 month is the last day of February
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def erasure_deadline(received_on: date) -> date:
    return add_months(received_on, ERASURE_TERM_MONTHS)


def scan_tasks(now: datetime) -> int:
    from ..journal.models import Task
    day = today()
    written = 0
    rows = db.session.execute(
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(Task.done_at.is_(None), Task.due_on <= day + timedelta(days=1), Case.status == CaseStatus.OPEN)
    ).all()
    for task, case in rows:
        owner = db.session.get(User, task.owner_id)
        kind = Kind.TASK_DUE_TOMORROW if task.due_on == day + timedelta(days=1) else Kind.TASK_OVERDUE
        if kind == Kind.TASK_OVERDUE and task.due_on >= day:
            continue  # due today: neither tomorrow nor overdue yet
        written += len(notify([owner], kind, case_subject(case, "task", task.id),
                              link=f"/casussen/{case.id}/journaal", due_key=task.due_on.isoformat()))
    return written


def scan_house_bans(now: datetime) -> int:
    from ..huisverbod import deadlines
    from ..huisverbod.models import RUNNING_STATUSES, HouseBan, HouseBanStatus
    written = 0
    bans = db.session.scalars(select(HouseBan).where(HouseBan.status.in_(RUNNING_STATUSES),
                                                     HouseBan.ends_at > now)).all()
    for ban in bans:
        case = db.session.get(Case, ban.case_id)
        coordinator = case_team(case, coordinator_only=True)
        subject = case_subject(case, "house_ban", ban.id)
        link = f"/casussen/{case.id}/huisverboden"
        reachability_due = deadlines.reachability_due(ban.imposed_at)
        if ban.reachability_stated_at is None and now < reachability_due <= now + REACHABILITY_WARNING:
            written += len(notify(coordinator, Kind.HOUSE_BAN_REACHABILITY_DUE, subject, link=link,
                                  due_key=reachability_due.isoformat()))
        if ban.ends_at <= now + EXPIRY_WARNING:
            written += len(notify(coordinator, Kind.HOUSE_BAN_EXPIRY_NEAR, subject, link=link,
                                  due_key=ban.ends_at.isoformat()))
        if ban.status == HouseBanStatus.RUNNING and ban.extension_decided_at is None \
                and ban.ends_at <= now + EXTENSION_WARNING:
            written += len(notify(coordinator, Kind.HOUSE_BAN_EXTENSION_PENDING, subject, link=link,
                                  due_key=ban.ends_at.isoformat()))
    return written


def scan_safety_plans(now: datetime) -> int:
    from ..safety.models import SafetyPlan
    day = today()
    latest = (select(SafetyPlan.case_id, func.max(SafetyPlan.id).label("plan_id"))
              .group_by(SafetyPlan.case_id).subquery())
    rows = db.session.execute(
        select(SafetyPlan, Case).join(latest, latest.c.plan_id == SafetyPlan.id)
        .join(Case, Case.id == SafetyPlan.case_id)
        .where(Case.status == CaseStatus.OPEN, SafetyPlan.review_on <= day + timedelta(days=SAFETY_PLAN_WARNING_DAYS))
    ).all()
    written = 0
    for plan, case in rows:
        written += len(notify(case_team(case, coordinator_only=True), Kind.SAFETY_PLAN_REVIEW_DUE,
                              case_subject(case, "safety_plan", plan.id), link=f"/casussen/{case.id}/veiligheid/",
                              due_key=plan.review_on.isoformat()))
    return written


def scan_erasure_requests(now: datetime) -> int:
    from ..lifecycle.models import ErasureRequest, ErasureStatus
    day = today()
    officers = users_with_role(Role.PRIVACY_OFFICER)
    written = 0
    open_requests = db.session.scalars(select(ErasureRequest).where(
        ErasureRequest.status.in_([ErasureStatus.RECEIVED, ErasureStatus.GRANTED]))).all()
    for request in open_requests:
        deadline = erasure_deadline(request.received_on)
        if deadline - day > timedelta(days=ERASURE_WARNING_DAYS):
            continue
        # The privacy officer does not see case files: the notification names the request only.
        written += len(notify(officers, Kind.ERASURE_DEADLINE,
                              Subject("erasure_request", request.id, Permission.AUDIT_VIEW),
                              link=f"/privacy/verzoeken/{request.id}", detail=f"uiterlijk {deadline:%d-%m-%Y}",
                              due_key=deadline.isoformat()))
    return written


def scan_access_requests(now: datetime) -> int:
    """Open access requests (AVG art. 15) whose deadline (one month after receipt, or the extended
    one) is within the register's warning days or past. An extension is a new deadline, so it
    notifies again when that one comes near."""
    from ..lifecycle.access_requests import WARN_DAYS
    from ..lifecycle.models import AccessRequest, AccessRequestStatus
    day = today()
    officers = users_with_role(Role.PRIVACY_OFFICER)
    written = 0
    open_requests = db.session.scalars(select(AccessRequest).where(
        AccessRequest.status == AccessRequestStatus.OPEN,
        func.coalesce(AccessRequest.extended_until, AccessRequest.due_on) <= day + timedelta(days=WARN_DAYS))).all()
    for request in open_requests:
        deadline = request.deadline
        # Like erasure requests: the notification names the request only, never the person or case.
        written += len(notify(officers, Kind.ACCESS_REQUEST_DEADLINE,
                              Subject("access_request", request.id, Permission.AUDIT_VIEW),
                              link=f"/privacy/inzageverzoeken/{request.id}", detail=f"uiterlijk {deadline:%d-%m-%Y}",
                              due_key=deadline.isoformat()))
    return written


def scan_follow_ups(now: datetime) -> int:
    """The follow-up check twelve months after closure (mda.outcomes), still to be recorded and
    due within a week: to whoever directs the case now and the owner of its follow-up task, each
    only if they may still see the case (``notify`` checks). Once per check and due day."""
    from ..journal.models import Task
    from ..outcomes.queries import follow_ups_due
    day = today()
    written = 0
    for check, case in follow_ups_due(select(Case.id), day + timedelta(days=FOLLOW_UP_WARNING_DAYS)):
        recipients = case_team(case, coordinator_only=True)
        task = db.session.get(Task, check.task_id) if check.task_id else None
        if task is not None:
            recipients.append(db.session.get(User, task.owner_id))
        written += len(notify(recipients, Kind.FOLLOW_UP_DUE, case_subject(case, "follow_up_check", check.id),
                              link=f"/casussen/{case.id}/fasen", detail=f"uiterlijk {check.due_on:%d-%m-%Y}",
                              due_key=check.due_on.isoformat()))
    return written


SCANS: tuple[Callable[[datetime], int], ...] = (scan_tasks, scan_house_bans, scan_safety_plans,
                                                scan_erasure_requests, scan_access_requests,
                                               scan_follow_ups)


def run_scans(now: datetime | None = None) -> int:
    now = now or utcnow()
    return sum(scan(now) for scan in SCANS)
