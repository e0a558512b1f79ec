from __future__ import annotations

from flask import Blueprint, render_template
from ..security.policy import Permission, current_account, requires

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@requires(Permission.SIGNED_IN)
def index() -> str:
    return render_template("home/index.html", account=current_account())
