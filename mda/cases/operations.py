"""The verbs of a case. Each takes an explicit actor, flushes, and writes its audit record;
the request (or CLI command) commits once."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidTransition, StaleVersion
from ..organisations.models import OrganisationKind
from ..reference.models import Municipality
from ..teams.models import TeamMembership, TeamPhase, TeamRole
from ..timeutil import today, utcnow
from .models import (AveChange, Case, CaseReferenceCounter, CaseStatus, CaseStatusChange, CaseViolenceForm,
                     ClosureReason, IntakeRoute, Phase, PhaseChange, ViolenceForm)
from .rules import check_ave_move, check_closure, check_phase_move, check_reopen, outside_band_since


CLOSED_MESSAGE = "Deze casus is afgesloten. Heropen de casus eerst, met een reden."


def check_open(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise InvalidTransition(CLOSED_MESSAGE)


def lock_open(case: Case) -> None:
    """Before adding to a case's journal, tasks or participation: lock the case row and check,
    as it is under the lock, that the case is open. A close at the same moment then either
    waits for the addition or is seen by it. Unlike ``touch`` this leaves the case's version
    alone: a journal entry is no reason to refuse someone else's change of phase or AVE."""
    cases = Case.__table__
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a no-op write takes the database's write lock.
        locked = update(cases).where(cases.c.id == case.id).values(id=cases.c.id).returning(cases.c.status)
    else:
        locked = select(cases.c.status).where(cases.c.id == case.id).with_for_update()
    if session.execute(locked).scalar_one() == CaseStatus.CLOSED:
        raise InvalidTransition(CLOSED_MESSAGE)


def check_version(case: Case, expected_version: int | None) -> None:
    """The version the user saw must still be the stored one (a page loaded long ago is stale)."""
    if expected_version is not None and int(expected_version) != case.version:
        raise StaleVersion()


def touch(case: Case) -> None:
    """Make the case row part of the flush so its version advances with a change to its children."""
    flag_modified(case, "phase_since")


def next_reference(year: int) -> str:
    session = db.session
    counter = session.execute(
        select(CaseReferenceCounter).where(CaseReferenceCounter.year == year).with_for_update()
    ).scalar_one_or_none()
    if counter is None:
        counter = CaseReferenceCounter(year=year, last_number=0)
        session.add(counter)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # another request created this year's counter first
            counter = session.execute(
                select(CaseReferenceCounter).where(CaseReferenceCounter.year == year).with_for_update()
            ).scalar_one()
    counter.last_number += 1
    return f"MDA-{year}-{counter.last_number:04d}"


def open_case(*, municipality: Municipality, intake_route: IntakeRoute, coordinator: User,
              by: User, forms: Iterable[ViolenceForm] = (), ave_level: int = 3,
              opened_on: date | None = None, previous_case: Case | None = None,
              family_label: str | None = None) -> Case:
    """A case starts in directe veiligheid with exactly one coordinator."""
    opened_on = opened_on or today()
    now = utcnow()
    case = Case(reference=next_reference(opened_on.year), municipality=municipality,
                intake_route=intake_route, phase=Phase.DIRECTE_VEILIGHEID, phase_since=now,
                ave_level=ave_level, ave_since=now, ave_outside_band_since=outside_band_since(None, ave_level, now),
                opened_on=opened_on,
                previous_case_id=previous_case.id if previous_case else None)
    case.row_key()
    case.family_label = family_label
    case.violence_forms = [CaseViolenceForm(form=form) for form in dict.fromkeys(forms)]
    case.phase_changes.append(PhaseChange(to_phase=Phase.DIRECTE_VEILIGHEID, changed_at=now, changed_by_id=by.id))
    case.ave_changes.append(AveChange(to_level=ave_level, changed_at=now, changed_by_id=by.id))
    db.session.add(case)
    db.session.flush()
    membership = TeamMembership(case_id=case.id, user_id=coordinator.id,
                                organisation_id=coordinator.organisation_id,
                                team_role=TeamRole.COORDINATOR, team_phase=TeamPhase.BASISTEAM,
                                started_on=opened_on, added_by_id=by.id)
    db.session.add(membership)
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="case", object_id=case.id)
    from ..notifications import events as notifications  # the notifications area builds on cases
    notifications.team_member_added(membership, by=by)
    return case


