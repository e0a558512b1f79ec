"""The start page's items, gathered from each area's queries and put in order of urgency.

Every source is limited to what the policy lets the user see: a coordinator's and an expert's
items come from the cases they are on today (``member_case_ids``), huisverbod deadlines from
``running_orders_for`` (the coordinator of the case; the team lead for all), the team lead's
lists from permissions only the team lead holds. Veilig Thuis sees decisions on its own
organisation's referrals. Nothing of a case the user may not see can therefore appear.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import Select, bindparam, select

from ..accounts.models import User
from ..cases.models import Case
from ..db import db
from ..security.policy import Permission, may
from ..timeutil import AMSTERDAM, today, utcnow

TASK_HORIZON_DAYS = 7       # tasks due within a week
PLAN_HORIZON_DAYS = 7       # safety plans whose evaluation is within a week (or past)
NEW_CASE_DAYS = 7           # cases the user joined in the last week
FOLLOW_UP_HORIZON_DAYS = 7  # follow-up checks after closure due within a week (or past)
TRIAGE_LIMIT = 50
DECISION_LIMIT = 50

# Urgency groups, most urgent first; the start page shows them in this order.
OVERDUE, SOON, THIS_WEEK, NEW = 0, 1, 2, 3
GROUP_TITLES = {OVERDUE: "Te laat", SOON: "Binnen 48 uur", THIS_WEEK: "Deze week", NEW: "Nieuw voor u"}


@dataclass(frozen=True)
class WorkItem:
    group: int                       # OVERDUE, SOON, THIS_WEEK or NEW
    due: datetime                    # orders within the group (UTC)
    kind: str                        # a short Dutch kind: "Taak", "Huisverbod", ...
    title: str                       # what is due; a task's own title is personal data (shown, never logged)
    when: str                        # as shown, on the Dutch clock
    endpoint: str
    url_args: dict[str, Any] = field(default_factory=dict)
    case: Case | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def _nl_day(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def _group_for_day(day: date, now_day: date) -> int:
    if day < now_day:
        return OVERDUE
    return SOON if day <= now_day + timedelta(days=1) else THIS_WEEK


def task_items(user: User, day: date) -> list[WorkItem]:
    from ..cases.queries import member_case_ids
    from ..journal.queries import tasks_owned_by
    items = []
    for task, case in tasks_owned_by(user, member_case_ids(user, day),
                                     due_until=day + timedelta(days=TASK_HORIZON_DAYS)):
        items.append(WorkItem(_group_for_day(task.due_on, day), _day_start(task.due_on), "Taak",
                              task.description or "Taak zonder titel", _nl_day(task.due_on),
                              "journal.index", {"case_id": case.id}, case))
    return items


def house_ban_items(user: User, now: datetime, *, own_only: bool = True) -> list[WorkItem]:
    """Deadlines within 48 hours of the orders the user answers for: with ``own_only`` those of the
    cases they coordinate, otherwise (the team lead's list) of every case. Experts get none: a
    huisverbod's deadlines are the coordinator's (and the team lead's), as on the caseload."""
    from ..cases.queries import member_case_ids
    from ..db import db
    from ..huisverbod.deadlines import format_local
    from ..huisverbod.queries import deadlines_within
    found = deadlines_within(user, now=now)
    if own_only and found:
        coordinated = set(db.session.scalars(member_case_ids(user, coordinating_only=True)))
        found = [item for item in found if item.ban.case_id in coordinated]
    return [WorkItem(OVERDUE if item.overdue else SOON, item.due_at, "Huisverbod", item.label,
                     format_local(item.due_at), "huisverbod.case_orders", {"case_id": item.ban.case_id},
                     item.ban.case)
            for item in found]


def safety_plan_items(user: User, day: date) -> list[WorkItem]:
    from ..cases.queries import member_case_ids
    from ..safety.queries import plans_due_for_review
    items = []
    for case, plan in plans_due_for_review(member_case_ids(user, day), day + timedelta(days=PLAN_HORIZON_DAYS)):
        title = ("Evaluatie veiligheidsplan verstreken" if plan.review_on < day else "Evaluatie veiligheidsplan")
        items.append(WorkItem(_group_for_day(plan.review_on, day), _day_start(plan.review_on), "Veiligheidsplan",
                              title, _nl_day(plan.review_on), "safety.index", {"case_id": case.id}, case))
    return items


def new_case_items(user: User, day: date) -> list[WorkItem]:
    from ..cases.queries import newly_assigned
    return [WorkItem(NEW, _day_start(membership.started_on), "Nieuwe casus",
                     "Aan u toegewezen als " + ("coördinator" if membership.team_role.value == "coordinator"
                                                else "expert"), _nl_day(membership.started_on),
                     "cases.detail", {"case_id": case.id}, case)
            for case, membership in newly_assigned(user, day - timedelta(days=NEW_CASE_DAYS), day)]


def follow_up_check_items(user: User, day: date) -> list[WorkItem]:
    """The follow-up checks twelve months after closure (issue 14) of the cases the user is on that
    are due within a week or overdue, linking to the case's status tab where they are recorded."""
    from ..cases.queries import member_case_ids
    from ..outcomes.queries import follow_ups_due
    items = []
    for check, case in follow_ups_due(member_case_ids(user, day), day + timedelta(days=FOLLOW_UP_HORIZON_DAYS)):
        if not may(user, Permission.CASE_VIEW, case):
            continue  # on the case, but not in a role that lets them see it
        title = "Follow-up na afsluiting verstreken" if check.due_on < day else "Follow-up na afsluiting"
        items.append(WorkItem(_group_for_day(check.due_on, day), _day_start(check.due_on), "Follow-up",
                              title, _nl_day(check.due_on), "cases.track", {"case_id": case.id}, case))
    return items


# Each source of a coordinator's or expert's items: one per area, asked in turn.
MEMBER_SOURCES: list[Callable[[User, date, datetime], list[WorkItem]]] = [
    lambda user, day, now: task_items(user, day),
    lambda user, day, now: house_ban_items(user, now),
    lambda user, day, now: safety_plan_items(user, day),
    lambda user, day, now: new_case_items(user, day),
    lambda user, day, now: follow_up_check_items(user, day),
]


@dataclass
class StartPage:
    items: list[WorkItem] = field(default_factory=list)          # coordinator / expert, by urgency
    triage: list[Any] | None = None                              # team lead: referrals waiting
    triage_total: int = 0
    house_bans: list[WorkItem] | None = None                     # team lead: all cases' deadlines
    overdue_cases: list[Any] | None = None                       # team lead: cases with overdue work
    overdue_total: int = 0
    decisions: list[Any] | None = None                           # Veilig Thuis: decisions since last visit
    decisions_since: datetime | None = None

    def groups(self) -> list[tuple[str, list[WorkItem]]]:
        ordered = sorted(self.items, key=lambda item: (item.group, item.due, item.kind))
        return [(GROUP_TITLES[group], [item for item in ordered if item.group == group])
                for group in GROUP_TITLES if any(item.group == group for item in ordered)]

    def shown_cases(self) -> list[Case]:
        """Every case whose label or task title the page shows, once: for the read audit."""
        seen: dict[int, Case] = {}
        for item in [*self.items, *(self.house_bans or [])]:
            if item.case is not None:
                seen.setdefault(item.case.id, item.case)
        for row in self.overdue_cases or []:
            seen.setdefault(row.case.id, row.case)
        return list(seen.values())


def start_page_for(user: User, now: datetime | None = None) -> StartPage:
    now = now or utcnow()
    day = today()
    page = StartPage()
    if may(user, Permission.CASELOAD_OWN):
        for source in MEMBER_SOURCES:
            page.items.extend(source(user, day, now))
    if may(user, Permission.CASELOAD_ALL):
        from ..cases.queries import cases_with_overdue_work
        from ..referrals.queries import triage_count, triage_queue_by_urgency
        page.triage = triage_queue_by_urgency(TRIAGE_LIMIT)
        page.triage_total = triage_count()
        page.house_bans = house_ban_items(user, now, own_only=False)
        page.overdue_cases, page.overdue_total = cases_with_overdue_work(day)
    if may(user, Permission.REFERRAL_CREATE):
        from ..referrals.queries import decisions_since
        page.decisions_since = user.previous_login_at
        page.decisions = decisions_since(user.organisation_id, user.previous_login_at, DECISION_LIMIT)
    return page


def header_counts(user: User | None) -> dict[str, int]:
    """The numbers in the page header: unread notifications, referrals waiting for triage and the
    user's open tasks, each asked of its own area and read in one query (every page shows them)."""
    if user is None:
        return {}
    parts = ("unread",)
    if may(user, Permission.REFERRAL_TRIAGE):
        parts += ("triage",)
    if may(user, Permission.CASELOAD_OWN):
        parts += ("tasks",)
    row = db.read(_header_counts_statement(parts), {"user_id": user.id, "day": today()}).one()
    return {name: value or 0 for name, value in row._mapping.items()}


@functools.cache
def _header_counts_statement(parts: tuple[str, ...]) -> Select:
    """The header's counting query for this combination of parts, built once with the user and the
    day as parameters: every page runs it, and building it anew cost more than running it."""
    from ..cases.queries import member_case_ids_query
    from ..journal.queries import count_tasks_owned_by_query
    from ..notifications.queries import unread_count_query
    from ..referrals.queries import triage_count_query
    user_id, day = bindparam("user_id"), bindparam("day")
    builders = {"unread": lambda: unread_count_query(user_id),
                "triage": triage_count_query,
                "tasks": lambda: count_tasks_owned_by_query(user_id, member_case_ids_query(user_id, day))}
    return select(*(builders[name]().scalar_subquery().label(name) for name in parts))
