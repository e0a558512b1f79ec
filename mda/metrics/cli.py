"""``mda metrics publish``: publish the release of an ended period (or every one that is due)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..db import db
from ..reference.models import PilotPeriod
from . import operations as ops


@click.group("metrics", cls=AppGroup)
def metrics_group() -> None:
    """Stuurinformatie: vaste publicaties."""


@metrics_group.command("publish")
@click.option("--quarter", "quarter_", help="Een kwartaal, bijvoorbeeld 2026-K4.")
@click.option("--year", "year_", type=int, help="Een kalenderjaar, bijvoorbeeld 2026.")
@click.option("--pilot-period", help="De naam van een periode van de pilot.")
@click.option("--due", is_flag=True, help="Alle afgelopen perioden die nog niet gepubliceerd zijn.")
@click.option("--new-version", is_flag=True, help="Een nieuwe versie van een al gepubliceerde periode.")
@click.option("--reason", help="De reden voor een nieuwe versie.")
def publish(quarter_: str | None, year_: int | None, pilot_period: str | None, due: bool, new_version: bool,
            reason: str | None) -> None:
    """Compute, audit and store a release; the steering group sees only these."""
    try:
        if due:
            done = ops.publish_due(config=current_app.config)
            db.session.commit()
            click.echo(f"{len(done)} publicatie(s): " + ", ".join(r.title for r in done))
            return
        if quarter_:
            year_text, _sep, number = quarter_.upper().partition("-K")
            if not (year_text.isdigit() and number.isdigit()):
                raise click.BadParameter("Schrijf een kwartaal als 2026-K4.", param_hint="--quarter")
            period = ops.quarter(int(year_text), int(number))
        elif year_:
            period = ops.year(year_)
        elif pilot_period:
            found = db.session.scalar(select(PilotPeriod).where(PilotPeriod.name == pilot_period))
            if found is None:
                raise click.BadParameter("Onbekende periode van de pilot.", param_hint="--pilot-period")
            period = ops.pilot_period(found)
        else:
            raise click.UsageError("Kies --quarter, --year, --pilot-period of --due.")
        release = ops.publish_release(period, by=None, config=current_app.config, new_version=new_version,
                                      reason=reason)
        db.session.commit()
    except ops.ReleaseRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Gepubliceerd: {release.title} ({release.content['seconds']} s).")
