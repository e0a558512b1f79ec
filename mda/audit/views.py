"""The privacy officer's view of the audit trail (NEN 7513): search, page and export.

Reading the trail is itself an access that is logged: every page view and every export writes
its own record, naming only the filter that was used.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Iterator

from flask import Blueprint, Response, redirect, render_template, request, stream_with_context, url_for
from werkzeug.wrappers import Response as BaseResponse

from ..accounts.models import Role
from ..exports import neutralise_cell
from ..security.policy import Permission, current_account, requires
from ..timeutil import AMSTERDAM, utcnow
from .forms import AuditSearchForm
from .labels import object_label, readable_detail
from .models import AuditAction, AuditOutcome
from ..cases.queries import case_id_for_reference, references_of
from .queries import AuditFilter, all_matching, search_page
from .trail import record

blueprint = Blueprint("audit", __name__, url_prefix="/audit")

TRAIL_OBJECT = "audit_trail"
INVALID_SEARCH_DETAIL = "ongeldige zoekopdracht; geen records getoond"
LOCAL_TIME_FORMAT = "%d-%m-%Y %H:%M:%S"
CSV_HEADER = ("Record", "Tijdstip (Nederlandse tijd)", "Tijdstip (UTC)", "Gebruikersnaam", "Rol",
              "Handeling", "Casus", "Persoon-id", "Object", "Toegangspunt (IP-adres)", "Uitkomst",
              "Detail")
CSV_ROWS_PER_CHUNK = 500


@dataclass(frozen=True)
class AuditLine:
    """One record as the privacy officer reads it, in the page and in the export alike."""

    id: int
    occurred_at: datetime
    local_time: str
    username: str
    roles: str
    action: str
    case: str
    person: str
    object: str
    access_point: str
    outcome: str
    detail: str

    def cells(self) -> tuple[Any, ...]:
        return (self.id, self.local_time, self.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), self.username,
                self.roles, self.action, self.case, self.person, self.object, self.access_point,
                self.outcome, self.detail)


def _role_labels(codes: str | None) -> str:
    labels = []
    for code in (codes or "").split(","):
        if code:
            try:
                labels.append(Role(code).label)
            except ValueError:
                labels.append(code)  # a role that no longer exists is shown as stored
    return ", ".join(labels)


def _label(enum_class: type[AuditAction] | type[AuditOutcome], value: Any) -> str:
    try:
        return enum_class(value).label
    except ValueError:
        return str(value)


def _line(row: Any, references: dict[int, str]) -> AuditLine:
    if row.case_id in references:
        case = references[row.case_id]
    elif row.case_id is not None:
        case = f"casus-id {row.case_id}"  # the case is gone (purged); the trail keeps its id
    else:
        case = ""
    obj = object_label(row.object_type, row.object_id)
    return AuditLine(
        id=row.id, occurred_at=row.occurred_at,
        local_time=row.occurred_at.astimezone(AMSTERDAM).strftime(LOCAL_TIME_FORMAT),
        username=row.username or "", roles=_role_labels(row.role), action=_label(AuditAction, row.action),
        case=case, person="" if row.person_id is None else str(row.person_id), object=obj,
        access_point=row.access_point or "", outcome=_label(AuditOutcome, row.outcome),
        detail=readable_detail(row.detail))


def _filter_args(criteria: AuditFilter) -> dict[str, str]:
    """The filter as query arguments, for links that keep it (pages, export)."""
    args = {"username": criteria.username, "case_reference": criteria.case_reference,
            "date_from": criteria.date_from and criteria.date_from.isoformat(),
            "date_to": criteria.date_to and criteria.date_to.isoformat(),
            "action": criteria.action and criteria.action.value}
    return {name: value for name, value in args.items() if value}


def _submitted_args(form: AuditSearchForm) -> dict[str, str]:
    # Only the form's own fields: url_for would treat keys like _external as instructions.
    return {field.name: field.raw_data[0] for field in form if field.raw_data}


@blueprint.get("/")
@requires(Permission.AUDIT_VIEW)
def search() -> str:
    form = AuditSearchForm(formdata=request.args)
    page = None
    filter_args: dict[str, str] = {}
    if form.validate():
        criteria = _resolved(form.to_filter())
        page = search_page(criteria, request.args.get("pagina", default=1, type=int))
        filter_args = _filter_args(criteria)
        detail = criteria.describe()
    else:
        detail = INVALID_SEARCH_DETAIL
    # Recorded before the page is returned: a failed audit write fails the request.
    record(AuditAction.READ, by=current_account(), object_type=TRAIL_OBJECT, detail=detail)
    references = references_of(row.case_id for row in page.rows) if page else {}
    lines = [_line(row, references) for row in page.rows] if page else []
    return render_template("audit/search.html", form=form, page=page, lines=lines, filter_args=filter_args)


@blueprint.get("/export.csv")
@requires(Permission.AUDIT_VIEW)
def export() -> BaseResponse:
    form = AuditSearchForm(formdata=request.args)
    if not form.validate():
        return redirect(url_for("audit.search", **_submitted_args(form)))
    criteria = _resolved(form.to_filter())
    record(AuditAction.EXPORT, by=current_account(), object_type=TRAIL_OBJECT, detail=criteria.describe())
    filename = f"audittrail-{utcnow().astimezone(AMSTERDAM):%Y%m%d-%H%M%S}.csv"
    # Streamed: the export record above is committed before the first byte (after_request), and
    # the rows are read in batches while the response is written.
    return Response(stream_with_context(_csv(all_matching(criteria))), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv(rows: Iterable[Any]) -> Iterator[str]:
    """Semicolon-separated (what Excel expects with Dutch regional settings), every cell quoted and
    neutralised, preceded by a byte order mark so Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([neutralise_cell(cell) for cell in CSV_HEADER])
    for chunk in _chunks(rows, CSV_ROWS_PER_CHUNK):
        references = references_of(row.case_id for row in chunk)
        for row in chunk:
            writer.writerow([neutralise_cell(cell) for cell in _line(row, references).cells()])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _resolved(criteria: AuditFilter) -> AuditFilter:
    """The trail knows case ids only: the case number of the filter is looked up here."""
    if not criteria.case_reference:
        return criteria
    return replace(criteria, case_id=case_id_for_reference(criteria.case_reference))
