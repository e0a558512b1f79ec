"""Charts as inline SVG, drawn on the server from the suppressed tables only.

Plain SVG with presentation attributes (fill, stroke, font-size): no <style>, no script and no
style attributes, so the page's CSP (script-src 'self'; style-src 'self') holds. Charting
libraries were considered: pygal's SVG carries an inline <style> and <script>, matplotlib's
style attributes and a <style> element; both would need their output rewritten to pass the CSP.
A hidden cell is never drawn as a bar: it is labelled as it is in the table.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from .disclosure import DisplayTable

PALETTE = ["#1f5f8b", "#d9822b", "#3d8c40", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"]
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    title_text = escape(title)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
                  f'height="{height}" class="metrics-chart" '
                  f'role="img" aria-label="{title_text}"><title>{title_text}</title>{"".join(body)}</svg>')


def bar_chart(table: DisplayTable, column: int = -1, title: str | None = None) -> Markup:
    """Horizontal bars for one column of the table (default: the last count column, the total);
    where rows are grouped, one bar per group (the subregions), which are far less often hidden."""
    rows = [row for row in table.rows if row.kind == "group"] or [row for row in table.rows if row.kind == "row"]
    if not rows:
        return Markup("")
    values = [row.numbers[column] for row in rows]
    labels = [row.cells[column] for row in rows]
    top = max([v for v in values if v] or [1])
    label_width, bar_width, line = 230, 360, 22
    height = line * len(rows) + 10
    body = []
    for index, (row, value, shown) in enumerate(zip(rows, values, labels)):
        y = 5 + index * line
        body.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" {FONT}>'
                    f'{escape(row.label[:38])}</text>')
        if value:
            width = max(1, round(bar_width * value / top))
            body.append(f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="{line - 6}" '
                        f'fill="{PALETTE[0]}"/>')
            body.append(f'<text x="{label_width + width + 4}" y="{y + 15}" {FONT}>{escape(shown)}</text>')
        else:
            body.append(f'<text x="{label_width + 4}" y="{y + 15}" fill="#555" {FONT}>{escape(shown)}</text>')
    return _svg(label_width + bar_width + 60, height, title or table.title, body)


def line_chart(table: DisplayTable, columns: list[int] | None = None, title: str | None = None) -> Markup:
    """One line per column over the rows (months); a hidden value breaks the line."""
    rows = [row for row in table.rows if row.kind == "row"]
    if len(rows) < 2:
        return bar_chart(table, title=title)
    series = columns if columns is not None else list(range(len(table.header) - 1))
    top = max([v for row in rows for i in series if (v := row.numbers[i])] or [1])
    left, width, height, bottom = 50, 560, 220, 40
    step = width / (len(rows) - 1)
    body = [f'<line x1="{left}" y1="{height}" x2="{left + width}" y2="{height}" stroke="#888"/>',
            f'<line x1="{left}" y1="10" x2="{left}" y2="{height}" stroke="#888"/>',
            f'<text x="{left - 6}" y="{14}" text-anchor="end" {FONT}>{top}</text>',
            f'<text x="{left - 6}" y="{height}" text-anchor="end" {FONT}>0</text>']
    for index, row in enumerate(rows):
        if index % max(1, len(rows) // 8) == 0:
            body.append(f'<text x="{left + index * step:.1f}" y="{height + 16}" text-anchor="middle" {FONT}>'
                        f'{escape(row.label)}</text>')
    for n, column in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        segment: list[str] = []
        for index, row in enumerate(rows + [None]):
            value = row.numbers[column] if row is not None else None
            if value is None:
                if len(segment) > 1:
                    body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                                f'points="{" ".join(segment)}"/>')
                elif segment:
                    x, y = segment[0].split(",")
                    body.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
                segment = []
                continue
            segment.append(f"{left + index * step:.1f},{height - (height - 10) * value / top:.1f}")
        legend_y = height + bottom + n * 16
        body.append(f'<rect x="{left}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
                    f'<text x="{left + 18}" y="{legend_y}" {FONT}>{escape(table.header[column + 1])}</text>')
    return _svg(left + width + 30, height + bottom + 16 * len(series) + 10, title or table.title, body)
