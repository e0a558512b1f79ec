"""SQL aggregates for the steering information.

Every query groups in the database and returns counts or histograms (value, count) only;
no query selects an encrypted column, a case reference or a person, and nothing is decrypted.
Durations become histograms of whole days so that medians can be taken in Python from a few
hundred rows on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, and_, case, cast, exists, func, or_, select

from ..cases.models import AveChange, Case, Phase, PhaseChange
from ..db import UtcDateTime, db
from ..huisverbod.models import (HouseBan, HouseBanAppeal, HouseBanBreach, HouseBanEvent, HouseBanEventKind,
                                 HouseBanStatus)
from ..organisations.models import Organisation
from ..reference.models import Discipline, Municipality, Subregion
from ..referrals.models import ConsultationQuestion, Referral, ReferralStatus
from ..teams.models import TeamMembership, TeamRole
from ..timeutil import AMSTERDAM, utcnow

Histogram = list[tuple[int, int]]


@dataclass(frozen=True)
class Period:
    start: date
    end: date      # inclusive
    label: str = ""

    @property
    def start_instant(self) -> datetime:
        return datetime.combine(self.start, time(), AMSTERDAM)

    @property
    def end_instant(self) -> datetime:
        """The first instant after the period (local midnight), exclusive."""
        return datetime.combine(self.end + timedelta(days=1), time(), AMSTERDAM)

    def months(self) -> list[tuple[str, date]]:
        """(YYYY-MM, last day) for every calendar month the period touches."""
        result = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            result.append((f"{year:04d}-{month:02d}", min(date(year, month, monthrange(year, month)[1]), self.end)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return result


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _month_of(expression: Any) -> Any:
    if _dialect() == "postgresql":
        return func.to_char(func.timezone("Europe/Amsterdam", expression), "YYYY-MM")
    # SQLite stores instants as UTC text; mda.db registers amsterdam_month() on every connection.
    return func.amsterdam_month(expression)


def _month_of_date(expression: Any) -> Any:
    if _dialect() == "postgresql":
        return func.to_char(expression, "YYYY-MM")
    return func.substr(expression, 1, 7)


def _days_between(later: Any, earlier: Any) -> Any:
    """Whole days from ``earlier`` to ``later`` (dates or instants)."""
    if _dialect() == "postgresql":
        return cast(func.floor(func.extract("epoch", cast(later, DateTime) - cast(earlier, DateTime)) / 86400),
                    Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _in_instants(expression: Any, period: Period) -> Any:
    return and_(expression >= period.start_instant, expression < period.end_instant)


def _in_dates(expression: Any, period: Period) -> Any:
    return and_(expression >= period.start, expression <= period.end)


def _histograms(statement: Any) -> dict[Any, Histogram]:
    """Rows of (group, days, count) into one histogram per group."""
    result: dict[Any, Histogram] = defaultdict(list)
    for group, days, count in db.session.execute(statement):
        if days is not None:
            result[group].append((int(days), int(count)))
    return dict(result)


# --- intake ---------------------------------------------------------------------------------

def referrals_by_month_and_route(period: Period) -> dict[tuple[str, str], int]:
    month = _month_of(Referral.submitted_at)
    statement = (select(month, Referral.intake_route, func.count())
                 .where(Referral.status != ReferralStatus.DRAFT, _in_instants(Referral.submitted_at, period))
                 .group_by(month, Referral.intake_route))
    return {(m, str(route)): n for m, route, n in db.session.execute(statement)}


def referrals_by_municipality_and_status(period: Period) -> dict[tuple[int | None, str], int]:
    statement = (select(Referral.municipality_id, Referral.status, func.count())
                 .where(Referral.status != ReferralStatus.DRAFT, _in_instants(Referral.submitted_at, period))
                 .group_by(Referral.municipality_id, Referral.status))
    return {(town, str(status)): n for town, status, n in db.session.execute(statement)}


def referrals_by_subregion_and_route(period: Period) -> dict[tuple[str, str], int]:
    """Submitted referrals per subregion (through the municipality) and intake route."""
    subregion = func.coalesce(Municipality.subregion, "unknown")
    statement = (select(subregion, Referral.intake_route, func.count())
                 .select_from(Referral).outerjoin(Municipality, Municipality.id == Referral.municipality_id)
                 .where(Referral.status != ReferralStatus.DRAFT, _in_instants(Referral.submitted_at, period))
                 .group_by(subregion, Referral.intake_route))
    return {(str(region), str(route)): n for region, route, n in db.session.execute(statement)}


def referral_waiting_days(period: Period) -> dict[str, Histogram]:
    """Days from submission to decision, per intake route, for referrals decided in the period."""
    days = _days_between(Referral.decided_at, Referral.submitted_at)
    statement = (select(Referral.intake_route, days, func.count())
                 .where(Referral.decided_at.is_not(None), Referral.submitted_at.is_not(None),
                        _in_instants(Referral.decided_at, period))
                 .group_by(Referral.intake_route, days))
    return {str(k): v for k, v in _histograms(statement).items()}


def municipalities() -> list[tuple[int, str, Subregion]]:
    return [(m.id, m.name, m.subregion) for m in
            db.session.execute(select(Municipality.id, Municipality.name, Municipality.subregion)
                               .order_by(Municipality.name))]


# --- caseload -------------------------------------------------------------------------------

def _snapshot(change_model: Any, value_column: str, period: Period) -> dict[tuple[str, str], int]:
    """Open cases per month end and per value of the change history (phase or AVE level).

    Each stay (one value between two changes, cut to the time the case was open) counts +1 from
    the month it starts and -1 from the month it ends; the database groups the stays by value,
    start month and end month (a few thousand rows at most), and the running sum per month end
    is taken here. One scan of the history instead of a join of every stay with every month."""
    following = func.lead(change_model.changed_at, type_=UtcDateTime).over(
        partition_by=change_model.case_id, order_by=(change_model.changed_at, change_model.id))
    first = change_model.from_level if value_column == "to_level" else change_model.from_phase
    history = select(change_model.case_id.label("case_id"), getattr(change_model, value_column).label("value"),
                     change_model.changed_at.label("since"), following.label("until"),
                     first.label("first")).subquery()
    opened, since = _month_of_date(Case.opened_on), _month_of(history.c.since)
    start = case((history.c.first.is_(None), opened), (since < opened, opened), else_=since)
    closed, until = _month_of_date(Case.closed_on), _month_of(history.c.until)
    end = case((Case.closed_on.is_(None), until), (history.c.until.is_(None), closed), (closed < until, closed),
               else_=until)
    stays = (select(history.c.value.label("value"), start.label("start"), end.label("end"))
             .select_from(Case).join(history, history.c.case_id == Case.id)).subquery()
    valid = or_(stays.c.end.is_(None), stays.c.end >= stays.c.start)
    spans = db.session.execute(select(stays.c.value, stays.c.start, stays.c.end, func.count()).where(valid)
                               .group_by(stays.c.value, stays.c.start, stays.c.end)).all()
    # Net change per (value, month), then a running sum over the months in order.
    delta: dict[tuple[str, str], int] = defaultdict(int)
    for value, start_month, end_month, number in spans:
        delta[(str(value), start_month)] += number
        if end_month is not None:
            delta[(str(value), end_month)] -= number
    current = utcnow().astimezone(AMSTERDAM).strftime("%Y-%m")
    labels = [label for label, _last_day in period.months() if label <= current]
    running: dict[str, int] = defaultdict(int)
    for (value, month), number in delta.items():
        if labels and month < labels[0]:
            running[value] += number
    result: dict[tuple[str, str], int] = {}
    for label in labels:
        for value in {value for value, _month in delta}:
            running[value] += delta.get((value, label), 0)
            if running[value]:
                result[(label, value)] = running[value]
    return result


def open_cases_by_month_and_phase(period: Period) -> dict[tuple[str, str], int]:
    return _snapshot(PhaseChange, "to_phase", period)


def open_cases_by_month_and_ave(period: Period) -> dict[tuple[str, str], int]:
    return _snapshot(AveChange, "to_level", period)


def days_per_phase(period: Period) -> dict[str, Histogram]:
    """Time spent in a phase, for every stay in a phase that ended within the period."""
    following = func.lead(PhaseChange.changed_at, type_=UtcDateTime).over(partition_by=PhaseChange.case_id,
                                                       order_by=(PhaseChange.changed_at, PhaseChange.id))
    stays = select(PhaseChange.to_phase.label("phase"), PhaseChange.changed_at.label("since"),
                   following.label("until")).subquery()
    days = _days_between(stays.c.until, stays.c.since)
    statement = (select(stays.c.phase, days, func.count())
                 .where(stays.c.until.is_not(None), _in_instants(stays.c.until, period))
                 .group_by(stays.c.phase, days))
    return {str(k): v for k, v in _histograms(statement).items()}


def days_to_stable_safety(period: Period) -> dict[str, Histogram]:
    """Days from opening to the first move into stabiele veiligheid within the period, per subregion."""
    reached = (select(PhaseChange.case_id, func.min(PhaseChange.changed_at).label("at"))
               .where(PhaseChange.to_phase == Phase.STABIELE_VEILIGHEID)
               .group_by(PhaseChange.case_id).subquery())
    days = _days_between(reached.c.at, Case.opened_on)
    statement = (select(Municipality.subregion, days, func.count())
                 .select_from(Case).join(reached, reached.c.case_id == Case.id)
                 .join(Municipality, Municipality.id == Case.municipality_id)
                 .where(_in_instants(reached.c.at, period))
                 .group_by(Municipality.subregion, days))
    return {str(k): v for k, v in _histograms(statement).items()}


def ave_flows(period: Period) -> dict[tuple[int, int], int]:
    statement = (select(AveChange.from_level, AveChange.to_level, func.count())
                 .where(AveChange.from_level.is_not(None), _in_instants(AveChange.changed_at, period))
                 .group_by(AveChange.from_level, AveChange.to_level))
    return {(a, b): n for a, b, n in db.session.execute(statement)}


# --- huisverboden ---------------------------------------------------------------------------

def house_ban_indicators(period: Period) -> dict[tuple[str, str], int]:
    """For orders imposed in the period, per route: how many, and how many of them were
    extended, appealed, breached, withdrawn, lifted, or saw casemanagement completed."""
    ban = HouseBan
    has_event = lambda kind: exists().where(HouseBanEvent.house_ban_id == ban.id,  # noqa: E731
                                            HouseBanEvent.kind == kind)
    indicators = {
        "imposed": ban.id.is_not(None),
        "extended": has_event(HouseBanEventKind.EXTENDED),
        "appealed": exists().where(HouseBanAppeal.house_ban_id == ban.id),
        "breached": exists().where(HouseBanBreach.house_ban_id == ban.id),
        "withdrawn": ban.status == HouseBanStatus.WITHDRAWN,
        "lifted": ban.status == HouseBanStatus.LIFTED_BY_COURT,
        "casemanagement_done": ban.casemanagement_ended_at.is_not(None),
    }
    statement = (select(ban.route, *[func.sum(case((condition, 1), else_=0)) for condition in indicators.values()])
                 .where(_in_instants(ban.imposed_at, period)).group_by(ban.route))
    result: dict[tuple[str, str], int] = {}
    for route, *sums in db.session.execute(statement):
        for name, total in zip(indicators, sums):
            result[(str(route), name)] = int(total or 0)
    return result


def house_ban_days(period: Period) -> dict[str, Histogram]:
    """Duration of orders that ended within the period, per route."""
    end = func.coalesce(HouseBan.ended_at, HouseBan.ends_at)
    days = _days_between(end, HouseBan.imposed_at)
    statement = (select(HouseBan.route, days, func.count())
                 .where(HouseBan.status.not_in((HouseBanStatus.RUNNING, HouseBanStatus.EXTENDED))
                        | (HouseBan.ends_at <= utcnow()),
                        _in_instants(end, period))
                 .group_by(HouseBan.route, days))
    return {str(k): v for k, v in _histograms(statement).items()}


def appeals_by_ruling(period: Period) -> dict[str, int]:
    statement = (select(HouseBanAppeal.ruling, func.count())
                 .where(_in_dates(HouseBanAppeal.filed_on, period)).group_by(HouseBanAppeal.ruling))
    return {str(ruling) if ruling else "pending": n for ruling, n in db.session.execute(statement)}


# --- outcomes -------------------------------------------------------------------------------

def closures_by_reason_and_party(period: Period) -> dict[tuple[str, str], int]:
    statement = (select(Case.closure_reason, Case.closure_receiving_party, func.count())
                 .where(Case.closed_on.is_not(None), _in_dates(Case.closed_on, period))
                 .group_by(Case.closure_reason, Case.closure_receiving_party))
    return {(str(reason), str(party) if party else "none"): n for reason, party, n in db.session.execute(statement)}


def trajectory_days(period: Period) -> dict[str, Histogram]:
    """Duration from opening to closure of cases closed in the period, per intake route."""
    days = _days_between(Case.closed_on, Case.opened_on)
    statement = (select(Case.intake_route, days, func.count())
                 .where(Case.closed_on.is_not(None), _in_dates(Case.closed_on, period))
                 .group_by(Case.intake_route, days))
    return {str(k): v for k, v in _histograms(statement).items()}


def re_referrals(period: Period) -> dict[tuple[str, str], int]:
    """Per subregion: cases closed in the period; of those, closed at least 12 months before
    today (followed up fully); and of those, how many had a new case within 12 months."""
    # The first later case for the same family, per earlier case: one GROUP BY, then a join.
    follow_up = (select(Case.previous_case_id.label("case_id"), func.min(Case.opened_on).label("opened_on"))
                 .where(Case.previous_case_id.is_not(None)).group_by(Case.previous_case_id).subquery())
    horizon = utcnow().astimezone(AMSTERDAM).date() - timedelta(days=365)
    again = and_(follow_up.c.opened_on.is_not(None),
                 _days_between(follow_up.c.opened_on, Case.closed_on) <= 365)
    statement = (select(Municipality.subregion, func.count(),
                        func.sum(case((Case.closed_on <= horizon, 1), else_=0)),
                        func.sum(case((and_(Case.closed_on <= horizon, again), 1), else_=0)),
                        func.sum(case((again, 1), else_=0)))
                 .join(Municipality, Municipality.id == Case.municipality_id)
                 .outerjoin(follow_up, follow_up.c.case_id == Case.id)
                 .where(Case.closed_on.is_not(None), _in_dates(Case.closed_on, period))
                 .group_by(Municipality.subregion))
    result = {}
    for subregion, closed, followed, again_followed, again_any in db.session.execute(statement):
        result[(str(subregion), "closed")] = int(closed)
        result[(str(subregion), "followed")] = int(followed or 0)
        result[(str(subregion), "again_followed")] = int(again_followed or 0)
        result[(str(subregion), "again")] = int(again_any or 0)
    return result


# --- network --------------------------------------------------------------------------------

def expert_deployments(period: Period) -> dict[tuple[str, str], int]:
    """Expert assignments that ran during the period, per organisation and discipline."""
    statement = (select(Organisation.name, Discipline.name, func.count())
                 .select_from(TeamMembership)
                 .join(Organisation, Organisation.id == TeamMembership.organisation_id)
                 .join(Discipline, Discipline.code == TeamMembership.discipline_code)
                 .where(TeamMembership.role_is(TeamRole.EXPERT), TeamMembership.started_on <= period.end,
                        or_(TeamMembership.ended_on.is_(None), TeamMembership.ended_on >= period.start))
                 .group_by(Organisation.name, Discipline.name))
    return {(org, discipline): n for org, discipline, n in db.session.execute(statement)}


def consultations(period: Period) -> dict[tuple[str, str], int]:
    q = ConsultationQuestion
    statement = (select(Municipality.subregion, func.count(),
                        func.sum(case((q.advised_on.is_not(None), 1), else_=0)),
                        func.sum(case((q.escalation_advised, 1), else_=0)),
                        func.sum(case((q.led_to_referral, 1), else_=0)),
                        func.sum(case((q.minutes_spent.is_not(None), 1), else_=0)),
                        func.coalesce(func.sum(q.minutes_spent), 0))
                 .join(Municipality, Municipality.id == q.municipality_id)
                 .where(_in_dates(q.asked_on, period)).group_by(Municipality.subregion))
    result = {}
    for subregion, *numbers in db.session.execute(statement):
        for name, number in zip(("asked", "answered", "escalation", "referral", "timed", "minutes"), numbers):
            result[(str(subregion), name)] = int(number or 0)
    return result


def consultation_minutes(period: Period) -> dict[str, Histogram]:
    q = ConsultationQuestion
    statement = (select(Municipality.subregion, q.minutes_spent, func.count())
                 .join(Municipality, Municipality.id == q.municipality_id)
                 .where(_in_dates(q.asked_on, period), q.minutes_spent.is_not(None))
                 .group_by(Municipality.subregion, q.minutes_spent))
    return {str(k): v for k, v in _histograms(statement).items()}
