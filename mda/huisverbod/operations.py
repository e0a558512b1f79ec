"""Logging a tijdelijk huisverbod with its legal deadlines."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput
from ..people.models import Person
from ..timeutil import utcnow
from . import deadlines
from .models import HouseBan, HouseBanProtectedPerson, HouseBanRoute, ImposedBy, OrderForm


def impose_house_ban(case: Case, *, imposed_at: datetime, imposed_by: ImposedBy, form: OrderForm,
                     route: HouseBanRoute, removed_person: Person, protected_persons: Iterable[Person],
                     dwelling: str, facts: str, by: User, child_abuse_reason: bool = False,
                     veilig_thuis_consulted_at: datetime | None = None, risk_instrument: str | None = None,
                     risk_outcome: str | None = None) -> HouseBan:
    protected = list(protected_persons)
    if removed_person.case_id != case.id or any(person.case_id != case.id for person in protected):
        raise InvalidInput("Kies personen uit het cliëntsysteem van deze casus.", field="removed_person")
    if removed_person.is_adult is not True:
        raise InvalidInput("Een huisverbod kan alleen worden opgelegd aan een meerderjarige.",
                           field="removed_person")
    if removed_person in protected:
        raise InvalidInput("De uithuisgeplaatste kan niet ook beschermd persoon zijn.", field="protected")
    if imposed_at > utcnow():
        raise InvalidInput("Het tijdstip van opleggen ligt in de toekomst.", field="imposed_at")
    if child_abuse_reason and veilig_thuis_consulted_at is None:
        raise InvalidInput("Bij kindermishandeling wordt Veilig Thuis vóór het opleggen geraadpleegd; "
                           "vul het tijdstip van die raadpleging in.", field="veilig_thuis_consulted_at")
    ban = HouseBan(case_id=case.id, municipality_id=case.municipality_id, imposed_at=imposed_at,
                   imposed_by=imposed_by, form=form, route=route, removed_person_id=removed_person.id,
                   child_abuse_reason=child_abuse_reason, veilig_thuis_consulted_at=veilig_thuis_consulted_at,
                   risk_instrument=risk_instrument, risk_outcome=risk_outcome,
                   ends_at=deadlines.initial_end(imposed_at),
                   casemanagement_until=deadlines.casemanagement_end(imposed_at), recorded_by_id=by.id)
    ban.dwelling, ban.facts = dwelling, facts
    ban.protected = [HouseBanProtectedPerson(person_id=person.id) for person in protected]
    db.session.add(ban)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, person_id=removed_person.id, object_type="house_ban",
           object_id=ban.id)
    return ban
