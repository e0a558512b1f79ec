"""The handover summary of a case as a PDF: for a closure or handover and for the MDA++ meeting.

The family, the team, the phase and AVE history, the current safety plan, the assessments, the
open tasks and the huisverboden, each asked of its own area. Every page says "Vertrouwelijk",
who made it and when (Dutch time). Made with fpdf2 and the DejaVu Sans font shipped in
``mda/static/fonts`` (fpdf2's built-in fonts are Latin-1 only: no ’ or ł); a character the font
lacks is written as "?" rather than dropped, so nothing in a name silently disappears.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ..accounts.models import User
from ..cases.models import Case
from ..cases.queries import persons_of, team_of
from ..huisverbod.queries import orders_of_case
from ..journal.queries import open_tasks
from ..safety.queries import assessments_of, current_plan, latest_plan, plan_outline
from ..timeutil import AMSTERDAM, today, utcnow

FONT_FOLDER = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_REGULAR, FONT_BOLD = FONT_FOLDER / "DejaVuSans.ttf", FONT_FOLDER / "DejaVuSans-Bold.ttf"


@lru_cache(maxsize=1)
def _supported() -> frozenset[int]:
    from fontTools.ttLib import TTFont
    with TTFont(str(FONT_REGULAR), lazy=True) as font:
        regular = set(font.getBestCmap())
    with TTFont(str(FONT_BOLD), lazy=True) as font:
        return frozenset(regular & set(font.getBestCmap()))


def printable(text: object) -> str:
    """The text with every character the font cannot draw replaced by "?" (tabs become spaces)."""
    supported = _supported()
    value = str(text).replace("\t", "    ").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch == "\n" or ord(ch) in supported else "?" for ch in value)


def _day(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "—"


def _moment(value: datetime | None) -> str:
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if value else "—"


class _Pdf(FPDF):
    def __init__(self, title: str, made_by: str, made_at: str) -> None:
        super().__init__(format="A4")
        self.title_line, self.made_line = title, f"Gemaakt door {made_by} op {made_at} (Nederlandse tijd)"
        self.add_font("DejaVu", "", str(FONT_REGULAR))
        self.add_font("DejaVu", "B", str(FONT_BOLD))
        self.set_auto_page_break(auto=True, margin=22)
        self.set_margins(18, 22, 18)
        self.set_title(printable(title))
        self.set_author(printable(made_by))
        self.set_creator("MDA++ casusregistratie")

    def header(self) -> None:
        self.set_y(8)
        self.set_font("DejaVu", "B", 9)
        self.set_text_color(160, 0, 0)
        self.cell(0, 5, "VERTROUWELIJK", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(0, 0, 0)
        self.cell(0, 4, printable(self.title_line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(22)

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font("DejaVu", "", 7.5)
        self.multi_cell(0, 3.6, printable(f"Vertrouwelijk · {self.made_line} · pagina {self.page_no()} van "
                                          "{nb}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(2)
        self.set_font("DejaVu", "B", 11.5)
        self.multi_cell(0, 6, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 9.5)

    def line_item(self, text: str, indent: float = 0) -> None:
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, 4.8, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def text_block(self, label: str, text: str | None, indent: float = 4) -> None:
        if text:
            self.line_item(f"{label}: {text}", indent)


@dataclass(frozen=True)
class Summary:
    file_name: str
    content: bytes


def handover_summary(case: Case, *, by: User) -> Summary:
    """Build the PDF. The caller audits and sends it."""
    made_at = _moment(utcnow())
    pdf = _Pdf(f"Overdrachtsamenvatting casus {case.reference}", by.display_name, made_at)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, printable(f"Overdrachtsamenvatting casus {case.reference}"),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9.5)
    forms = ", ".join(form.form.label for form in case.violence_forms) if case.violence_forms else "—"
    for text in (f"Gemeente: {case.municipality.name}; instroom: {case.intake_route.label}; geopend {_day(case.opened_on)}",
                 f"Status: {case.status.label}" + (f", afgesloten {_day(case.closed_on)}" if case.closed_on else ""),
                 f"Fase: {case.phase.label} (sinds {_moment(case.phase_since)}); AVE-niveau {case.ave_level} "
                 f"(sinds {_moment(case.ave_since)})",
                 f"Vormen van geweld: {forms}"):
        pdf.line_item(text)

    pdf.heading("Het gezin (cliëntsysteem)")
    persons = persons_of(case)
    for person in persons:
        pdf.line_item(f"• {person.name or 'Naam onbekend'} — {person.role.label}"
                      + (f", geboren {_day(person.date_of_birth)}" if person.date_of_birth else "")
                      + f" ({person.age_band.label})")
        pdf.text_block("Adres", person.address, 6)
        pdf.text_block("Telefoon", person.phone, 6)
    if not persons:
        pdf.line_item("Geen personen vastgelegd.")

    pdf.heading("Het team")
    for member in team_of(case):
        pdf.line_item(f"• {member.user.display_name} — {member.team_role.label}"
                      + (f", {member.discipline.name}" if member.discipline is not None else "")
                      + f", {member.organisation.name} (sinds {_day(member.started_on)})")

    pdf.heading("Fasen en AVE-niveaus")
    history = sorted([(change.changed_at, "fase", change) for change in case.phase_changes]
                     + [(change.changed_at, "ave", change) for change in case.ave_changes], key=lambda item: item[0])
    for moment, kind, change in history:
        if kind == "fase":
            text = f"• {_moment(moment)} fase: {change.from_phase.label + ' → ' if change.from_phase else ''}" \
                   f"{change.to_phase.label}"
        else:
            text = f"• {_moment(moment)} AVE: {str(change.from_level) + ' → ' if change.from_level else ''}" \
                   f"{change.to_level}"
        pdf.line_item(f"{text} ({change.changed_by.display_name})")
        pdf.text_block("Reden", change.reason, 6)

    pdf.heading("Veiligheidsplan")
    day = today()
    plan = current_plan(case, day) or latest_plan(case)
    if plan is None:
        pdf.line_item("Er is nog geen veiligheidsplan.")
    else:
        state = "huidig" if plan.is_current_on(day) else "niet meer actueel"
        pdf.line_item(f"Versie {plan.version_number} ({state}), afgesproken {_day(plan.agreed_on)}, "
                      f"evaluatie uiterlijk {_day(plan.review_on)}")
        pdf.text_block("Samenvatting", plan.agreements)
        outline = plan_outline(plan, persons)
        for person in outline.persons:
            pdf.line_item(f"• {person.name}", 4)
            for part in person.parts:
                pdf.text_block(part.label, part.text, 8)
        for part in outline.parts:
            pdf.text_block(part.label, part.text)
        pdf.text_block("Afgesproken met", plan.agreed_by)
        pdf.text_block("Volgende evaluatie uiterlijk", _day(plan.review_on))

    pdf.heading("Taxaties")
    assessments = assessments_of(case)
    for assessment in assessments:
        pdf.line_item(f"• {_day(assessment.assessed_on)} {assessment.kind.label} ({assessment.instrument}); "
                      f"risico: {assessment.risk_level.label}")
        pdf.text_block("Uitkomst", assessment.outcome, 6)
    if not assessments:
        pdf.line_item("Geen taxaties vastgelegd.")

    pdf.heading("Openstaande taken")
    tasks = open_tasks(case)
    for task in tasks:
        pdf.line_item(f"• uiterlijk {_day(task.due_on)}: {task.description} ({task.owner.display_name})")
    if not tasks:
        pdf.line_item("Geen openstaande taken.")

    pdf.heading("Huisverboden")
    orders = orders_of_case(case)
    for order in orders:
        removed = order.removed_person
        pdf.line_item(f"• Opgelegd {_moment(order.imposed_at)}, tot {_moment(order.ends_at)} — {order.status.label}; "
                      f"uithuisgeplaatst: {(removed.name if removed else None) or 'onbekend'}")
        pdf.text_block("Woning", order.dwelling, 6)
    if not orders:
        pdf.line_item("Geen huisverboden.")

    return Summary(f"overdracht-{case.reference}.pdf", bytes(pdf.output()))
