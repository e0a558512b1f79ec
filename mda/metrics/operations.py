"""Publishing a release: the only way numbers reach the steering group.

``publish_release`` computes the tables of one ended period once, picks each table's level of
detail, audits the release together with every release published before it (all versions, since
the steering group has seen them all, each in the data state it was computed from), adds secondary
suppression until every hidden cell and every small correction between states keeps its protection
interval, and stores what is shown. It refuses when that cannot be done.
"""
from __future__ import annotations

import json
import time as timer
from dataclasses import dataclass
from datetime import date
from calendar import monthrange

from sqlalchemy import func, select

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import DomainError
from ..reference.models import PilotPeriod
from ..security.fields import blind_index
from ..timeutil import today, utcnow
from . import facts as F
from . import queries
from .disclosure import COMPLEMENTARY_MARK, quantiles
from .models import Release, ReleaseKind
from .queries import Period
from .release_tables import (AREA_LEVELS, MOST, TIME_LEVELS, Prepared, Spec, audit_cells, definitions,
                             months_between, prepare, prepare_headlines)
from .sdc import AuditCell, AuditInconsistent, Protection, PublicationRefused, Status, suppress

PILOT_BENCHMARK_DAYS = 548   # about 1.5 years (domain brief section 7)
BASELINE_LASTING = 1 / 3     # about two thirds did not reach lasting safety (003:833)


class ReleaseRefused(DomainError):
    """A release cannot be published (period not ended, already published, audit not passed)."""


@dataclass(frozen=True)
class ReleasePeriod:
    kind: ReleaseKind
    start: date
    end: date
    label: str


def quarter(year: int, number: int) -> ReleasePeriod:
    if not 1 <= number <= 4:
        raise ReleaseRefused("Een kwartaal is 1, 2, 3 of 4.")
    first = 3 * (number - 1) + 1
    end = date(year, first + 2, monthrange(year, first + 2)[1])
    return ReleasePeriod(ReleaseKind.QUARTER, date(year, first, 1), end, f"K{number} {year}")


def year(number: int) -> ReleasePeriod:
    return ReleasePeriod(ReleaseKind.YEAR, date(number, 1, 1), date(number, 12, 31), str(number))


def pilot_period(period: PilotPeriod) -> ReleasePeriod:
    if period.starts_on.day != 1 or period.ends_on.day != monthrange(period.ends_on.year, period.ends_on.month)[1]:
        raise ReleaseRefused("Een periode van de pilot wordt alleen gepubliceerd als die uit hele maanden bestaat.")
    return ReleasePeriod(ReleaseKind.PILOT_PERIOD, period.starts_on, period.ends_on, period.name)


def protection_from(config: dict) -> Protection:
    threshold = max(2, int(config.get("METRICS_THRESHOLD", 10)))
    width = config.get("METRICS_PROTECTION_WIDTH", 5)
    if str(width).lower() in ("full", "0", "none"):
        return Protection(threshold, None)     # the whole range 1..threshold-1
    return Protection(threshold, max(1, min(int(width), threshold - 2)))


# Data states. Every atom belongs to a slice: one population in one month ("verwijzingen
# 2026-02"). A release stores, per slice it covers, a keyed fingerprint of that slice's counts and
# the slice's state: the state of an earlier release with the same fingerprint, else the next
# number (in publication order). The audit gives every (atom, state) its own unknown. Releases
# computed from the same counts thus share unknowns (a reader may rightly subtract a quarter from
# its year), and releases computed before and after a correction (v1 and v2 of a quarter) are
# never forced into one system. Stored, not derived from whether the published numbers happen to
# fit one system: they can fit while the hidden counts under them changed, and then the audit
# would model a reader who subtracts numbers of different data as if they were the same.
LEGACY_STATE = 0     # releases from before states were kept: one state, as the audit then assumed


@dataclass
class _Audited:
    """A release as the audit sees it: its cells on unversioned atoms and the state of each slice."""

    key: object                                  # the release id, or None for the one being prepared
    label: str
    states: dict[str, int]
    cells: list[AuditCell]


def slice_key(atom: tuple) -> str:
    return f"{atom[0]} {atom[1]}"


