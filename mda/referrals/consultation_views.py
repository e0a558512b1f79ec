"""Consultation questions (consultvragen) in the browser, for coordinators and the team lead.

They hold no personal data and belong to no case, so every coordinator may see them all;
the permission is checked before the record is looked up.
"""
from __future__ import annotations

from flask import abort, render_template
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..forms import saved, show_domain_error
from ..errors import DomainError, StaleVersion
from ..security.policy import Permission, current_account, requires
from . import consultations
from .forms import ConsultationForm
from .models import ConsultationQuestion
from .views import blueprint

View = Response | str | tuple[str, int]


@blueprint.route("/consultvragen/")
@requires(Permission.CONSULTATION_RECORD)
def consultations_index() -> str:
    return render_template("consultations/index.html", questions=consultations.all_consultations())


@blueprint.route("/consultvragen/nieuw", methods=["GET", "POST"])
@requires(Permission.CONSULTATION_RECORD)
def consultation_create() -> View:
    form = ConsultationForm.build()
    if form.validate_on_submit():
        try:
            consultations.record_consultation(by=current_account(), **form.values())
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return saved("De consultvraag is vastgelegd.", ".consultations_index")
    return render_template("consultations/form.html", form=form, question=None)


@blueprint.route("/consultvragen/<int:question_id>", methods=["GET", "POST"])
@requires(Permission.CONSULTATION_RECORD)
def consultation_edit(question_id: int) -> View:
    question = db.session.get(ConsultationQuestion, question_id)
    if question is None:
        abort(404)
    form = ConsultationForm.build(question)
    status = 200
    if form.validate_on_submit():
        try:
            consultations.update_consultation(question, by=current_account(), expected_version=form.version.data,
                                              **form.values())
        except StaleVersion as exc:
            db.session.rollback()
            db.session.refresh(question)
            form.form_errors.append(exc.message)
            form.version.data = str(question.version)
            status = 409
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return saved("De consultvraag is opgeslagen.", ".consultations_index")
    record(AuditAction.READ, by=current_account(), object_type="consultation_question", object_id=question.id)
    return render_template("consultations/form.html", form=form, question=question,
                           conflict=status == 409), status
