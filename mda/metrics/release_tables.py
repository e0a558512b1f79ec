"""The tables of a release, each at the finest level of detail that the audit lets through.

A table is built from a population's atoms (``facts``) for one level of detail: time (month,
quarter, the whole period) or area (municipality, subregion, the region). Every cell knows which
atoms it adds up, so the disclosure audit (``sdc``) sees the release exactly as a reader does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Hashable

from ..cases.models import IntakeRoute, Phase
from ..reference.models import Subregion
from ..referrals.models import ReferralStatus
from . import facts as F
from .sdc import AuditCell, Candidate, Status

MONTHS_NL = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
REGION = "Noord- en Midden-Limburg"
MOST = 0.5      # a level that hides more than this share of its non-zero inner cells is too fine


def month_label(month: str) -> str:
    """'2026-12' -> 'dec 2026'."""
    year, number = month.split("-")
    return f"{MONTHS_NL[int(number) - 1]} {year}"


def quarter_label(month: str) -> str:
    """'2026-12' -> 'K4 2026'."""
    year, number = month.split("-")
    return f"K{(int(number) - 1) // 3 + 1} {year}"


def months_between(start: date, end: date) -> list[str]:
    result, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


@dataclass(frozen=True)
class Spec:
    """One published number: which atoms it adds up."""

    population: str
    months: tuple[str, ...]
    filters: tuple[tuple[str, tuple[Hashable, ...]], ...] = ()

    def merged(self, other: "Spec") -> "Spec":
        months = tuple(m for m in self.months if m in other.months) if other.months else self.months
        return Spec(self.population, months, tuple(sorted(dict(self.filters + other.filters).items())))

    def atoms(self, towns: list[int]) -> frozenset[tuple]:
        return F.atoms_of(self.population, self.months, {k: list(v) for k, v in self.filters}, towns)

    def as_json(self) -> list:
        return [self.population, list(self.months), {k: list(v) for k, v in self.filters}]

    @classmethod
    def from_json(cls, data: list) -> "Spec":
        population, months, filters = data
        return cls(population, tuple(months), tuple(sorted((k, tuple(v)) for k, v in filters.items())))


@dataclass
class Axis:
    label: str
    spec: Spec           # months and/or filters of this row or column ('' population)
    kind: str = "row"    # "row", "group" (subtotal) or "total"


@dataclass
class TableDef:
    key: str
    title: str
    population: str
    axis: str                              # "time", "area" or "fixed"
    columns: list[tuple[str, dict[str, list[Hashable]]]]
    row_totals: bool = True
    column_totals: bool = True
    description: str = ""
    rows: list[tuple[str, dict[str, list[Hashable]]]] = field(default_factory=list)   # for "fixed"


@dataclass
class Prepared:
    """A table at one level of detail, before suppression."""

    definition: TableDef
    level: str
    level_label: str
    header: list[str]
    rows: list[Axis]
    cells: dict[tuple[int, int], tuple[Spec, int, bool]]   # (row, column) -> spec, value, margin

    def inner_share_hidden(self, statuses: dict[tuple[int, int], Status]) -> float:
        inner = [pos for pos, (_s, value, margin) in self.cells.items() if not margin and value > 0]
        if not inner:
            return 0.0
        return sum(1 for pos in inner if statuses[pos] != Status.SHOWN) / len(inner)


TIME_LEVELS = [("month", "per maand"), ("quarter", "per kwartaal"), ("period", "over de hele periode")]
AREA_LEVELS = [("municipality", "per gemeente"), ("subregion", "per deelregio"), ("region", "voor de hele regio")]


def time_rows(months: list[str], level: str, period_label: str, stock: bool) -> list[Axis]:
    if level == "month":
        groups = [(month_label(m), [m]) for m in months]
    elif level == "quarter":
        quarters: dict[str, list[str]] = {}
        for m in months:
            quarters.setdefault(quarter_label(m), []).append(m)
        groups = list(quarters.items())
    else:
        groups = [(period_label, months)]
    # A stand (open cases) is the stand at the end of the row's last month.
    return [Axis(label, Spec("", (ms[-1],) if stock else tuple(ms))) for label, ms in groups]


def area_rows(towns: list[tuple[int, str, Subregion]], level: str) -> list[Axis]:
    unknown = Axis("Gemeente onbekend", Spec("", (), (("gemeente", (F.UNKNOWN_TOWN,)),)))
    if level == "region":
        return [Axis(REGION, Spec("", ()))]
    rows = []
    for subregion in Subregion:
        ids = tuple(t for t, _n, s in towns if s == subregion)
        rows.append(Axis(subregion.label, Spec("", (), (("gemeente", ids),)), "group" if level == "municipality"
                         else "row"))
        if level == "municipality":
            rows.extend(Axis(name, Spec("", (), (("gemeente", (t,)),))) for t, name, s in towns if s == subregion)
    return rows + [unknown]


def prepare(definition: TableDef, level: str, level_label: str, months: list[str], period_label: str,
            towns: list[tuple[int, str, Subregion]], data: F.Facts) -> Prepared:
    population = F.POPULATIONS[definition.population]
    if definition.axis == "time":
        rows = time_rows(months, level, period_label, population.stock)
    elif definition.axis == "area":
        rows = area_rows(towns, level)
    else:
        rows = [Axis(label, Spec("", (), tuple(sorted((k, tuple(v)) for k, v in flt.items()))))
                for label, flt in definition.rows]
    everything = Spec(definition.population, tuple(months))
    columns = [Spec("", (), tuple(sorted((k, tuple(v)) for k, v in flt.items()))) for _l, flt in definition.columns]
    if definition.row_totals:
        columns.append(Spec("", ()))
    column_totals = (definition.column_totals and len(rows) > 1
                     and not (population.stock and definition.axis == "time"))
    all_rows = rows + ([Axis("Totaal", Spec("", ()), "total")] if column_totals else [])
    town_ids = [t for t, _n, _s in towns]
    cells: dict[tuple[int, int], tuple[Spec, int, bool]] = {}
    for i, row in enumerate(all_rows):
        for j, column in enumerate(columns):
            spec = everything.merged(row.spec).merged(column)
            margin = row.kind != "row" or (definition.row_totals and j == len(columns) - 1)
            cells[(i, j)] = (spec, F.value_of(data, spec.atoms(town_ids)), margin)
    header = [{"time": "Periode", "area": "Gebied", "fixed": ""}[definition.axis],
              *[label for label, _f in definition.columns]] + (["Totaal"] if definition.row_totals else [])
    return Prepared(definition, level, level_label, header, all_rows, cells)


def audit_cells(prepared: Prepared, threshold: int, towns: list[int],
                statuses: dict[tuple[int, int], Status] | None = None) -> tuple[list[AuditCell], list[Candidate]]:
    cells, candidates = [], []
    for (i, j), (spec, value, margin) in prepared.cells.items():
        status = statuses[(i, j)] if statuses else (Status.PRIMARY if 0 < value < threshold else Status.SHOWN)
        cells.append(AuditCell(spec.atoms(towns), status, value if status == Status.SHOWN else None,
                               (prepared.definition.key, i, j), sensitive=0 < value < threshold))
        candidates.append(Candidate(value, prepared.definition.key, i, j, margin))
    return cells, candidates


def definitions() -> list[TableDef]:
    routes = [(r.label, {"route": [r.value]}) for r in IntakeRoute]
    statuses = [(s.label if s != ReferralStatus.SUBMITTED else "Nog zonder besluit", {"besluit": [s.value]})
                for s in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.REDIRECTED,
                          ReferralStatus.SUBMITTED)]
    phases = [(p.label, {"fase": [p.value]}) for p in Phase]
    judgements = [("Duurzaam veilig", {"oordeel": ["lasting"]}), ("Deels veilig", {"oordeel": ["partly"]}),
                  ("Niet veilig", {"oordeel": ["not"]}), ("Geen oordeel vastgelegd", {"oordeel": ["none"]})]
    return [
        TableDef("instroom_tijd_route", "Verwijzingen naar instroomroute", "verwijzingen", "time", routes,
                 description="Ingediende verwijzingen, naar het moment van indienen."),
        TableDef("instroom_gebied_besluit", "Verwijzingen naar gemeente en besluit", "verwijzingen", "area",
                 statuses, description="Ingediende verwijzingen in de periode en het besluit erop."),
        TableDef("caseload_fase", "Lopende casussen per fase", "fasen", "time", phases,
                 description="Stand aan het eind van de maand, het kwartaal of de periode."),
        TableDef("caseload_op_afschalen", "Op- en afschalen tussen AVE-niveaus", "ave", "time",
                 [("Opgeschaald", {"richting": ["op"]}), ("Afgeschaald", {"richting": ["af"]})]),
        TableDef("huisverboden", "Huisverboden", "huisverboden", "time",
                 [("Opgelegd", {}), ("Daarvan verlengd", {"verlengd": [1]})], row_totals=False,
                 description="Opgelegd in de periode; 'verlengd' telt de opgelegde huisverboden die zijn verlengd."),
        TableDef("uitstroom_gebied_oordeel", "Afgesloten casussen naar gemeente en oordeel over de veiligheid",
                 "afsluitingen", "area", judgements),
        TableDef("uitstroom_veiligheid", "Veiligheid bij afsluiting en na twaalf maanden", "afsluitingen", "area",
                 [("Afgesloten", {}), ("Duurzaam veilig bij afsluiting", {"oordeel": ["lasting"]}),
                  ("Follow-up vastgelegd", {"na12": ["veilig", "anders"]}),
                  ("Veilig na 12 maanden", {"na12": ["veilig"]})], row_totals=False,
                 description="Het oordeel van de coördinator bij afsluiting en de follow-up twaalf maanden later; "
                             "uitgangspunt van de pilot: ongeveer twee derde bereikte geen duurzame veiligheid."),
        TableDef("uitstroom_hermelding", "Her-meldingen binnen 12 maanden na afsluiting", "afsluitingen", "area",
                 [("Afgesloten", {}), ("12 maanden gevolgd", {"hermelding12": ["nee", "ja"]}),
                  ("Daarvan her-melding", {"hermelding12": ["ja"]})], row_totals=False,
                 description="Een her-melding is een nieuwe casus voor hetzelfde gezin binnen 12 maanden na "
                             "afsluiting; alleen casussen die bij publicatie al 12 maanden gesloten zijn, tellen mee."),
    ]


def headline_definition() -> TableDef:
    rows = [("Verwijzingen ingediend", "verwijzingen", {}),
            *[(f"waarvan {label.lower()}", "verwijzingen", flt) for label, flt in
              [("geaccepteerd", {"besluit": [ReferralStatus.ACCEPTED.value]}),
               ("afgewezen", {"besluit": [ReferralStatus.DECLINED.value]}),
               ("doorgeleid", {"besluit": [ReferralStatus.REDIRECTED.value]}),
               ("nog zonder besluit", {"besluit": [ReferralStatus.SUBMITTED.value]})]],
            *[(f"Lopend aan het eind: {p.label.lower()}", "fasen", {"fase": [p.value]}) for p in Phase],
            ("Stabiele veiligheid bereikt", "stabiel", {}),
            ("Opgeschaald (AVE)", "ave", {"richting": ["op"]}),
            ("Afgeschaald (AVE)", "ave", {"richting": ["af"]}),
            ("Huisverboden opgelegd", "huisverboden", {}),
            ("waarvan verlengd", "huisverboden", {"verlengd": [1]}),
            ("Casussen afgesloten", "afsluitingen", {}),
            ("Oordeel bij afsluiting: duurzaam veilig", "afsluitingen", {"oordeel": ["lasting"]}),
            ("Oordeel bij afsluiting: deels veilig", "afsluitingen", {"oordeel": ["partly"]}),
            ("Oordeel bij afsluiting: niet veilig", "afsluitingen", {"oordeel": ["not"]}),
            ("Follow-up na 12 maanden vastgelegd", "afsluitingen", {"na12": ["veilig", "anders"]}),
            ("waarvan gezin veilig na 12 maanden", "afsluitingen", {"na12": ["veilig"]}),
            ("Afgesloten en 12 maanden gevolgd", "afsluitingen", {"hermelding12": ["nee", "ja"]}),
            ("waarvan her-melding binnen 12 maanden", "afsluitingen", {"hermelding12": ["ja"]})]
    return TableDef("kerncijfers", "Kerncijfers van de regio", "", "fixed", [("Aantal", {})], row_totals=False,
                    column_totals=False, rows=[(label, {"__population": [population], **flt})
                                               for label, population, flt in rows])


def prepare_headlines(months: list[str], towns: list[int], data: F.Facts) -> Prepared:
    definition = headline_definition()
    rows, cells = [], {}
    for i, (label, flt) in enumerate(definition.rows):
        population = flt["__population"][0]
        filters = tuple(sorted((k, tuple(v)) for k, v in flt.items() if k != "__population"))
        stock = F.POPULATIONS[population].stock
        spec = Spec(population, (months[-1],) if stock else tuple(months), filters)
        rows.append(Axis(label, spec))
        cells[(i, 0)] = (spec, F.value_of(data, spec.atoms(towns)), False)
    return Prepared(definition, "period", "over de hele periode", ["Kerncijfer", "Aantal"], rows, cells)
