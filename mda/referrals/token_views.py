"""API keys for Veilig Thuis registration systems, administered by the functional administrator.

A new key is shown once, in the answer to the request that issued it; it is never stored, put
in the session or sent by a redirect.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..db import db
from ..forms import show_domain_error
from ..errors import InvalidInput
from ..security.policy import Permission, current_account, requires
from . import tokens
from .forms import ApiTokenForm, RevokeTokenForm
from .models import ApiToken
from .views import blueprint

View = Response | str | tuple[str, int]


@blueprint.route("/beheer/api-sleutels/")
@requires(Permission.API_TOKENS_MANAGE)
def api_tokens() -> str:
    return render_template("referrals/api_tokens.html", tokens=tokens.all_tokens())


@blueprint.route("/beheer/api-sleutels/nieuw", methods=["GET", "POST"])
@requires(Permission.API_TOKENS_MANAGE)
def api_token_create() -> View:
    form = ApiTokenForm.build()
    if form.validate_on_submit():
        try:
            token, plaintext = tokens.issue_token(form.chosen_organisation(), label=form.label.data,
                                                  by=current_account())
        except InvalidInput as exc:
            show_domain_error(form, exc)
        else:
            return render_template("referrals/api_token_issued.html", token=token, plaintext=plaintext)
    return render_template("referrals/api_token_new.html", form=form)


@blueprint.route("/beheer/api-sleutels/<int:token_id>/intrekken", methods=["POST"])
@requires(Permission.API_TOKENS_MANAGE)
def api_token_revoke(token_id: int) -> View:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    form = RevokeTokenForm()
    if form.validate_on_submit():
        if tokens.revoke_token(token, by=current_account()):
            flash(f"De API-sleutel ‘{token.label}’ is ingetrokken; systemen die hem gebruiken worden vanaf nu "
                  "geweigerd.")
        else:
            flash("Deze API-sleutel was al ingetrokken.")
    return redirect(url_for(".api_tokens"))
