"""The caseload and the case file. Views load, authorise (``@requires``), audit and render."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ..audit.models import AuditAction
from ..audit.trail import record
from ..security.policy import Permission, current_account, may, requires
from .models import Case
from .queries import caseload, load_case, persons_of, team_of

blueprint = Blueprint("cases", __name__, url_prefix="/casussen")


@blueprint.route("/")
@requires(Permission.CASELOAD_OWN)
def index() -> str:
    account = current_account()
    everything = request.args.get("alle") == "1" and may(account, Permission.CASELOAD_ALL)
    rows = caseload(account, everything=everything)
    return render_template("cases/index.html", rows=rows, everything=everything,
                           may_see_all=may(account, Permission.CASELOAD_ALL))


@blueprint.route("/<int:case_id>")
@requires(Permission.CASE_VIEW, load=load_case)
def detail(target: Case, case_id: int) -> str:
    account = current_account()
    persons = persons_of(target)
    # The read is recorded before the page is returned: no unlogged view of personal data.
    record(AuditAction.READ, by=account, case_id=target.id, object_type="case", object_id=target.id,
           detail="dossier ingezien")
    for person in persons:
        record(AuditAction.READ, by=account, case_id=target.id, person_id=person.id, object_type="person",
               object_id=person.id)
    return render_template("cases/detail.html", case=target, persons=persons, team=team_of(target))
