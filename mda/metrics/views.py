"""Live stuurinformatie for the team lead (any period): suppressed aggregates only.

The steering group sees published releases only (``release_views``); these pages, with their
free periods and filters, need ``METRICS_LIVE``.

No view here loads a case, a person or an encrypted field; there is no drill-down from a
number to the cases behind it, and no URL carries an identifier.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from ..audit.models import AuditAction, AuditOutcome
from ..audit.trail import record
from ..auth.throttle import limiter
from ..db import db
from ..security.policy import Permission, current_account, may, requires
from . import charts
from .disclosure import DisplayTable
from .exports import legend, table_csv, workbook
from .forms import PeriodForm
from .models import Release
from .operations import published_releases
from .publication import file_stem, release_display
from .queries import Period
from .tables import Section, all_sections

blueprint = Blueprint("metrics", __name__, url_prefix="/stuurinformatie")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINE_CHARTS = {"instroom_maand_route", "caseload_fase", "caseload_ave",
               "instroom_tijd_route", "caseload_op_afschalen", "huisverboden"}   # the last three: releases


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


@blueprint.get("/actueel/")
@requires(Permission.METRICS_LIVE)
def dashboard() -> str:
    return _render("metrics/dashboard.html")


@blueprint.get("/actueel/rapport")
@requires(Permission.METRICS_LIVE)
def report() -> str:
    _form, period = _period()
    record(AuditAction.PRINT, by=current_account(), object_type="metrics_report",
           detail=f"evaluatierapport {period.start.isoformat()} t/m {period.end.isoformat()}")
    return _render("metrics/report.html")


@blueprint.get("/actueel/tabellen/<key>.csv")
@requires(Permission.METRICS_LIVE)
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


@blueprint.get("/actueel/stuurinformatie.xlsx")
@requires(Permission.METRICS_LIVE)
def workbook_export() -> Response:
    _form, period = _period()
    tables = [table for section in all_sections(period, threshold()) for table in section.tables]
    record(AuditAction.EXPORT, by=current_account(), object_type="metrics_workbook",
           detail=f"alle tabellen, {period.start.isoformat()} t/m {period.end.isoformat()}")
    return Response(workbook(tables, period, threshold()), mimetype=XLSX_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="stuurinformatie.xlsx"'})


# --- published releases: all the steering group sees -----------------------------------------

STEERING_LIMIT = "30 per minute;300 per day"


def _account_key() -> str:
    account = current_account()
    return f"metrics-account:{getattr(account, 'id', 'anonymous')}"


BURST_MESSAGE = ("Te veel opvragingen van stuurinformatie in korte tijd. Probeer het over een paar minuten "
                 "opnieuw; hebt u alle tabellen nodig, download dan het Excel-bestand van de publicatie.")


@blueprint.errorhandler(429)
def _refused_burst(_exc: Exception) -> tuple[str, int]:
    """Refused, and recorded: a burst of downloads is worth the privacy officer's attention."""
    db.session.rollback()
    record(AuditAction.READ, by=current_account(), object_type="metrics_release", outcome=AuditOutcome.DENIED,
           detail="te veel opvragingen van stuurinformatie")
    db.session.commit()    # the request lifecycle rolls back error answers; this record must stay
    return render_template("errors/error.html", code=429, message=BURST_MESSAGE), 429


steering_limit = limiter.shared_limit(STEERING_LIMIT, scope="stuurinformatie", key_func=_account_key)


def _release_or_404(release_id: int) -> Release:
    release = db.session.get(Release, release_id) if 0 < release_id < 2**31 else None
    if release is None:
        abort(404)
    return release


def _release_tables(release: Release) -> list[DisplayTable]:
    return [release_display(table) for table in release.content["tables"]]


@blueprint.get("/")
@requires(Permission.METRICS_VIEW)
@steering_limit
def releases() -> str:
    return render_template("metrics/releases.html", releases=published_releases(),
                           live=may(current_account(), Permission.METRICS_LIVE))


@blueprint.get("/publicaties/<int:release_id>")
@requires(Permission.METRICS_VIEW)
@steering_limit
def release(release_id: int) -> str:
    published = _release_or_404(release_id)
    record(AuditAction.READ, by=current_account(), object_type="metrics_release", object_id=published.id,
           detail=f"publicatie {published.title}")
    tables = _release_tables(published)
    return render_template("metrics/release.html", release=published, headline=tables[0], tables=tables[1:],
                           levels={t["key"]: t for t in published.content["tables"]}, chart_for=chart_for,
                           legend=legend(published.threshold), figures=published.content.get("headlines", {}))


@blueprint.get("/publicaties/<int:release_id>/<key>.csv")
@requires(Permission.METRICS_VIEW)
@steering_limit
def release_table_csv(release_id: int, key: str) -> Response:
    published = _release_or_404(release_id)
    for table in _release_tables(published):
        if table.key == key:
            record(AuditAction.EXPORT, by=current_account(), object_type="metrics_release",
                   object_id=published.id, detail=f"tabel {key}, publicatie {published.title}")
            period = Period(published.starts_on, published.ends_on, published.title)
            return Response(table_csv(table, period, published.threshold), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{file_stem(published)}_{key}.csv"'})
    abort(404)


@blueprint.get("/publicaties/<int:release_id>.xlsx")
@requires(Permission.METRICS_VIEW)
@steering_limit
def release_workbook(release_id: int) -> Response:
    published = _release_or_404(release_id)
    record(AuditAction.EXPORT, by=current_account(), object_type="metrics_release", object_id=published.id,
           detail=f"alle tabellen, publicatie {published.title}")
    period = Period(published.starts_on, published.ends_on, published.title)
    return Response(workbook(_release_tables(published), period, published.threshold), mimetype=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{file_stem(published)}.xlsx"'})


@blueprint.get("/publicaties/<int:release_id>.pdf")
@requires(Permission.METRICS_VIEW)
@steering_limit
def release_pdf(release_id: int) -> Response:
    """The evaluation report of a release, as a PDF document made here (no browser printing)."""
    from .report_pdf import release_pdf as make_pdf
    published = _release_or_404(release_id)
    record(AuditAction.PRINT, by=current_account(), object_type="metrics_release", object_id=published.id,
           detail=f"evaluatierapport (pdf), publicatie {published.title}")
    return Response(make_pdf(published), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="evaluatierapport_{file_stem(published)}.pdf"'})
