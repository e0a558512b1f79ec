"""Login in two steps (password, then TOTP code or first-time enrolment) and logout."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..security.policy import Permission, requires
from .resume import RESUME_KEY, after_login_target
from . import mfa
from .forms import CodeForm, LoginForm
from .operations import check_password, check_second_factor, complete_login, start_enrolment
from .sessions import begin_pending_login, end_session, note_activity, pending_account, start_session
from .throttle import LOGIN_LIMIT, limiter

blueprint = Blueprint("auth", __name__)

# One message for unknown user, wrong password, wrong code and a locked account.
LOGIN_FAILED_MESSAGE = ("Inloggen is niet gelukt. Controleer uw gegevens; na herhaalde fouten "
                        "wordt inloggen tijdelijk geblokkeerd.")


def _refuse(template: str, form, field, **context) -> tuple[str, int]:
    db.session.commit()  # the failed attempt and its audit record are kept despite the error status
    field.errors.append(LOGIN_FAILED_MESSAGE)
    return render_template(template, form=form, **context), 401


@blueprint.route("/inloggen", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        account = check_password(form.username.data or "", form.password.data or "")
        if account is None:
            return _refuse("auth/login.html", form, form.password)
        resume = session.get(RESUME_KEY)
        begin_pending_login(account)
        if resume:
            session[RESUME_KEY] = resume  # back to the page after the second factor
        target = "auth.second_factor" if account.mfa_enrolled_at else "auth.enrol"
        return redirect(url_for(target))
    return render_template("auth/login.html", form=form)


@blueprint.route("/inloggen/code", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def second_factor() -> Response | str | tuple[str, int]:
    account = pending_account()
    if account is None or account.mfa_enrolled_at is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if not check_second_factor(account, form.code.data or ""):
            return _refuse("auth/code.html", form, form.code)
        resume = session.get(RESUME_KEY)
        complete_login(account)
        start_session(account)
        return redirect(after_login_target(resume, account))
    return render_template("auth/code.html", form=form)


@blueprint.route("/inloggen/koppelen", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def enrol() -> Response | str | tuple[str, int]:
    account = pending_account()
    if account is None or account.mfa_enrolled_at is not None:
        return redirect(url_for("auth.login"))
    secret = start_enrolment(account)
    db.session.commit()  # the secret must survive until the confirming code arrives
    uri = mfa.provisioning_uri(secret, account.username)
    context = {"qr_svg": mfa.qr_code_svg(uri), "secret": mfa.grouped(secret)}
    form = CodeForm()
    if form.validate_on_submit():
        if not check_second_factor(account, form.code.data or ""):
            return _refuse("auth/enrol.html", form, form.code, **context)
        resume = session.get(RESUME_KEY)
        complete_login(account, enrolled_now=True)
        start_session(account)
        flash("Tweestapsverificatie is gekoppeld. Voortaan vraagt het inloggen om een code uit de app.")
        return redirect(after_login_target(resume, account))
    return render_template("auth/enrol.html", form=form, **context)


@blueprint.route("/sessie/verlengen", methods=["POST"])
@requires(Permission.SIGNED_IN)
def renew_session() -> Response:
    """The session warning's "Doorgaan": the idle clock starts again now (mda.web counts other
    requests once a minute only)."""
    note_activity(force=True)
    return jsonify({"verlengd": True})


@blueprint.route("/uitloggen", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        record(AuditAction.LOGOUT, by=current_user.account)
        end_session(current_user._get_current_object())  # committed with the response
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
