"""The search page. A search is a POST: see ``SearchForm`` for why the text stays out of URLs."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..audit.models import AuditAction
from ..audit.trail import record, record_many
from ..security.policy import Permission, current_account, requires
from .forms import SearchForm
from .queries import search

blueprint = Blueprint("search", __name__)


@blueprint.route("/zoeken", methods=["GET", "POST"])
@requires(Permission.SEARCH)
def index() -> tuple[str, int]:
    form = SearchForm()
    if not form.is_submitted():
        return render_template("search/index.html", form=SearchForm(formdata=None), outcome=None), 200
    if not form.validate():
        return render_template("search/index.html", form=form, outcome=None), 422
    account = current_account()
    outcome = search(account, form.q.data)
    # The trail keeps that a search happened, its kind and its number of hits: never the text.
    record(AuditAction.SEARCH, by=account, object_type="search",
           detail=f"zoeken op {outcome.query.audit_label}: {len(outcome.hits)} "
                  f"{'treffer' if len(outcome.hits) == 1 else 'treffers'}")
    # The results show names and labels: a read of each case and referral listed.
    record_many(AuditAction.READ, [(hit.case.id, "case", hit.case.id) if hit.case is not None
                                   else (hit.referral.case_id, "referral", hit.referral.id) for hit in outcome.hits],
                by=account, detail="zoekresultaat")
    if outcome.query.problem:
        form.q.errors = [outcome.query.problem]
    return render_template("search/index.html", form=form, outcome=outcome), 200