def fingerprints(data: F.Facts, months: list[str]) -> dict[str, str]:
    """A keyed fingerprint of the counts of every slice of the period (empty slices too)."""
    grouped: dict[str, list] = {f"{population} {month}": [] for population in F.POPULATIONS for month in months}
    for atom, n in data.items():
        grouped.setdefault(slice_key(atom), []).append([[str(part) for part in atom[2:]], n])
    index = blind_index()
    return {key: index.counts_fingerprint(key, json.dumps(sorted(counts))) for key, counts in grouped.items()}


def slice_states(prints: dict[str, str], earlier: list[Release]) -> dict[str, list]:
    """[state, fingerprint] per slice: an earlier state with the same counts, else a new one."""
    known: dict[str, dict[str, int]] = {}
    for release in earlier:
        for key, (state, print_) in (release.data_state or {}).items():
            known.setdefault(key, {})[print_] = state
    result = {}
    for key, print_ in prints.items():
        states = known.get(key, {})
        result[key] = [states.get(print_, max(states.values(), default=LEGACY_STATE) + 1), print_]
    return result


def _linked_releases(period: ReleasePeriod) -> list[Release]:
    """Every release (all versions) linked to this period through overlapping periods, directly or
    by a chain (a quarter, its year, the next quarter): releases outside that chain share no month,
    hence no count, and cannot narrow anything here."""
    low, high = period.start, period.end
    while True:
        bounds = db.session.execute(select(func.min(Release.starts_on), func.max(Release.ends_on))
                                    .where(Release.starts_on <= high, Release.ends_on >= low)).one()
        new_low, new_high = min(low, bounds[0] or low), max(high, bounds[1] or high)
        if (new_low, new_high) == (low, high):
            break
        low, high = new_low, new_high
    overlapping = select(Release).where(Release.starts_on <= high, Release.ends_on >= low)
    return list(db.session.scalars(overlapping.order_by(Release.id)))


def _audited(release: Release, towns: list[int], legacy_as: dict[str, int] | None = None) -> _Audited:
    states = {key: state for key, (state, _print) in (release.data_state or {}).items()}
    cells = [AuditCell(Spec.from_json(spec).atoms(towns), Status(status), value, ("release", release.id), sensitive)
             for spec, status, value, sensitive in release.audit_basis]
    if release.data_state is None:
        states = {slice_key(atom): (legacy_as or {}).get(slice_key(atom), LEGACY_STATE)
                  for cell in cells for atom in cell.atoms}
    return _Audited(release.id, release.title, states, cells)


def _versioned(release: _Audited, cell: AuditCell) -> AuditCell:
    atoms = frozenset((atom, release.states[slice_key(atom)]) for atom in cell.atoms)
    return AuditCell(atoms, cell.status, cell.value, cell.tag, cell.sensitive)


def _changed(old: _Audited, new: _Audited) -> dict[str, tuple[int, int]]:
    return {key: (state, new.states[key]) for key, state in old.states.items()
            if key in new.states and new.states[key] != state}


def _corrections(releases: list[_Audited]) -> list[AuditCell]:
    """The correction table: for every two releases of different data states, every published
    number of either, restricted to the slices whose counts differ, as (later state - earlier state).
    Where a reader can pin such a difference to a small non-zero value, they learn that a few
    families' records were corrected; the audit protects it as a small count."""
    result: dict[tuple, AuditCell] = {}
    for position, old in enumerate(releases):
        for new in releases[position + 1:]:
            changed = _changed(old, new)
            if not changed:
                continue
            for cell in old.cells + new.cells:
                terms = [atom for atom in cell.atoms if slice_key(atom) in changed]
                if not terms:
                    continue
                plus = frozenset((atom, changed[slice_key(atom)][1]) for atom in terms)
                minus = frozenset((atom, changed[slice_key(atom)][0]) for atom in terms)
                result.setdefault((plus, minus), AuditCell(plus | minus, Status.CORRECTION, None,
                                                           ("correctie", old.key, new.key), True, minus))
    return list(result.values())


def _choose_level(definition, levels, months, label, towns, data, protection) -> tuple[Prepared, dict, str]:
    """The finest level at which the table, audited on its own, hides at most half of its non-zero
    inner cells; else the coarsest. Returns the table, its statuses and why this level."""
    town_ids = [t for t, _n, _s in towns]
    tried = []
    for index, (level, level_label) in enumerate(levels):
        prepared = prepare(definition, level, level_label, months, label, towns, data)
        cells, candidates = audit_cells(prepared, protection.threshold, town_ids)
        try:
            outcome = suppress(cells, dict(enumerate(candidates)), protection)
            statuses = {(c.row, c.column): s for c, s in zip(candidates, outcome.statuses)}
            share = prepared.inner_share_hidden(statuses)
        except PublicationRefused:
            statuses, share = None, 1.0
        tried.append((level_label, share))
        if statuses is not None and (share <= MOST or index == len(levels) - 1):
            return prepared, statuses, _why(tried)
    raise ReleaseRefused(f"De tabel ‘{definition.title}’ is op geen enkel niveau veilig te publiceren.")


