"""Reads for the deadlines view, the alerts on the caseload and the case file, and the
timeline of one order. Nothing here decrypts, and no alert text carries personal data."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..cases.models import Case
from ..db import db
from ..security.policy import Permission, may
from ..timeutil import AMSTERDAM, today, utcnow
from . import deadlines
from .deadlines import format_local, format_remaining
from .models import RUNNING_STATUSES, HouseBan, HouseBanEventKind, HouseBanStatus, OrderForm


# ---------------------------------------------------------------------------------------------
# Flags of a running order

@dataclass(frozen=True)
class Flag:
    code: str       # expires_soon | extension_undecided | reachability_overdue | not_written_up
    text: str       # short Dutch text, no personal data
    urgent: bool    # shown as danger, otherwise as warning


def flags_of(ban: HouseBan, now: datetime) -> list[Flag]:
    """What needs attention on an order that runs at ``now``."""
    if not ban.is_running_at(now):
        return []
    flags = []
    remaining = ban.ends_at - now
    if remaining <= deadlines.URGENT_WINDOW:
        flags.append(Flag("expires_soon", f"Huisverbod loopt af binnen 48 uur ({format_local(ban.ends_at)})", True))
    if ban.status == HouseBanStatus.RUNNING and ban.extension_decided_at is None:
        flags.append(Flag("extension_undecided",
                          f"Verlenging huisverbod: nog geen besluit (vóór {format_local(ban.ends_at)})",
                          remaining <= deadlines.URGENT_WINDOW))
    if ban.reachability_stated_at is None and now >= deadlines.reachability_due(ban.imposed_at):
        flags.append(Flag("reachability_overdue", "Bereikbaarheid uithuisgeplaatste niet binnen 24 uur opgegeven",
                          True))
    if ban.form == OrderForm.ORAL and ban.written_up_at is None:
        flags.append(Flag("not_written_up", "Mondeling huisverbod nog niet op schrift gesteld", False))
    return flags


@dataclass(frozen=True)
class OrderRow:
    """One running order in the deadlines view: no names, only the case reference."""

    ban: HouseBan
    case_reference: str
    municipality: str
    remaining: timedelta
    flags: list[Flag]

    @property
    def ends_at(self) -> datetime:
        return self.ban.ends_at

    @property
    def remaining_text(self) -> str:
        return format_remaining(self.remaining)

    @property
    def expires_soon(self) -> bool:
        return any(flag.code == "expires_soon" for flag in self.flags)

    @property
    def extension_undecided(self) -> bool:
        return any(flag.code == "extension_undecided" for flag in self.flags)

    @property
    def reachability_overdue(self) -> bool:
        return any(flag.code == "reachability_overdue" for flag in self.flags)

    @property
    def urgent(self) -> bool:
        return any(flag.urgent for flag in self.flags)


def _running(now: datetime):  # noqa: ANN202 - a SQL expression
    return HouseBan.status.in_(RUNNING_STATUSES) & (HouseBan.ends_at > now) & (HouseBan.imposed_at <= now)


def _coordinated_by(user: User, day: date):  # noqa: ANN202 - a SQL expression
    return _coordinated_by_id(user.id, day)


def _coordinated_by_id(user_id: Any, day: Any):  # noqa: ANN202 - a SQL expression; values or bindparams
    from ..cases.queries import member_case_ids_query  # the cases the user coordinates, as the caseload reads them
    return member_case_ids_query(user_id, day, coordinating_only=True)


def running_orders_for(user: User, now: datetime | None = None) -> list[OrderRow]:
    """Running orders the user answers for, least time left first: a team lead sees all of
    them, a coordinator those on the cases they coordinate now, anyone else none."""
    now = now or utcnow()
    if not may(user, Permission.HOUSE_BANS_OVERVIEW):
        return []
    query = (select(HouseBan).where(_running(now))
             .options(selectinload(HouseBan.case).selectinload(Case.municipality),
                      selectinload(HouseBan.municipality))
             .order_by(HouseBan.ends_at, HouseBan.id))
    if not may(user, Permission.CASELOAD_ALL):
        query = query.where(HouseBan.case_id.in_(_coordinated_by(user, today())))
    return [OrderRow(ban=ban, case_reference=ban.case.reference, municipality=ban.municipality.name,
                     remaining=ban.ends_at - now, flags=flags_of(ban, now))
            for ban in db.session.scalars(query)]


def alerts_for_cases(case_ids: Iterable[int], *, for_user: User | None = None,
                     now: datetime | None = None) -> dict[int, list[str]]:
    """Short Dutch alert texts per case, for the caseload and the case file.

    With ``for_user``, only the cases that user coordinates now (or all, for a team lead):
    so the caseload alerts the coordinator of the case and nobody else on it.
    """
    now = now or utcnow()
    return _alerts_of(_running_orders_of(list(case_ids), for_user, now), now)


def _running_orders_of(case_ids: list[int], for_user: User | None, now: datetime) -> list[HouseBan]:
    """The running orders of these cases, least time left first; with ``for_user`` only those of the
    cases that user coordinates now (or all, for a team lead)."""
    if not case_ids:
        return []
    coordinated_only = for_user is not None and not may(for_user, Permission.CASELOAD_ALL)
    values = {"case_ids": case_ids, "now": now}
    if coordinated_only:
        values.update(user_id=for_user.id, day=today())
    return list(db.session.scalars(_running_orders_statement(coordinated_only), values))


@functools.cache
def _running_orders_statement(coordinated_only: bool) -> Select:
    """Built once with its values as parameters: the caseload and every case file ask it."""
    query = (select(HouseBan)
             .where(_running(bindparam("now")), HouseBan.case_id.in_(bindparam("case_ids", expanding=True)))
             .order_by(HouseBan.ends_at))
    if coordinated_only:
        query = query.where(HouseBan.case_id.in_(_coordinated_by_id(bindparam("user_id"), bindparam("day"))))
    return query


def _alerts_of(bans: list[HouseBan], now: datetime) -> dict[int, list[str]]:
    alerts: dict[int, list[str]] = {}
    for ban in bans:
        texts = [flag.text for flag in flags_of(ban, now)]
        if texts:
            alerts.setdefault(ban.case_id, []).extend(texts)
    return alerts


# ---------------------------------------------------------------------------------------------
# The orders of one case and their timeline

def orders_of_case(case: Case) -> list[HouseBan]:
    return list(db.session.scalars(
        select(HouseBan).where(HouseBan.case_id == case.id)
        .options(selectinload(HouseBan.protected), selectinload(HouseBan.events),
                 selectinload(HouseBan.appeals), selectinload(HouseBan.breaches))
        .order_by(HouseBan.imposed_at.desc(), HouseBan.id.desc())))


@dataclass
class TimelineItem:
    moment: datetime            # for ordering; a date-only item sorts at the start of its day
    label: str
    kind: str                   # "event" or "deadline"
    state: str = "done"         # done | upcoming | due_soon | overdue | met
    when: str = ""              # as shown: dd-mm-jjjj HH:MM, or dd-mm-jjjj for a date
    who: str | None = None
    note: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _day_start(day: date) -> datetime:
    return deadlines.local_to_utc(datetime(day.year, day.month, day.day))


def _deadline(moment: datetime, label: str, now: datetime, *, active: bool, met_at: datetime | None = None,
              when: str | None = None, note: str | None = None) -> TimelineItem:
    """A computed deadline. ``met_at``: when it was met (on time or late); ``active``: whether
    it still matters (an order that has ended has no open deadlines)."""
    if met_at is not None:
        state = "met" if met_at <= moment else "late"
    elif not active:
        state = "done"
    elif moment <= now:
        state = "overdue"
    elif moment - now <= deadlines.URGENT_WINDOW:
        state = "due_soon"
    else:
        state = "upcoming"
    return TimelineItem(moment=moment, label=label, kind="deadline", state=state,
                        when=when or format_local(moment), note=note)


_RETRACTED_BY = {HouseBanEventKind.EXTENDED: "Herzien: het huisverbod was vóór dit einde verlengd (later vastgelegd)",
                 HouseBanEventKind.WITHDRAWN: "Herzien: het huisverbod was vóór dit einde ingetrokken (later "
                                              "vastgelegd)"}


def _retracted_expiries(ban: HouseBan) -> dict[int, str]:
    """Ids of ``expired`` events that a later ``expiry_retracted`` event took back, each with why:
    the decision recorded with the retraction (an extension or a withdrawal)."""
    retracted: dict[int, str] = {}
    pending: list[int] = []
    taken_back: list[int] = []
    for event in sorted(ban.events, key=lambda e: e.id or 0):
        if event.kind == HouseBanEventKind.EXPIRED:
            pending.append(event.id)
        elif event.kind == HouseBanEventKind.EXPIRY_RETRACTED:
            taken_back, pending = taken_back + pending, []
        elif taken_back and event.kind in _RETRACTED_BY:
            retracted.update(dict.fromkeys(taken_back, _RETRACTED_BY[event.kind]))
            taken_back = []
    retracted.update(dict.fromkeys(taken_back, _RETRACTED_BY[HouseBanEventKind.EXTENDED]))
    return retracted


def timeline(ban: HouseBan, now: datetime | None = None) -> list[TimelineItem]:
    """The events of an order and its computed deadlines, in time order."""
    now = now or utcnow()
    d = deadlines.Deadlines.of(ban.imposed_at, ban.ends_at)
    running = ban.is_running_at(now)
    items: list[TimelineItem] = []

    retracted = _retracted_expiries(ban)
    end_in_force: datetime | None = None
    for event in sorted(ban.events, key=lambda e: e.id or 0):  # in the order they were recorded
        who = event.recorded_by.display_name if event.recorded_by is not None else "Systeem"
        late = None
        if event.kind == HouseBanEventKind.EXTENDED and end_in_force is not None \
                and event.recorded_at >= end_in_force:
            late = (f"Achteraf vastgelegd: besloten vóór het toenmalige einde ({format_local(end_in_force)}), "
                    f"vastgelegd op {format_local(event.recorded_at)}")
        if event.kind == HouseBanEventKind.WITHDRAWN and end_in_force is not None \
                and event.recorded_at >= end_in_force:
            late = (f"Achteraf vastgelegd: ingetrokken vóór het toenmalige einde ({format_local(end_in_force)}), "
                    f"vastgelegd op {format_local(event.recorded_at)}")
        if event.kind in (HouseBanEventKind.IMPOSED, HouseBanEventKind.EXTENDED) and event.new_end is not None:
            end_in_force = event.new_end
        if event.id in retracted:
            late = retracted[event.id]
        note_parts = [part for part in (event.decided_by and f"Besluit: {event.decided_by.label}",
                                        event.new_end and f"Einde: {format_local(event.new_end)}",
                                        late, event.note) if part]
        # An appeal is known by its date only.
        when = (event.occurred_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y")
                if event.kind == HouseBanEventKind.APPEAL_FILED else format_local(event.occurred_at))
        items.append(TimelineItem(moment=event.occurred_at, label=event.kind.label, kind="event", when=when, who=who,
                                  note="; ".join(note_parts) or None,
                                  extra={"recorded": format_local(event.recorded_at)}))

    items.append(_deadline(d.reachability_due, "Bereikbaarheid uithuisgeplaatste uiterlijk opgegeven (24 uur)",
                           now, active=running, met_at=ban.reachability_stated_at))
    if running and ban.status == HouseBanStatus.RUNNING and ban.extension_decided_at is None:
        items.append(_deadline(d.extension_decision_due, "Besluit over verlenging uiterlijk vóór", now,
                               active=True))
    if ban.ends_at == d.initial_end:
        items.append(_deadline(d.initial_end, "Einde na tien dagen", now, active=running))
    else:
        items.append(_deadline(d.initial_end, "Einde na tien dagen (vóór verlenging)", now, active=False))
        items.append(_deadline(ban.ends_at, "Einde na verlenging", now, active=running))
    if running and ban.ends_at < d.latest_extended_end:
        items.append(_deadline(d.latest_extended_end, "Uiterste einde bij verlenging (28 dagen)", now,
                               active=True))
    day = today()
    for appeal in ban.appeals:
        relief = "Met verzoek om voorlopige voorziening" if appeal.provisional_relief else None
        if appeal.hearing_on is not None:
            hearing = _day_start(appeal.hearing_on)
            items.append(_deadline(hearing, "Zitting bij de rechter", now,
                                   active=appeal.ruling is None and appeal.hearing_on >= day,
                                   when=appeal.hearing_on.strftime("%d-%m-%Y"), note=relief))
        elif appeal.ruling is None:
            items.append(TimelineItem(moment=_day_start(appeal.filed_on), label="Zitting bij de rechter",
                                      kind="deadline", state="unplanned", when="nog niet gepland", note=relief))
    cm_end = ban.casemanagement_until
    items.append(_deadline(_day_start(cm_end), "Einde casemanagement (één jaar)", now,
                           active=ban.casemanagement_ended_at is None, when=cm_end.strftime("%d-%m-%Y")))
    items.sort(key=lambda item: (item.moment, 0 if item.kind == "event" else 1))
    return items


STATE_LABELS = {
    "done": ("Voorbij", "text-bg-secondary"),
    "met": ("Op tijd", "text-bg-success"),
    "late": ("Te laat", "text-bg-warning"),
    "overdue": ("Verstreken", "text-bg-danger"),
    "due_soon": ("Binnen 48 uur", "text-bg-danger"),
    "upcoming": ("Gepland", "text-bg-info"),
    "unplanned": ("Nog niet gepland", "text-bg-warning"),
}


# ---------------------------------------------------------------------------------------------
# Deadlines for the start page

@dataclass(frozen=True)
class OrderDeadline:
    """One legal deadline of a running order: what it is, when, and whether it has passed."""

    ban: HouseBan
    code: str        # reachability | extension_decision | expiry
    label: str       # short Dutch text, no personal data
    due_at: datetime
    overdue: bool


def deadlines_within(user: User, window: timedelta = deadlines.URGENT_WINDOW,
                     now: datetime | None = None) -> list[OrderDeadline]:
    """The deadlines of the orders the user answers for (``running_orders_for``: the coordinator
    of the case, the team lead for all) that passed or fall within ``window``: the removed
    person's reachability (24 hours), the decision on extension, and the end of the order."""
    now = now or utcnow()
    found = []
    for row in running_orders_for(user, now):
        ban = row.ban
        d = deadlines.Deadlines.of(ban.imposed_at, ban.ends_at)
        candidates = [("expiry", "Huisverbod loopt af", ban.ends_at)]
        if ban.reachability_stated_at is None:
            candidates.append(("reachability", "Bereikbaarheid uithuisgeplaatste opgeven (24 uur)",
                               d.reachability_due))
        if ban.status == HouseBanStatus.RUNNING and ban.extension_decided_at is None:
            candidates.append(("extension_decision", "Besluit verlenging huisverbod", d.extension_decision_due))
        for code, label, due_at in candidates:
            if due_at - now <= window:
                found.append(OrderDeadline(ban, code, label, due_at, due_at <= now))
    return sorted(found, key=lambda item: (item.due_at, item.ban.id))


