"""User administration for the functional administrator (/beheer/gebruikers).

Every view needs ``Permission.USERS_MANAGE``. The permission is checked before the account
is looked up, so other roles get 403 for every id and cannot probe which ids exist. Input
errors re-render the page (status 200, like the login form) with the message next to its
field; a refused operation rolls the session back first, so none of it is committed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..auth.operations import is_locked
from ..db import db
from ..forms import saved, show_domain_error
from ..errors import InvalidInput
from ..security.policy import Permission, current_account, requires
from . import operations
from .forms import CreateUserForm, EditUserForm, ResetMfaForm, ResetPasswordForm, SetActiveForm
from .models import User

blueprint = Blueprint("admin_users", __name__, url_prefix="/beheer/gebruikers")

DUPLICATE_USERNAME = "Deze gebruikersnaam bestaat al."

# Prefixes keep field names and ids unique when several forms share the edit page.
ACTIVE_PREFIX = "actief"
MFA_PREFIX = "mfa"
PASSWORD_PREFIX = "wachtwoord"

View = Response | str | tuple[str, int]


def _load(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@blueprint.route("/")
@requires(Permission.USERS_MANAGE)
def index() -> str:
    users = db.session.scalars(
        select(User).options(selectinload(User.organisation)).order_by(User.username)).all()
    return render_template("admin_users/index.html", users=users, is_locked=is_locked)


@blueprint.route("/nieuw", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def create() -> View:
    form = CreateUserForm()
    form.offer_organisations()
    if form.validate_on_submit():
        try:
            operations.create_user(
                username=form.username.data or "", display_name=form.display_name.data or "",
                password=form.password.data or "", roles=form.chosen_roles(),
                organisation=form.chosen_organisation(), by=current_account())
        except InvalidInput as exc:
            show_domain_error(form, exc, fallback="username")
        except IntegrityError:
            # Two administrators creating the same name at once: the unique constraint decides.
            db.session.rollback()
            form.username.errors = [*form.username.errors, DUPLICATE_USERNAME]
        else:
            return saved("De gebruiker is aangemaakt.", ".index")
    return render_template("admin_users/create.html", form=form), 422 if form.is_submitted() else 200


def _render_edit(user: User, **forms: Any) -> tuple[str, int]:
    """The edit page; the form that was submitted is passed in, the others start blank. A form
    that was submitted and is shown again was refused: 422, as on every other form."""
    refused = any(form.is_submitted() for form in forms.values())
    forms.setdefault("form", EditUserForm.for_user(user, formdata=None))
    forms.setdefault("active_form", SetActiveForm(prefix=ACTIVE_PREFIX, formdata=None,
                                                  data={"active": "0" if user.active else "1"}))
    forms.setdefault("mfa_form", ResetMfaForm(prefix=MFA_PREFIX, formdata=None))
    forms.setdefault("password_form", ResetPasswordForm(prefix=PASSWORD_PREFIX, formdata=None))
    account = current_account()
    return render_template("admin_users/edit.html", user=user, is_self=account is not None and account.id == user.id,
                           locked=is_locked(user), **forms), 422 if refused else 200


@blueprint.route("/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def edit(user_id: int) -> View:
    user = _load(user_id)
    form = EditUserForm.for_user(user)
    if form.validate_on_submit():
        try:
            operations.update_user(user, display_name=form.display_name.data or "",
                                   organisation=form.chosen_organisation(), roles=form.chosen_roles(),
                                   by=current_account(), work_contact=form.work_contact.data or "")
        except InvalidInput as exc:
            show_domain_error(form, exc, fallback="display_name")
        else:
            return saved("De gegevens van de gebruiker zijn opgeslagen.", ".edit", "gegevens", user_id=user.id)
    return _render_edit(user, form=form)


@blueprint.route("/<int:user_id>/actief", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def set_active(user_id: int) -> View:
    user = _load(user_id)
    form = SetActiveForm(prefix=ACTIVE_PREFIX)
    if form.validate_on_submit():
        active = form.active.data == "1"
        try:
            operations.set_active(user, active, by=current_account())
        except InvalidInput as exc:
            show_domain_error(form, exc, fallback="active")
        else:
            return saved("Het account is weer ingeschakeld." if active else
                         "Het account is uitgeschakeld. Alle sessies van deze gebruiker zijn beëindigd.",
                         ".edit", "account-actief", user_id=user.id)
    return _render_edit(user, active_form=form)


@blueprint.route("/<int:user_id>/mfa-herstellen", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def reset_mfa(user_id: int) -> View:
    user = _load(user_id)
    form = ResetMfaForm(prefix=MFA_PREFIX)
    if form.validate_on_submit():
        operations.reset_mfa(user, by=current_account())
        return saved("De tweestapsverificatie is gewist. De gebruiker stelt die opnieuw in bij de volgende "
                     "keer inloggen; alle sessies van deze gebruiker zijn beëindigd.", ".edit", "tweestapsverificatie",
                     user_id=user.id)
    return _render_edit(user, mfa_form=form)


@blueprint.route("/<int:user_id>/wachtwoord", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def reset_password(user_id: int) -> View:
    user = _load(user_id)
    form = ResetPasswordForm(prefix=PASSWORD_PREFIX)
    if form.validate_on_submit():
        try:
            operations.reset_password(user, form.password.data or "", by=current_account())
        except InvalidInput as exc:
            show_domain_error(form, exc, fallback="password")
        else:
            return saved("Het wachtwoord is opnieuw ingesteld en een eventuele blokkade is opgeheven. "
                         "Alle sessies van deze gebruiker zijn beëindigd.", ".edit", "wachtwoord", user_id=user.id)
    return _render_edit(user, password_form=form)
