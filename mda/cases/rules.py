"""Rules of the phased approach and the AVE ladder, independent of storage and web."""
from __future__ import annotations

from ..errors import InvalidTransition
from .models import Phase

AVE_LEVELS = range(1, 6)
MDA_BAND = (3, 4)  # MDA++ works mainly at AVE 3 and 4 (003:948)


def check_phase_move(current: Phase, target: Phase, reason: str | None) -> None:
    """Forward one phase at a time; back to directe veiligheid at any moment, with a reason."""
    if target == current:
        raise InvalidTransition(f"De casus staat al in de fase {current.label}.")
    if target == Phase.DIRECTE_VEILIGHEID:
        if not (reason and reason.strip()):
            raise InvalidTransition("Geef een reden op voor het terugvallen naar directe veiligheid.",
                                    field="reason")
        return
    if target.position != current.position + 1:
        raise InvalidTransition(
            f"Een casus gaat één fase tegelijk vooruit: van {current.label} kan alleen naar "
            f"{list(Phase)[current.position + 1].label if current.position < 3 else '—'} "
            "of terug naar Directe veiligheid.")


def check_ave_move(current: int, target: int, reason: str | None) -> None:
    if target not in AVE_LEVELS:
        raise InvalidTransition("Een AVE-niveau ligt tussen 1 en 5.", field="ave_level")
    if target == current:
        raise InvalidTransition(f"De casus staat al op AVE {current}.", field="ave_level")
    if not (reason and reason.strip()):
        verb = "opschalen" if target > current else "afschalen"
        raise InvalidTransition(f"Geef een reden op voor het {verb}.", field="reason")


def outside_mda_band(level: int) -> bool:
    return not MDA_BAND[0] <= level <= MDA_BAND[1]
