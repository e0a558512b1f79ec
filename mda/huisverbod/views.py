"""Huisverboden: the deadlines view, the case tab with the timeline, and the event forms.

Views load, authorise (``@requires``), audit and render; the rules live in ``operations``.
A refused form is shown again with the Dutch message next to its field (status 200, after
rolling back whatever the operation did); a stale form answers 409 and shows the stored
state next to what was typed, saving nothing. Reads of pages with personal data are audited
before the page is returned, in the request's own transaction, or in a separate one when the
request itself is rolled back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from flask import Blueprint, abort, current_app, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record, record_many
from ..cases.models import Case
from ..cases.queries import load_case, persons_of
from ..cases.tabs import render_case
from ..db import db
from ..forms import saved, show_domain_error
from ..errors import DomainError, StaleVersion
from ..people.identity import is_adult_on
from ..people.models import Person
from ..reference.models import Municipality
from ..security.policy import Permission, current_account, may, requires
from ..timeutil import today, utcnow
from . import deadlines, operations
from .forms import (AppealForm, BreachForm, CasemanagementEndForm, CasemanagementStartForm, DeclineExtensionForm,
                    ExtendForm, HearingForm, ImposeForm, ReachabilityForm, RulingForm, WithdrawForm,
                    WrittenUpForm)
from .models import AppealRuling, HouseBan, HouseBanRoute, HouseBanStatus, ImposedBy, OrderForm
from .queries import STATE_LABELS, flags_of, orders_of_case, running_orders_for, timeline

blueprint = Blueprint("huisverbod", __name__)

View = Response | str | tuple[str, int]


# ---------------------------------------------------------------------------------------------
# The deadlines view

@blueprint.route("/huisverboden")
@requires(Permission.HOUSE_BANS_OVERVIEW)
def overview() -> str:
    operations.expire_due_orders()
    account = current_account()
    rows = running_orders_for(account)
    # The overview shows each case's family label: a read of personal data of every case listed.
    record_many(AuditAction.READ, [(row.ban.case_id, "case", row.ban.case_id)
                                   for row in {row.ban.case_id: row for row in rows}.values()],
                by=account, detail="huisverbodenoverzicht")
    return render_template("huisverbod/overview.html", rows=rows, urgent=[row for row in rows if row.urgent],
                           format_local=deadlines.format_local)


# ---------------------------------------------------------------------------------------------
# The event forms on the case tab

@dataclass(frozen=True)
class EventForm:
    """One kind of event: its URL part, form, the operation that applies it, and when it is offered."""

    name: str
    endpoint: str
    title: str
    button: str
    form_class: type[FlaskForm]
    apply: Callable[[HouseBan, Any, User], Any]
    offered: Callable[[HouseBan], bool]
    done: str
    fallback: str
    initial: Callable[[HouseBan], dict[str, Any]] = lambda ban: {}


def _running(ban: HouseBan) -> bool:
    return ban.is_running_at(utcnow())


def _extension_recordable(ban: HouseBan) -> bool:
    """A decision on extension is offered while the order runs, and after the clock ended it
    until four weeks after imposition: the mayor's timely decision may be recorded late."""
    latest = deadlines.latest_extended_end(ban.imposed_at)
    return ban.status in operations.EXTENDABLE_STATUSES and ban.ends_at < latest and utcnow() < latest


LATE_WITHDRAWAL_WINDOW = timedelta(days=28)


def _withdrawal_recordable(ban: HouseBan) -> bool:
    """A withdrawal is offered while the order runs, and for four weeks after the clock ended it:
    the mayor's withdrawal before the end may be recorded late."""
    return _running(ban) or (ban.status == HouseBanStatus.EXPIRED and utcnow() < ban.ends_at + LATE_WITHDRAWAL_WINDOW)


