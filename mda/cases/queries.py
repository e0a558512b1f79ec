"""Reads for the caseload and the case file. Personal data is decrypted only for what the caseload
shows of each listed case (its family label and first open task), which its view audits as read."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import (Select, String, and_, bindparam, case as sql_case, cast, func, literal_column, or_,
                        select, union_all)
from sqlalchemy.orm import joinedload, lazyload

from ..accounts.models import User
from ..db import db
from ..paging import MAX_PAGE_ASKED
from ..journal.models import Task
from ..people.models import Person
from ..reference.models import Municipality
from ..safety.models import SafetyPlan
from ..security.fields import row_uuid_text, stored_decryptor
from ..teams.models import TeamMembership, TeamRole
from ..timeutil import today, utcnow
from .models import AveChange, Case, CaseStatus, Phase, PhaseChange
from .rules import outside_band_too_long

PAGE_SIZE = 25
SORTS = {"casus": "reference", "fase": "phase", "ave": "ave", "dagen": "days", "deadline": "deadline",
         "gemeente": "municipality", "coordinator": "coordinator"}


def load_case(case_id: int) -> Case | None:
    # Every case page loads its case: one query with its forms of violence instead of two.
    return db.session.scalars(_case_with_forms(), {"case_id": case_id}).unique().first()


# The statements every case page runs are built once, at their first use (building them at import
# would configure the mappers before every model is imported), with their values as parameters:
# building, coercing and hashing a new statement on every request cost more than running it.

@functools.cache
def _case_with_forms() -> Select:
    return select(Case).where(Case.id == bindparam("case_id")).options(joinedload(Case.violence_forms))


def _running_on(day: date) -> Any:
    return (TeamMembership.started_on <= day) & (TeamMembership.ended_on.is_(None) | (TeamMembership.ended_on > day))


@dataclass(frozen=True)
class CaseloadFilter:
    everything: bool = False
    phase: Phase | None = None
    ave_level: int | None = None
    municipality_id: int | None = None
    coordinator_id: int | None = None
    overdue_only: bool = False
    sort: str = "deadline"
    descending: bool = False
    page: int = 1

    @property
    def narrows(self) -> bool:
        """True when a filter leaves cases out. The switch to all cases, the sort and the page
        number do not."""
        return any(value is not None for value in (self.phase, self.ave_level, self.municipality_id,
                                                   self.coordinator_id)) or self.overdue_only


@dataclass(frozen=True)
class CaseSummary:
    """What a caseload row shows of its case, read as plain columns: no ORM object (with its
    municipality and AVE level joined in) for each of a page's rows."""
    id: int
    reference: str
    family_label: str | None
    municipality_name: str
    phase: Phase
    phase_since: datetime
    ave_level: int
    ave_outside_band_since: datetime | None


@dataclass
class CaseloadRow:
    case: CaseSummary
    coordinator: str | None
    days_in_phase: int
    next_task_due: date | None
    plan_review_on: date | None
    next_deadline: date | None
    overdue_tasks: int
    flags: list[str] = field(default_factory=list)
    coordinator_id: int | None = None
    next_task_title: str | None = None
    # What the next deadline is: "Taak: huisbezoek plannen", "Evaluatie veiligheidsplan", ...
    deadline_label: str | None = None

    def consider_deadlines(self, others: Iterable[tuple[date, str]]) -> None:
        """Deadlines other areas know of (a huisverbod's): the nearest of all is the one shown."""
        for due, label in others:
            if self.next_deadline is None or due < self.next_deadline:
                self.next_deadline, self.deadline_label = due, label


