"""Waterfall plot: each patient's best percentage change in target lesions, largest growth first.

Bars are coloured by best overall response (the swimmer plot's colours); dashed lines mark the
RECIST 1.1 thresholds, +20% (progression) and -30% (partial response). Growth beyond +100% is
cut at the top of the axis and the figure says how many bars were cut.
"""

from __future__ import annotations

import pandas as pd

from dossier.render.figures_swimmer import NOT_EVALUABLE, RESPONSE_COLOURS, _response_style
from dossier.render.svg import (
    FIGURE_WIDTH_PT,
    GRID,
    INK,
    MUTED,
    LinearScale,
    SvgCanvas,
    legend_rows,
    text_width,
    wrap,
)

PROGRESSION_PCT = 20.0
"""RECIST 1.1: at least 20% growth in the sum of target-lesion diameters is progression."""
RESPONSE_PCT = -30.0
"""RECIST 1.1: at least 30% shrinkage in the sum of target-lesion diameters is a partial
response."""
AXIS_TOP_PCT = 100.0
PAD, TITLE_SIZE, LEGEND_SIZE, TICK_SIZE, ROW = 8.0, 10.5, 8.0, 8.0, 12.0
PLOT_HEIGHT = 180.0


def waterfall_svg(patients: pd.DataFrame, *, title: str) -> str:
    """Draw the waterfall plot of the patients with a best percentage change."""
    measured = patients[patients["best_pct_change"].notna()].assign(
        _id=patients["patient_id"].astype(str))
    measured = measured.sort_values(["best_pct_change", "_id"], ascending=[False, True],
                                    kind="mergesort")
    total, shown = len(patients), len(measured)
    width = FIGURE_WIDTH_PT
    title_lines = wrap(title, TITLE_SIZE, width - 2 * PAD)
    change = measured["best_pct_change"].astype(float)
    cut = int((change > AXIS_TOP_PCT).sum())
    notes = [f"{shown} of {total} treated patients have a measured change in target lesions"
             + (f"; {cut} bar{'s' if cut != 1 else ''} above +{AXIS_TOP_PCT:.0f}% cut at the "
                "top of the axis" if cut else "")]
    styles = [_response_style(v) for v in measured["best_response"]]
    present = set(styles)
    legend = [s for s in (*RESPONSE_COLOURS, NOT_EVALUABLE) if s in present]  # best first
    labels = [s[2] for s in legend]
    lines = legend_rows(labels, LEGEND_SIZE, 10, width - 2 * PAD)
    top = PAD + TITLE_SIZE + 13 * (len(title_lines) - 1 + len(notes)) + 8 + ROW * len(lines) + 6
    bottom = top + PLOT_HEIGHT
    height = bottom + 18 + PAD
    x0, x1 = PAD + 40.0, width - PAD - 40.0
    y = LinearScale(-100.0, AXIS_TOP_PCT, bottom, top)
    svg = SvgCanvas(width, height, title)
    for i, text in enumerate(title_lines):
        svg.text(PAD, PAD + TITLE_SIZE + 13 * i, text, size=TITLE_SIZE, weight="bold",
                 css_class="figure-title")
    for i, text in enumerate(notes):
        svg.text(PAD, PAD + TITLE_SIZE + 13 * (len(title_lines) + i), text, size=LEGEND_SIZE,
                 fill=MUTED, css_class="waterfall-note")
    legend_top = PAD + TITLE_SIZE + 13 * (len(title_lines) - 1 + len(notes)) + 8
    for r, row in enumerate(lines):
        cursor, baseline = PAD, legend_top + (r + 1) * ROW - 3
        for i in row:
            svg.rect(cursor, baseline - 6.5, 10, 7, fill=legend[i][1], css_class="legend-sample")
            svg.text(cursor + 14, baseline, labels[i], size=LEGEND_SIZE, css_class="legend-label")
            cursor += 14 + text_width(labels[i], LEGEND_SIZE) + 14
    for tick in range(-100, int(AXIS_TOP_PCT) + 1, 20):
        svg.line(x0, y(tick), x1, y(tick), stroke=GRID, width=0.5, css_class="grid")
        svg.text(x0 - 4, y(tick) + 3, f"{tick:+d}%" if tick else "0%", size=TICK_SIZE,
                 anchor="end", css_class="y-tick-label")
    svg.text(PAD + 6, (top + bottom) / 2, "Best change from baseline (%)", size=8.5,
             anchor="middle", rotate=True, css_class="axis-title")
    svg.line(x0, y(0), x1, y(0), stroke=INK, width=0.75, css_class="axis")
    for value, text in ((PROGRESSION_PCT, "+20% (PD)"),
                        (RESPONSE_PCT, "-30% (PR)")):
        svg.line(x0, y(value), x1, y(value), stroke=MUTED, width=0.75, dash="4 2",
                 css_class="reference-line")
        svg.text(x1 + 3, y(value) + 3, text, size=7.0, fill=MUTED, css_class="reference-label")
    if not shown:
        svg.text((x0 + x1) / 2, (top + bottom) / 2, "no measured changes", size=11.0,
                 anchor="middle", fill=MUTED, css_class="waterfall-empty")
        return svg.to_svg()
    step = (x1 - x0) / shown
    bar = step * 0.8 if shown > 1 else min(step * 0.5, 24.0)
    for k, (value, style, pid) in enumerate(zip(change, styles, measured["_id"], strict=True)):
        shown_value = min(value, AXIS_TOP_PCT)
        left = x0 + step * k + (step - bar) / 2
        y_top, y_bottom = sorted((y(0), y(shown_value)))
        svg.rect(left, y_top, bar, max(y_bottom - y_top, 0.6), fill=style[1],
                 css_class="waterfall-bar", tooltip=f"{pid}: {style[2]}, {value:+.1f}%")
    return svg.to_svg()
