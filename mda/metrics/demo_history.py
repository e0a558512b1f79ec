"""A realistic pilot history for the demo, made through the app's own operations.

From the start of the pilot to yesterday: about 50-70 referrals a year over the fourteen
municipalities, decided after a few days (most accepted, some declined or redirected); cases go
through the phases with their assessments and safety plans, change AVE level, get a huisverbod
(imposed and sometimes extended) when they came in by that route, and are closed with a safety
judgement; the follow-up twelve months later is recorded when it has fallen due. Events run in
time order on the app's clock (``timeutil.freeze``), so every record carries the moment it
would have had. Fictitious throughout: invented names, test BSNs are not used.
"""
from __future__ import annotations

import heapq
import random
from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Callable

from ..cases.models import ClosureReason, IntakeRoute, Phase
from ..db import db
from ..errors import DomainError
from ..huisverbod.models import HouseBanRoute, ImposedBy, OrderForm
from ..organisations.models import OrganisationKind
from ..outcomes.models import FamilySafe, SafetyJudgement
from ..timeutil import AMSTERDAM, freeze, today

PILOT_START = date(2022, 1, 1)
REFERRALS_PER_YEAR = 60
# Rough weights: the larger towns refer more.
TOWN_WEIGHTS = {"Venlo": 9, "Roermond": 6, "Weert": 5, "Venray": 4, "Horst aan de Maas": 3, "Peel en Maas": 3,
                "Leudal": 2, "Echt-Susteren": 2, "Maasgouw": 2, "Roerdalen": 2, "Nederweert": 2, "Gennep": 1,
                "Beesel": 1, "Bergen": 1}
ROUTES = [(IntakeRoute.ACTIE_OVERLEG, 6), (IntakeRoute.HUISVERBOD, 3), (IntakeRoute.LOCAL_TEAM_REQUEST, 2),
          (IntakeRoute.CONSULTATION, 2), (IntakeRoute.CRISIS, 1)]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), AMSTERDAM)


class _Timeline:
    """Events in time order; each runs with the app's clock set to its moment."""

    def __init__(self) -> None:
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.numbers = count()

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (moment, next(self.numbers), action))

    def run(self, until: datetime) -> int:
        """Run every event before ``until``; one the rules refuse (a case closed before its AVE
        change came due, say) is rolled back to its savepoint and skipped. Returns how many."""
        skipped = 0
        while self.queue and self.queue[0][0] < until:
            moment, _n, action = heapq.heappop(self.queue)
            freeze(moment)
            try:
                with db.session.begin_nested():
                    action()
            except DomainError:
                skipped += 1
        return skipped