EVENT_FORMS: dict[str, EventForm] = {form.name: form for form in [
    EventForm("verlengen", "extend", "Verlengen (burgemeester)", "Verlenging vastleggen", ExtendForm,
              lambda ban, f, by: operations.extend(ban, new_end=f.new_end.data, decided_by=ImposedBy(f.decided_by.data),
                                                   decided_at=f.decided_at.data, note=f.note.data, by=by,
                                                   expected_version=f.version.data),
              _extension_recordable,
              "De verlenging is vastgelegd.", "new_end",
              lambda ban: {"decided_by": ImposedBy.MAYOR.value, "decided_at": utcnow().replace(second=0, microsecond=0),
                           "new_end": deadlines.latest_extended_end(ban.imposed_at)}),
    EventForm("niet-verlengen", "decline_extension", "Besluit: niet verlengen", "Besluit vastleggen", DeclineExtensionForm,
              lambda ban, f, by: operations.decline_extension(ban, decided_at=f.decided_at.data, note=f.note.data,
                                                              by=by, expected_version=f.version.data),
              lambda ban: (_extension_recordable(ban) and ban.status != HouseBanStatus.EXTENDED
                           and ban.extension_decided_at is None),
              "Het besluit om niet te verlengen is vastgelegd.", "decided_at",
              lambda ban: {"decided_at": utcnow().replace(second=0, microsecond=0)}),
    EventForm("intrekken", "withdraw", "Intrekken (burgemeester)", "Intrekking vastleggen", WithdrawForm,
              lambda ban, f, by: operations.withdraw(ban, decided_by=ImposedBy(f.decided_by.data),
                                                     withdrawn_at=f.withdrawn_at.data, note=f.note.data, by=by,
                                                     expected_version=f.version.data),
              _withdrawal_recordable, "De intrekking is vastgelegd.", "withdrawn_at",
              lambda ban: {"decided_by": ImposedBy.MAYOR.value,  # after the end: the user fills in when
                           "withdrawn_at": utcnow().replace(second=0, microsecond=0) if _running(ban) else None}),
    EventForm("schriftelijk", "written_up", "Op schrift gesteld", "Vastleggen", WrittenUpForm,
              lambda ban, f, by: operations.record_written_up(ban, written_up_at=f.written_up_at.data, by=by,
                                                              expected_version=f.version.data),
              lambda ban: ban.form == OrderForm.ORAL and ban.written_up_at is None,
              "Het op schrift stellen is vastgelegd.", "written_up_at"),
    EventForm("bereikbaarheid", "reachability", "Bereikbaarheid uithuisgeplaatste", "Bereikbaarheid vastleggen", ReachabilityForm,
              lambda ban, f, by: operations.state_reachability(ban, reachability=f.reachability.data,
                                                               stated_at=f.stated_at.data, by=by,
                                                               expected_version=f.version.data),
              lambda ban: True, "De bereikbaarheid is vastgelegd.", "reachability"),
    EventForm("beroep", "appeal", "Beroep en voorlopige voorziening", "Beroep vastleggen", AppealForm,
              lambda ban, f, by: operations.file_appeal(ban, filed_on=f.filed_on.data,
                                                        provisional_relief=bool(f.provisional_relief.data), by=by,
                                                        expected_version=f.version.data),
              lambda ban: ban.open_appeal is None, "Het beroep is vastgelegd.", "filed_on"),
    EventForm("zitting", "hearing", "Zitting bij de rechter", "Zitting vastleggen", HearingForm,
              lambda ban, f, by: operations.set_hearing(ban, hearing_on=f.hearing_on.data, by=by,
                                                        expected_version=f.version.data),
              lambda ban: ban.open_appeal is not None, "De zitting is vastgelegd.", "hearing_on"),
    EventForm("uitspraak", "ruling", "Uitspraak van de rechter", "Uitspraak vastleggen", RulingForm,
              lambda ban, f, by: operations.record_ruling(ban, ruling=AppealRuling(f.ruling.data),
                                                          ruled_at=f.ruled_at.data, by=by,
                                                          expected_version=f.version.data),
              lambda ban: ban.open_appeal is not None, "De uitspraak is vastgelegd.", "ruling"),
    EventForm("overtreding", "breach", "Overtreding", "Overtreding vastleggen", BreachForm,
              lambda ban, f, by: operations.record_breach(ban, occurred_at=f.occurred_at.data,
                                                          reported_to_police=bool(f.reported_to_police.data),
                                                          notes=f.notes.data, by=by, expected_version=f.version.data),
              lambda ban: True, "De overtreding is vastgelegd.", "occurred_at"),
    EventForm("casemanagement-start", "casemanagement_start", "Start casemanagement", "Start vastleggen", CasemanagementStartForm,
              lambda ban, f, by: operations.start_casemanagement(ban, started_at=f.started_at.data, by=by,
                                                                 expected_version=f.version.data),
              lambda ban: ban.casemanagement_started_at is None, "De start van het casemanagement is vastgelegd.",
              "started_at"),
    EventForm("casemanagement-einde", "casemanagement_end", "Einde casemanagement", "Einde vastleggen", CasemanagementEndForm,
              lambda ban, f, by: operations.end_casemanagement(ban, ended_at=f.ended_at.data, note=f.note.data, by=by,
                                                               expected_version=f.version.data),
              lambda ban: ban.casemanagement_started_at is not None and ban.casemanagement_ended_at is None,
              "Het einde van het casemanagement is vastgelegd.", "ended_at"),
]}