def move_phase(case: Case, target: Phase, *, by: User, reason: str | None = None,
               no_diagnostics_reason: str | None = None, expected_version: int | None = None) -> PhaseChange:
    from ..safety.queries import evidence_for

    check_version(case, expected_version)
    check_open(case)
    check_phase_move(case.phase, target, reason, evidence_for(case, today()),
                     no_diagnostics_reason=no_diagnostics_reason)
    now = utcnow()
    change = PhaseChange(from_phase=case.phase, to_phase=target, changed_at=now, changed_by_id=by.id)
    if no_diagnostics_reason and target == Phase.PARTICIPATIE:
        reason = f"{reason.strip() + ' ' if reason else ''}Geen diagnostiek nodig: {no_diagnostics_reason.strip()}"
    change.reason = reason
    case.phase_changes.append(change)
    case.phase, case.phase_since = target, now
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="phase_change", object_id=change.id,
           detail=f"fase {target.value}")
    return change


def change_ave_level(case: Case, target: int, *, by: User, reason: str,
                     expected_version: int | None = None) -> AveChange:
    check_version(case, expected_version)
    check_open(case)
    check_ave_move(case.ave_level, target, reason)
    now = utcnow()
    change = AveChange(from_level=case.ave_level, to_level=target, changed_at=now, changed_by_id=by.id)
    change.reason = reason
    case.ave_changes.append(change)
    case.ave_outside_band_since = outside_band_since(case.ave_outside_band_since, target, now)
    case.ave_level, case.ave_since = target, now
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="ave_change", object_id=change.id,
           detail=f"AVE {change.from_level} naar {target}")
    return change


def close_case(case: Case, *, closure_reason: ClosureReason, receiving_party: OrganisationKind | None,
               receiving_name: str | None, by: User, note: str | None = None,
               expected_version: int | None = None, safety_judgement: object | None = None,
               professional_rating: int | None = None, family_rating: int | None = None) -> CaseStatusChange:
    """Close the case or hand casusregie over; the outcome and the receiving party are recorded.

    With a safety judgement (the close form always asks for one) it is recorded too, and the
    follow-up check twelve months later is scheduled as a task (mda.outcomes)."""
    from ..safety.queries import evidence_for

    check_version(case, expected_version)
    check_closure(case.status, evidence_for(case, today()), closure_reason, receiving_party, receiving_name)
    with_outcome = safety_judgement is not None or professional_rating is not None
    if with_outcome:
        from ..outcomes.operations import check_outcome
        check_outcome(safety_judgement, professional_rating, family_rating)
    change = CaseStatusChange(case_id=case.id, to_status=CaseStatus.CLOSED, changed_at=utcnow(),
                              changed_by_id=by.id, closure_reason=closure_reason,
                              receiving_party=receiving_party, receiving_name=(receiving_name or "").strip())
    change.reason = note
    db.session.add(change)
    case.status, case.closed_on, case.closure_reason = CaseStatus.CLOSED, today(), closure_reason
    case.closure_receiving_party, case.closure_receiving_name = receiving_party, change.receiving_name
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="case_status_change", object_id=change.id,
           detail=f"afgesloten: {closure_reason.value}")
    if with_outcome:
        from ..outcomes.operations import record_closure_outcome
        record_closure_outcome(case, change, judgement=safety_judgement, professional_rating=professional_rating,
                               family_rating=family_rating, by=by)
    return change


def reopen_case(case: Case, *, reason: str, by: User, expected_version: int | None = None) -> CaseStatusChange:
    check_version(case, expected_version)
    check_reopen(case.status, reason)
    change = CaseStatusChange(case_id=case.id, to_status=CaseStatus.OPEN, changed_at=utcnow(), changed_by_id=by.id)
    change.reason = reason
    db.session.add(change)
    case.status, case.closed_on, case.closure_reason = CaseStatus.OPEN, None, None
    case.closure_receiving_party = case.closure_receiving_name = None
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="case_status_change", object_id=change.id,
           detail="heropend")
    return change


def set_family_label(case: Case, label: str | None, *, by: User, expected_version: int | None = None) -> None:
    """Name the family the way the team knows it ("Gezin De Vries"); empty removes the label."""
    check_version(case, expected_version)
    check_open(case)
    before = case.family_label
    case.family_label = label
    if case.family_label == before:
        return
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="case", object_id=case.id,
           detail="gezinslabel gewijzigd")
