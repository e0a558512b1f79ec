"""The audit trail in the users' words: Dutch names for the objects and the codes in details.

Records keep their codes (they are hashed into the chain and never rewritten); pages and exports
show them through these names. A test checks that every object type the code writes has a name.
"""
from __future__ import annotations

import re

OBJECT_NAMES = {
    "case": "Casus", "person": "Persoon", "person_relation": "Relatie", "referral": "Verwijzing",
    "user": "Gebruiker", "team_membership": "Teamlidmaatschap", "house_ban": "Huisverbod",
    "house_ban_protected_person": "Beschermde persoon bij huisverbod", "consultation_question": "Consultvraag",
    "task": "Taak", "journal_entry": "Journaalregel", "case_status_change": "Afsluiting of heropening",
    "api_token": "API-sleutel", "safety_plan": "Veiligheidsplan", "phase_change": "Fasewissel",
    "participation_record": "Inbreng van het gezin", "organisation": "Organisatie",
    "metrics_workbook": "Stuurinformatie (werkmap)", "metrics_table": "Stuurinformatie (tabel)",
    "metrics_report": "Evaluatierapport", "discipline": "Discipline", "backup": "Back-up",
    "ave_level": "AVE-niveau", "ave_change": "Wijziging AVE-niveau", "assessment": "Taxatie",
    "audit_trail": "Audittrail", "erasure_request": "Verzoek tot wissen", "retention_purge": "Opschoning",
    "person_lookup": "Zoeken naar persoon", "access_report": "Inzageoverzicht", "form_draft": "Bewaard formulier",
    "attachment": "Document", "handover_summary": "Overdrachtssamenvatting", "closure_outcome": "Uitkomst bij afsluiting",
    "follow_up_check": "Follow-up na twaalf maanden", "metrics_release": "Publicatie stuurinformatie",
    "email_outbox": "Uitgaande e-mail", "notification_settings": "Instellingen meldingen", "search": "Zoekopdracht",
    "access_request": "Inzageverzoek",
}


def object_name(object_type: str | None) -> str:
    if not object_type:
        return ""
    return OBJECT_NAMES.get(object_type, "Ander onderdeel")


def object_label(object_type: str | None, object_id: int | None) -> str:
    """"Journaalregel 16" for ``journal_entry``, 16."""
    name = object_name(object_type)
    return " ".join(part for part in (name, "" if object_id is None else str(object_id)) if part)


def _code_labels() -> dict[str, str]:
    from ..accounts.models import Role
    from ..cases.models import ClosureReason, Phase
    from ..referrals.models import RedirectTarget
    labels: dict[str, str] = {}
    for enum_class in (Role, Phase, ClosureReason, RedirectTarget):
        labels.update({member.value: member.label for member in enum_class})
    return labels


_CODE = re.compile(r"[a-z]+(?:_[a-z]+)*")
# Details that name codes after a fixed Dutch prefix: "rollen: coordinator,team_lead", "fase herstel".
_CODED_DETAIL = re.compile(r"^(rollen: |fase |afgesloten: |verwijzing doorgeleid: )(.*)$")


def readable_detail(detail: str | None) -> str:
    """A stored detail with its codes in Dutch; anything else as stored."""
    if not detail:
        return ""
    match = _CODED_DETAIL.match(detail)
    if not match:
        return detail
    labels = _code_labels()
    prefix, rest = match.groups()
    rest = _CODE.sub(lambda code: labels.get(code.group(0), code.group(0)), rest)
    return prefix + rest.replace(",", ", ")