def _prefix(ban: HouseBan, name: str) -> str:
    # Unique field names and ids when the forms of several orders share the page.
    return f"hv{ban.id}-{name}"


def _blank_form(ban: HouseBan, spec: EventForm) -> FlaskForm:
    return spec.form_class(prefix=_prefix(ban, spec.name), formdata=None,
                           data={"version": ban.version, **spec.initial(ban)})


def _ban_of(case: Case, ban_id: int) -> HouseBan:
    ban = db.session.get(HouseBan, ban_id)
    if ban is None or ban.case_id != case.id:
        abort(404)
    return ban


def _record_reads(case: Case, bans: list[HouseBan], *, separate: bool) -> None:
    """The orders show the dwelling, the reachability and the persons' names: audit each read.
    ``separate``: the request will be rolled back, so write the records in their own transaction."""
    account = current_account()
    session = db.new_session_for(current_app._get_current_object()) if separate else None  # type: ignore[attr-defined]
    try:
        record(AuditAction.READ, by=account, case_id=case.id, object_type="case", object_id=case.id,
               detail="huisverboden", session=session)
        for ban in bans:
            record(AuditAction.READ, by=account, case_id=case.id, person_id=ban.removed_person_id,
                   object_type="house_ban", object_id=ban.id, session=session)
            for protected in ban.protected:
                record(AuditAction.READ, by=account, case_id=case.id, person_id=protected.person_id,
                       object_type="house_ban_protected_person", object_id=ban.id, session=session)
        if session is not None:
            session.commit()
    finally:
        if session is not None:
            session.close()


def _case_page(case: Case, status: int = 200, *, submitted: tuple[int, str, FlaskForm] | None = None,
               conflict: dict[str, Any] | None = None) -> tuple[str, int]:
    account = current_account()
    now = utcnow()
    bans = orders_of_case(case)
    can_edit = may(account, Permission.CASE_DIRECT, case)  # recording an order is the coordinator's
    orders = []
    for ban in bans:
        forms = []
        if can_edit:
            for spec in EVENT_FORMS.values():
                is_submitted = submitted is not None and submitted[0] == ban.id and submitted[1] == spec.name
                if is_submitted or spec.offered(ban):
                    forms.append((spec, submitted[2] if is_submitted else _blank_form(ban, spec), is_submitted))
        orders.append({"ban": ban, "status": ban.status_at(now), "flags": flags_of(ban, now),
                       "timeline": timeline(ban, now), "forms": forms,
                       "deadlines": deadlines.Deadlines.of(ban.imposed_at, ban.ends_at)})
    _record_reads(case, bans, separate=status >= 400)
    persons = {person.id: person for person in persons_of(case)}
    return render_case("huisverbod/case_orders.html", case, "huisverbod.case_orders", orders=orders,
                       persons=persons, can_edit=can_edit, state_labels=STATE_LABELS, conflict=conflict,
                       format_local=deadlines.format_local), status


@blueprint.route("/casussen/<int:case_id>/huisverboden")
@requires(Permission.CASE_VIEW, load=load_case)
def case_orders(target: Case, case_id: int) -> tuple[str, int]:
    operations.expire_due_orders()
    return _case_page(target)


def _submitted_values(form: FlaskForm) -> list[tuple[str, str]]:
    """What the user typed, to show next to the stored state after a conflict."""
    values = []
    for field in form:
        if field.type in ("HiddenField", "CSRFTokenField"):
            continue
        if field.type == "BooleanField":
            shown = "ja" if field.data else "nee"
        elif field.type == "LocalDateTimeField":
            shown = deadlines.format_local(field.data) if field.data else ""
        elif field.type == "SelectField":
            shown = next((choice.label for choice in field.iter_choices() if choice.selected), "")
        elif field.type == "DutchDateField":
            shown = field.data.strftime("%d-%m-%Y") if field.data else ""
        else:
            shown = field.data or ""
        values.append((str(field.label.text), str(shown) or "—"))
    return values


