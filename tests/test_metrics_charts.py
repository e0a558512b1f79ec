"""Charts are plain SVG drawn from the suppressed table: no script, no style, no hidden count."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from mda.metrics.charts import bar_chart, line_chart
from mda.metrics.disclosure import CountTable, render


def test_bar_chart_draws_visible_counts_and_labels_hidden_ones() -> None:
    shown = render(CountTable("t", "Per gemeente", "Gemeente", ["Beesel", "Venlo", "Weert"], ["Aantal"],
                              [[3], [25], [40]], row_totals=False), 10)
    svg = str(bar_chart(shown, column=0))
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and root.get("role") == "img"
    # only Weert: Beesel is below 10, and Venlo is hidden with it so the total cannot give Beesel away
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 1
    assert "&lt;10" in svg and ">3<" not in svg
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg


def test_line_chart_breaks_at_hidden_values() -> None:
    shown = render(CountTable("m", "Per maand", "Maand", ["2026-01", "2026-02", "2026-03"], ["A", "B"],
                              [[20, 30], [25, 4], [22, 31]], column_totals=False), 10)
    svg = str(line_chart(shown, columns=[0, 1]))
    ET.fromstring(svg)
    assert "style=" not in svg and "<script" not in svg
    assert ">4<" not in svg
