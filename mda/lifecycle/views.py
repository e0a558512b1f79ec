"""The privacy officer's pages: erasure requests and the access report (AVG art. 15 and 17).

Only the privacy officer (``Permission.AUDIT_VIEW``) reaches them; every page that shows
personal data, and every change, writes its own audit record.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import DomainError
from ..forms import saved, show_domain_error
from ..people.models import Person
from ..people.operations import find_by_bsn, find_by_name_and_birth_date
from ..security.policy import Permission, current_account, requires
from ..timeutil import today
from . import access_report, erasure
from .forms import DecisionForm, ExecuteForm, NewRequestForm, PersonLookupForm
from .models import ErasureRequest, ErasureStatus, RefusalGround
from .retention import RetentionPolicy

blueprint = Blueprint("lifecycle", __name__, url_prefix="/privacy")

LOOKUP_OBJECT = "person_lookup"
REPORT_OBJECT = "access_report"


def _reference(case_id: int | None) -> str:
    if case_id is None:
        return ""
    return db.session.scalar(select(Case.reference).where(Case.id == case_id)) or f"casus-id {case_id}"


@blueprint.get("/")
@requires(Permission.AUDIT_VIEW)
def index() -> str:
    requests = db.session.scalars(select(ErasureRequest).order_by(ErasureRequest.id.desc())).all()
    references = {item.case_id: _reference(item.case_id) for item in requests}
    try:
        policy: RetentionPolicy | None = RetentionPolicy.from_config()
    except DomainError:
        policy = None
    return render_template("lifecycle/index.html", requests=requests, references=references, policy=policy)


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
    references = {person.case_id: _reference(person.case_id) for person in matches or []}
    return render_template("lifecycle/find_person.html", form=form, matches=matches, references=references,
                           new_form=NewRequestForm(formdata=None, received_on=today()))


@blueprint.get("/personen/<int:person_id>/inzage")
@requires(Permission.AUDIT_VIEW)
def access(person_id: int) -> str:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    report = access_report.build(person)
    # Recorded before the page is returned: a failed audit write fails the request.
    record(AuditAction.PRINT, by=current_account(), person_id=person.id, case_id=person.case_id,
           object_type=REPORT_OBJECT, object_id=person.id, detail="inzageoverzicht opgesteld")
    return render_template("lifecycle/access_report.html", report=report, generated_on=today())


@blueprint.route("/verzoeken/nieuw", methods=["GET", "POST"])
@requires(Permission.AUDIT_VIEW)
def new_request() -> Response | tuple[str, int] | str:
    form = NewRequestForm()
    if request.method == "GET":
        person_id = request.args.get("persoon", type=int)
        if person_id is None:
            return redirect(url_for("lifecycle.find_person"))
        form = NewRequestForm(formdata=None, person_id=person_id, received_on=today())
    person = db.session.get(Person, form.person_id.data) if form.person_id.data else None
    if request.method == "GET" and person is None:
        abort(404)
    if request.method == "POST":
        if form.validate() and person is None:
            # The hidden id is checked again on the server.
            form.received_on.errors = [*form.received_on.errors, "Deze persoon bestaat niet (meer)."]
        elif form.validate():
            try:
                created = erasure.record_request(person, received_on=form.received_on.data, by=current_account())
            except DomainError as exc:
                show_domain_error(form, exc, "received_on")
            else:
                return saved("Het verzoek tot wissen is vastgelegd. Neem nu een besluit.", "lifecycle.request_detail", "besluit", request_id=created.id)
        return render_template("lifecycle/new_request.html", form=form, person=person,
                               reference=_reference(person.case_id if person else None)), 422
    return render_template("lifecycle/new_request.html", form=form, person=person,
                           reference=_reference(person.case_id))


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