def _event_view(target: Case, ban_id: int, name: str) -> View:
    ban = _ban_of(target, ban_id)
    spec = EVENT_FORMS[name]
    form = spec.form_class(prefix=_prefix(ban, name))
    if form.validate_on_submit():
        try:
            spec.apply(ban, form, current_account())
        except StaleVersion as exc:
            db.session.rollback()
            ban = _ban_of(target, ban_id)
            conflict = {"ban_id": ban.id, "message": exc.message, "title": spec.title,
                        "submitted": _submitted_values(form)}
            # Sending the form again is then a deliberate choice over the newer state.
            form.version.data, form.version.raw_data = ban.version, [str(ban.version)]
            return _case_page(target, 409, submitted=(ban.id, name, form), conflict=conflict)
        except DomainError as exc:
            show_domain_error(form, exc, spec.fallback)
        else:
            return saved(spec.done, ".case_orders", f"huisverbod-{ban.id}", case_id=target.id)
    return _case_page(target, 200, submitted=(ban.id, name, form))


def _load_case_of_ban(case_id: int, ban_id: int) -> Case | None:
    """``load_case`` for URLs that also name an order; the order is checked against the case
    in the view, after the case permission."""
    return load_case(case_id)


def _register(spec: EventForm) -> None:
    def view(target: Case, case_id: int, ban_id: int) -> View:
        return _event_view(target, ban_id, spec.name)

    view.__name__ = spec.endpoint
    blueprint.add_url_rule(f"/casussen/<int:case_id>/huisverboden/<int:ban_id>/{spec.name}", spec.endpoint,
                           requires(Permission.CASE_DIRECT, load=_load_case_of_ban)(view), methods=["POST"])


for _spec in EVENT_FORMS.values():
    _register(_spec)


# ---------------------------------------------------------------------------------------------
# Imposing

def _person_label(person: Person) -> str:
    adult = is_adult_on(person.date_of_birth, today())
    age = "leeftijd onbekend" if adult is None else "meerderjarig" if adult else "minderjarig"
    return f"{person.name or 'Persoon zonder naam'} ({person.role.label}, {age})"


def _impose_form(case: Case, persons: list[Person]) -> ImposeForm:
    form = ImposeForm(data={"municipality": case.municipality_id} if request.method == "GET" else None)
    choices = [(person.id, _person_label(person)) for person in persons]
    form.removed_person.choices = [("", "Kies de uithuisgeplaatste")] + choices  # type: ignore[list-item]
    form.protected.choices = choices  # type: ignore[assignment]
    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.name)).all()
    form.municipality.choices = [(m.id, m.name) for m in municipalities if m.active or m.id == case.municipality_id]
    return form


@blueprint.route("/casussen/<int:case_id>/huisverboden/nieuw", methods=["GET", "POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def impose(target: Case, case_id: int) -> View:
    account = current_account()
    persons = persons_of(target)
    form = _impose_form(target, persons)
    if form.validate_on_submit():
        by_id = {person.id: person for person in persons}  # choices re-checked: only this case's persons
        try:
            ban = operations.impose_house_ban(
                target, imposed_at=form.imposed_at.data, imposed_by=ImposedBy(form.imposed_by.data),
                form=OrderForm(form.order_form.data), route=HouseBanRoute(form.route.data),
                removed_person=by_id[form.removed_person.data],
                protected_persons=[by_id[person_id] for person_id in form.protected.data or []],
                dwelling=form.dwelling.data or "", facts=form.facts.data, reachability=form.reachability.data,
                child_abuse_reason=bool(form.child_abuse_reason.data),
                veilig_thuis_consulted_at=form.veilig_thuis_consulted_at.data,
                risk_instrument=form.risk_instrument.data or None, risk_outcome=form.risk_outcome.data or None,
                municipality=db.session.get(Municipality, form.municipality.data), by=account)
        except DomainError as exc:
            show_domain_error(form, exc, "imposed_at")
            persons = persons_of(target)
        else:
            return saved(f"Het huisverbod is vastgelegd. Het loopt tot {deadlines.format_local(ban.ends_at)}.",
                         ".case_orders", f"huisverbod-{ban.id}", case_id=target.id)
    # The choice lists show the names of the client system.
    record(AuditAction.READ, by=account, case_id=target.id, object_type="case", object_id=target.id,
           detail="huisverbod opleggen")
    for person in persons:
        record(AuditAction.READ, by=account, case_id=target.id, person_id=person.id, object_type="person",
               object_id=person.id)
    return render_case("huisverbod/impose.html", target, "huisverbod.case_orders", form=form,
                       has_adult=any(is_adult_on(person.date_of_birth, today()) for person in persons))
