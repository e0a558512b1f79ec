"""The finest counts a release is built from ("atoms"), per population, per Dutch calendar month.

Every published number of a release is a sum of these counts, so one grouped query per
population is all a release needs, and the disclosure audit knows exactly which counts every
published number adds up (``mda.metrics.sdc``). No query selects a person, a case reference or
an encrypted column.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import product
from typing import Hashable

from sqlalchemy import and_, case, func, select

from ..cases.models import AveChange, Case, ClosureReason, IntakeRoute, Phase, PhaseChange
from ..db import db
from ..huisverbod.models import HouseBan, HouseBanEvent, HouseBanEventKind, HouseBanRoute
from ..outcomes.models import ClosureOutcome, FamilySafe, FollowUpCheck
from ..referrals.models import Referral, ReferralStatus
from ..timeutil import AMSTERDAM
from . import queries
from .queries import Period

UNKNOWN_TOWN = 0
STATUSES = [s.value for s in (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED,
                              ReferralStatus.REDIRECTED)]


@dataclass(frozen=True)
class Population:
    key: str
    title: str
    dimensions: tuple[str, ...]       # after the month
    stock: bool = False               # a stand at the end of each month, not a flow


POPULATIONS = {p.key: p for p in [
    Population("verwijzingen", "Verwijzingen (ingediend in de maand)", ("gemeente", "route", "besluit")),
    Population("fasen", "Lopende casussen per fase (stand aan het eind van de maand)", ("fase",), stock=True),
    Population("ave", "Op- en afschalen tussen AVE-niveaus", ("richting",)),
    Population("huisverboden", "Huisverboden (opgelegd in de maand)", ("route", "verlengd")),
    # Kept to the dimensions the tables need: every extra one multiplies the audit's unknowns.
    Population("afsluitingen", "Afgesloten casussen (afgesloten in de maand)",
               ("gemeente", "hermelding12", "oordeel", "na12")),
    Population("stabiel", "Casussen die stabiele veiligheid bereikten (in de maand)", ()),
]}


def domains(towns: list[int]) -> dict[str, list[Hashable]]:
    """Every value each dimension can take: the attacker's unknowns include the zeros."""
    return {
        "gemeente": [*towns, UNKNOWN_TOWN],
        "route": [r.value for r in IntakeRoute],
        "besluit": STATUSES,
        "fase": [p.value for p in Phase],
        "richting": ["op", "af"],
        "verlengd": [0, 1],
        "reden": [r.value for r in ClosureReason],
        "gevolgd": [0, 1],
        "hermelding": [0, 1],
        # twelve months after closure: not yet passed, passed without or with a her-melding
        "hermelding12": ["open", "nee", "ja"],
        "oordeel": ["lasting", "partly", "not", "none"],       # safety judgement at closure
        "na12": ["open", "veilig", "anders"],                   # follow-up: not recorded, safe, otherwise
        "hv_route": [r.value for r in HouseBanRoute],
    }


def dimension_domain(population: str, dimension: str, towns: list[int]) -> list[Hashable]:
    if population == "huisverboden" and dimension == "route":
        return domains(towns)["hv_route"]
    return domains(towns)[dimension]


def atoms_of(population: str, months: tuple[str, ...], filters: dict[str, list[Hashable]],
             towns: list[int]) -> frozenset[tuple]:
    """Every atom a published number adds up: its months times the allowed value of each dimension."""
    spec = POPULATIONS[population]
    axes = [list(months)] + [list(filters.get(d) or dimension_domain(population, d, towns)) for d in spec.dimensions]
    return frozenset((population, *combo) for combo in product(*axes))


Facts = dict[tuple, int]


