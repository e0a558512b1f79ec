"""Requests for access (AVG art. 15): register, extend with a reason, complete.

The privacy officer registers a request after finding the person by BSN or by name with date of
birth (the lookup binds the registration: see ``views.remember_lookup``); the access report is made
only for a registered request. The answer is due one month after receipt; while that month runs it
can be extended once by two further months, with a reason (AVG art. 12(3)). The register warns
when the deadline is near or past.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import DomainError, InvalidInput, StaleVersion
from ..people.models import Person
from ..timeutil import today, utcnow
from .models import AccessRequest, AccessRequestStatus

REQUEST_OBJECT = "access_request"
WARN_DAYS = 7  # the register warns this many days before the deadline


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it has no such day (31 January +
    1 month = 28 or 29 February), as periods in months are counted (EU regulation 1182/71)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class DeadlineState:
    deadline: date
    days_left: int
    level: str  # "done", "ok", "near" or "past"
    message: str


def deadline_state(item: AccessRequest, on: date | None = None) -> DeadlineState:
    on = on or today()
    deadline = item.deadline
    days_left = (deadline - on).days
    shown = deadline.strftime("%d-%m-%Y")
    if item.status == AccessRequestStatus.COMPLETED:
        return DeadlineState(deadline, days_left, "done", f"Afgehandeld (termijn tot en met {shown}).")
    if days_left < 0:
        return DeadlineState(deadline, days_left, "past",
                             f"Termijn verstreken op {shown}: {-days_left} dag(en) te laat. Handel het verzoek "
                             "direct af.")
    if days_left <= WARN_DAYS:
        return DeadlineState(deadline, days_left, "near",
                             f"Termijn verstrijkt op {shown}: nog {days_left} dag(en)."
                             + ("" if item.extended_until else " Verlengen kan alleen binnen de eerste maand, "
                                "met een reden."))
    return DeadlineState(deadline, days_left, "ok", f"Af te handelen uiterlijk {shown}.")


def _check_version(item: AccessRequest, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != item.version:
        raise StaleVersion()


def register(person: Person, *, received_on: date, by: User) -> AccessRequest:
    if received_on > today():
        raise InvalidInput("De datum van ontvangst kan niet in de toekomst liggen.", field="received_on")
    item = AccessRequest(person_id=person.id, case_id=person.case_id, received_on=received_on,
                         due_on=add_months(received_on, 1), recorded_by_id=by.id, status=AccessRequestStatus.OPEN)
    db.session.add(item)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=person.case_id, person_id=person.id,
           object_type=REQUEST_OBJECT, object_id=item.id, detail="inzageverzoek vastgelegd")
    return item


def extend(item: AccessRequest, *, reason: str, by: User, expected_version: int | None = None) -> None:
    """Two more months (three after receipt), once, while the first month runs."""
    _check_version(item, expected_version)
    if item.status != AccessRequestStatus.OPEN:
        raise DomainError("Een afgehandeld verzoek kan niet worden verlengd.")
    if item.extended_until is not None:
        raise DomainError("De termijn is al verlengd; verder verlengen kan niet.")
    if today() > item.due_on:
        raise InvalidInput("De eerste maand is voorbij: verlengen had binnen die maand gemoeten (AVG art. 12 "
                           "lid 3). Handel het verzoek zo snel mogelijk af.", field="reason")
    if not (reason or "").strip():
        raise InvalidInput("Geef de reden van de verlenging; de betrokkene krijgt die te horen.", field="reason")
    with db.session.no_autoflush:
        item.extension_reason = reason.strip()
        item.extended_until = add_months(item.received_on, 3)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=item.case_id, person_id=item.person_id,
           object_type=REQUEST_OBJECT, object_id=item.id, detail="termijn verlengd met twee maanden")


def complete(item: AccessRequest, *, by: User, expected_version: int | None = None) -> None:
    _check_version(item, expected_version)
    if item.status != AccessRequestStatus.OPEN:
        raise DomainError("Dit verzoek is al afgehandeld.")
    with db.session.no_autoflush:
        item.completed_at, item.completed_by_id = utcnow(), by.id
        item.status = AccessRequestStatus.COMPLETED
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=item.case_id, person_id=item.person_id,
           object_type=REQUEST_OBJECT, object_id=item.id, detail="inzageverzoek afgehandeld")
