"""The start page per role and "Mijn taken": what needs the user, each line linking to the work."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record_many
from ..cases.models import Case
from ..cases.queries import member_case_ids
from ..db import db
from ..errors import DomainError, StaleVersion
from ..journal.forms import TaskDoneForm
from ..journal.models import Task
from ..journal.operations import complete_task
from ..journal.queries import tasks_owned_by
from ..security.policy import Permission, current_account, requires
from ..timeutil import today
from .queries import header_counts, start_page_for

blueprint = Blueprint("worklist", __name__)


def _audit_shown(cases: list[Case], page: str) -> None:
    """The page shows labels and task titles of these cases: one read record each, in one statement."""
    record_many(AuditAction.READ, [(case.id, "case", case.id) for case in cases], by=current_account(), detail=page)


def start_page() -> str:
    """Rendered by ``home.index`` (the page everyone lands on after signing in)."""
    from ..home.views import START_LINKS
    from ..referrals.views import waiting_time
    account = current_account()
    page = start_page_for(account)
    _audit_shown(page.shown_cases(), "startpagina")
    # Veilig Thuis's decisions show the label it gave each referral: a read of that referral.
    record_many(AuditAction.READ, [(None, "referral", referral.id) for referral in page.decisions or []
                                   if referral.family_label], by=account, detail="startpagina")
    return render_template("worklist/start.html", account=account, page=page, day=today(),
                           start_links=START_LINKS, view_functions=current_app.view_functions,
                           waiting_time=waiting_time)


@blueprint.route("/mijn-taken")
@requires(Permission.CASELOAD_OWN)
def my_tasks() -> str:
    account = current_account()
    rows = tasks_owned_by(account, member_case_ids(account))
    _audit_shown(list({case.id: case for _, case in rows}.values()), "mijn taken")
    return render_template("worklist/tasks.html", rows=rows, day=today(), done_form=TaskDoneForm(formdata=None))


def load_case_of_task(task_id: int) -> Case | None:
    task = db.session.get(Task, task_id)
    return db.session.get(Case, task.case_id) if task is not None else None


@blueprint.route("/mijn-taken/<int:task_id>/afronden", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case_of_task)
def finish_task(target: Case, task_id: int) -> Response:
    task = db.session.get(Task, task_id)
    if task is None or task.case_id != target.id:
        abort(404)
    form = TaskDoneForm()
    if not form.validate():
        flash("Het formulier is onvolledig verzonden. Laad de pagina opnieuw.")
    else:
        try:
            from ..cases.operations import lock_open
            lock_open(target)
            complete_task(task, by=current_account(), expected_version=form.version.data)
        except (StaleVersion, DomainError) as exc:
            db.session.rollback()
            flash(exc.message)
        else:
            flash("De taak is afgerond.")
    return redirect(url_for(".my_tasks"))


def header_counts_for_templates() -> dict[str, object]:
    """``menu_count("tasks")`` in the menu and ``unread_notifications()`` beside it: read once per
    page, in one query, and only when the page asks."""
    cache: dict[str, dict[str, int]] = {}

    def counts() -> dict[str, int]:
        if "counts" not in cache:
            try:
                cache["counts"] = header_counts(current_account())
            except SQLAlchemyError:  # an error page must still render when the database fails
                db.session.rollback()
                cache["counts"] = {}
        return cache["counts"]

    def menu_count(name: str) -> int:
        return counts().get(name, 0)

    def unread_notifications() -> int:
        return counts().get("unread", 0)
    return {"menu_count": menu_count, "unread_notifications": unread_notifications}