def load_pilot_history(users: dict, organisations: dict, municipalities: dict, *, seed: int = 2022) -> int:
    """Fill the demo database with the pilot's history; returns the number of referrals made."""
    from ..cases.operations import change_ave_level, close_case, move_phase
    from ..huisverbod.operations import extend, impose_house_ban
    from ..outcomes.operations import record_follow_up
    from ..people.models import PersonRole
    from ..referrals.models import Referral, ReferralStatus, Urgency
    from ..referrals.operations import accept, add_referral_person, decline, redirect, submit
    from ..safety.models import AssessmentKind, RiskLevel
    from ..safety.operations import agree_safety_plan, record_assessment

    rng = random.Random(seed)
    end_day = today()
    until = _at(end_day, 0)
    referrer, lead = users["verwijzer.vt"], users["teamleider"]
    coordinators = [users["coordinator"], lead]
    local_team = next((o for o in organisations.values() if o.kind == OrganisationKind.LOCAL_TEAM), None)
    towns = [name for name in TOWN_WEIGHTS if name in municipalities]
    weights = [TOWN_WEIGHTS[name] for name in towns]
    timeline = _Timeline()
    made = 0

    def plan(case, day: date, owner) -> None:  # noqa: ANN001
        agree_safety_plan(case, agreed_on=day, review_on=day + timedelta(days=60),
                          agreements="Demo-afspraak: vaste afspraken over contact en toezicht.",
                          agreed_by="Gezin en coördinator (demo)", by=owner)

    def case_life(case, owner, opened: date, route: IntakeRoute, persons) -> None:  # noqa: ANN001
        """Schedule what happens to a case after it was opened."""
        day = opened
        record_assessment(case, kind=AssessmentKind.VEILIGHEIDSTAXATIE, assessed_on=day, instrument="LIRIK (demo)",
                          outcome="Acute onveiligheid (demo).", risk_level=RiskLevel.HIGH, by=owner)
        plan(case, day, owner)
        if route == IntakeRoute.HUISVERBOD and persons:
            imposed = _at(day, 8) - timedelta(days=1)
            ban = impose_house_ban(case, imposed_at=imposed, imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN,
                                   route=HouseBanRoute.A_ACUTE_POLICE, removed_person=persons[1],
                                   protected_persons=[persons[0]], dwelling="Fictieve Laan (demo)",
                                   facts="Demo: acuut partnergeweld gemeld bij de politie.", by=owner)
            if rng.random() < 0.4:
                timeline.at(imposed + timedelta(days=8), lambda: extend(
                    ban, new_end=imposed + timedelta(days=28), decided_by=ImposedBy.MAYOR,
                    decided_at=imposed + timedelta(days=8), by=owner))
        moment = _at(opened)
        steps = [Phase.STABIELE_VEILIGHEID, Phase.HERSTEL, Phase.PARTICIPATIE]
        reached = rng.choice([1, 2, 3, 3])
        for step in steps[:reached]:
            moment += timedelta(days=rng.randrange(50, 160))

            def move(step: Phase = step) -> None:
                now_day = today()
                if step == Phase.HERSTEL:
                    record_assessment(case, kind=AssessmentKind.RISICOTAXATIE, assessed_on=now_day,
                                      instrument="B-SAFER (demo)", outcome="Matig risico (demo).",
                                      risk_level=RiskLevel.MEDIUM, by=owner)
                if step == Phase.PARTICIPATIE:
                    record_assessment(case, kind=AssessmentKind.DIAGNOSTIEK, assessed_on=now_day,
                                      instrument="Traumascreening (demo)", outcome="Behandeling gestart (demo).",
                                      by=owner)
                plan(case, now_day, owner)
                move_phase(case, step, by=owner, reason="Doelen van de vorige fase behaald (demo).")
            timeline.at(moment, move)
        if rng.random() < 0.45:
            level = rng.choice([2, 4, 4, 5])
            timeline.at(_at(opened) + timedelta(days=rng.randrange(20, 120)), lambda: change_ave_level(
                case, level, by=owner, reason="Samenwerking stokt (demo)." if level > 3
                else "Lokaal team neemt meer over (demo)."))
            if rng.random() < 0.6:
                timeline.at(_at(opened) + timedelta(days=rng.randrange(130, 250)), lambda: change_ave_level(
                    case, 3, by=owner, reason="Terug naar regie door het MDA++-team (demo)."))
        closing = moment + timedelta(days=rng.randrange(60, 240))
        judgement = rng.choices(list(SafetyJudgement), [5, 3, 2])[0]

        def close() -> None:
            plan(case, today(), owner)
            close_case(case, closure_reason=ClosureReason.LASTING_SAFETY if judgement == SafetyJudgement.LASTING
                       else rng.choice([ClosureReason.HANDED_TO_REGULAR_CARE, ClosureReason.HANDED_TO_SAFETY_HOUSE,
                                        ClosureReason.OTHER]),
                       receiving_party=OrganisationKind.LOCAL_TEAM, receiving_name="Lokaal team (demo)", by=owner,
                       safety_judgement=judgement, professional_rating=rng.randrange(4, 10),
                       family_rating=rng.choice([None, rng.randrange(3, 10)]))
            from ..outcomes.queries import pending_follow_up
            check = pending_follow_up(case.id)
            safe = rng.choices(list(FamilySafe), [6, 2, 2, 1])[0]
            timeline.at(_at(check.due_on) + timedelta(days=rng.randrange(0, 20)), lambda: record_follow_up(
                check, family_safe=safe, new_vt_report=safe == FamilySafe.NO, new_house_ban=False,
                new_referral=safe == FamilySafe.NO and rng.random() < 0.5, by=owner, on=today()))
        timeline.at(closing, close)

    def referral_event(day: date) -> None:
        nonlocal made
        town = rng.choices(towns, weights)[0]
        route = rng.choices([r for r, _w in ROUTES], [w for _r, w in ROUTES])[0]
        referral = Referral(organisation_id=referrer.organisation_id, created_by_id=referrer.id,
                            status=ReferralStatus.DRAFT, intake_route=route,
                            actie_overleg_on=day - timedelta(days=1) if route == IntakeRoute.ACTIE_OVERLEG else None,
                            partners_present=["veilig_thuis", "police"], violence_forms=["partner_violence"],
                            urgency=Urgency.URGENT, municipality_id=municipalities[town].id, current_ave_level=3,
                            requesting_team_id=local_team.id if local_team and
                            route == IntakeRoute.LOCAL_TEAM_REQUEST else None)
        referral.reason = "Demo: langdurige regie nodig, eerdere hulp kwam niet tot veiligheid."
        db.session.add(referral)
        db.session.flush()
        number = made
        add_referral_person(referral, by=referrer, role="undergoing_violence", name=f"Demo Persoon A{number}",
                            date_of_birth=date(1980 + number % 20, 1 + number % 12, 1 + number % 27),
                            gender="female")
        add_referral_person(referral, by=referrer, role="using_violence", name=f"Demo Persoon B{number}",
                            date_of_birth=date(1975 + number % 20, 1 + number % 12, 1 + number % 27), gender="male")
        submit(referral, by=referrer)
        made += 1
        decided = _at(day, 14) + timedelta(days=rng.randrange(1, 8))
        choice = rng.random()

        def decide() -> None:
            if choice < 0.72:
                owner = rng.choice(coordinators)
                case = accept(referral, by=lead, coordinator=owner, duplicates_acknowledged=True)
                people = sorted(case_people(case.id), key=lambda p: p.role != PersonRole.UNDERGOING_VIOLENCE)
                case_life(case, owner, today(), route, people)
            elif choice < 0.86:
                decline(referral, by=lead, reason="Demo: past beter bij het lokale team.")
            else:
                redirect(referral, by=lead, target="local_team", advice="Demo: lokaal team met consultatie.")
        timeline.at(decided, decide)

    def case_people(case_id: int) -> list:
        from sqlalchemy import select

        from ..people.models import Person
        return list(db.session.scalars(select(Person).where(Person.case_id == case_id)))

    day = PILOT_START
    while day < end_day - timedelta(days=10):
        if rng.random() < REFERRALS_PER_YEAR / 52:
            timeline.at(_at(day + timedelta(days=rng.randrange(0, 5))), lambda day=day: referral_event(today()))
        day += timedelta(days=7)
    try:
        timeline.run(until)
    finally:
        freeze(None)
    return made


def publish_recent(config: dict) -> list:
    """The last ended quarter and year, so the steering pages have releases to show; the rest
    can be published with ``mda metrics publish --due``."""
    from . import operations as ops
    day = today()
    quarter_number = (day.month - 1) // 3          # the quarter before the current one
    last_quarter = ops.quarter(day.year, quarter_number) if quarter_number else ops.quarter(day.year - 1, 4)
    return [ops.publish_release(period, by=None, config=config) for period in (ops.year(day.year - 1), last_quarter)]
