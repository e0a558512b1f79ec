"""Publishing a release: the only way numbers reach the steering group.

``publish_release`` computes the tables of one ended period once, picks each table's level of
detail, audits the release together with every release published before it (all versions, since
the steering group has seen them all), adds secondary suppression until every hidden cell keeps
its protection interval, and stores what is shown. It refuses when that cannot be done.
"""
from __future__ import annotations

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


def _earlier_cells(period: ReleasePeriod) -> list[AuditCell]:
    """Every number of every release (all versions) linked to this period through overlapping
    periods, directly or by a chain (a quarter, its year, the next quarter): releases outside that
    chain share no month, hence no count, and cannot narrow anything here."""
    cells: list[AuditCell] = []
    towns = [t for t, _n, _s in queries.municipalities()]
    low, high = period.start, period.end
    while True:
        bounds = db.session.execute(select(func.min(Release.starts_on), func.max(Release.ends_on))
                                    .where(Release.starts_on <= high, Release.ends_on >= low)).one()
        new_low, new_high = min(low, bounds[0] or low), max(high, bounds[1] or high)
        if (new_low, new_high) == (low, high):
            break
        low, high = new_low, new_high
    overlapping = select(Release).where(Release.starts_on <= high, Release.ends_on >= low)
    for release in db.session.scalars(overlapping.order_by(Release.id)):
        for spec, status, value, sensitive in release.audit_basis:
            cells.append(AuditCell(Spec.from_json(spec).atoms(towns), Status(status), value, ("release", release.id),
                                   sensitive))
    return cells


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
    # The whole release together with every earlier release.
    current: list[AuditCell] = []
    candidates = {}
    positions: list[tuple[int, tuple[int, int]]] = []
    for index, (prepared, statuses, _why_text) in enumerate(chosen):
        cells, cands = audit_cells(prepared, protection.threshold, town_ids, statuses)
        for cell, candidate in zip(cells, cands):
            positions.append((index, (candidate.row, candidate.column)))
            current.append(cell)
            candidates[len(current) - 1] = candidate
    earlier = _earlier_cells(period)
    note = ""
    try:
        outcome = suppress(earlier + current, {i + len(earlier): c for i, c in candidates.items()}, protection)
        final = outcome.statuses[len(earlier):]
    except AuditInconsistent:
        # Data corrected since an earlier release: its numbers and these no longer fit one system.
        outcome = suppress(current, candidates, protection)
        final = outcome.statuses
        note = "Gegevens zijn gecorrigeerd sinds een eerdere publicatie; deze publicatie is apart gecontroleerd."
    except PublicationRefused as exc:
        raise ReleaseRefused("De publicatie doorstaat de controle op herleidbaarheid niet; niets gepubliceerd.") \
            from exc
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
                      audit_basis=basis)
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
    at least the threshold (a median of fewer cases says too much about each of them)."""
    numbers = {row["label"]: row["numbers"][0] for row in table["rows"]}
    window = Period(period.start, period.end, period.label)
    result: dict[str, str] = {}
    reached = numbers.get("Stabiele veiligheid bereikt")
    if reached is not None and reached >= threshold:
        merged = [pair for histogram in queries.days_to_stable_safety(window).values() for pair in histogram]
        stats = quantiles(merged)
        if stats:
            result["stabiel_mediaan"] = f"{stats[1]:.0f} dagen (mediaan vanaf opening)"
    closed = numbers.get("Casussen afgesloten")
    if closed is not None and closed >= threshold:
        merged = [pair for histogram in queries.trajectory_days(window).values() for pair in histogram]
        stats = quantiles(merged)
        if stats:
            result["doorlooptijd_mediaan"] = (f"{stats[1]:.0f} dagen (mediaan); de pilot verwacht ongeveer "
                                              f"1,5 jaar ({PILOT_BENCHMARK_DAYS} dagen)")
    lasting = numbers.get("Oordeel bij afsluiting: duurzaam veilig")
    if lasting is not None and closed is not None and closed >= threshold:
        result["duurzaam_aandeel"] = (f"{_percent(lasting, closed)}% duurzaam veilig bij afsluiting; "
                                      f"uitgangspunt: ongeveer {round(100 * BASELINE_LASTING)}%")
    checked = numbers.get("Follow-up na 12 maanden vastgelegd")
    safe = numbers.get("waarvan gezin veilig na 12 maanden")
    if checked is not None and safe is not None and checked >= threshold:
        result["veilig_na_12"] = (f"{_percent(safe, checked)}% veilig na twaalf maanden (van de vastgelegde "
                                  f"follow-ups); uitgangspunt: ongeveer {round(100 * BASELINE_LASTING)}%")
    followed = numbers.get("Afgesloten en 12 maanden gevolgd")
    again = numbers.get("waarvan her-melding binnen 12 maanden")
    if followed is not None and again is not None and followed >= threshold:
        result["hermelding_aandeel"] = f"{_percent(again, followed)}% her-melding binnen 12 maanden"
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
