"""Organisations and reference data (AVE levels, disciplines, municipalities) for the functional
administrator. Regional settings, changed here without a code change."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..db import db
from ..forms import saved, submitted_and_done
from ..organisations.models import Organisation, OrganisationKind
from ..security.policy import Permission, current_account, requires
from . import operations
from .forms import AveLevelForm, DisciplineForm, OrganisationForm
from .models import AveLevel, Discipline, Municipality

blueprint = Blueprint("reference", __name__, url_prefix="/beheer")


def _page(status: int = 200, **forms: object) -> tuple[str, int]:
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    levels = db.session.scalars(select(AveLevel).order_by(AveLevel.level)).all()
    disciplines = db.session.scalars(select(Discipline).order_by(Discipline.code)).all()
    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.subregion,
                                                                      Municipality.name)).all()
    forms.setdefault("organisation_form", OrganisationForm(formdata=None))
    level_forms = {level.level: AveLevelForm(formdata=None, obj=level, prefix=f"ave{level.level}") for level in levels}
    level_forms.update(forms.pop("level_forms", {}))
    discipline_forms = {d.code: DisciplineForm(formdata=None, obj=d, prefix=f"d-{d.code}") for d in disciplines}
    discipline_forms.update(forms.pop("discipline_forms", {}))
    return render_template("reference/index.html", organisations=organisations, levels=levels,
                           disciplines=disciplines, municipalities=municipalities, level_forms=level_forms,
                           discipline_forms=discipline_forms, **forms), status


@blueprint.route("/referentiegegevens")
@requires(Permission.REFERENCE_MANAGE)
def index() -> tuple[str, int]:
    return _page()


@blueprint.route("/organisaties", methods=["POST"])
@requires(Permission.REFERENCE_MANAGE)
def create_organisation() -> Response | tuple[str, int]:
    form = OrganisationForm()
    if submitted_and_done(form, "name", lambda: operations.save_organisation(
            None, name=form.name.data, kind=OrganisationKind(form.kind.data), active=form.active.data,
            by=current_account())):
        return saved("De organisatie is toegevoegd.", ".index", "organisatie-toevoegen")
    return _page(422, organisation_form=form)


@blueprint.route("/organisaties/<int:organisation_id>", methods=["GET", "POST"])
@requires(Permission.REFERENCE_MANAGE)
def edit_organisation(organisation_id: int) -> Response | tuple[str, int] | str:
    organisation = db.session.get(Organisation, organisation_id) or abort(404)
    form = OrganisationForm(obj=organisation, data={"kind": organisation.kind.value})
    if form.is_submitted():
        if submitted_and_done(form, "name", lambda: operations.save_organisation(
                organisation, name=form.name.data, kind=OrganisationKind(form.kind.data), active=form.active.data,
                by=current_account())):
            return saved("De organisatie is opgeslagen.", ".index")
        return render_template("reference/organisation.html", organisation=organisation, form=form), 422
    return render_template("reference/organisation.html", organisation=organisation, form=form)


@blueprint.route("/ave-niveaus/<int:level>", methods=["POST"])
@requires(Permission.REFERENCE_MANAGE)
def edit_ave_level(level: int) -> Response | tuple[str, int]:
    ave_level = db.session.get(AveLevel, level) or abort(404)
    form = AveLevelForm(prefix=f"ave{level}")
    if submitted_and_done(form, "title", lambda: operations.describe_ave_level(
            ave_level, title=form.title.data, description=form.description.data, by=current_account())):
        return saved(f"De omschrijving van AVE {level} is opgeslagen.", ".index", f"ave-{level}")
    return _page(422, level_forms={level: form})


@blueprint.route("/disciplines/<code>", methods=["POST"])
@requires(Permission.REFERENCE_MANAGE)
def edit_discipline(code: str) -> Response | tuple[str, int]:
    discipline = db.session.get(Discipline, code) or abort(404)
    form = DisciplineForm(prefix=f"d-{code}")
    if submitted_and_done(form, "name", lambda: operations.rename_discipline(
            discipline, name=form.name.data, by=current_account())):
        return saved("De discipline is opgeslagen.", ".index", f"discipline-{code}")
    return _page(422, discipline_forms={code: form})
