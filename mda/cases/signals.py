"""What other areas have to say about a case on the caseload and in the case file.

The case core knows nothing of those areas: each offers a source (a function of the case ids and
the user), and the app wires the sources in (``mda.web``), one level above both. The huisverbod
area is one: its alerts and its legal deadlines ("Besluit verlenging huisverbod").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable

from flask import current_app

from ..accounts.models import User

EXTENSION_KEY = "mda.case_signals"
TIMELINE_KEY = "mda.case_timeline"


@dataclass(frozen=True)
class CaseSignal:
    """``alert``: a short Dutch text for the flags (no personal data). ``due``/``deadline``: a dated
    deadline and what it is, a candidate for the caseload's "next deadline"."""

    alert: str | None = None
    due: date | None = None
    deadline: str | None = None


Source = Callable[[list[int], "User | None"], dict[int, list[CaseSignal]]]


def register(app: object, source: Source) -> None:
    app.extensions.setdefault(EXTENSION_KEY, []).append(source)  # type: ignore[attr-defined]


def signals_for(case_ids: Iterable[int], for_user: User | None = None) -> dict[int, list[CaseSignal]]:
    ids = list(case_ids)
    combined: dict[int, list[CaseSignal]] = {}
    if not ids:
        return combined
    for source in current_app.extensions.get(EXTENSION_KEY, []):
        for case_id, signals in source(ids, for_user).items():
            combined.setdefault(case_id, []).extend(signals)
    return combined


def alerts_of(signals: list[CaseSignal]) -> list[str]:
    return [signal.alert for signal in signals if signal.alert]


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened in a case, for the overview's "recently" list: no free text."""

    at: datetime
    kind: str          # short Dutch kind: "Journaal", "Fase", "AVE", "Veiligheidsplan", "Huisverbod"
    text: str          # what happened, in a few words
    who: str | None = None


TimelineSource = Callable[[int, int], list[TimelineEntry]]


def register_timeline(app: object, source: TimelineSource) -> None:
    app.extensions.setdefault(TIMELINE_KEY, []).append(source)  # type: ignore[attr-defined]


def timeline_from_other_areas(case_id: int, limit: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in current_app.extensions.get(TIMELINE_KEY, []):
        entries.extend(source(case_id, limit))
    return entries
