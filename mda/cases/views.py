"""The caseload, the case overview and the case's track (phase, AVE, closing).

Each view: load and authorise (``@requires``), validate the form, call the operation,
audit, respond. The request commits once (mda.web).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record, record_many
from ..db import db
from ..errors import DomainError, StaleVersion
from ..forms import rendered_fields, saved, show_domain_error
from ..paging import page_asked
from ..organisations.models import OrganisationKind
from ..reference.queries import municipality_choices
from ..security.policy import Permission, current_account, may, requires
from ..timeutil import format_moment, today
from . import operations
from ..outcomes.models import SafetyJudgement
from .forms import AveForm, CaseloadFilterForm, CloseForm, FamilyLabelForm, PhaseForm, ReopenForm
from .models import Case, CaseStatus, CaseStatusChange, ClosureReason, Phase
from .signals import TimelineEntry, alerts_of, signals_for, timeline_from_other_areas
from .queries import (CaseloadFilter, attention_flags, caseload, coordinators_for_filter, load_case, persons_of,
                      recent_track_changes, team_at_a_glance)
from .rules import phase_options
from .tabs import render_case

if TYPE_CHECKING:
    from ..safety.models import SafetyPlan

blueprint = Blueprint("cases", __name__, url_prefix="/casussen")

ViewResult = Response | str | tuple[str, int]


def _settings():  # noqa: ANN202
    return current_app.extensions["mda.settings"]


@blueprint.route("/")
@requires(Permission.CASELOAD_OWN)
def index() -> str:
    from flask import render_template
    account = current_account()
    form = CaseloadFilterForm(formdata=request.args)
    form.gemeente.choices = [("", "Alle gemeenten")] + [
        (str(municipality_id), name) for municipality_id, name in municipality_choices()]
    may_see_all = may(account, Permission.CASELOAD_ALL)
    form.coordinator.choices = [("", "Alle coördinatoren")] + [
        (str(user_id), name) for user_id, name in coordinators_for_filter(account, whole_caseload=may_see_all)]
    form.validate()
    criteria = CaseloadFilter(
        everything=bool(form.alle.data) and may_see_all,
        phase=Phase(form.fase.data) if form.fase.data and not form.fase.errors else None,
        ave_level=int(form.ave.data) if form.ave.data and not form.ave.errors else None,
        municipality_id=int(form.gemeente.data) if form.gemeente.data and not form.gemeente.errors else None,
        coordinator_id=int(form.coordinator.data) if form.coordinator.data and not form.coordinator.errors else None,
        overdue_only=bool(form.achterstallig.data), sort=form.sorteer.data or "deadline",
        descending=bool(form.aflopend.data), page=page_asked(request.args.get("pagina")))
    page = caseload(account, criteria, ave_band_days=_settings().ave_outside_band_days)
    # What other areas say about these cases (huisverbod alerts and deadlines go to the coordinator
    # of the case and the team lead, not to every expert on it): alerts, and a nearer deadline.
    signals = signals_for([row.case.id for row in page.rows], for_user=account)
    alerts = {case_id: alerts_of(found) for case_id, found in signals.items()}
    for row in page.rows:
        row.consider_deadlines((signal.due, signal.deadline) for signal in signals.get(row.case.id, [])
                               if signal.due is not None)
    # Each row shows the family label: one read record per case listed, in one statement.
    record_many(AuditAction.READ, [(row.case.id, "case", row.case.id) for row in page.rows], by=account,
                detail="casuslijst")
    # The filter's own fields, kept on the sort and page links; nothing else typed into the URL is
    # passed on (a stray ``endpoint`` or ``_method`` would reach url_for as its own argument).
    args = {key: value for key, value in request.args.items() if key in form}
    # The coordinator column only when it is not always the user.
    show_coordinator = criteria.everything or any(row.coordinator_id != account.id for row in page.rows)
    # Folded on a phone unless a filter narrows the list or a value was refused: the switch to all
    # cases, a page number or a sort (shown in the column headers) leaves the list in view.
    filter_open = criteria.narrows or bool(form.errors)
    filter_fields = rendered_fields("cases/_caseload_filter.html", form, everything=criteria.everything,
                                    clear_url=url_for("cases.index", alle=("y" if criteria.everything else None)))
    return render_template("cases/index.html", filter_fields=filter_fields, page=page, criteria=criteria,
                           may_see_all=may_see_all, alerts=alerts, args=args, today=today(),
                           show_coordinator=show_coordinator, filter_open=filter_open,
                           sort_key=form.sorteer.data or "deadline", descending=bool(form.aflopend.data))


def _audit_case_page(case: Case, page: str) -> None:
    record(AuditAction.READ, by=current_account(), case_id=case.id, object_type="case", object_id=case.id,
           detail=page)


@blueprint.route("/<int:case_id>")
@requires(Permission.CASE_VIEW, load=load_case)
def detail(target: Case, case_id: int) -> tuple[str, int]:
    return _overview(target)


TIMELINE_LENGTH = 10
DEADLINE_HORIZON_DAYS = 30


def _overview(target: Case, status: int = 200, **forms: object) -> tuple[str, int]:
    """The case at a glance: family, team, plan, open tasks, deadlines, last contact, what happened."""
    from ..journal.queries import last_contact, open_tasks, recent_entries
    from ..safety.queries import current_among, plan_outline, plans_of
    account = current_account()
    _audit_case_page(target, "overzicht")
    plans = plans_of(target)  # newest first: the plan shown, and the versions on the timeline
    plan = plans[0] if plans else None
    if plan is not None:  # its agreements are shown, as on the plan's own page
        record(AuditAction.READ, by=account, case_id=target.id, object_type="safety_plan", object_id=plan.id,
               detail="overzicht")
    day = today()
    tasks = open_tasks(target)
    persons = persons_of(target)
    for person in persons:  # names and roles are shown: each person's data is read
        record(AuditAction.READ, by=account, case_id=target.id, person_id=person.id, object_type="person",
               object_id=person.id, detail="overzicht")
    flags = attention_flags(target, overdue_tasks=sum(1 for t in tasks if t.is_overdue_on(day)),
                            plan_review_on=plan.review_on if plan else None, day=day,
                            ave_band_days=_settings().ave_outside_band_days)
    signals = signals_for([target.id]).get(target.id, [])
    newest_entries = recent_entries(target, TIMELINE_LENGTH)  # for the timeline; the last contact is often there
    # The label's form only where it is shown: most who open a case file may not change it.
    may_change_label = may(account, Permission.CASE_DIRECT, target) and target.status == CaseStatus.OPEN
    if may_change_label:
        forms.setdefault("label_form", FamilyLabelForm(formdata=None, data={
            "version": target.version, "family_label": target.family_label}))
    return render_case("cases/detail.html", target, "cases.detail", team=team_at_a_glance(target), plan=plan,
                       outline=plan_outline(plan, persons) if plan is not None else None,
                       current=current_among(plan, day), tasks=tasks, flags=flags, persons=persons,
                       alerts=alerts_of(signals), day=day, deadlines=_deadlines(tasks, plan, signals, day),
                       last_contact=last_contact(target, newest_entries),
                       timeline=_timeline(target, plans, newest_entries),
                       may_change_label=may_change_label, **forms), status


def _deadlines(tasks, plan, signals, day):  # noqa: ANN001, ANN202
    """Upcoming (and missed) deadlines of the case, each saying what it is, earliest first."""
    horizon = day + timedelta(days=DEADLINE_HORIZON_DAYS)
    found = [(task.due_on, f"Taak: {task.description}" if task.description else "Taak")
             for task in tasks if task.due_on <= horizon]
    if plan is not None and plan.review_on <= horizon:
        found.append((plan.review_on, "Evaluatie veiligheidsplan"))
    found.extend((signal.due, signal.deadline) for signal in signals if signal.due is not None)
    return sorted(found, key=lambda item: item[0])


def _timeline(case: Case, plans: list[SafetyPlan], journal: list[Any]) -> list[TimelineEntry]:
    """What happened recently, newest first: the newest journal entries and plan versions (both
    read by the caller, newest first), phase and AVE changes, and what other areas add (huisverbod
    events)."""
    limit = TIMELINE_LENGTH
    entries = [TimelineEntry(entry.occurred_at, "Journaal", entry.kind.label, entry.author)
               for entry in journal[:limit]]
    for change in recent_track_changes(case.id, limit):
        if change.to_phase is not None:
            entries.append(TimelineEntry(change.changed_at, "Fase", f"Naar {change.to_phase.label.lower()}"
                                         if change.from_phase else f"Gestart in {change.to_phase.label.lower()}",
                                         change.changed_by))
        else:
            entries.append(TimelineEntry(change.changed_at, "AVE", f"AVE {change.from_level} naar {change.to_level}"
                                         if change.from_level else f"Gestart op AVE {change.to_level}",
                                         change.changed_by))
    entries += [TimelineEntry(plan.recorded_at, "Veiligheidsplan", f"Versie {plan.version_number} afgesproken",
                              None) for plan in plans[:limit]]
    entries += timeline_from_other_areas(case.id, limit)
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def _track_page(case: Case, status: int = 200, **forms: object) -> tuple[str, int]:
    from ..safety.queries import evidence_for
    _audit_case_page(case, "fasen en AVE")
    version = {"version": case.version}
    options = phase_options(case.phase, evidence_for(case, today()))
    allowed = [option for option in options if option.allowed]
    following = next((o.phase for o in allowed if o.phase.position == case.phase.position + 1),
                     allowed[0].phase if allowed else None)
    forms.setdefault("phase_form", PhaseForm(formdata=None, data={**version,
                                                                  "phase": following.value if following else None}))
    # Only the moves the rules allow now are offered; the others are listed with what they need.
    forms["phase_form"].phase.choices = [(o.phase.value, o.phase.label) for o in allowed]  # type: ignore[attr-defined]
    forms.setdefault("phase_options", options)
    forms.setdefault("ave_form", AveForm(formdata=None, data={**version, "ave_level": case.ave_level}))
    forms.setdefault("close_form", CloseForm(formdata=None, data=version))
    forms.setdefault("reopen_form", ReopenForm(formdata=None, data=version))
    status_changes = db.session.query(CaseStatusChange).filter_by(case_id=case.id) \
        .order_by(CaseStatusChange.changed_at.desc()).all()
    account = current_account()
    from ..outcomes.forms import FollowUpForm
    from ..outcomes.queries import pending_follow_up
    forms.setdefault("follow_up_form", FollowUpForm(formdata=None))
    return render_case("cases/track.html", case, "cases.track", may_edit=may(account, Permission.CASE_DIRECT, case),
                       status_changes=status_changes, phases=list(Phase), follow_up=pending_follow_up(case.id),
                       today=today(), **forms), status


@blueprint.route("/<int:case_id>/fasen")
@requires(Permission.CASE_VIEW, load=load_case)
def track(target: Case, case_id: int) -> tuple[str, int]:
    return _track_page(target)


def _conflict(case: Case, form) -> None:  # noqa: ANN001
    """A stale form: say so, and show what the case looks like now. Nothing was saved."""
    db.session.rollback()
    db.session.refresh(case)
    latest = max([*case.phase_changes, *case.ave_changes], key=lambda change: change.changed_at, default=None)
    who = f" Laatste wijziging: {latest.changed_by.display_name}, {format_moment(latest.changed_at)}." \
        if latest else ""
    form.version.errors = [f"{StaleVersion().message} Nu: fase {case.phase.label}, AVE {case.ave_level}, "
                           f"status {case.status.label}.{who}"]
    form.version.data = case.version


def _apply(case: Case, form, fallback: str, action) -> bool:  # noqa: ANN001
    """Run ``action``; on a conflict or a refused rule put the message on the form. True when done."""
    try:
        action()
    except StaleVersion:
        _conflict(case, form)
        return False
    except DomainError as exc:
        show_domain_error(form, exc, fallback)
        return False
    return True


@blueprint.route("/<int:case_id>/fase", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def move_phase(target: Case, case_id: int) -> ViewResult:
    form = PhaseForm()
    if form.validate() and _apply(target, form, "phase", lambda: operations.move_phase(
            target, Phase(form.phase.data), by=current_account(), reason=form.reason.data,
            no_diagnostics_reason=form.no_diagnostics_reason.data, expected_version=form.version.data)):
        return saved(f"De casus staat nu in de fase {target.phase.label}.", ".track", "fase-wijzigen", case_id=target.id)
    return _track_page(target, 422, phase_form=form)


@blueprint.route("/<int:case_id>/ave", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def change_ave(target: Case, case_id: int) -> ViewResult:
    form = AveForm()
    if form.validate() and _apply(target, form, "ave_level", lambda: operations.change_ave_level(
            target, form.ave_level.data, by=current_account(), reason=form.reason.data,
            expected_version=form.version.data)):
        return saved(f"De casus staat nu op AVE {target.ave_level}.", ".track", "ave-wijzigen", case_id=target.id)
    return _track_page(target, 422, ave_form=form)


@blueprint.route("/<int:case_id>/afsluiten", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def close(target: Case, case_id: int) -> ViewResult:
    form = CloseForm()
    if form.validate() and _apply(target, form, "closure_reason", lambda: operations.close_case(
            target, closure_reason=ClosureReason(form.closure_reason.data),
            receiving_party=OrganisationKind(form.receiving_party.data), receiving_name=form.receiving_name.data,
            note=form.note.data, by=current_account(), expected_version=form.version.data,
            safety_judgement=SafetyJudgement(form.safety_judgement.data),
            professional_rating=form.professional_rating.data, family_rating=form.family_rating.data)):
        return saved("De casus is afgesloten en overgedragen. Over twaalf maanden staat de follow-up als taak klaar.",
                     ".track", "heropenen", case_id=target.id)
    return _track_page(target, 422, close_form=form)


@blueprint.route("/<int:case_id>/follow-up", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def follow_up(target: Case, case_id: int) -> ViewResult:
    """The follow-up twelve months after closure (mda.outcomes), from the case's status tab."""
    from ..outcomes.forms import FollowUpForm
    from ..outcomes.models import FamilySafe
    from ..outcomes.operations import record_follow_up
    from ..outcomes.queries import pending_follow_up
    form = FollowUpForm()
    check = pending_follow_up(target.id)
    if check is None:
        form.family_safe.errors = ["Deze casus heeft geen follow-up die nog vastgelegd moet worden."]
        return _track_page(target, 422, follow_up_form=form)
    if form.validate() and _apply(target, form, "family_safe", lambda: record_follow_up(
            check, family_safe=FamilySafe(form.family_safe.data), new_vt_report=form.new_vt_report.data,
            new_house_ban=form.new_house_ban.data, new_referral=form.new_referral.data, by=current_account(),
            on=today())):
        flash("De follow-up is vastgelegd.")
        return redirect(url_for(".track", case_id=target.id))
    return _track_page(target, 422, follow_up_form=form)


@blueprint.route("/<int:case_id>/heropenen", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def reopen(target: Case, case_id: int) -> ViewResult:
    form = ReopenForm()
    if form.validate() and _apply(target, form, "reason", lambda: operations.reopen_case(
            target, reason=form.reason.data, by=current_account(), expected_version=form.version.data)):
        return saved("De casus is heropend.", ".track", "fase-wijzigen", case_id=target.id)
    return _track_page(target, 422, reopen_form=form)


@blueprint.route("/<int:case_id>/gezinslabel", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def family_label(target: Case, case_id: int) -> ViewResult:
    form = FamilyLabelForm()
    if form.validate() and _apply(target, form, "family_label", lambda: operations.set_family_label(
            target, form.family_label.data, by=current_account(), expected_version=form.version.data)):
        flash("Het gezinslabel is opgeslagen.")
        return redirect(url_for(".detail", case_id=target.id))
    return _overview(target, 422, label_form=form)
