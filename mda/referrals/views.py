"""Referrals in the browser: Veilig Thuis drafts and submits, the team lead triages.

Views load, authorise (``@requires``), validate, call an operation and respond. Veilig Thuis
sees its own organisation's referrals with their status, decision and reason, never the case
behind an accepted one. Input errors re-render the page with the message next to its field
(status 200); a stale form re-renders with the stored values and status 409; nothing of a
refused operation is committed.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record, record_many
from ..cases.queries import coordinator_of
from ..cases.models import Case, CaseStatus, ViolenceForm
from ..db import db
from ..forms import saved, show_domain_error
from ..paging import page_asked
from ..errors import DomainError, InvalidInput, StaleVersion
from ..people.models import Person
from ..security.policy import Permission, current_account, may, requires
from ..timeutil import format_moment, utcnow
from . import operations
from .queries import recently_decided, referrals_page, triage_queue_page
from .forms import (AcceptForm, DeclineForm, DeleteDraftForm, JoinCaseForm, PersonForm, RedirectForm, ReferralForm, RemovePersonForm,
                    SubmitForm)
from .models import ActieOverlegPartner, Referral, ReferralStatus

blueprint = Blueprint("referrals", __name__)

View = Response | str | tuple[str, int]
SUBMIT_PREFIX = "indienen"

_LABELLED = {"partners": ActieOverlegPartner, "violence": ViolenceForm}


@blueprint.app_template_filter("nl_date")
def nl_date(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "—"


@blueprint.app_template_filter("nl_moment")
def nl_moment(value: datetime | None) -> str:
    """An instant on the Dutch wall clock."""
    return format_moment(value)


@blueprint.app_template_filter("labels")
def labels(codes: list[str] | None, kind: str) -> str:
    enum_class = _LABELLED[kind]
    names = []
    for code in codes or []:
        try:
            names.append(enum_class(code).label)
        except ValueError:
            names.append(code)
    return ", ".join(names) or "—"


def load_referral(referral_id: int, **_: Any) -> Referral | None:
    return db.session.get(Referral, referral_id)


def _stale(form: FlaskForm, referral: Referral, exc: StaleVersion) -> None:
    """Keep what the user typed, show what is stored now, and let a deliberate resubmit win."""
    db.session.rollback()
    db.session.refresh(referral)
    form.form_errors.append(exc.message)
    form.version.data = str(referral.version)


def waiting_time(since: datetime | None) -> str:
    if since is None:
        return "—"
    elapsed = utcnow() - since
    days, hours = elapsed.days, elapsed.seconds // 3600
    if days:
        return f"{days} {'dag' if days == 1 else 'dagen'}, {hours} uur"
    return f"{hours} uur" if hours else "minder dan een uur"


def _audit_person_reads(referral: Referral, persons: list[Person], account: User | None) -> None:
    record(AuditAction.READ, by=account, object_type="referral", object_id=referral.id, detail="verwijzing ingezien")
    for person in persons:
        record(AuditAction.READ, by=account, person_id=person.id, object_type="person", object_id=person.id)


def _visible_persons(referral: Referral) -> list[Person]:
    """Persons still on the referral only: once moved onto a case they are case data."""
    return [person for person in operations.persons_of(referral) if person.case_id is None]


# --- Veilig Thuis ----------------------------------------------------------------------------------

@blueprint.route("/verwijzingen/")
@requires(Permission.REFERRAL_CREATE)
def index() -> str:
    account = current_account()
    page = referrals_page(account.organisation_id, page_asked(request.args.get("pagina")))
    # The list shows the family label Veilig Thuis gave each referral: audited per referral shown, in one statement.
    record_many(AuditAction.READ, [(None, "referral", referral.id) for referral in page.items if referral.family_label],
                by=account, detail="verwijzingenlijst")
    return render_template("referrals/index.html", page=page)


@blueprint.route("/verwijzingen/nieuw", methods=["GET", "POST"])
@requires(Permission.REFERRAL_CREATE)
def create() -> View:
    form = ReferralForm.build()
    if form.validate_on_submit():
        try:
            referral = operations.save_draft(None, by=current_account(), **form.values())
        except InvalidInput as exc:
            show_domain_error(form, exc)
        else:
            return saved("Het concept is opgeslagen. Voeg nu de personen van het cliëntsysteem toe en dien de "
                         "verwijzing in.", ".edit", "clientsysteem", referral_id=referral.id)
    return render_template("referrals/create.html", form=form)


@blueprint.route("/verwijzingen/<int:referral_id>")
@requires(Permission.REFERRAL_VIEW, load=load_referral)
def detail(target: Referral, referral_id: int) -> str:
    account = current_account()
    if target.status == ReferralStatus.DRAFT and target.organisation_id != account.organisation_id:
        abort(404)  # a draft is not shared with anyone outside its organisation yet
    persons = _visible_persons(target)
    _audit_person_reads(target, persons, account)
    # After acceptance Veilig Thuis learns who coordinates, for a warm handover; never the case file.
    coordinator = coordinator_of(target.case_id) if target.status == ReferralStatus.ACCEPTED else None
    return render_template("referrals/detail.html", referral=target, persons=persons, coordinator=coordinator,
                           may_edit=may(account, Permission.REFERRAL_EDIT, target),
                           may_triage=may(account, Permission.REFERRAL_TRIAGE, target))


def _render_edit(referral: Referral, status: int = 200, **forms: Any) -> tuple[str, int]:
    forms.setdefault("form", ReferralForm.build(referral, formdata=None))
    forms.setdefault("person_form", PersonForm.build(referral, formdata=None))
    forms.setdefault("delete_form", DeleteDraftForm(formdata=None, data={"version": str(referral.version)},
                                                    prefix="weggooien"))
    persons = operations.persons_of(referral)
    _audit_person_reads(referral, persons, current_account())
    return render_template("referrals/edit.html", referral=referral, persons=persons,
                           missing=[operations.FIELD_LABELS[name] for name in operations.missing_for_submit(referral)],
                           **forms), status


@blueprint.route("/verwijzingen/<int:referral_id>/bewerken", methods=["GET", "POST"])
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def edit(target: Referral, referral_id: int) -> View:
    form = ReferralForm.build(target)
    if form.validate_on_submit():
        try:
            operations.save_draft(target, by=current_account(), expected_version=form.version.data, **form.values())
        except StaleVersion as exc:
            _stale(form, target, exc)
            return _render_edit(target, 409, form=form, conflict=True)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return saved("Het concept is opgeslagen.", ".edit", "gegevens", referral_id=target.id)
    return _render_edit(target, form=form)


@blueprint.route("/verwijzingen/<int:referral_id>/personen", methods=["POST"])
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def add_person(target: Referral, referral_id: int) -> View:
    form = PersonForm.build(target)
    if form.validate_on_submit():
        try:
            operations.add_referral_person(target, by=current_account(), expected_version=form.version.data,
                                           **form.values())
        except StaleVersion as exc:
            _stale(form, target, exc)
            return _render_edit(target, 409, person_form=form, conflict=True)
        except DomainError as exc:
            show_domain_error(form, exc, fallback="name")
        else:
            return saved("De persoon is toegevoegd aan het cliëntsysteem. U kunt de volgende persoon toevoegen.",
                         ".edit", "persoon-toevoegen", referral_id=target.id)
    return _render_edit(target, person_form=form)


def _person_of(referral: Referral, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.referral_id != referral.id or person.case_id is not None:
        abort(404)
    return person


@blueprint.route("/verwijzingen/<int:referral_id>/personen/<int:person_id>", methods=["GET", "POST"])
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def edit_person(target: Referral, referral_id: int, person_id: int) -> View:
    person = _person_of(target, person_id)
    form = PersonForm.build(target, person)
    status = 200
    if form.validate_on_submit():
        try:
            operations.update_referral_person(target, person, by=current_account(),
                                              expected_version=form.version.data, **form.values())
        except StaleVersion as exc:
            _stale(form, target, exc)
            status = 409
        except DomainError as exc:
            show_domain_error(form, exc, fallback="name")
        else:
            return saved("De gegevens van de persoon zijn opgeslagen.", ".edit", "clientsysteem",
                         referral_id=target.id)
    record(AuditAction.READ, by=current_account(), person_id=person.id, object_type="person", object_id=person.id)
    return render_template("referrals/person.html", referral=target, person=person, form=form,
                           person_form=form), status


@blueprint.route("/verwijzingen/<int:referral_id>/personen/<int:person_id>/verwijderen", methods=["POST"])
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def remove_person(target: Referral, referral_id: int, person_id: int) -> View:
    person = _person_of(target, person_id)
    form = RemovePersonForm()
    if form.validate_on_submit():
        try:
            operations.remove_referral_person(target, person, by=current_account(),
                                              expected_version=form.version.data)
        except StaleVersion as exc:
            _stale(form, target, exc)
            flash(exc.message, "error")
            return _render_edit(target, 409)
        return saved("De persoon is uit het cliëntsysteem verwijderd.", ".edit", "clientsysteem",
                     referral_id=target.id)
    flash("Het formulier is onvolledig verzonden. Laad de pagina opnieuw.", "error#clientsysteem")
    return redirect(url_for(".edit", referral_id=target.id, _anchor="clientsysteem"))


def _render_review(referral: Referral, status: int = 200, form: SubmitForm | None = None) -> tuple[str, int]:
    persons = operations.persons_of(referral)
    _audit_person_reads(referral, persons, current_account())
    form = form or SubmitForm(formdata=None, data={"version": str(referral.version)}, prefix=SUBMIT_PREFIX)
    return render_template("referrals/review.html", referral=referral, persons=persons,
                           relations=operations.relations_among(persons), submit_form=form,
                           missing=[operations.FIELD_LABELS[name] for name in operations.missing_for_submit(referral)]
                           ), status


@blueprint.route("/verwijzingen/<int:referral_id>/controleren")
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def review(target: Referral, referral_id: int) -> View:
    """The whole referral as the team will see it, before the irreversible submit."""
    if target.status != ReferralStatus.DRAFT:
        return redirect(url_for(".detail", referral_id=target.id))
    return _render_review(target)


@blueprint.route("/verwijzingen/<int:referral_id>/indienen", methods=["POST"])
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def submit(target: Referral, referral_id: int) -> View:
    form = SubmitForm(prefix=SUBMIT_PREFIX)
    if form.validate_on_submit():
        try:
            operations.submit(target, by=current_account(), expected_version=form.version.data)
        except StaleVersion as exc:
            _stale(form, target, exc)
            return _render_review(target, 409, form)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return saved("De verwijzing is ingediend bij het MDA++-team. U ziet hier wanneer erover is besloten.",
                         ".detail", None, referral_id=target.id)
    return _render_review(target, 200, form)


@blueprint.route("/verwijzingen/<int:referral_id>/verwijderen", methods=["POST"])
@requires(Permission.REFERRAL_EDIT, load=load_referral)
def delete_draft(target: Referral, referral_id: int) -> View:
    form = DeleteDraftForm(prefix="weggooien")
    if form.validate_on_submit():
        try:
            operations.delete_draft(target, by=current_account(), expected_version=form.version.data)
        except StaleVersion as exc:
            _stale(form, target, exc)
            flash(exc.message, "error#weggooien")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        else:
            return saved("Het concept is verwijderd.", ".index")
    else:
        flash("Het formulier is onvolledig verzonden. Laad de pagina opnieuw.", "error#weggooien")
    return redirect(url_for(".edit", referral_id=target.id, _anchor="weggooien"))


# --- triage by the team lead -----------------------------------------------------------------------

@blueprint.route("/triage/")
@requires(Permission.REFERRAL_TRIAGE)
def triage_index() -> str:
    queue = triage_queue_page(page_asked(request.args.get("pagina")))
    return render_template("referrals/triage_index.html", queue=queue, decided=recently_decided(),
                           waiting_time=waiting_time)


def _render_triage(referral: Referral, status: int = 200, **forms: Any) -> tuple[str, int]:
    account = current_account()
    persons = operations.persons_of(referral)
    _audit_person_reads(referral, persons, account)
    duplicates = []
    if referral.status == ReferralStatus.SUBMITTED:
        duplicates = operations.find_possible_duplicates(referral)
        record(AuditAction.SEARCH, by=account, object_type="referral", object_id=referral.id,
               detail=f"controle op dubbele registratie: {len(duplicates)} treffer(s)")
        for duplicate in {d.match.id: d for d in duplicates}.values():  # each known person read once
            record(AuditAction.READ, by=account, case_id=duplicate.case.id, person_id=duplicate.match.id,
                   object_type="person", object_id=duplicate.match.id, detail="mogelijke dubbele registratie")
    forms.setdefault("accept_form", AcceptForm.build(referral, formdata=None))
    forms.setdefault("decline_form", DeclineForm.build(referral, formdata=None))
    forms.setdefault("join_form", JoinCaseForm.build(referral, formdata=None))
    forms.setdefault("redirect_form", RedirectForm.build(referral, formdata=None))
    # The open cases the family is already in, each with the referral's persons compared to its own.
    running = {d.case.id: d.case for d in duplicates
               if d.case.status == CaseStatus.OPEN and may(account, Permission.CASE_VIEW, d.case)}
    comparisons = {case_id: operations.compare_persons(referral, case) for case_id, case in running.items()}
    return render_template(
        "referrals/triage_detail.html", referral=referral, persons=persons, duplicates=duplicates,
        running_cases=list(running.values()), comparisons=comparisons,
        her_melding=operations.previous_case_for(duplicates),
        may_view_case=lambda case: may(account, Permission.CASE_VIEW, case),
        waiting_time=waiting_time, **forms), status


def _load_triage(target: Referral) -> Referral:
    if target.status == ReferralStatus.DRAFT:
        abort(404)  # drafts are Veilig Thuis's own until submitted
    return target


@blueprint.route("/triage/<int:referral_id>")
@requires(Permission.REFERRAL_TRIAGE, load=load_referral)
def triage_detail(target: Referral, referral_id: int) -> View:
    return _render_triage(_load_triage(target))


def _decide(target: Referral, form: FlaskForm, form_name: str, operation: Any, success: str) -> View:
    referral = _load_triage(target)
    if form.validate_on_submit():
        try:
            operation()
        except StaleVersion as exc:
            _stale(form, referral, exc)
            return _render_triage(referral, 409, **{form_name: form})
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return saved(success, ".triage_index")
    return _render_triage(referral, **{form_name: form})


@blueprint.route("/triage/<int:referral_id>/accepteren", methods=["POST"])
@requires(Permission.REFERRAL_TRIAGE, load=load_referral)
def accept(target: Referral, referral_id: int) -> View:
    form = AcceptForm.build(target)
    return _decide(target, form, "accept_form", lambda: operations.accept(
        target, by=current_account(), coordinator=db.session.get(User, form.coordinator.data or 0),
        ave_level=int(form.ave_level.data), note=form.note.data, duplicates_acknowledged=form.duplicates_seen.data,
        expected_version=form.version.data),
        "De verwijzing is geaccepteerd; de casus is aangemaakt en de coördinator is toegewezen.")


@blueprint.route("/triage/<int:referral_id>/afwijzen", methods=["POST"])
@requires(Permission.REFERRAL_TRIAGE, load=load_referral)
def decline(target: Referral, referral_id: int) -> View:
    form = DeclineForm.build(target)
    return _decide(target, form, "decline_form", lambda: operations.decline(
        target, by=current_account(), reason=form.reason.data, expected_version=form.version.data),
        "De verwijzing is afgewezen. Veilig Thuis ziet het besluit en de reden.")


@blueprint.route("/triage/<int:referral_id>/doorgeleiden", methods=["POST"])
@requires(Permission.REFERRAL_TRIAGE, load=load_referral)
def redirect_referral(target: Referral, referral_id: int) -> View:
    form = RedirectForm.build(target)
    return _decide(target, form, "redirect_form", lambda: operations.redirect(
        target, by=current_account(), target=form.target.data, advice=form.advice.data,
        expected_version=form.version.data),
        "De verwijzing is doorgeleid. Veilig Thuis ziet het besluit en het advies.")


# Consultation questions and API-key administration add their routes to this blueprint.
from . import consultation_views, token_views  # noqa: E402,F401


@blueprint.route("/triage/<int:referral_id>/toevoegen", methods=["POST"])
@requires(Permission.REFERRAL_TRIAGE, load=load_referral)
def join_case(target: Referral, referral_id: int) -> View:
    form = JoinCaseForm.build(target)
    case = db.session.get(Case, int(form.case_id.data)) if (form.case_id.data or "").isdigit() else None

    def join() -> None:
        if case is None or not may(current_account(), Permission.CASE_VIEW, case):
            raise InvalidInput("Kies een lopende casus waarin het gezin al bekend is.", field="case_id")
        operations.join_running_case(target, case, by=current_account(), note=form.note.data,
                                     expected_version=form.version.data)
    return _decide(target, form, "join_form", join,
                   "De verwijzing is toegevoegd aan de lopende casus; de instroom staat in het journaal.")
