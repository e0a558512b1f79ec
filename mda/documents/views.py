"""The documents of a case: list, upload, a document's versions, download, replace, delete; and
the handover summary as a PDF."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, stream_with_context,
                   url_for)
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..cases.operations import lock_open
from ..cases.queries import load_case
from ..cases.tabs import render_case
from ..db import db
from ..errors import InvalidInput
from ..forms import submitted_and_done
from ..huisverbod.models import HouseBan
from ..journal.models import JournalEntry
from ..people.models import Person
from ..safety.models import SafetyPlan
from ..security.policy import Permission, current_account, may, requires
from .forms import DeleteForm, ReplaceForm, UploadForm
from .models import Attachment, AttachmentKind
from .operations import Link, delete, max_bytes, record_download, replace, upload
from .queries import attachment_of, document_of, documents_of, link_choices, link_label, person_choices, resolve_link
from .storage import DocumentUnreadable, format_size, read_chunks, too_large_message
from .uploads import takes_upload

blueprint = Blueprint("documents", __name__, url_prefix="/casussen/<int:case_id>")


@blueprint.app_template_filter("filesize")
def _filesize(size: int) -> str:
    return format_size(size)


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    # Raised while the body is read, possibly before the view checked access: say nothing of the case.
    db.session.rollback()
    return render_template("errors/error.html", code=413,
                           message=f"{too_large_message(max_bytes())} Er is niets opgeslagen. Ga terug en kies "
                                   "een kleiner bestand."), 413


def _attachment(case: Case, attachment_id: int) -> Attachment:
    attachment = attachment_of(case, attachment_id)
    if attachment is None:
        abort(404)
    return attachment


def _upload_form(case: Case, submitted: bool = False) -> UploadForm:
    form = UploadForm() if submitted else UploadForm(formdata=None)
    form.link.choices = link_choices(case)
    form.person.choices = person_choices(case)
    return form


def _index(case: Case, status: int = 200, upload_form: UploadForm | None = None) -> tuple[str, int]:
    account = current_account()
    record(AuditAction.READ, by=account, case_id=case.id, object_type="case", object_id=case.id, detail="documenten")
    may_edit = may(account, Permission.CASE_EDIT, case)
    return render_case("documents/index.html", case, "documents.index", documents=documents_of(case),
                       upload_form=upload_form or (_upload_form(case) if may_edit else None), may_edit=may_edit,
                       limit=format_size(max_bytes()), link_label=link_label), status


@blueprint.route("/documenten")
@requires(Permission.CASE_VIEW, load=load_case)
def index(target: Case, case_id: int) -> tuple[str, int]:
    return _index(target)


def _link(value: str | None) -> Link:
    if not value:
        return Link()
    linked = resolve_link(value)
    if isinstance(linked, HouseBan):
        return Link(house_ban=linked)
    if isinstance(linked, SafetyPlan):
        return Link(safety_plan=linked)
    if isinstance(linked, JournalEntry):
        return Link(journal_entry=linked)
    raise InvalidInput("Kies een onderdeel van deze casus.", field="link")


@blueprint.route("/documenten", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
@takes_upload(max_bytes)
def upload_document(target: Case, case_id: int) -> Response | tuple[str, int]:
    form = _upload_form(target, submitted=True)

    def keep() -> None:
        lock_open(target)
        person = None
        if form.person.data:
            person = db.session.get(Person, form.person.data)
            if person is None:
                raise InvalidInput("Kies een persoon van deze casus.", field="person")
        upload(target, source=form.file.data.stream, file_name=form.file.data.filename,
               kind=AttachmentKind(form.kind.data), description=form.description.data, by=current_account(),
               link=_link(form.link.data), person=person)

    if submitted_and_done(form, "file", keep):
        flash("Het document is toegevoegd.")
        return redirect(url_for(".index", case_id=target.id))
    return _index(target, 422, upload_form=form)


def _detail(case: Case, attachment: Attachment, status: int = 200, **forms: object) -> tuple[str, int]:
    account = current_account()
    document = document_of(attachment)
    record(AuditAction.READ, by=account, case_id=case.id, person_id=attachment.person_id, object_type="attachment",
           object_id=document.latest.id, detail="document bekeken")
    latest = document.latest
    may_edit = may(account, Permission.CASE_EDIT, case) and latest.is_current
    if may_edit:
        forms.setdefault("replace_form", ReplaceForm(formdata=None, data={"version": latest.version}))
        forms.setdefault("delete_form", DeleteForm(formdata=None, data={"version": latest.version}))
    return render_case("documents/detail.html", case, "documents.index", document=document, may_edit=may_edit,
                       link=link_label(latest), limit=format_size(max_bytes()), **forms), status


@blueprint.route("/documenten/<int:attachment_id>")
@requires(Permission.CASE_VIEW, load=load_case)
def detail(target: Case, case_id: int, attachment_id: int) -> tuple[str, int]:
    return _detail(target, _attachment(target, attachment_id))


@blueprint.route("/documenten/<int:attachment_id>/vervangen", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
@takes_upload(max_bytes)
def replace_document(target: Case, case_id: int, attachment_id: int) -> Response | tuple[str, int]:
    attachment = _attachment(target, attachment_id)
    form = ReplaceForm()

    def keep() -> None:
        lock_open(target)
        replace(attachment, source=form.file.data.stream, file_name=form.file.data.filename,
                description=form.description.data, by=current_account(), expected_version=form.version.data)

    if submitted_and_done(form, "file", keep):
        flash("De nieuwe versie is opgeslagen.")
        return redirect(url_for(".index", case_id=target.id))
    attachment = _attachment(target, attachment_id)  # reloaded: the refused change was rolled back
    return _detail(target, attachment, 422, replace_form=form)


@blueprint.route("/documenten/<int:attachment_id>/verwijderen", methods=["POST"])
@requires(Permission.CASE_EDIT, load=load_case)
def delete_document(target: Case, case_id: int, attachment_id: int) -> Response | tuple[str, int]:
    attachment = _attachment(target, attachment_id)
    form = DeleteForm()

    def remove() -> None:
        lock_open(target)
        delete(attachment, reason=form.reason.data, by=current_account(), expected_version=form.version.data)

    if submitted_and_done(form, "reason", remove):
        flash("Het document is verwijderd; de reden staat in de geschiedenis.")
        return redirect(url_for(".index", case_id=target.id))
    return _detail(target, _attachment(target, attachment_id), 422, delete_form=form)


def download_name(attachment: Attachment) -> str:
    """The user's file name with the extension of the type found in the content."""
    name = attachment.file_name or "document"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:150] or 'document'}.{attachment.file_type.extension}"