def _why(tried: list[tuple[str, float]]) -> str:
    *finer, (chosen, share) = tried
    parts = [f"{label} zou {round(100 * s)}% van de cellen verbergen" for label, s in finer]
    if not finer:
        reason = f"Gepubliceerd {chosen}: het fijnste niveau dat de controle doorstaat"
    else:
        reason = "Gepubliceerd " + chosen + ": " + "; ".join(parts) + " (meer dan de helft)"
    return reason + (f"; nu {round(100 * share)}% verborgen." if share else "; niets verborgen.")


def _levels_for(axis: str, kind: ReleaseKind, months: list[str]) -> list[tuple[str, str]]:
    if axis == "area":
        return AREA_LEVELS
    if axis == "fixed":
        return [("period", "over de hele periode")]
    levels = list(TIME_LEVELS)
    if len(months) <= 3 and kind == ReleaseKind.QUARTER:
        levels = [levels[0], levels[2]]      # a quarter's only quarter is the period itself
    return levels


def _shown(value: int, status: Status, threshold: int) -> str:
    if status == Status.PRIMARY:
        return f"<{threshold}"
    if status == Status.SECONDARY:
        return COMPLEMENTARY_MARK
    return str(value)


def publish_release(period: ReleasePeriod, *, by: object | None, config: dict, new_version: bool = False,
                    reason: str | None = None) -> Release:
    """Compute, audit and store the release of an ended period. ``by`` is the user publishing it,
    or None for the scheduled work."""
    started = timer.perf_counter()
    if period.end >= today():
        raise ReleaseRefused("Een periode wordt pas gepubliceerd als die voorbij is.")
    existing = db.session.scalar(select(func.max(Release.version)).where(
        Release.kind == period.kind, Release.starts_on == period.start, Release.ends_on == period.end))
    if existing and not new_version:
        raise ReleaseRefused(f"{period.label} is al gepubliceerd (versie {existing}).")
    if new_version and not (reason or "").strip():
        raise ReleaseRefused("Geef de reden voor een nieuwe versie.")
    protection = protection_from(config)
    months = months_between(period.start, period.end)
    towns = queries.municipalities()
    town_ids = [t for t, _n, _s in towns]
    data = F.gather(Period(period.start, period.end, period.label), today())
    chosen: list[tuple[Prepared, dict, str]] = []
    headlines = prepare_headlines(months, town_ids, data)
    chosen.append((headlines, None, ""))
    for definition in definitions():
        chosen.append(_choose_level(definition, _levels_for(definition.axis, period.kind, months), months,
                                    period.label, towns, data, protection))
    # The whole release together with every earlier release, each in its own data state.
    current: list[AuditCell] = []
    candidates = {}
    positions: list[tuple[int, tuple[int, int]]] = []
    for index, (prepared, statuses, _why_text) in enumerate(chosen):
        cells, cands = audit_cells(prepared, protection.threshold, town_ids, statuses)
        for cell, candidate in zip(cells, cands):
            positions.append((index, (candidate.row, candidate.column)))
            current.append(cell)
            candidates[len(current) - 1] = candidate
    linked = _linked_releases(period)
    state = slice_states(fingerprints(data, months), linked)
    this = _Audited(None, period.label, {key: number for key, (number, _p) in state.items()}, current)
    # Releases from before states were kept are first taken to hold this release's counts (as the
    # audit assumed then); where their numbers contradict this release's, as a state of their own.
    legacy = any(release.data_state is None for release in linked)
    final, earlier = None, []
    for legacy_as in ([this.states, None] if legacy else [None]):
        earlier = [_audited(release, town_ids, legacy_as) for release in linked]
        fixed = [_versioned(release, cell) for release in earlier for cell in release.cells]
        mine = [_versioned(this, cell) for cell in current]
        try:
            outcome = suppress(fixed + mine + _corrections(earlier + [this]),
                               {i + len(fixed): c for i, c in candidates.items()}, protection)
        except AuditInconsistent:
            continue
        except PublicationRefused as exc:
            raise ReleaseRefused("De publicatie doorstaat de controle op herleidbaarheid niet, ook niet met "
                                 "extra verborgen cellen; niets gepubliceerd.") from exc
        final = outcome.statuses[len(fixed):len(fixed) + len(mine)]
        break
    if final is None:
        raise ReleaseRefused("De cijfers van eerdere publicaties sluiten niet op elkaar aan; deze publicatie "
                             "kan daardoor niet veilig worden gecontroleerd. Niets gepubliceerd.")
    corrected = [release.label for release in earlier if _changed(release, this)]
    note = ""
    if corrected:
        note = (f"Sinds de publicatie van {', '.join(dict.fromkeys(corrected))} zijn gegevens over deze "
                "periode gecorrigeerd; deze publicatie gaat uit van de gecorrigeerde gegevens. Ook de "
                "verschillen tussen de versies zijn gecontroleerd: een kleine correctie is niet uit de "
                "cijfers af te leiden.")
    status_of = {pos: s for pos, s in zip(positions, final)}
    content = {"tables": [], "notes": [note] if note else [], "threshold": protection.threshold,
               "width": protection.width}
    basis = []
    for index, (prepared, _statuses, why) in enumerate(chosen):
        table = _render(prepared, {pos: s for (i, pos), s in status_of.items() if i == index}, protection.threshold)
        table["level_reason"] = why
        content["tables"].append(table)
        for (i, pos), s in status_of.items():
            if i == index:
                spec, value, _margin = prepared.cells[pos]
                basis.append([spec.as_json(), s.value, value if s == Status.SHOWN else None,
                              0 < value < protection.threshold])
    content["headlines"] = _headline_figures(content["tables"][0], period, protection.threshold)
    content["seconds"] = round(timer.perf_counter() - started, 2)
    release = Release(kind=period.kind, label=period.label, starts_on=period.start, ends_on=period.end,
                      version=(existing or 0) + 1, published_at=utcnow(), published_by_id=getattr(by, "id", None),
                      reason=(reason or "").strip() or None, threshold=protection.threshold, content=content,
                      audit_basis=basis, data_state=state)
    db.session.add(release)
    db.session.flush()
    record(AuditAction.CREATE, by=by, username=None if by else "systeem", object_type="metrics_release",
           object_id=release.id, detail=f"publicatie {period.label} versie {release.version}")
    return release


