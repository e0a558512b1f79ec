"""The tabs of a case file. Another area adds its tab here (the huisverbod area does)."""
from __future__ import annotations

from flask import current_app

CASE_TABS: list[tuple[str, str]] = [
    ("cases.detail", "Overzicht"),
    ("people.index", "Cliëntsysteem"),
    ("cases.track", "Fasen en AVE"),
    ("teams.index", "Team"),
    ("safety.index", "Veiligheidsplan en taxaties"),
    ("journal.index", "Journaal en taken"),
    ("journal.participation", "Participatie"),
    ("huisverbod.case_orders", "Huisverboden"),
    ("documents.index", "Documenten"),
]


def available_tabs() -> list[tuple[str, str]]:
    return [(endpoint, label) for endpoint, label in CASE_TABS if endpoint in current_app.view_functions]


def render_case(template: str, case: "Case", active_tab: str, **context: object) -> str:  # noqa: F821
    """Render a page of the case file with its header and tabs.

    A refused form's messages are also said at the top of the page: the case may have changed
    since the form was loaded (closed, reopened) so that the page no longer shows that form."""
    from flask import render_template
    from flask_wtf import FlaskForm

    from ..forms import flash_form_errors
    from .models import Phase
    flash_form_errors(*(value for value in context.values() if isinstance(value, FlaskForm)))
    context.setdefault("phases", list(Phase))
    return render_template(template, case=case, active_tab=active_tab, case_tabs=available_tabs(), **context)
