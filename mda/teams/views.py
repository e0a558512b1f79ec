"""The team of a case: the one coordinator and the seconded experts."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..accounts.models import Role, User, UserRole
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..cases.queries import load_case, team_history
from ..cases.tabs import render_case
from ..db import db
from ..errors import DomainError, StaleVersion
from ..forms import saved, show_domain_error, submitted_and_done
from ..reference.models import Discipline
from ..security.policy import Permission, current_account, may, requires
from .forms import CoordinatorForm, EndMembershipForm, ExpertForm
from .models import TeamMembership, TeamPhase, TeamRole
from .operations import add_expert, change_coordinator, end_expert_membership

blueprint = Blueprint("teams", __name__, url_prefix="/casussen/<int:case_id>/team")


def _accounts_with(role: Role) -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole).where(UserRole.role == role, User.active)
                                   .order_by(User.display_name)))


def _forms(case: Case, coordinator_form: CoordinatorForm | None = None,
           expert_form: ExpertForm | None = None) -> tuple[CoordinatorForm, ExpertForm]:
    coordinator_form = coordinator_form or CoordinatorForm(formdata=None, data={"version": case.version})
    coordinator_form.coordinator.choices = [(u.id, u.display_name) for u in _accounts_with(Role.COORDINATOR)]
    expert_form = expert_form or ExpertForm(formdata=None)
    expert_form.user.choices = [(u.id, f"{u.display_name} ({u.organisation.name if u.organisation else '—'})")
                                for u in _accounts_with(Role.EXPERT)]
    expert_form.discipline.choices = [(d.code, d.name) for d in db.session.scalars(select(Discipline))]
    return coordinator_form, expert_form


def _page(case: Case, status: int = 200, **forms: object) -> tuple[str, int]:
    record(AuditAction.READ, by=current_account(), case_id=case.id, object_type="case", object_id=case.id,
           detail="team")
    coordinator_form, expert_form = _forms(case, forms.get("coordinator_form"), forms.get("expert_form"))
    return render_case("teams/index.html", case, "teams.index", history=team_history(case),
                       may_manage=may(current_account(), Permission.CASE_MANAGE_TEAM, case),
                       coordinator_form=coordinator_form, expert_form=expert_form,
                       end_form=EndMembershipForm(formdata=None)), status


@blueprint.route("/")
@requires(Permission.CASE_VIEW, load=load_case)
def index(target: Case, case_id: int) -> tuple[str, int]:
    return _page(target)


@blueprint.route("/coordinator", methods=["POST"])
@requires(Permission.CASE_MANAGE_TEAM, load=load_case)
def replace_coordinator(target: Case, case_id: int) -> Response | tuple[str, int]:
    form, _ = _forms(target, CoordinatorForm())
    if form.validate():
        try:
            change_coordinator(target, db.session.get(User, form.coordinator.data), by=current_account(),
                               expected_version=form.version.data)
        except StaleVersion as exc:
            db.session.rollback()
            form.version.errors = [exc.message]
            form.version.data = target.version
        except DomainError as exc:
            show_domain_error(form, exc, "coordinator")
        else:
            return saved("De coördinator is gewisseld; de vorige blijft in de geschiedenis zichtbaar.", ".index", "coordinator-wisselen", case_id=target.id)
    return _page(target, 422, coordinator_form=form)


@blueprint.route("/experts", methods=["POST"])
@requires(Permission.CASE_MANAGE_TEAM, load=load_case)
def add(target: Case, case_id: int) -> Response | tuple[str, int]:
    _, form = _forms(target, expert_form=ExpertForm())
    if submitted_and_done(form, "user", lambda: add_expert(
            target, db.session.get(User, form.user.data), discipline_code=form.discipline.data,
            team_phase=TeamPhase(form.team_phase.data), by=current_account(), on=form.started_on.data)):
        return saved("De expert is toegevoegd aan het team.", ".index", "expert-toevoegen", case_id=target.id)
    return _page(target, 422, expert_form=form)


@blueprint.route("/<int:membership_id>/beeindigen", methods=["POST"])
@requires(Permission.CASE_MANAGE_TEAM, load=load_case)
def end(target: Case, case_id: int, membership_id: int) -> Response:
    membership = db.session.get(TeamMembership, membership_id)
    if membership is None or membership.case_id != target.id or membership.team_role != TeamRole.EXPERT \
            or membership.ended_on is not None:
        abort(404)
    if EndMembershipForm().validate():
        end_expert_membership(membership, by=current_account())
        flash("De inzet van de expert is beëindigd; de toegang tot de casus vervalt direct.", "success#team")
    return redirect(url_for(".index", case_id=target.id, _anchor="team"))
