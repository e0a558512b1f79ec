"""The safety plan in versions, and the assessments (veiligheidstaxatie, risicotaxatie, diagnostiek)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..cases.operations import check_open, touch
from ..cases.queries import load_case, team_of
from ..cases.tabs import render_case
from ..db import db
from ..errors import InvalidInput, StaleVersion
from ..forms import saved, submitted_and_done
from ..accounts.models import User
from ..security.policy import Permission, current_account, may, requires
from ..timeutil import today
from ..cases.queries import persons_of
from .forms import AssessmentForm, plan_form
from .models import PERSON_PARTS, PLAN_PARTS, AssessmentKind, RiskLevel
from .operations import agree_safety_plan, record_assessment
from .queries import (PART_LABELS, assessments_of, current_plan, latest_plan, plan_changes, plan_outline, plan_version,
                      plans_of)

blueprint = Blueprint("safety", __name__, url_prefix="/casussen/<int:case_id>/veiligheid")


def _assessment_form(case: Case, submitted: bool = False) -> AssessmentForm:
    form = AssessmentForm() if submitted else AssessmentForm(formdata=None, data={"performed_by": current_account().id,
                                                                                   "assessed_on": today()})
    # Only the running team can have done it; checked again by validation against these choices.
    form.performed_by.choices = [(member.user_id, member.user.display_name) for member in team_of(case)]
    return form


def _page(case: Case, status: int = 200, **forms: object) -> tuple[str, int]:
    record(AuditAction.READ, by=current_account(), case_id=case.id, object_type="case", object_id=case.id,
           detail="veiligheidsplan en taxaties")
    persons = persons_of(case)
    forms.setdefault("plan_form", plan_form(persons, submitted=False, current=latest_plan(case)))
    forms.setdefault("assessment_form", _assessment_form(case))
    day = today()
    plans = plans_of(case)
    return render_case("safety/index.html", case, "safety.index", plans=plans, current=current_plan(case, day),
                       changes=plan_changes(plans), persons={person.id: person for person in persons},
                       outlines={plan.id: plan_outline(plan, persons) for plan in plans},
                       person_parts=PERSON_PARTS, plan_parts=PLAN_PARTS, part_labels=PART_LABELS,
                       assessments=assessments_of(case), day=day,
                       may_edit=may(current_account(), Permission.CASE_EDIT, case),
                       may_plan=may(current_account(), Permission.CASE_DIRECT, case), **forms), status


@blueprint.route("/")
@requires(Permission.CASE_VIEW, load=load_case)
def index(target: Case, case_id: int) -> tuple[str, int]:
    return _page(target)


@blueprint.route("/plannen", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)  # one family, one plan, one regisseur
def create_plan(target: Case, case_id: int) -> Response | tuple[str, int]:
    form = plan_form(persons_of(target), submitted=True)

    def agree() -> None:
        check_open(target)
        if form.agreed_on.data > today():
            raise InvalidInput("De afspraken kunnen niet in de toekomst gemaakt zijn.", field="agreed_on")
        try:
            agree_safety_plan(target, agreed_on=form.agreed_on.data, review_on=form.review_on.data,
                              agreements=form.agreements.data, agreed_by=form.agreed_by.data, by=current_account(),
                              content=form.content(), based_on=form.based_on.data)
        except StaleVersion:
            # Shown again with the typing kept; a second save is a deliberate choice over the newer version.
            newest = latest_plan(target)
            form.based_on.data = newest.version_number if newest else 0
            form.based_on.raw_data = [str(form.based_on.data)]
            raise
        touch(target)

    if submitted_and_done(form, "agreements", agree):
        return saved("De nieuwe versie van het veiligheidsplan is vastgelegd.", ".index", "plan-vastleggen",
                     case_id=target.id)
    return _page(target, 422, plan_form=form)


@blueprint.route("/plannen/<int:version>/afdrukken")
@requires(Permission.CASE_VIEW, load=load_case)
def print_plan(target: Case, case_id: int, version: int) -> tuple[str, int]:
    """One version of the plan as a clean page to print for the family meeting."""
    plan = plan_version(target, version)
    if plan is None:
        abort(404)
    record(AuditAction.READ, by=current_account(), case_id=target.id, object_type="safety_plan", object_id=plan.id,
           detail="veiligheidsplan afgedrukt")
    return render_template("safety/print.html", case=target, plan=plan, content=plan.content,
                           persons=persons_of(target), person_parts=PERSON_PARTS, plan_parts=PLAN_PARTS), 200


@blueprint.route("/taxaties", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
def create_assessment(target: Case, case_id: int) -> Response | tuple[str, int]:
    form = _assessment_form(target, submitted=True)

    def assess() -> None:
        check_open(target)
        if form.assessed_on.data > today():
            raise InvalidInput("De datum ligt in de toekomst.", field="assessed_on")
        record_assessment(target, kind=AssessmentKind(form.kind.data), assessed_on=form.assessed_on.data,
                          instrument=form.instrument.data, outcome=form.outcome.data,
                          risk_level=RiskLevel(form.risk_level.data), by=current_account(),
                          performed_by=db.session.get(User, form.performed_by.data))
        touch(target)

    if submitted_and_done(form, "outcome", assess):
        return saved("De taxatie is vastgelegd.", ".index", "taxatie-vastleggen", case_id=target.id)
    return _page(target, 422, assessment_form=form)