def _render(prepared: Prepared, statuses: dict[tuple[int, int], Status], threshold: int) -> dict:
    rows = []
    n_columns = len(prepared.header) - 1
    for i, axis in enumerate(prepared.rows):
        cells, numbers = [], []
        for j in range(n_columns):
            _spec, value, _margin = prepared.cells[(i, j)]
            status = statuses[(i, j)]
            cells.append(_shown(value, status, threshold))
            numbers.append(value if status == Status.SHOWN else None)
        rows.append({"label": axis.label, "kind": axis.kind, "cells": cells, "numbers": numbers})
    definition = prepared.definition
    return {"key": definition.key, "title": definition.title, "description": definition.description,
            "level": prepared.level, "level_label": prepared.level_label, "header": prepared.header, "rows": rows}


def _percent(part: int, whole: int) -> int:
    """Half up, as people round (62.5% is 63%, not Python's 62)."""
    return int(100 * part / whole + 0.5)


def _headline_figures(table: dict, period: ReleasePeriod, threshold: int) -> dict:
    """Medians and shares next to the headline counts, each only where its count is shown and
    at least the threshold (a median of fewer cases says too much about each of them); where a
    figure is not shown, the text says why, so that "not shown for fewer than 10" never stands
    next to a count of 41."""
    numbers = {row["label"]: row["numbers"][0] for row in table["rows"]}
    window = Period(period.start, period.end, period.label)
    result: dict[str, str] = {}

    def held_back(whole: int | None, whole_words: str, *parts: tuple[int | None, str]) -> str | None:
        if whole is None:
            return f"niet getoond: het aantal {whole_words} is verborgen (klein aantal)"
        if whole < threshold:
            return f"niet getoond bij minder dan {threshold} {whole_words}"
        for part, part_words in parts:
            if part is None:
                return f"niet getoond: het aantal {part_words} is verborgen, zodat geen gezin herkenbaar wordt"
        return None

    reached = numbers.get("Stabiele veiligheid bereikt")
    result["stabiel_mediaan"] = held_back(reached, "casussen die stabiele veiligheid bereikten") or ""
    if not result["stabiel_mediaan"]:
        merged = [pair for histogram in queries.days_to_stable_safety(window).values() for pair in histogram]
        stats = quantiles(merged)
        result["stabiel_mediaan"] = f"{stats[1]:.0f} dagen (mediaan vanaf opening)" if stats else "geen gegevens"
    closed = numbers.get("Casussen afgesloten")
    result["doorlooptijd_mediaan"] = held_back(closed, "afgesloten casussen") or ""
    if not result["doorlooptijd_mediaan"]:
        merged = [pair for histogram in queries.trajectory_days(window).values() for pair in histogram]
        stats = quantiles(merged)
        result["doorlooptijd_mediaan"] = (f"{stats[1]:.0f} dagen (mediaan); de pilot verwacht ongeveer "
                                          f"1,5 jaar ({PILOT_BENCHMARK_DAYS} dagen)") if stats else "geen gegevens"
    lasting = numbers.get("Oordeel bij afsluiting: duurzaam veilig")
    result["duurzaam_aandeel"] = held_back(closed, "afgesloten casussen", (lasting, "duurzaam veilig afgesloten casussen")) \
        or (f"{_percent(lasting, closed)}% duurzaam veilig bij afsluiting; "
            f"uitgangspunt: ongeveer {round(100 * BASELINE_LASTING)}%")
    checked = numbers.get("Follow-up na 12 maanden vastgelegd")
    safe = numbers.get("waarvan gezin veilig na 12 maanden")
    result["veilig_na_12"] = held_back(checked, "vastgelegde follow-ups", (safe, "gezinnen veilig na twaalf maanden")) \
        or (f"{_percent(safe, checked)}% veilig na twaalf maanden (van de vastgelegde "
            f"follow-ups); uitgangspunt: ongeveer {round(100 * BASELINE_LASTING)}%")
    followed = numbers.get("Afgesloten en 12 maanden gevolgd")
    again = numbers.get("waarvan her-melding binnen 12 maanden")
    result["hermelding_aandeel"] = held_back(followed, "gevolgde casussen", (again, "her-meldingen")) \
        or f"{_percent(again, followed)}% her-melding binnen 12 maanden"
    return result


