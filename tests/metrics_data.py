"""A small constructed data set for the metrics tests; the right answers are worked out by hand
in tests/test_metrics.py. Rows are written directly (not through the operations) so that every
instant is exactly the one the hand calculation uses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from itertools import count

from mda.accounts.models import Role, User
from mda.cases.models import AveChange, Case, CaseStatus, ClosureReason, IntakeRoute, Phase, PhaseChange
from mda.db import db
from mda.huisverbod.models import (AppealRuling, HouseBan, HouseBanAppeal, HouseBanBreach, HouseBanEvent,
                                   HouseBanEventKind, HouseBanRoute, HouseBanStatus, ImposedBy, OrderForm)
from mda.organisations.models import OrganisationKind
from mda.people.models import Person, PersonRole
from mda.referrals.models import ConsultationQuestion, Referral, RedirectTarget, ReferralStatus
from mda.teams.models import TeamMembership, TeamRole
from tests import factories as make

_numbers = count(1)


def utc(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


@dataclass
class Dataset:
    coordinator: User
    cases: dict[str, Case]
    references: list[str]


def new_case(town: str, route: IntakeRoute, opened_on: date, *, phases: list[tuple[Phase, datetime]] = (),
             levels: list[tuple[int, datetime]] = (), closed_on: date | None = None,
             previous: Case | None = None, by: User) -> Case:
    case = Case(reference=f"MDA-TEST-{next(_numbers):04d}", municipality=make.municipality(town),
                intake_route=route, opened_on=opened_on,
                phase=phases[-1][0] if phases else Phase.DIRECTE_VEILIGHEID,
                ave_level=levels[-1][0] if levels else 3,
                status=CaseStatus.CLOSED if closed_on else CaseStatus.OPEN, closed_on=closed_on,
                closure_reason=ClosureReason.LASTING_SAFETY if closed_on else None,
                closure_receiving_party=OrganisationKind.LOCAL_TEAM if closed_on else None,
                closure_receiving_name="Lokaal team Zuid" if closed_on else None,
                previous_case_id=previous.id if previous else None)
    previous_phase = None
    for phase, at in phases:
        case.phase_changes.append(PhaseChange(from_phase=previous_phase, to_phase=phase, changed_at=at,
                                              changed_by_id=by.id))
        previous_phase = phase
    previous_level = None
    for level, at in levels:
        case.ave_changes.append(AveChange(from_level=previous_level, to_level=level, changed_at=at,
                                          changed_by_id=by.id))
        previous_level = level
    db.session.add(case)
    db.session.flush()
    return case


def build() -> Dataset:
    coordinator = make.user(Role.COORDINATOR)
    by = coordinator
    vt = make.organisation(OrganisationKind.VEILIG_THUIS)
    # Caseload (period January to March 2026).
    c1 = new_case("Venlo", IntakeRoute.ACTIE_OVERLEG, date(2025, 12, 1), by=by,
                  phases=[(Phase.DIRECTE_VEILIGHEID, utc(2025, 12, 1)), (Phase.STABIELE_VEILIGHEID, utc(2026, 1, 31)),
                          (Phase.HERSTEL, utc(2026, 3, 2))],
                  levels=[(3, utc(2025, 12, 1)), (4, utc(2026, 2, 10)), (3, utc(2026, 3, 10))])
    c2 = new_case("Roermond", IntakeRoute.HUISVERBOD, date(2026, 2, 1), by=by, closed_on=date(2026, 3, 20),
                  phases=[(Phase.DIRECTE_VEILIGHEID, utc(2026, 2, 1)), (Phase.STABIELE_VEILIGHEID, utc(2026, 2, 21))],
                  levels=[(3, utc(2026, 2, 1)), (2, utc(2026, 3, 5))])
    new_case("Roermond", IntakeRoute.HUISVERBOD, date(2026, 5, 1), previous=c2, by=by)  # a her-melding
    # Outcomes in 2025: two closures followed for 12 months, one of them came back.
    c5 = new_case("Venlo", IntakeRoute.ACTIE_OVERLEG, date(2024, 1, 1), closed_on=date(2025, 3, 1), by=by)
    new_case("Venlo", IntakeRoute.ACTIE_OVERLEG, date(2024, 6, 1), closed_on=date(2025, 4, 1), by=by)
    new_case("Venlo", IntakeRoute.ACTIE_OVERLEG, date(2025, 10, 1), closed_on=date(2025, 12, 1), previous=c5, by=by)
    # Referrals.
    def referral(route: IntakeRoute, town: str | None, submitted: datetime | None, status: ReferralStatus,
                 decided: datetime | None = None, case: Case | None = None) -> None:
        db.session.add(Referral(organisation_id=vt.id, created_by_id=by.id, intake_route=route, status=status,
                                municipality_id=make.municipality(town).id if town else None,
                                submitted_at=submitted, decided_at=decided, case_id=case.id if case else None,
                                redirected_to=RedirectTarget.LOCAL_TEAM if status == ReferralStatus.REDIRECTED
                                else None))
    referral(IntakeRoute.ACTIE_OVERLEG, "Venlo", utc(2026, 1, 10), ReferralStatus.ACCEPTED, utc(2026, 1, 14), c1)
    referral(IntakeRoute.ACTIE_OVERLEG, "Venlo", utc(2026, 1, 20), ReferralStatus.DECLINED, utc(2026, 1, 22))
    referral(IntakeRoute.HUISVERBOD, "Roermond", utc(2026, 2, 5), ReferralStatus.REDIRECTED, utc(2026, 2, 15))
    referral(IntakeRoute.CONSULTATION, "Roermond", utc(2026, 3, 1), ReferralStatus.SUBMITTED)
    referral(IntakeRoute.ACTIE_OVERLEG, "Venlo", None, ReferralStatus.DRAFT)
    referral(IntakeRoute.ACTIE_OVERLEG, "Venlo", utc(2025, 12, 20), ReferralStatus.DECLINED, utc(2026, 1, 5))
    # Huisverboden on case 1.
    person = Person(case_id=c1.id, role=PersonRole.USING_VIOLENCE)
    db.session.add(person)
    db.session.flush()

    def ban(route: HouseBanRoute, imposed: datetime, status: HouseBanStatus, ends: datetime,
            ended: datetime | None = None, **extra: object) -> HouseBan:
        order = HouseBan(case_id=c1.id, municipality_id=c1.municipality_id, imposed_at=imposed,
                         imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN, route=route,
                         removed_person_id=person.id, status=status, ends_at=ends, ended_at=ended,
                         casemanagement_until=date(imposed.year + 1, imposed.month, imposed.day),
                         recorded_by_id=by.id, **extra)
        db.session.add(order)
        db.session.flush()
        return order
    b1 = ban(HouseBanRoute.A_ACUTE_POLICE, utc(2026, 1, 5, 10), HouseBanStatus.EXPIRED, utc(2026, 2, 2, 10),
             utc(2026, 2, 2, 10), casemanagement_ended_at=utc(2026, 3, 1))
    db.session.add(HouseBanEvent(house_ban_id=b1.id, kind=HouseBanEventKind.EXTENDED, occurred_at=utc(2026, 1, 14),
                                 decided_by=ImposedBy.MAYOR, new_end=utc(2026, 2, 2, 10), recorded_by_id=by.id))
    db.session.add(HouseBanAppeal(house_ban_id=b1.id, filed_on=date(2026, 1, 8), ruling=AppealRuling.UPHELD,
                                  ruled_on=date(2026, 1, 12)))
    b2 = ban(HouseBanRoute.A_ACUTE_POLICE, utc(2026, 2, 1, 10), HouseBanStatus.WITHDRAWN, utc(2026, 2, 11, 10),
             utc(2026, 2, 4, 10))
    db.session.add(HouseBanBreach(house_ban_id=b2.id, occurred_at=utc(2026, 2, 2), recorded_by_id=by.id))
    ban(HouseBanRoute.B_THREAT_VEILIG_THUIS, utc(2026, 3, 25, 10), HouseBanStatus.RUNNING, utc(2026, 4, 4, 10))
    # Network.
    police = make.organisation(OrganisationKind.POLICE, name="Politie Limburg")
    expert = make.user(Role.EXPERT, org=police)
    db.session.add(TeamMembership(case_id=c1.id, user_id=expert.id, organisation_id=police.id,
                                  team_role=TeamRole.EXPERT, discipline_code="judicial",
                                  started_on=date(2026, 1, 15)))
    db.session.add(TeamMembership(case_id=c5.id, user_id=expert.id, organisation_id=police.id,
                                  team_role=TeamRole.EXPERT, discipline_code="judicial",
                                  started_on=date(2024, 2, 1), ended_on=date(2025, 3, 1)))
    local = make.organisation(OrganisationKind.LOCAL_TEAM)
    for town, asked, advised, minutes, escalation, led in [
            ("Venlo", date(2026, 1, 10), date(2026, 1, 12), 30, True, False),
            ("Venlo", date(2026, 2, 10), None, None, False, True),
            ("Roermond", date(2026, 3, 1), date(2026, 3, 2), 90, False, False),
            ("Roermond", date(2025, 12, 1), date(2025, 12, 2), 45, False, False)]:
        db.session.add(ConsultationQuestion(asked_on=asked, asking_organisation_id=local.id,
                                            municipality_id=make.municipality(town).id, advised_on=advised,
                                            minutes_spent=minutes, escalation_advised=escalation,
                                            led_to_referral=led, recorded_by_id=by.id))
    db.session.flush()
    cases = {"c1": c1, "c2": c2}
    references = [case.reference for case in db.session.query(Case).all()]
    return Dataset(coordinator, cases, references)
