"""The evaluation report of a published release as a PDF document, made by the app (fpdf2).

A document, not a screen: a cover, a summary of the headline figures, every table with its
level of detail, page numbers, and table headers repeated on every page a table runs over.
Only the stored release is used; nothing is recomputed.
"""
from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from ..timeutil import AMSTERDAM
from .exports import legend
from .models import Release

# The PDF core fonts know Latin-1 only; these are the characters our texts use beyond it.
_PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "≤": "<="})


def plain(text: object) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Report(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_title = title
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(plain(title))
        self.set_creator("MDA++ Noord- en Midden-Limburg")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90)
        self.cell(0, 5, plain(f"{self.report_title} - pagina {self.page_no()} van {{nb}}"), align="C")
        self.set_text_color(0)


def release_pdf(release: Release) -> bytes:
    content = release.content
    tables = content["tables"]
    title = f"Evaluatierapport MDA++ {release.title}"
    pdf = _Report(title)
    pdf.alias_nb_pages()
    # Cover.
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.ln(60)
    pdf.multi_cell(0, 11, plain("Evaluatierapport pilot MDA++ Noord- en Midden-Limburg"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", size=14)
    pdf.multi_cell(0, 8, plain(f"{release.kind.label} {release.title}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 8, plain(f"{release.starts_on:%d-%m-%Y} tot en met {release.ends_on:%d-%m-%Y}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=10)
    published = release.published_at.astimezone(AMSTERDAM)
    pdf.multi_cell(0, 6, plain(f"Gepubliceerd op {published:%d-%m-%Y %H:%M} (Nederlandse tijd)"
                               + (f"; nieuwe versie: {release.reason}" if release.reason else "")), align="C",
                   new_x="LMARGIN", new_y="NEXT")
    # Summary of the headline figures.
    pdf.add_page()
    _heading(pdf, "Samenvatting: kerncijfers van de regio")
    figures = content.get("headlines", {})
    for label, key in (("Tijd tot stabiele veiligheid", "stabiel_mediaan"),
                       ("Doorlooptijd van het hele traject", "doorlooptijd_mediaan"),
                       ("Duurzaam veilig bij afsluiting", "duurzaam_aandeel"),
                       ("Veilig na twaalf maanden", "veilig_na_12"),
                       ("Her-meldingen binnen 12 maanden", "hermelding_aandeel")):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(70, 6, plain(label))
        pdf.set_font("Helvetica", size=10)
        shown = figures.get(key, f"niet getoond (minder dan {release.threshold})")
        pdf.multi_cell(0, 6, plain(shown), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _table(pdf, tables[0])
    _legend(pdf, release.threshold)
    for table in tables[1:]:
        pdf.add_page()
        _heading(pdf, table["title"])
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(0, 5, plain(table.get("level_reason", "")), new_x="LMARGIN", new_y="NEXT")
        if table.get("description"):
            pdf.multi_cell(0, 5, plain(table["description"]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        _table(pdf, table)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _legend(pdf: FPDF, threshold: int) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", size=8)
    for line in legend(threshold):
        pdf.multi_cell(0, 4, plain(line), new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, table: dict) -> None:
    header = table["header"]
    first = 60 if len(header) > 3 else 100
    rest = (pdf.epw - first) / max(1, len(header) - 1)
    pdf.set_font("Helvetica", size=8)
    with pdf.table(col_widths=[first] + [rest] * (len(header) - 1), text_align=["LEFT"] + ["RIGHT"] * (len(header) - 1),
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)), repeat_headings=1,
                   line_height=5) as grid:
        heading = grid.row()
        for text in header:
            heading.cell(plain(text))
        for row in table["rows"]:
            line = grid.row()
            line.cell(plain(row["label"]))
            for cell in row["cells"]:
                line.cell(plain(cell))