def case_signals(case_ids: list[int], for_user: User | None = None,
                 now: datetime | None = None) -> dict[int, list["CaseSignal"]]:
    """The caseload's and case file's view of running orders (``mda.cases.signals``): the alert texts
    of ``alerts_for_cases`` and, per order, its nearest open legal deadline with what it is. With
    ``for_user`` only the cases that user coordinates (or all, for a team lead), as the alerts."""
    from ..cases.signals import CaseSignal
    now = now or utcnow()
    bans = _running_orders_of(list(case_ids), for_user, now)  # read once, for the alerts and the deadlines
    signals: dict[int, list[CaseSignal]] = {}
    for case_id, texts in _alerts_of(bans, now).items():
        signals.setdefault(case_id, []).extend(CaseSignal(alert=text) for text in texts)
    for ban in bans:
        moment, label = _nearest_open_deadline(ban)
        signals.setdefault(ban.case_id, []).append(
            CaseSignal(due=moment.astimezone(AMSTERDAM).date(), deadline=label))
    return signals


@functools.cache
def _newest_events_statement(limit: int) -> Select:
    # Plain columns with the recorder's name joined in: no event objects, no lazy load per event.
    from .models import HouseBanEvent
    return (select(HouseBanEvent.occurred_at, HouseBanEvent.kind, User.display_name.label("recorded_by"))
            .join(HouseBan, HouseBan.id == HouseBanEvent.house_ban_id)
            .outerjoin(User, User.id == HouseBanEvent.recorded_by_id)
            .where(HouseBan.case_id == bindparam("case_id"))
            .order_by(HouseBanEvent.occurred_at.desc(), HouseBanEvent.id.desc()).limit(limit))


