"""Rules of the phased approach and the AVE ladder, independent of storage and web."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import InvalidInput, InvalidTransition
from ..organisations.models import OrganisationKind
from .models import CaseStatus, ClosureReason, Phase

AVE_LEVELS = range(1, 6)
MDA_BAND = (3, 4)  # MDA++ works mainly at AVE 3 and 4 (003:948)


@dataclass(frozen=True)
class CaseEvidence:
    """What the file holds that the gates of the phased approach ask for."""

    has_safety_assessment: bool      # veiligheidstaxatie
    has_current_safety_plan: bool    # a plan agreed and not past its review date
    has_risk_assessment: bool        # risicotaxatie
    has_diagnostics: bool            # diagnostiek


def _has_text(value: str | None) -> bool:
    return bool(value and value.strip())


def check_phase_move(current: Phase, target: Phase, reason: str | None,
                     evidence: CaseEvidence | None = None, *, no_diagnostics_reason: str | None = None) -> None:
    """Forward one phase at a time, each gate with what it needs; back to directe veiligheid
    at any moment, with a reason (the target group is crisis-prone)."""
    if target == current:
        raise InvalidTransition(f"De casus staat al in de fase {current.label}.", field="phase")
    if target == Phase.DIRECTE_VEILIGHEID:
        if not _has_text(reason):
            raise InvalidTransition("Geef een reden op voor het terugvallen naar directe veiligheid.",
                                    field="reason")
        return
    if target.position != current.position + 1:
        following = list(Phase)[current.position + 1].label if current.position < 3 else None
        options = f"alleen naar {following} of terug naar Directe veiligheid" if following \
            else "alleen terug naar Directe veiligheid"
        raise InvalidTransition(f"Een casus gaat één fase tegelijk vooruit: vanuit {current.label} kan "
                                f"{options}.", field="phase")
    if evidence is None:
        return
    if current == Phase.DIRECTE_VEILIGHEID:
        missing = []
        if not evidence.has_safety_assessment:
            missing.append("een veiligheidstaxatie")
        if not evidence.has_current_safety_plan:
            missing.append("een actueel veiligheidsplan")
        if missing:
            raise InvalidTransition("Directe veiligheid verlaten kan pas met " + " en ".join(missing) + ".",
                                    field="phase")
    if target == Phase.HERSTEL and not evidence.has_risk_assessment:
        raise InvalidTransition("Voor de fase Herstel is een risicotaxatie nodig.", field="phase")
    if target == Phase.PARTICIPATIE and not evidence.has_diagnostics and not _has_text(no_diagnostics_reason):
        raise InvalidTransition("Voor de fase Participatie is diagnostiek nodig, of een reden waarom "
                                "die niet nodig was.", field="no_diagnostics_reason")


@dataclass(frozen=True)
class PhaseOption:
    """One phase the selector could offer: whether the rules allow the move now, and if not, why."""

    phase: Phase
    allowed: bool
    why_not: str | None = None
    asks_no_diagnostics_reason: bool = False   # Participatie without diagnostiek needs its reason


def phase_options(current: Phase, evidence: CaseEvidence) -> list[PhaseOption]:
    """Every other phase, judged by the same gates as ``check_phase_move`` (a reason is asked on
    the form, so it does not count as missing here)."""
    options = []
    for target in Phase:
        if target == current:
            continue
        try:
            check_phase_move(current, target, "reden", evidence)
        except InvalidTransition as exc:
            if exc.field == "no_diagnostics_reason":
                options.append(PhaseOption(target, True, asks_no_diagnostics_reason=True))
            else:
                options.append(PhaseOption(target, False, exc.message))
            continue
        options.append(PhaseOption(target, True))
    return options


def check_ave_move(current: int, target: int, reason: str | None) -> None:
    if target not in AVE_LEVELS:
        raise InvalidTransition("Een AVE-niveau ligt tussen 1 en 5.", field="ave_level")
    if target == current:
        raise InvalidTransition(f"De casus staat al op AVE {current}.", field="ave_level")
    if not _has_text(reason):
        verb = "opschalen" if target > current else "afschalen"
        raise InvalidTransition(f"Geef een reden op voor het {verb}.", field="reason")


def check_closure(status: CaseStatus, evidence: CaseEvidence, closure_reason: ClosureReason | None,
                  receiving_party: OrganisationKind | None, receiving_name: str | None) -> None:
    """Closing, or handing casusregie over, needs a current safety plan and a named receiving party."""
    if status == CaseStatus.CLOSED:
        raise InvalidTransition("Deze casus is al afgesloten.")
    if closure_reason is None:
        raise InvalidInput("Kies de uitkomst van de casus.", field="closure_reason")
    if receiving_party is None or not _has_text(receiving_name):
        raise InvalidInput("Noem de partij die de casus overneemt (soort en naam).", field="receiving_name")
    if not evidence.has_current_safety_plan:
        raise InvalidTransition("Afsluiten of casusregie overdragen kan alleen met een actueel "
                                "veiligheidsplan. Leg eerst een nieuwe versie vast.", field="closure_reason")


def check_handover(has_current_safety_plan: bool) -> None:
    """Casusregie passes to another coordinator only with a current safety plan (003:876)."""
    if not has_current_safety_plan:
        raise InvalidTransition("Afsluiten of casusregie overdragen kan alleen met een actueel "
                                "veiligheidsplan. Leg eerst een nieuwe versie vast.", field="coordinator")


def check_reopen(status: CaseStatus, reason: str | None) -> None:
    if status != CaseStatus.CLOSED:
        raise InvalidTransition("Alleen een afgesloten casus kan worden heropend.")
    if not _has_text(reason):
        raise InvalidInput("Geef een reden op voor het heropenen.", field="reason")


def outside_mda_band(level: int) -> bool:
    return not MDA_BAND[0] <= level <= MDA_BAND[1]


def outside_band_since(previous_since: datetime | None, to_level: int, at: datetime) -> datetime | None:
    """When the case left the MDA++ band, after a move to ``to_level`` at ``at``.

    A move between two levels outside the band (3 -> 2, then 2 -> 1) does not restart the
    count: the case has been outside since it left. A move back into the band ends it."""
    if not outside_mda_band(to_level):
        return None
    return previous_since or at


def outside_band_too_long(level: int, since: datetime | None, now: datetime, days: int) -> bool:
    """Outside AVE 3-4 for longer than the configured number of days (AVE_OUTSIDE_BAND_DAYS)."""
    return outside_mda_band(level) and since is not None and now - since > timedelta(days=days)
