"""The journal of contacts and actions, tasks, and the participation of the family."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..cases.operations import lock_open
from ..cases.queries import load_case, persons_of, team_of
from ..cases.tabs import render_case
from ..db import db
from ..documents.queries import current_documents_of_entries
from ..errors import DomainError, InvalidInput, StaleVersion
from ..forms import saved, submitted_and_done
from ..security.policy import Permission, current_account, may, requires
from ..timeutil import AMSTERDAM, today, utcnow
from ..people.models import Person
from .forms import JournalEntryForm, JournalFilterForm, ParticipationForm, TaskDoneForm, TaskForm
from .models import JournalKind, Task
from .operations import add_task, complete_task, record_participation, write_journal_entry
from .queries import JournalFilter, authors_of, done_tasks, open_tasks, participation_of, search_journal

blueprint = Blueprint("journal", __name__, url_prefix="/casussen/<int:case_id>")


def _task_form(case: Case, submitted: bool = False) -> TaskForm:
    form = TaskForm() if submitted else TaskForm(formdata=None, data={"owner": current_account().id})
    form.owner.choices = [(member.user_id, member.user.display_name) for member in team_of(case)]
    return form


def _entry_form(case: Case, submitted: bool = False) -> JournalEntryForm:
    form = JournalEntryForm() if submitted else JournalEntryForm(formdata=None, data={
        "occurred_at": utcnow().astimezone(AMSTERDAM).replace(tzinfo=None, second=0, microsecond=0)})
    form.persons.choices = _person_choices(case)
    return form


def _person_choices(case: Case) -> list[tuple[int, str]]:
    return [(person.id, f"{person.name or 'Naam onbekend'} ({person.role.label.lower()})")
            for person in persons_of(case)]


def _filter_form(case: Case, formdata: object = None) -> JournalFilterForm:
    form = JournalFilterForm(formdata=formdata) if formdata is not None else JournalFilterForm(formdata=None)
    form.author.choices = [(0, "Iedereen"), *authors_of(case)]
    form.person.choices = [(0, "Iedereen"), *_person_choices(case)]
    return form


def _criteria(form: JournalFilterForm) -> JournalFilter:
    return JournalFilter(kind=JournalKind(form.kind.data) if form.kind.data else None,
                         author_id=form.author.data or None, person_id=form.person.data or None,
                         since=form.since.data, until=form.until.data, text=(form.text.data or "").strip() or None,
                         page=max(1, form.page.data or 1))


def _page(case: Case, status: int = 200, criteria: JournalFilter | None = None,
          filter_form: JournalFilterForm | None = None, **forms: object) -> tuple[str, int]:
    criteria = criteria or JournalFilter()
    if criteria.text:
        # The search itself is recorded, never what was searched for.
        record(AuditAction.SEARCH, by=current_account(), case_id=case.id, object_type="case", object_id=case.id,
               detail="journaal doorzocht")
    record(AuditAction.READ, by=current_account(), case_id=case.id, object_type="case", object_id=case.id,
           detail="journaal en taken")
    forms.setdefault("entry_form", _entry_form(case))
    forms.setdefault("task_form", _task_form(case))
    journal = search_journal(case, criteria)
    return render_case("journal/index.html", case, "journal.index", journal=journal,
                       documents=current_documents_of_entries([entry.id for entry in journal.entries]),
                       criteria=criteria, filter_form=filter_form or _filter_form(case),
                       open_tasks=open_tasks(case), done_tasks=done_tasks(case), day=today(),
                       done_form=TaskDoneForm(formdata=None),
                       may_edit=may(current_account(), Permission.CASE_EDIT, case), **forms), status


@blueprint.route("/journaal")
@requires(Permission.CASE_VIEW, load=load_case)
def index(target: Case, case_id: int) -> tuple[str, int]:
    # Plain paging through the whole journal; narrowing and searching are posted (search_entries).
    page = request.args.get("pagina", "1")
    return _page(target, criteria=JournalFilter(page=int(page) if page.isdigit() and int(page) > 0 else 1))


@blueprint.route("/journaal/zoeken", methods=["POST"])
@requires(Permission.CASE_VIEW, load=load_case)
def search_entries(target: Case, case_id: int) -> tuple[str, int]:
    """Narrow and search the journal. A POST, so that the search text, personal data as often as
    not, never appears in a URL, the browser history, a Referer or an access log."""
    form = _filter_form(target, request.form)
    if not form.validate():
        return _page(target, 422, filter_form=form)
    return _page(target, criteria=_criteria(form), filter_form=form)


def _local_to_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=AMSTERDAM).astimezone(utcnow().tzinfo)


@blueprint.route("/journaal", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
def create_entry(target: Case, case_id: int) -> Response | tuple[str, int]:
    form = _entry_form(target, submitted=True)

    def write() -> None:
        lock_open(target)
        occurred_at = _local_to_utc(form.occurred_at.data)
        if occurred_at > utcnow():
            raise InvalidInput("Het journaal beschrijft wat gebeurd is: de datum ligt in de toekomst.",
                               field="occurred_at")
        about = [db.session.get(Person, person_id) for person_id in form.persons.data or []]
        if any(person is None for person in about):
            raise InvalidInput("Kies alleen personen van deze casus.", field="persons")
        write_journal_entry(target, kind=JournalKind(form.kind.data), occurred_at=occurred_at,
                            body=form.body.data, by=current_account(), about=about)

    if submitted_and_done(form, "body", write):
        return saved("Het journaalbericht is vastgelegd.", ".index", "journaal-toevoegen", case_id=target.id)
    return _page(target, 422, entry_form=form)


@blueprint.route("/taken", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
def create_task(target: Case, case_id: int) -> Response | tuple[str, int]:
    form = _task_form(target, submitted=True)

    def add() -> None:
        lock_open(target)
        if form.due_on.data < today():
            raise InvalidInput("De datum ligt in het verleden.", field="due_on")
        add_task(target, description=form.description.data, owner=db.session.get(User, form.owner.data),
                 due_on=form.due_on.data, by=current_account())

    if submitted_and_done(form, "description", add):
        return saved("De taak is toegevoegd.", ".index", "taak-toevoegen", case_id=target.id)
    return _page(target, 422, task_form=form)


@blueprint.route("/taken/<int:task_id>/afronden", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
def finish_task(target: Case, case_id: int, task_id: int) -> Response | tuple[str, int]:
    task = db.session.get(Task, task_id)
    if task is None or task.case_id != target.id:
        abort(404)
    form = TaskDoneForm()
    if form.validate():
        try:
            complete_task(task, by=current_account(), expected_version=form.version.data)
        except (StaleVersion, DomainError) as exc:
            db.session.rollback()
            flash(exc.message, "error#taken")
        else:
            flash("De taak is afgerond.", "success#taken")
    return redirect(url_for(".index", case_id=target.id, _anchor="taken"))


@blueprint.route("/participatie", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW, load=load_case)
def participation(target: Case, case_id: int) -> Response | tuple[str, int]:
    account = current_account()
    may_edit = may(account, Permission.CASE_DIRECT, target)  # the family's participation is casusregie
    form = ParticipationForm() if may_edit else ParticipationForm(formdata=None)
    status = 200
    if form.is_submitted():
        if not may_edit:
            abort(404)
        status = 422

        def keep() -> None:
            lock_open(target)
            record_participation(target, recorded_on=form.recorded_on.data, informed=form.informed.data,
                                 decided_along=form.decided_along.data, own_view=form.own_view.data, by=account)

        if submitted_and_done(form, "informed", keep):
            return saved("De inbreng van het gezin is vastgelegd.", ".participation", "participatie-vastleggen",
                         case_id=target.id)
    elif form.recorded_on.data is None:
        form.recorded_on.data = today()
    record(AuditAction.READ, by=account, case_id=target.id, object_type="case", object_id=target.id,
           detail="participatie")
    return render_case("journal/participation.html", target, "journal.participation",
                       records=participation_of(target), form=form, may_edit=may_edit), status
