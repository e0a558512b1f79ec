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
    views = current_app.view_functions
    return [(endpoint, label) for endpoint, label in CASE_TABS if endpoint in views]


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
    context.setdefault("regie_note", regie_note(case))
    return render_template(template, case=case, active_tab=active_tab, case_tabs=available_tabs(), **context)


def regie_note(case: "Case") -> str | None:  # noqa: F821
    """What the user may do in this case, said when casusregie is not theirs (an expert, a team lead
    on a colleague's case); None for the coordinator. Who may do what is the policy's answer."""
    from ..security.policy import Permission, current_account, may
    from .queries import coordinator_name_of
    account = current_account()
    if account is None or may(account, Permission.CASE_DIRECT, case):
        return None
    coordinator = coordinator_name_of(case.id)
    regie = ("De casusregie (fase, AVE-niveau, veiligheidsplan, cliëntsysteem, participatie van het gezin, "
             "afsluiten en heropenen, huisverboden) ligt bij "
             f"de coördinator{': ' + coordinator if coordinator else ''}.")
    if may(account, Permission.CASE_EDIT, case):
        return ("U bent gedetacheerd expert in deze casus: u legt journaalberichten, taken en taxaties vast en "
                "ziet de rest. " + regie)
    if may(account, Permission.CASE_MANAGE_TEAM, case):
        return ("U ziet deze casus als teamleider: u stelt het team samen en kunt de casusregie overdragen "
                "aan een andere coördinator. " + regie)
    return "U kunt deze casus inzien. " + regie
