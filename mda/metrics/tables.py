"""The steering tables: query results shaped into count tables, suppressed, and labelled in Dutch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..cases.models import ClosureReason, IntakeRoute, Phase
from ..huisverbod.models import AppealRuling, HouseBanRoute
from ..organisations.models import OrganisationKind
from ..reference.models import Subregion
from ..referrals.models import ReferralStatus
from . import queries
from .disclosure import CountTable, DisplayRow, DisplayTable, percentage, quantiles, render
from .queries import Histogram, Period

PILOT_BENCHMARK_DAYS = 548   # about 1.5 years (domain brief section 7)


@dataclass
class Section:
    key: str
    title: str
    tables: list[DisplayTable]


def _grid(key: str, title: str, row_header: str, rows: list[tuple[str, str]], columns: list[tuple[str, str]],
          data: dict, threshold: int, drop_empty: bool = False, **options) -> DisplayTable:
    if drop_empty:
        rows = [r for r in rows if any(data.get((r[0], c[0]), 0) for c in columns)]
        columns = [c for c in columns if any(data.get((r[0], c[0]), 0) for r in rows)]
    counts = [[data.get((r, c), 0) for c, _ in columns] for r, _ in rows]
    return render(CountTable(key, title, row_header, [label for _, label in rows], [label for _, label in columns],
                             counts, **options), threshold)


def duration_table(key: str, title: str, row_header: str, groups: list[tuple[str, str]],
                   histograms: dict[str, Histogram], threshold: int, description: str = "") -> DisplayTable:
    """Number, median and spread (25th-75th percentile) in days per group; median and spread
    only where the number is shown and at least the threshold."""
    counts = [[sum(n for _d, n in histograms.get(code, []))] for code, _ in groups]
    base = render(CountTable(key, title, row_header, [label for _, label in groups], ["Aantal"], counts,
                             row_totals=False, description=description), threshold)
    merged = [pair for code, _ in groups for pair in histograms.get(code, [])]
    per_row = [histograms.get(code, []) for code, _ in groups] + [merged]
    base.header += ["Mediaan (dagen)", "Spreiding P25–P75 (dagen)"]
    for row, histogram in zip(base.rows, per_row):
        n = row.numbers[0]
        stats = quantiles(histogram) if n is not None and n >= threshold else None
        if stats is None:
            row.cells += ["—", "—"]
            row.numbers += [None, None]
        else:
            row.cells += [f"{stats[1]:.0f}", f"{stats[0]:.0f}–{stats[2]:.0f}"]
            row.numbers += [round(stats[1]), None]
    return base


def _add_share(table: DisplayTable, header: str, numerator: int, denominator: int, threshold: int) -> None:
    """A percentage column from two count columns (0-based among the counts)."""
    table.header.append(header)
    for row in table.rows:
        row.cells.append(percentage(row.numbers[numerator], row.numbers[denominator], threshold))
        row.numbers.append(None)


def intake(period: Period, threshold: int) -> Section:
    routes = [(r.value, r.label) for r in IntakeRoute]
    months = [(label, label) for label, _ in period.months()]
    by_month = queries.referrals_by_month_and_route(period)
    per_month = _grid("instroom_maand_route", "Verwijzingen per maand en instroomroute", "Maand", months, routes,
                      by_month, threshold)
    regions = [(r.value, r.label) for r in Subregion] + [("unknown", "Gemeente onbekend")]
    per_region = _grid("instroom_deelregio_route", "Verwijzingen per deelregio en instroomroute", "Deelregio",
                       regions, routes, queries.referrals_by_subregion_and_route(period), threshold)
    towns = queries.municipalities()
    statuses = [(s.value, s.label) for s in (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED,
                                             ReferralStatus.DECLINED, ReferralStatus.REDIRECTED)]
    by_town = queries.referrals_by_municipality_and_status(period)
    rows: list[tuple[object, str]] = [(tid, name) for tid, name, _ in towns] + [(None, "Gemeente onbekend")]
    groups = []
    for subregion in Subregion:
        groups.append((subregion.label, [i for i, (tid, _name, sub) in enumerate(towns) if sub == subregion]))
    groups.append(("Zonder gemeente", [len(towns)]))
    counts = [[by_town.get((tid, code), 0) for code, _ in statuses] for tid, _ in rows]
    decisions = render(CountTable("instroom_gemeente_besluit", "Verwijzingen per deelregio en gemeente, naar besluit",
                                  "Gemeente", [name for _, name in rows], [label for _, label in statuses], counts,
                                  groups=groups, description="‘Ingediend’ is nog zonder besluit."), threshold)
    waiting = duration_table("instroom_wachttijd", "Wachttijd van verwijzing tot besluit", "Instroomroute", routes,
                             queries.referral_waiting_days(period), threshold)
    return Section("instroom", "Instroom", [per_month, per_region, decisions, waiting])


def caseload(period: Period, threshold: int) -> Section:
    months = [(label, label) for label, _ in period.months()]
    phases = [(p.value, p.label) for p in Phase]
    levels = [(str(level), f"AVE {level}") for level in range(1, 6)]
    by_phase = _grid("caseload_fase", "Lopende casussen per fase (stand aan het eind van de maand)", "Maand",
                     months, phases, queries.open_cases_by_month_and_phase(period), threshold, column_totals=False)
    by_ave = _grid("caseload_ave", "Lopende casussen per AVE-niveau (stand aan het eind van de maand)", "Maand",
                   months, levels, queries.open_cases_by_month_and_ave(period), threshold, column_totals=False)
    per_phase = duration_table("caseload_tijd_per_fase", "Tijd per fase (afgeronde fasen in de periode)", "Fase",
                               phases, queries.days_per_phase(period), threshold)
    stable = duration_table("caseload_stabiele_veiligheid", "Tijd tot stabiele veiligheid (vanaf opening)",
                            "Deelregio", [(s.value, s.label) for s in Subregion],
                            queries.days_to_stable_safety(period), threshold)
    flows_data = {(str(a), str(b)): n for (a, b), n in queries.ave_flows(period).items()}
    flows = _grid("caseload_op_afschalen", "Op- en afschalen tussen AVE-niveaus (van rij naar kolom)",
                  "Van", levels, levels, flows_data, threshold)
    flows.description = "Boven de diagonaal: opschalen; onder de diagonaal: afschalen."
    return Section("caseload", "Caseload", [by_phase, by_ave, per_phase, stable, flows])


HOUSE_BAN_COLUMNS = [("imposed", "Opgelegd"), ("extended", "Verlengd"), ("appealed", "Met beroep"),
                     ("breached", "Met overtreding"), ("withdrawn", "Ingetrokken"),
                     ("lifted", "Opgeheven door rechter"), ("casemanagement_done", "Casemanagement afgerond")]


def house_bans(period: Period, threshold: int) -> Section:
    routes = [(r.value, r.label) for r in HouseBanRoute]
    indicators = _grid("huisverboden_route", "Huisverboden opgelegd in de periode, per route", "Route", routes,
                       HOUSE_BAN_COLUMNS, queries.house_ban_indicators(period), threshold, row_totals=False)
    _add_share(indicators, "Verlengd (%)", 1, 0, threshold)
    _add_share(indicators, "Casemanagement afgerond (%)", 6, 0, threshold)
    duration = duration_table("huisverboden_duur", "Duur van afgelopen huisverboden", "Route", routes,
                              queries.house_ban_days(period), threshold)
    rulings = [(r.value, r.label) for r in AppealRuling] + [("pending", "Nog geen uitspraak")]
    appeal_counts = queries.appeals_by_ruling(period)
    appeals = render(CountTable("huisverboden_beroep", "Beroepen ingesteld in de periode, naar uitkomst", "Uitkomst",
                                [label for _, label in rulings], ["Aantal"],
                                [[appeal_counts.get(code, 0)] for code, _ in rulings], row_totals=False), threshold)
    return Section("huisverboden", "Huisverboden", [indicators, duration, appeals])


def outcomes(period: Period, threshold: int) -> Section:
    reasons = [(r.value, r.label) for r in ClosureReason]
    parties = [(k.value, k.label) for k in OrganisationKind] + [("none", "Niet vastgelegd")]
    closures = _grid("uitstroom_afsluiting", "Afgesloten casussen naar reden en ontvangende partij", "Reden",
                     reasons, parties, queries.closures_by_reason_and_party(period), threshold, drop_empty=True)
    histograms = queries.trajectory_days(period)
    trajectory = duration_table("uitstroom_doorlooptijd", "Doorlooptijd van het hele traject (afgesloten casussen)",
                                "Instroomroute", [(r.value, r.label) for r in IntakeRoute], histograms, threshold,
                                description=f"De pilot verwacht ongeveer 1,5 jaar ({PILOT_BENCHMARK_DAYS} dagen).")
    data = queries.re_referrals(period)
    subregions = [(s.value, s.label) for s in Subregion]
    again = _grid("uitstroom_hermelding", "Her-meldingen binnen 12 maanden na afsluiting", "Deelregio", subregions,
                  [("closed", "Afgesloten"), ("followed", "Afgesloten, 12 maanden gevolgd"),
                   ("again_followed", "Daarvan her-melding ≤ 12 maanden")], data, threshold, row_totals=False)
    _add_share(again, "Her-meldingen (%)", 2, 1, threshold)
    again.description = ("Een her-melding is een nieuwe casus voor hetzelfde gezin binnen 12 maanden na afsluiting; "
                         "het percentage telt alleen casussen die al 12 maanden gesloten zijn.")
    return Section("uitstroom", "Uitstroom en resultaten", [closures, trajectory, again])


def network(period: Period, threshold: int) -> Section:
    deployments = queries.expert_deployments(period)
    organisations = sorted({org for org, _ in deployments})
    disciplines = sorted({d for _, d in deployments})
    experts = _grid("netwerk_experts", "Inzet van gedetacheerde experts (toewijzingen in de periode)",
                    "Organisatie", [(o, o) for o in organisations], [(d, d) for d in disciplines], deployments,
                    threshold)
    subregions = [(s.value, s.label) for s in Subregion]
    data = queries.consultations(period)
    asked = _grid("netwerk_consultvragen", "Consultvragen van lokale teams", "Deelregio", subregions,
                  [("asked", "Gesteld"), ("answered", "Beantwoord"), ("escalation", "Opschalen geadviseerd"),
                   ("referral", "Leidde tot verwijzing")], data, threshold, row_totals=False)
    _add_share(asked, "Beantwoord (%)", 1, 0, threshold)
    minutes = duration_table("netwerk_consult_tijd", "Bestede tijd per consultvraag", "Deelregio", subregions,
                             queries.consultation_minutes(period), threshold)
    minutes.header[2:4] = ["Mediaan (minuten)", "Spreiding P25–P75 (minuten)"]
    return Section("netwerk", "Netwerk", [experts, asked, minutes])


SECTIONS: list[tuple[str, str, Callable[[Period, int], Section]]] = [
    ("instroom", "Instroom", intake), ("caseload", "Caseload", caseload),
    ("huisverboden", "Huisverboden", house_bans), ("uitstroom", "Uitstroom", outcomes),
    ("netwerk", "Netwerk", network)]


def all_sections(period: Period, threshold: int) -> list[Section]:
    return [build(period, threshold) for _key, _title, build in SECTIONS]


def section(key: str, period: Period, threshold: int) -> Section | None:
    for section_key, _title, build in SECTIONS:
        if section_key == key:
            return build(period, threshold)
    return None


__all__ = ["DisplayRow", "DisplayTable", "Section", "all_sections", "section"]