def published_releases() -> list[Release]:
    return list(db.session.scalars(select(Release).order_by(Release.starts_on.desc(), Release.ends_on.desc(),
                                                            Release.version.desc())))


def ended_periods(on: date) -> list[ReleasePeriod]:
    """Quarters and years that have ended by ``on`` since the pilot began, and month-aligned pilot periods."""
    periods = list(db.session.scalars(select(PilotPeriod).order_by(PilotPeriod.starts_on)))
    first = min((p.starts_on for p in periods), default=on.replace(month=1, day=1))
    result = []
    for y in range(first.year, on.year + 1):
        for q in range(1, 5):
            candidate = quarter(y, q)
            if candidate.end >= first and candidate.end < on:
                result.append(candidate)
        if date(y, 12, 31) < on:
            result.append(year(y))
    same_bounds: dict[tuple[date, date], list[str]] = {}
    for p in periods:
        try:
            candidate = pilot_period(p)
        except ReleaseRefused:
            continue
        if candidate.end < on:
            same_bounds.setdefault((candidate.start, candidate.end), []).append(candidate.label)
    # Two pilot periods with the same bounds (a phase and its evaluation) are one release.
    for (start, end), names in same_bounds.items():
        result.append(ReleasePeriod(ReleaseKind.PILOT_PERIOD, start, end, " / ".join(names)[:80]))
    return result


def publish_due(*, config: dict, on: date | None = None, limit: int | None = None) -> list[Release]:
    """For the scheduled work: publish every ended period that has no release yet, oldest first
    (with ``limit``, at most that many: the worker commits each and may stop in between)."""
    day = on or today()
    published = set(db.session.execute(select(Release.kind, Release.starts_on, Release.ends_on)).all())
    done: list[Release] = []
    for candidate in sorted(ended_periods(day), key=lambda p: (p.end, p.start)):
        if limit is not None and len(done) >= limit:
            break
        if (candidate.kind, candidate.start, candidate.end) not in published:
            done.append(publish_release(candidate, by=None, config=config))
            published.add((candidate.kind, candidate.start, candidate.end))
    return done
