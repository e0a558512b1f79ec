"""The verbs of a case. Each takes an explicit actor, flushes, and writes its audit record;
the request (or CLI command) commits once."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import StaleVersion
from ..reference.models import Municipality
from ..teams.models import TeamMembership, TeamPhase, TeamRole
from ..timeutil import today, utcnow
from .models import AveChange, Case, CaseReferenceCounter, CaseViolenceForm, IntakeRoute, Phase, PhaseChange, ViolenceForm
from .rules import check_ave_move, check_phase_move


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
              opened_on: date | None = None, previous_case: Case | None = None) -> Case:
    """A case starts in directe veiligheid with exactly one coordinator."""
    opened_on = opened_on or today()
    now = utcnow()
    case = Case(reference=next_reference(opened_on.year), municipality=municipality,
                intake_route=intake_route, phase=Phase.DIRECTE_VEILIGHEID, phase_since=now,
                ave_level=ave_level, ave_since=now, opened_on=opened_on,
                previous_case_id=previous_case.id if previous_case else None)
    case.violence_forms = [CaseViolenceForm(form=form) for form in dict.fromkeys(forms)]
    case.phase_changes.append(PhaseChange(to_phase=Phase.DIRECTE_VEILIGHEID, changed_at=now, changed_by_id=by.id))
    case.ave_changes.append(AveChange(to_level=ave_level, changed_at=now, changed_by_id=by.id))
    db.session.add(case)
    db.session.flush()
    db.session.add(TeamMembership(case_id=case.id, user_id=coordinator.id,
                                  organisation_id=coordinator.organisation_id,
                                  team_role=TeamRole.COORDINATOR, team_phase=TeamPhase.BASISTEAM,
                                  started_on=opened_on, added_by_id=by.id))
    db.session.flush()
    record(AuditAction.CREATE, by=by, case_id=case.id, object_type="case", object_id=case.id)
    return case


def move_phase(case: Case, target: Phase, *, by: User, reason: str | None = None,
               expected_version: int | None = None) -> PhaseChange:
    check_version(case, expected_version)
    check_phase_move(case.phase, target, reason)
    now = utcnow()
    change = PhaseChange(from_phase=case.phase, to_phase=target, changed_at=now, changed_by_id=by.id)
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
    check_ave_move(case.ave_level, target, reason)
    now = utcnow()
    change = AveChange(from_level=case.ave_level, to_level=target, changed_at=now, changed_by_id=by.id)
    change.reason = reason
    case.ave_changes.append(change)
    case.ave_level, case.ave_since = target, now
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="ave_change", object_id=change.id,
           detail=f"AVE {change.from_level} naar {target}")
    return change
