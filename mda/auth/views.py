from __future__ import annotations

from flask import Blueprint, redirect, render_template, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from .forms import LoginForm
from .operations import authenticate
from .sessions import SessionUser

blueprint = Blueprint("auth", __name__)

LOGIN_FAILED_MESSAGE = "Gebruikersnaam of wachtwoord onjuist."


@blueprint.route("/inloggen", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # a fresh session at login (no fixation)
            login_user(SessionUser(user))
            return redirect(url_for("home.index"))
        db.session.commit()  # keep the failed-login audit record despite the error status
        form.password.errors.append(LOGIN_FAILED_MESSAGE)
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@blueprint.route("/uitloggen", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        record(AuditAction.LOGOUT, by=current_user.account)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
