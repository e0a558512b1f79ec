"""Stuurinformatie for the steering group and the team lead: suppressed aggregates only.

No view here loads a case, a person or an encrypted field; there is no drill-down from a
number to the cases behind it, and no URL carries an identifier.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from ..audit.models import AuditAction
from ..audit.trail import record
from ..security.policy import Permission, current_account, requires
from . import charts
from .disclosure import DisplayTable
from .exports import legend, table_csv, workbook
from .forms import PeriodForm
from .queries import Period
from .tables import Section, all_sections

blueprint = Blueprint("metrics", __name__, url_prefix="/stuurinformatie")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINE_CHARTS = {"instroom_maand_route", "caseload_fase", "caseload_ave"}


def threshold() -> int:
    return max(2, int(current_app.config.get("METRICS_THRESHOLD", 10)))


def _period() -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.args)
    form.validate()
    return form, form.period()


def chart_for(table: DisplayTable):  # noqa: ANN201 - Markup
    if table.key in LINE_CHARTS:
        return charts.line_chart(table, columns=list(range(len(table.header) - 2))
                                 if table.header[-1] == "Totaal" else None)
    if table.header[1] == "Aantal":
        return charts.bar_chart(table, column=0)
    return charts.bar_chart(table, column=0 if table.header[-1] != "Totaal" else -1)


def _render(template: str, **context: object) -> str:
    form, period = _period()
    sections: list[Section] = all_sections(period, threshold())
    return render_template(template, form=form, period=period, sections=sections, chart_for=chart_for,
                           legend=legend(threshold()), args=form.query_args(), **context)


@blueprint.get("/")
@requires(Permission.METRICS_VIEW)
def dashboard() -> str:
    return _render("metrics/dashboard.html")


@blueprint.get("/rapport")
@requires(Permission.METRICS_VIEW)
def report() -> str:
    _form, period = _period()
    record(AuditAction.PRINT, by=current_account(), object_type="metrics_report",
           detail=f"evaluatierapport {period.start.isoformat()} t/m {period.end.isoformat()}")
    return _render("metrics/report.html")


@blueprint.get("/tabellen/<key>.csv")
@requires(Permission.METRICS_VIEW)
def table_export(key: str) -> Response:
    _form, period = _period()
    for section in all_sections(period, threshold()):
        for table in section.tables:
            if table.key == key:
                record(AuditAction.EXPORT, by=current_account(), object_type="metrics_table",
                       detail=f"tabel {key}, {period.start.isoformat()} t/m {period.end.isoformat()}")
                return Response(table_csv(table, period, threshold()), mimetype="text/csv",
                                headers={"Content-Disposition": f'attachment; filename="{key}.csv"'})
    abort(404)


@blueprint.get("/stuurinformatie.xlsx")
@requires(Permission.METRICS_VIEW)
def workbook_export() -> Response:
    _form, period = _period()
    tables = [table for section in all_sections(period, threshold()) for table in section.tables]
    record(AuditAction.EXPORT, by=current_account(), object_type="metrics_workbook",
           detail=f"alle tabellen, {period.start.isoformat()} t/m {period.end.isoformat()}")
    return Response(workbook(tables, period, threshold()), mimetype=XLSX_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="stuurinformatie.xlsx"'})