def _nearest_open_deadline(ban: Any) -> tuple[datetime, str]:
    """A running order's nearest open legal deadline and what it is (an order or a row of its columns)."""
    d = deadlines.Deadlines.of(ban.imposed_at, ban.ends_at)
    candidates = [(ban.ends_at, "Einde huisverbod")]
    if ban.reachability_stated_at is None:
        candidates.append((d.reachability_due, "Bereikbaarheid uithuisgeplaatste"))
    if ban.status == HouseBanStatus.RUNNING and ban.extension_decided_at is None:
        candidates.append((d.extension_decision_due, "Besluit verlenging huisverbod"))
    return min(candidates)


def next_deadline_dates(connection: Any, case_ids: list[int] | None, now: datetime | None = None) -> dict[int, date]:
    """Per case, the nearest open legal deadline of its running orders (the day on the Dutch calendar,
    as the caseload shows it): the stored next deadline the caseload sorts by takes it into account
    (``mda.cases.deadlines.register_source``). Plain columns on the given connection: this runs
    inside a flush."""
    now = now or utcnow()
    query = select(HouseBan.case_id, HouseBan.imposed_at, HouseBan.ends_at, HouseBan.reachability_stated_at,
                   HouseBan.status, HouseBan.extension_decided_at).where(_running(now))
    if case_ids is not None:
        query = query.where(HouseBan.case_id.in_(case_ids))
    nearest: dict[int, date] = {}
    for row in connection.execute(query):
        day = _nearest_open_deadline(row)[0].astimezone(AMSTERDAM).date()
        nearest[row.case_id] = min(day, nearest.get(row.case_id, day))
    return nearest


def timeline_entries(case_id: int, limit: int) -> list["TimelineEntry"]:
    """The newest events of the case's orders, for the case overview (``mda.cases.signals``)."""
    from ..cases.signals import TimelineEntry
    events = db.read(_newest_events_statement(limit), {"case_id": case_id})
    return [TimelineEntry(event.occurred_at, "Huisverbod", event.kind.label, event.recorded_by) for event in events]