def gather(period: Period, as_of: date) -> Facts:
    """All atoms of the period with a count above 0, keyed (population, month, *dimensions)."""
    facts: Facts = {}
    month = queries._month_of(Referral.submitted_at)
    statement = (select(month, Referral.municipality_id, Referral.intake_route, Referral.status, func.count())
                 .where(Referral.status != ReferralStatus.DRAFT,
                        queries._in_instants(Referral.submitted_at, period))
                 .group_by(month, Referral.municipality_id, Referral.intake_route, Referral.status))
    for m, town, route, status, n in db.session.execute(statement):
        facts[("verwijzingen", m, town or UNKNOWN_TOWN, str(route), str(status))] = n
    for (m, phase), n in queries.open_cases_by_month_and_phase(period).items():
        facts[("fasen", m, phase)] = n
    month = queries._month_of(AveChange.changed_at)
    direction = case((AveChange.to_level > AveChange.from_level, "op"), else_="af")
    statement = (select(month, direction, func.count())
                 .where(AveChange.from_level.is_not(None), AveChange.from_level != AveChange.to_level,
                        queries._in_instants(AveChange.changed_at, period))
                 .group_by(month, direction))
    for m, d, n in db.session.execute(statement):
        facts[("ave", m, d)] = n
    extended = select(HouseBanEvent.id).where(HouseBanEvent.house_ban_id == HouseBan.id,
                                              HouseBanEvent.kind == HouseBanEventKind.EXTENDED).exists()
    month = queries._month_of(HouseBan.imposed_at)
    flag = case((extended, 1), else_=0)
    statement = (select(month, HouseBan.route, flag, func.count())
                 .where(queries._in_instants(HouseBan.imposed_at, period)).group_by(month, HouseBan.route, flag))
    for m, route, ext, n in db.session.execute(statement):
        facts[("huisverboden", m, str(route), int(ext))] = n
    _closures(facts, period, as_of)
    reached = (select(PhaseChange.case_id, func.min(PhaseChange.changed_at).label("at"))
               .where(PhaseChange.to_phase == Phase.STABIELE_VEILIGHEID).group_by(PhaseChange.case_id).subquery())
    month = queries._month_of(reached.c.at)
    statement = select(month, func.count()).where(queries._in_instants(reached.c.at, period)).group_by(month)
    for m, n in db.session.execute(statement):
        facts[("stabiel", m)] = n
    return facts


def _closures(facts: Facts, period: Period, as_of: date) -> None:
    """Closures per month, with whether twelve months have passed by ``as_of`` and whether the
    family came back (a new case within twelve months of closure)."""
    follow_up = (select(Case.previous_case_id.label("case_id"), func.min(Case.opened_on).label("opened_on"))
                 .where(Case.previous_case_id.is_not(None)).group_by(Case.previous_case_id).subquery())
    followed = case((Case.closed_on <= as_of - timedelta(days=365), 1), else_=0)
    as_of_end = datetime.combine(as_of + timedelta(days=1), time(), AMSTERDAM)
    again = case((and_(follow_up.c.opened_on.is_not(None),
                       queries._days_between(follow_up.c.opened_on, Case.closed_on) <= 365,
                       follow_up.c.opened_on <= as_of), 1), else_=0)
    # The judgement of the latest closure, and its follow-up once recorded.
    latest = (select(ClosureOutcome.case_id, func.max(ClosureOutcome.id).label("id"))
              .group_by(ClosureOutcome.case_id).subquery())
    judgement = func.coalesce(ClosureOutcome.judgement, "none")
    follow = case((FollowUpCheck.recorded_at.is_(None), "open"), (FollowUpCheck.recorded_at > as_of_end, "open"),
                  (FollowUpCheck.family_safe == FamilySafe.YES, "veilig"), else_="anders")
    month = queries._month_of_date(Case.closed_on)
    statement = (select(month, Case.municipality_id, followed, again, judgement, follow, func.count())
                 .outerjoin(follow_up, follow_up.c.case_id == Case.id)
                 .outerjoin(latest, latest.c.case_id == Case.id)
                 .outerjoin(ClosureOutcome, and_(ClosureOutcome.id == latest.c.id,
                                                 ClosureOutcome.closed_on == Case.closed_on))
                 .outerjoin(FollowUpCheck, FollowUpCheck.closure_outcome_id == ClosureOutcome.id)
                 .where(Case.closed_on.is_not(None), queries._in_dates(Case.closed_on, period))
                 .group_by(month, Case.municipality_id, followed, again, judgement, follow))
    for m, town, f, a, j, n12, n in db.session.execute(statement):
        twelve = "open" if not f else ("ja" if a else "nee")
        key = ("afsluitingen", m, town, twelve, str(j), str(n12 or "open"))
        facts[key] = facts.get(key, 0) + n


def value_of(facts: Facts, atoms: frozenset[tuple]) -> int:
    if len(atoms) < len(facts):
        return sum(facts.get(atom, 0) for atom in atoms)
    return sum(n for atom, n in facts.items() if atom in atoms)
