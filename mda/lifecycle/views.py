"""The privacy officer's pages: erasure requests and the access report (AVG art. 15 and 17).

Only the privacy officer (``Permission.AUDIT_VIEW``) reaches them; every page that shows
personal data, and every change, writes its own audit record.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import DomainError
from ..forms import MAX_ID, saved, show_domain_error
from ..people.models import Person
from ..people.operations import find_by_bsn, find_by_name_and_birth_date
from ..security.policy import Permission, current_account, requires
from ..timeutil import today, utcnow
from . import access_report, access_requests, erasure
from .forms import (CompleteAccessForm, DecisionForm, ExecuteForm, ExtendAccessForm, NewRequestForm,
                    PersonLookupForm)
from .models import AccessRequest, ErasureRequest, ErasureStatus, RefusalGround
from .retention import RetentionPolicy

blueprint = Blueprint("lifecycle", __name__, url_prefix="/privacy")

LOOKUP_OBJECT = "person_lookup"
REPORT_OBJECT = "access_report"
# The persons the last lookup by BSN or by name with date of birth found: an access request can
# be registered only for one of them, so counting ids reaches nobody.
LOOKUP_SESSION_KEY = "privacy_lookup"
LOOKUP_MINUTES = 10  # shorter than the idle timeout: the lookup belongs to this sitting
NOT_LOOKED_UP = "Zoek de persoon eerst op met het BSN, of met de naam en de geboortedatum."


def remember_lookup(matches: list[Person]) -> None:
    session[LOOKUP_SESSION_KEY] = {"ids": [person.id for person in matches], "at": utcnow().timestamp()}


def looked_up(person_id: int) -> bool:
    lookup = session.get(LOOKUP_SESSION_KEY)
    if not isinstance(lookup, dict) or utcnow().timestamp() - float(lookup.get("at", 0)) > LOOKUP_MINUTES * 60:
        return False
    return person_id in lookup.get("ids", [])


def _reference(case_id: int | None) -> str:
    if case_id is None:
        return ""
    return db.session.scalar(select(Case.reference).where(Case.id == case_id)) or f"casus-id {case_id}"


@blueprint.get("/")
@requires(Permission.AUDIT_VIEW)
def index() -> str:
    requests = db.session.scalars(select(ErasureRequest).order_by(ErasureRequest.id.desc())).all()
    access_items = db.session.scalars(select(AccessRequest).order_by(AccessRequest.id.desc())).all()
    references = {item.case_id: _reference(item.case_id) for item in [*requests, *access_items]}
    deadlines = {item.id: access_requests.deadline_state(item) for item in access_items}
    try:
        policy: RetentionPolicy | None = RetentionPolicy.from_config()
    except DomainError:
        policy = None
    return render_template("lifecycle/index.html", requests=requests, references=references, policy=policy,
                           access_items=access_items, deadlines=deadlines)


@blueprint.route("/personen", methods=["GET", "POST"])
@requires(Permission.AUDIT_VIEW)
def find_person() -> tuple[str, int] | str:
    form = PersonLookupForm()
    matches: list[Person] | None = None
    if request.method == "POST":
        if not form.validate():
            return render_template("lifecycle/find_person.html", form=form, matches=None), 422
        try:
            if form.bsn.data:
                matches = find_by_bsn(form.bsn.data)
                how = "BSN"
            else:
                matches = find_by_name_and_birth_date(form.name.data, form.date_of_birth.data)
                how = "naam en geboortedatum"
        except DomainError as exc:
            show_domain_error(form, exc, "bsn")
            return render_template("lifecycle/find_person.html", form=form, matches=None), 422
        record(AuditAction.SEARCH, by=current_account(), object_type=LOOKUP_OBJECT,
               detail=f"gezocht op {how}: {len(matches)} gevonden")
        remember_lookup(matches)
    references = {person.case_id: _reference(person.case_id) for person in matches or []}
    return render_template("lifecycle/find_person.html", form=form, matches=matches, references=references,
                           new_form=NewRequestForm(formdata=None, received_on=today()))


@blueprint.post("/inzageverzoeken/nieuw")
@requires(Permission.AUDIT_VIEW)
def new_access_request() -> Response | tuple[str, int]:
    form = NewRequestForm()
    person = None
    if form.validate():
        person = db.session.get(Person, form.person_id.data) if looked_up(form.person_id.data) else None
        if person is None:
            form.received_on.errors = [*form.received_on.errors, NOT_LOOKED_UP]
        else:
            try:
                created = access_requests.register(person, received_on=form.received_on.data, by=current_account())
            except DomainError as exc:
                show_domain_error(form, exc, "received_on")
            else:
                flash("Het inzageverzoek is vastgelegd. De termijn loopt vanaf de datum van ontvangst.")
                return redirect(url_for("lifecycle.access_request_detail", request_id=created.id))
    return render_template("lifecycle/new_access_request.html", form=form), 422


def _load_access(request_id: int) -> AccessRequest:
    item = db.session.get(AccessRequest, request_id)
    if item is None:
        abort(404)
    return item


def _access_detail(item: AccessRequest, extend_form: ExtendAccessForm | None = None,
                   complete_form: CompleteAccessForm | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "lifecycle/access_request_detail.html", item=item, reference=_reference(item.case_id),
        person=db.session.get(Person, item.person_id), state=access_requests.deadline_state(item),
        extend_form=extend_form or ExtendAccessForm(formdata=None, version=item.version),
        complete_form=complete_form or CompleteAccessForm(formdata=None, version=item.version)), status


@blueprint.get("/inzageverzoeken/<int:request_id>")
@requires(Permission.AUDIT_VIEW)
def access_request_detail(request_id: int) -> tuple[str, int]:
    item = _load_access(request_id)
    record(AuditAction.READ, by=current_account(), person_id=item.person_id, case_id=item.case_id,
           object_type=access_requests.REQUEST_OBJECT, object_id=item.id)
    return _access_detail(item)


@blueprint.get("/inzageverzoeken/<int:request_id>/overzicht")
@requires(Permission.AUDIT_VIEW)
def access(request_id: int) -> str:
    """The access report, only for a registered access request."""
    item = _load_access(request_id)
    person = db.session.get(Person, item.person_id)
    if person is None:
        abort(404)  # the person's record is gone (erased); the register keeps that the request was handled
    report = access_report.build(person)
    # Recorded before the page is returned: a failed audit write fails the request.
    record(AuditAction.PRINT, by=current_account(), person_id=person.id, case_id=person.case_id,
           object_type=REPORT_OBJECT, object_id=person.id, detail=f"inzageoverzicht opgesteld (verzoek {item.id})")
    return render_template("lifecycle/access_report.html", report=report, generated_on=today(), item=item)


@blueprint.post("/inzageverzoeken/<int:request_id>/verlengen")
@requires(Permission.AUDIT_VIEW)
def extend_access(request_id: int) -> Response | tuple[str, int]:
    item = _load_access(request_id)
    form = ExtendAccessForm()
    if form.validate():
        try:
            access_requests.extend(item, reason=form.reason.data, by=current_account(),
                                   expected_version=form.version.data)
        except DomainError as exc:
            show_domain_error(form, exc, "reason")
        else:
            flash("De termijn is met twee maanden verlengd. Laat de betrokkene dat met de reden weten.")
            return redirect(url_for("lifecycle.access_request_detail", request_id=item.id))
    return _access_detail(_load_access(request_id), extend_form=form, status=422)


@blueprint.post("/inzageverzoeken/<int:request_id>/afhandelen")
@requires(Permission.AUDIT_VIEW)
def complete_access(request_id: int) -> Response | tuple[str, int]:
    item = _load_access(request_id)
    form = CompleteAccessForm()
    if form.validate():
        try:
            access_requests.complete(item, by=current_account(), expected_version=form.version.data)
        except DomainError as exc:
            show_domain_error(form, exc, "confirm")
        else:
            flash("Het inzageverzoek is afgehandeld.")
            return redirect(url_for("lifecycle.access_request_detail", request_id=item.id))
    return _access_detail(_load_access(request_id), complete_form=form, status=422)


@blueprint.route("/verzoeken/nieuw", methods=["GET", "POST"])
@requires(Permission.AUDIT_VIEW)
def new_request() -> Response | tuple[str, int] | str:
    form = NewRequestForm()
    if request.method == "GET":
        person_id = request.args.get("persoon", type=int)
        if person_id is None:
            return redirect(url_for("lifecycle.find_person"))
        form = NewRequestForm(formdata=None, person_id=person_id, received_on=today())
        # Only a person of this sitting's lookup: counting ids shows nobody's case or role.
        person = db.session.get(Person, person_id) if 0 < person_id <= MAX_ID and looked_up(person_id) else None
        if person is None:
            abort(404)
        return render_template("lifecycle/new_request.html", form=form, person=person,
                               reference=_reference(person.case_id))
    person = None
    # The form is checked first: the hidden id is looked up only once it is a valid id.
    if form.validate():
        # The hidden id is checked again on the server: a person of this sitting's lookup.
        person = db.session.get(Person, form.person_id.data) if looked_up(form.person_id.data) else None
        if person is None:
            form.received_on.errors = [*form.received_on.errors, NOT_LOOKED_UP]
        else:
            try:
                created = erasure.record_request(person, received_on=form.received_on.data, by=current_account())
            except DomainError as exc:
                show_domain_error(form, exc, "received_on")
            else:
                return saved("Het verzoek tot wissen is vastgelegd. Neem nu een besluit.", "lifecycle.request_detail",
                             "besluit", request_id=created.id)
    return render_template("lifecycle/new_request.html", form=form, person=person,
                           reference=_reference(person.case_id if person else None)), 422


def _load(request_id: int) -> ErasureRequest:
    item = db.session.get(ErasureRequest, request_id)
    if item is None:
        abort(404)
    return item


def _detail(item: ErasureRequest, decision_form: DecisionForm | None = None,
            execute_form: ExecuteForm | None = None, status: int = 200) -> tuple[str, int]:
    person = db.session.get(Person, item.person_id)
    decision_form = decision_form or DecisionForm(formdata=None, version=item.version)
    execute_form = execute_form or ExecuteForm(formdata=None, version=item.version)
    return render_template("lifecycle/request_detail.html", item=item, person=person,
                           reference=_reference(item.case_id), decision_form=decision_form,
                           execute_form=execute_form, statuses=ErasureStatus), status


@blueprint.get("/verzoeken/<int:request_id>")
@requires(Permission.AUDIT_VIEW)
def request_detail(request_id: int) -> tuple[str, int]:
    item = _load(request_id)
    record(AuditAction.READ, by=current_account(), person_id=item.person_id, case_id=item.case_id,
           object_type=erasure.REQUEST_OBJECT, object_id=item.id)
    return _detail(item)


@blueprint.post("/verzoeken/<int:request_id>/besluit")
@requires(Permission.AUDIT_VIEW)
def decide(request_id: int) -> Response | tuple[str, int]:
    item = _load(request_id)
    form = DecisionForm()
    if form.validate():
        try:
            erasure.decide(item, granted=form.decision.data == "granted", by=current_account(),
                           refusal_ground=RefusalGround(form.refusal_ground.data) if form.refusal_ground.data else None,
                           explanation=form.explanation.data, expected_version=form.version.data)
        except DomainError as exc:
            show_domain_error(form, exc, "decision")
        else:
            return saved("Het besluit is vastgelegd.", "lifecycle.request_detail", request_id=item.id)
    item = _load(request_id)
    return _detail(item, decision_form=form, status=422)


@blueprint.post("/verzoeken/<int:request_id>/uitvoeren")
@requires(Permission.AUDIT_VIEW)
def execute(request_id: int) -> Response | tuple[str, int]:
    item = _load(request_id)
    form = ExecuteForm()
    if form.validate():
        try:
            erasure.execute(item, by=current_account(), expected_version=form.version.data)
        except DomainError as exc:
            show_domain_error(form, exc, "confirm")
        else:
            return saved("De gegevens van deze persoon zijn gewist. De audittrail bewaart dat het is gebeurd.", "lifecycle.request_detail", request_id=item.id)
    item = _load(request_id)
    return _detail(item, execute_form=form, status=422)