@dataclass
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int
    number: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def caseload(user: User, criteria: CaseloadFilter, *, ave_band_days: int) -> CaseloadPage:
    """Open cases (the user's own unless ``criteria.everything``, which the caller has checked),
    filtered, sorted and paged in SQL so it stays fast with thousands of cases.

    Two steps: the ids of one page (filtered and sorted on stored columns where possible), then the
    per-case figures of just those 25 cases; computing them for every open case made the team
    lead's caseload slow at national scale."""
    day = today()
    statements = _caseload_statements(_CaseloadShape.of(criteria))
    values = {"user_id": user.id, "day": day, "phase": criteria.phase, "ave_level": criteria.ave_level,
              "municipality_id": criteria.municipality_id, "coordinator_id": criteria.coordinator_id}
    # Any number can be typed into the URL: past the end is answered below; this bound keeps the
    # offset an integer every database takes.
    page_number = max(1, min(criteria.page, MAX_PAGE_ASKED))
    page_ids = list(db.read(statements.page_ids, {**values, "offset": (page_number - 1) * PAGE_SIZE}).scalars())
    if page_ids and len(page_ids) < PAGE_SIZE:
        total = (page_number - 1) * PAGE_SIZE + len(page_ids)  # the last page: nothing left to count
    else:
        total = db.read(statements.count, values).scalar() or 0
        last_page = max(1, -(-total // PAGE_SIZE))
        if page_number > last_page:  # past the end (an old link, a typed number): show the last page
            page_number = last_page
            page_ids = list(db.read(statements.page_ids,
                                    {**values, "offset": (page_number - 1) * PAGE_SIZE}).scalars())
    position = {case_id: index for index, case_id in enumerate(page_ids)}
    result = db.read(statements.rows, {"day": day, "page_ids": page_ids}).all() if page_ids else []
    family_label = stored_decryptor(Case, "family_label")
    rows = [_row(r, family_label(r.family_label_ciphertext, r.row_uuid), day, ave_band_days)
            for r in sorted(result, key=lambda r: position[r.id])]
    _name_next_tasks(rows)
    return CaseloadPage(rows=rows, total=total, number=page_number)


@dataclass(frozen=True)
class _CaseloadShape:
    """What decides the caseload's statements, without the values: which filters are set, the sort."""
    everything: bool
    phase: bool
    ave_level: bool
    municipality: bool
    coordinator: bool
    overdue_only: bool
    sort_key: str
    descending: bool

    @classmethod
    def of(cls, criteria: CaseloadFilter) -> "_CaseloadShape":
        return cls(everything=criteria.everything, phase=criteria.phase is not None,
                   ave_level=criteria.ave_level is not None, municipality=criteria.municipality_id is not None,
                   coordinator=criteria.coordinator_id is not None, overdue_only=criteria.overdue_only,
                   sort_key=SORTS.get(criteria.sort, "deadline"), descending=criteria.descending)


@dataclass(frozen=True)
class _CaseloadStatements:
    count: Select
    page_ids: Select
    rows: Select


@functools.lru_cache(maxsize=512)  # at most 2**6 * 7 * 2 shapes, most never asked
def _caseload_statements(shape: _CaseloadShape) -> _CaseloadStatements:
    """The caseload's three statements for one shape, built once with the user, the day, the filter
    values, the offset and the page's ids as parameters (building them anew on every request cost
    more than running them)."""
    day = bindparam("day")
    coordinator_name = (select(User.display_name).join(TeamMembership, TeamMembership.user_id == User.id)
                        .where(TeamMembership.case_id == Case.id, TeamMembership.role_is(TeamRole.COORDINATOR),
                               TeamMembership.ended_on.is_(None)).correlate(Case).scalar_subquery())
    coordinator_id = (select(TeamMembership.user_id)
                      .where(TeamMembership.case_id == Case.id, TeamMembership.role_is(TeamRole.COORDINATOR),
                             TeamMembership.ended_on.is_(None)).correlate(Case).scalar_subquery())
    next_task = (select(func.min(Task.due_on)).where(Task.case_id == Case.id, Task.done_at.is_(None))
                 .correlate(Case).scalar_subquery())
    overdue_tasks = (select(func.count()).select_from(Task)
                     .where(Task.case_id == Case.id, Task.done_at.is_(None), Task.due_on < day)
                     .correlate(Case).scalar_subquery())
    latest_version = (select(func.max(SafetyPlan.version_number)).where(SafetyPlan.case_id == Case.id)
                      .correlate(Case).scalar_subquery())
    plan_review = (select(SafetyPlan.review_on).where(SafetyPlan.case_id == Case.id,
                                                      SafetyPlan.version_number == latest_version)
                   .correlate(Case).scalar_subquery())

    selection = select(Case.id).where(Case.status == CaseStatus.OPEN)
    if not shape.everything:
        mine = select(TeamMembership.case_id).where(TeamMembership.user_id == bindparam("user_id"), _running_on(day))
        selection = selection.where(Case.id.in_(mine))
    if shape.phase:
        selection = selection.where(Case.phase == bindparam("phase"))
    if shape.ave_level:
        selection = selection.where(Case.ave_level == bindparam("ave_level"))
    if shape.municipality:
        selection = selection.where(Case.municipality_id == bindparam("municipality_id"))
    if shape.coordinator:
        selection = selection.where(coordinator_id == bindparam("coordinator_id"))
    if shape.overdue_only:
        selection = selection.where(or_(overdue_tasks > 0, plan_review.is_(None), plan_review < day))

    order_columns = {
        "reference": Case.reference, "phase": Case.phase, "ave": Case.ave_level,
        # More days in the phase means an earlier phase_since.
        "days": Case.phase_since if shape.descending else Case.phase_since.desc(),
        # No deadline sorts last, as if it were the farthest; read in index order when ascending.
        "deadline": Case.next_deadline, "coordinator": coordinator_name,
        "municipality": select(Municipality.name).where(Municipality.id == Case.municipality_id)
        .correlate(Case).scalar_subquery(),
    }
    order = order_columns[shape.sort_key]
    if shape.sort_key != "days" and shape.descending:
        order = order.desc()
    if shape.sort_key == "deadline":
        order = order.nulls_first() if shape.descending else order.nulls_last()
    return _CaseloadStatements(
        count=select(func.count()).select_from(selection.subquery()),
        page_ids=selection.order_by(order, Case.reference).limit(PAGE_SIZE).offset(bindparam("offset")),
        rows=select(Case.id, Case.reference, Case.family_label_ciphertext, row_uuid_text(Case.uuid).label("row_uuid"),
                    Municipality.name.label("municipality_name"), Case.phase, Case.phase_since, Case.ave_level,
                    Case.ave_outside_band_since, coordinator_name.label("coordinator"),
                    coordinator_id.label("coordinator_id"), next_task.label("next_task"),
                    overdue_tasks.label("overdue_tasks"), plan_review.label("plan_review"))
        .join(Municipality, Municipality.id == Case.municipality_id)
        .where(Case.id.in_(bindparam("page_ids", expanding=True))))


def _name_next_tasks(rows: list[CaseloadRow]) -> None:
    """The title of each row's first open task (decrypted: the page is audited as a read), and
    what the row's deadline is."""
    wanted = {row.case.id: row for row in rows if row.next_task_due is not None}
    if wanted:
        description = stored_decryptor(Task, "description")
        for task in db.read(_open_tasks_of_cases(), {"case_ids": list(wanted)}):
            row = wanted.pop(task.case_id, None)
            if row is not None:
                row.next_task_title = description(task.description_ciphertext, task.row_uuid)
    for row in rows:
        if row.next_deadline is None:
            continue
        if row.next_deadline == row.next_task_due:
            row.deadline_label = f"Taak: {row.next_task_title}" if row.next_task_title else "Taak"
        else:
            row.deadline_label = "Evaluatie veiligheidsplan"


@functools.cache
def _open_tasks_of_cases() -> Select:
    """Each case's first open task (earliest due, then oldest): the one the row names, not all of
    them; as plain columns: the description's ciphertext and the row it is bound to."""
    first_open = (select(Task.id).where(Task.case_id == Case.id, Task.done_at.is_(None))
                  .order_by(Task.due_on, Task.id).limit(1).correlate(Case).scalar_subquery())
    return select(Task.case_id, Task.description_ciphertext,
                  row_uuid_text(Task.uuid).label("row_uuid")).where(Task.id.in_(
        select(first_open).where(Case.id.in_(bindparam("case_ids", expanding=True)))))


def _row(result: Any, family_label: str | None, day: date, ave_band_days: int) -> CaseloadRow:
    case = CaseSummary(id=result.id, reference=result.reference, family_label=family_label,
                       municipality_name=result.municipality_name, phase=result.phase, phase_since=result.phase_since,
                       ave_level=result.ave_level, ave_outside_band_since=result.ave_outside_band_since)
    # Shown from the live figures; the same rule as the stored value in mda.cases.deadlines.
    deadline = min((d for d in (result.next_task, result.plan_review) if d is not None), default=None)
    row = CaseloadRow(case=case, coordinator=result.coordinator,
                      days_in_phase=(utcnow() - case.phase_since).days, next_task_due=result.next_task,
                      plan_review_on=result.plan_review, next_deadline=deadline,
                      overdue_tasks=result.overdue_tasks or 0, coordinator_id=result.coordinator_id)
    row.flags = attention_flags(case, overdue_tasks=row.overdue_tasks, plan_review_on=row.plan_review_on,
                                day=day, ave_band_days=ave_band_days)
    return row


def attention_flags(case: Case | CaseSummary, *, overdue_tasks: int, plan_review_on: date | None, day: date,
                    ave_band_days: int) -> list[str]:
    """Short Dutch flags for what needs attention; no personal data."""
    flags = []
    if overdue_tasks:
        flags.append(f"{overdue_tasks} {'taak' if overdue_tasks == 1 else 'taken'} over datum")
    if plan_review_on is None:
        flags.append("Geen veiligheidsplan")
    elif plan_review_on < day:
        flags.append("Veiligheidsplan niet meer actueel")
    if ave_outside_band_too_long(case, ave_band_days):
        flags.append(f"AVE {case.ave_level} langer dan {ave_band_days} dagen buiten AVE 3-4")
    return flags


def ave_outside_band_too_long(case: Case | CaseSummary, days: int) -> bool:
    # Counted from when the case left AVE 3-4, not from its last change of level.
    return outside_band_too_long(case.ave_level, case.ave_outside_band_since, utcnow(), days)


def team_of(case: Case, day: date | None = None) -> list[TeamMembership]:
    return list(db.session.scalars(_running_team(), {"case_id": case.id, "day": day or today()}))


@functools.cache
def _running_team() -> Select:
    return (select(TeamMembership).where(TeamMembership.case_id == bindparam("case_id"),
                                         _running_on(bindparam("day")))
            .options(joinedload(TeamMembership.user).lazyload(User.roles), joinedload(TeamMembership.organisation),
                     joinedload(TeamMembership.discipline))
            .order_by(TeamMembership.team_role, TeamMembership.started_on))


def team_at_a_glance(case: Case) -> list[Any]:
    """The running team as the overview names it: rows of (team_role, display_name,
    organisation_name, discipline_name), the coordinator first, in ``team_of``'s order. Plain columns
    with the names joined: no entities for a list that is only shown."""
    return list(db.read(_team_at_a_glance(), {"case_id": case.id, "day": today()}))


@functools.cache
def _team_at_a_glance() -> Select:
    from ..organisations.models import Organisation
    from ..reference.models import Discipline
    return (select(TeamMembership.team_role, User.display_name, Organisation.name.label("organisation_name"),
                   Discipline.name.label("discipline_name"))
            .join(User, User.id == TeamMembership.user_id)
            .join(Organisation, Organisation.id == TeamMembership.organisation_id)
            .outerjoin(Discipline, Discipline.code == TeamMembership.discipline_code)
            .where(TeamMembership.case_id == bindparam("case_id"), _running_on(bindparam("day")))
            .order_by(TeamMembership.team_role, TeamMembership.started_on, TeamMembership.id))


@dataclass(frozen=True)
class TrackChange:
    """A change of phase or of AVE level, as the overview's timeline names it."""
    changed_at: datetime
    changed_by: str
    from_phase: Phase | None = None
    to_phase: Phase | None = None
    from_level: int | None = None
    to_level: int | None = None


def recent_track_changes(case_id: int, limit: int) -> list[TrackChange]:
    """The case's newest phase changes and its newest AVE changes, at most ``limit`` of each, in one
    statement (a case page runs a dozen; each costs more than its rows), in no particular order."""
    changes = []
    for row in db.read(_recent_track_changes(limit), {"case_id": case_id}):
        if row.kind == "fase":
            changes.append(TrackChange(row.changed_at, row.changed_by, to_phase=Phase(row.to_value),
                                       from_phase=Phase(row.from_value) if row.from_value else None))
        else:
            changes.append(TrackChange(row.changed_at, row.changed_by, to_level=int(row.to_value),
                                       from_level=int(row.from_value) if row.from_value else None))
    return changes


@functools.cache
def _recent_track_changes(limit: int) -> Any:
    # Plain columns with the name joined in: no entity, no lazy load of the changer per row. Both
    # kinds' values as text, so the two newest-first lists can be one UNION ALL.
    def newest(model: type[PhaseChange] | type[AveChange], kind: str) -> Any:
        moved = (model.from_phase, model.to_phase) if model is PhaseChange else (model.from_level, model.to_level)
        return select(select(literal_column(f"'{kind}'").label("kind"), model.changed_at,
                             cast(moved[0], String).label("from_value"), cast(moved[1], String).label("to_value"),
                             User.display_name.label("changed_by"))
                      .join(User, User.id == model.changed_by_id).where(model.case_id == bindparam("case_id"))
                      .order_by(model.changed_at.desc(), model.id.desc()).limit(limit).subquery())
    return union_all(newest(PhaseChange, "fase"), newest(AveChange, "ave"))


def team_history(case: Case) -> list[TeamMembership]:
    return list(db.session.scalars(select(TeamMembership).where(TeamMembership.case_id == case.id)
                                   .order_by(TeamMembership.started_on.desc(), TeamMembership.id.desc())))


def persons_of(case: Case) -> list[Person]:
    return list(db.session.scalars(_persons_of_case(), {"case_id": case.id}))


@functools.cache
def _persons_of_case() -> Select:
    return select(Person).where(Person.case_id == bindparam("case_id")).order_by(Person.id)


def coordinators_for_filter(user: User, whole_caseload: bool) -> list[tuple[int, str]]:
    """(id, name) of the coordinators the caseload can be filtered on: every active coordinator for
    whoever may see the whole caseload, otherwise the coordinators of the user's own cases."""
    return list(db.read(_coordinators_statement(whole_caseload), {"user_id": user.id, "day": today()}).tuples())


@functools.cache
def _coordinators_statement(whole_caseload: bool) -> Select:
    from ..accounts.models import Role, UserRole
    query = select(User.id, User.display_name).join(UserRole).where(UserRole.role == Role.COORDINATOR, User.active)
    if not whole_caseload:
        day = bindparam("day")
        own_cases = select(TeamMembership.case_id).where(TeamMembership.user_id == bindparam("user_id"),
                                                         _running_on(day))
        query = query.where(User.id.in_(
            select(TeamMembership.user_id).where(TeamMembership.role_is(TeamRole.COORDINATOR),
                                                 _running_on(day), TeamMembership.case_id.in_(own_cases))))
    return query.order_by(User.display_name)


def coordinator_of(case_id: int | None, day: date | None = None) -> User | None:
    """The coordinator of the case today (its fixed contact person), if any."""
    if case_id is None:
        return None
    return db.session.scalars(_coordinator_statement(User), {"case_id": case_id, "day": day or today()}).first()


def coordinator_name_of(case_id: int) -> str | None:
    """The name of the case's coordinator today, as ``coordinator_of`` finds them: every case page
    names them to an expert or a team lead; one column, not an account with its roles."""
    return db.read(_coordinator_statement(User.display_name), {"case_id": case_id, "day": today()}).scalars().first()


@functools.cache
def _coordinator_statement(what: Any) -> Select:
    """The case's running coordinator (``what``: the account, or one of its columns), newest first."""
    return (select(what).join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.case_id == bindparam("case_id"), TeamMembership.role_is(TeamRole.COORDINATOR),
                   _running_on(bindparam("day"))).order_by(TeamMembership.started_on.desc()).limit(1))


def member_case_ids(user: User, day: date | None = None, *, coordinating_only: bool = False) -> Any:
    """A SELECT of the ids of the cases the user is on today (as coordinator only, if asked):
    what the worklist and search may show a coordinator or an expert."""
    return member_case_ids_query(user.id, day or today(), coordinating_only=coordinating_only)


def member_case_ids_query(user_id: Any, day: Any, *, coordinating_only: bool = False) -> Any:
    """``member_case_ids`` with the user's id and the day as values or as ``bindparam``s (for a
    statement built once and run with new values)."""
    query = select(TeamMembership.case_id).where(TeamMembership.user_id == user_id, _running_on(day))
    if coordinating_only:
        query = query.where(TeamMembership.role_is(TeamRole.COORDINATOR))
    return query


def newly_assigned(user: User, since: date, day: date | None = None) -> list[tuple[Case, TeamMembership]]:
    """Open cases the user joined on or after ``since`` and is still on: newest first."""
    day = day or today()
    rows = db.session.execute(
        select(Case, TeamMembership).join(TeamMembership, TeamMembership.case_id == Case.id)
        .where(TeamMembership.user_id == user.id, _running_on(day), TeamMembership.started_on >= since,
               Case.status == CaseStatus.OPEN)
        .order_by(TeamMembership.started_on.desc(), Case.id.desc())).all()
    return [(case, membership) for case, membership in rows]


@dataclass
class OverdueCase:
    case: Case
    coordinator: str | None
    overdue_tasks: int
    oldest_overdue: date | None
    plan_review_on: date | None


def cases_with_overdue_work(day: date | None = None, limit: int = 50) -> tuple[list[OverdueCase], int]:
    """Open cases of the whole caseload with a task past its date or a safety plan past its
    evaluation (or none at all): the longest overdue first. Returns one page and the total."""
    day = day or today()
    # One pass over the open tasks past their date and one over the newest plan of each case, joined
    # to the cases: per-case subqueries over the whole caseload read every open case several times
    # (on national data some 250,000 index reads and a tenth of a second, for the count and the page each).
    late_tasks = (select(Task.case_id, func.min(Task.due_on).label("oldest"), func.count().label("late"))
                  .where(Task.done_at.is_(None), Task.due_on < day).group_by(Task.case_id).subquery())
    newest = (select(SafetyPlan.case_id, func.max(SafetyPlan.version_number).label("number"))
              .group_by(SafetyPlan.case_id).subquery())
    plans = (select(SafetyPlan.case_id, SafetyPlan.review_on)
             .join(newest, (newest.c.case_id == SafetyPlan.case_id) & (newest.c.number == SafetyPlan.version_number))
             .subquery())
    oldest_task, plan_review = late_tasks.c.oldest, plans.c.review_on
    coordinator_name = (select(User.display_name).join(TeamMembership, TeamMembership.user_id == User.id)
                        .where(TeamMembership.case_id == Case.id, TeamMembership.role_is(TeamRole.COORDINATOR),
                               TeamMembership.ended_on.is_(None)).correlate(Case).limit(1).scalar_subquery())

    def overdue_cases(*columns: Any) -> Select:
        return (select(*columns).select_from(Case)
                .outerjoin(late_tasks, late_tasks.c.case_id == Case.id).outerjoin(plans, plans.c.case_id == Case.id)
                .where(Case.status == CaseStatus.OPEN,
                       or_(oldest_task.is_not(None), plan_review.is_(None), plan_review < day)))
    total = db.session.scalar(overdue_cases(func.count())) or 0
    # The earliest thing that went overdue decides the order; a case without any plan counts from its opening.
    late_review = sql_case((plan_review < day, plan_review), else_=None)
    since = sql_case((and_(oldest_task.is_not(None), late_review.is_not(None), late_review < oldest_task), late_review),
                 else_=func.coalesce(oldest_task, late_review, Case.opened_on))
    rows = db.session.execute(
        overdue_cases(Case, coordinator_name.label("coordinator"), late_tasks.c.late.label("overdue_tasks"),
                      oldest_task.label("oldest"), plan_review.label("review"))
        .order_by(since, Case.reference).limit(limit).options(lazyload(Case.violence_forms))).all()  # not shown
    return [OverdueCase(r.Case, r.coordinator, r.overdue_tasks or 0, r.oldest, r.review) for r in rows], total


def case_id_for_reference(reference: str) -> int | None:
    return db.session.scalar(select(Case.id).where(Case.reference == reference))


def references_of(case_ids: Iterable[int | None]) -> dict[int, str]:
    """Case number per id, for the ids that still name a case (a purged case keeps only its id)."""
    ids = sorted({case_id for case_id in case_ids if case_id is not None})
    if not ids:
        return {}
    return dict(db.session.execute(select(Case.id, Case.reference).where(Case.id.in_(ids))).tuples().all())
