from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
def index() -> str:
    return render_template("home/index.html", account=current_user.account)