def content_disposition(name: str) -> str:
    """``attachment`` with a plain-ASCII fallback and the exact name in RFC 5987 form."""
    ascii_name = secure_filename(unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    return f"attachment; filename=\"{ascii_name or 'document'}\"; filename*=UTF-8''{quote(name, safe='')}"


@blueprint.route("/documenten/<int:attachment_id>/downloaden")
@requires(Permission.CASE_VIEW, load=load_case)
def download(target: Case, case_id: int, attachment_id: int) -> Response | tuple[str, int]:
    attachment = _attachment(target, attachment_id)
    if not attachment.holds_content:
        return render_template("errors/error.html", code=410,
                               message="Dit document is verwijderd; alleen de geschiedenis is bewaard."), 410
    chunks = read_chunks(attachment)
    try:
        first = next(chunks)  # a moved or altered file fails here, before a single byte goes out
    except DocumentUnreadable:
        current_app.logger.error("attachment %s does not decrypt", attachment.id)
        raise
    record_download(attachment, by=current_account())

    def body():  # noqa: ANN202 - a generator of bytes
        yield first
        yield from chunks

    response = Response(stream_with_context(body()), mimetype=attachment.file_type.mimetype)
    response.headers["Content-Length"] = str(attachment.size_bytes)
    response.headers["Content-Disposition"] = content_disposition(download_name(attachment))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/overdracht.pdf")
@requires(Permission.CASE_VIEW, load=load_case)
def summary(target: Case, case_id: int) -> Response:
    account = current_account()
    from .summary import handover_summary  # fpdf is some 50 MB of a worker's memory: loaded when a PDF is made
    made = handover_summary(target, by=account)
    record(AuditAction.EXPORT, by=account, case_id=target.id, object_type="handover_summary", object_id=target.id,
           detail="overdrachtsamenvatting (pdf) gemaakt")
    response = Response(made.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(made.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
