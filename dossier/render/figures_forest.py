"""Forest plot: one row per cohort (or subgroup), point estimate with its 95% CI whisker.

Values come from the results table as stored (rates as proportions 0-1, medians in months);
the figure draws them and labels decision thresholds (ESMO ORR 20%, DRUP 5/24) as dashed lines.
A missing limit (not reached / not estimable) is drawn as an arrow open to the axis end.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd

from dossier.render.formatting import (
    NO_PATIENTS,
    NOT_ESTIMABLE,
    NOT_ESTIMABLE_WORDS,
    NOT_REACHED,
    limit_text,
)
from dossier.render.svg import (
    FIGURE_WIDTH_PT,
    GRID,
    INK,
    MUTED,
    LinearScale,
    SvgCanvas,
    nice_tick_step,
    num,
    round_up,
    text_width,
    tick_text,
    ticks_upto,
    wrap,
)

PAD = 8.0
TITLE_SIZE = 10.5
TEXT_SIZE = 8.0
TICK_SIZE = 8.0
LABEL_SIZE = 8.5
ROW = 15.0
WRAP_SIZE = 6.8
"""Font size of a label too long for one line: it wraps onto two lines of the same row, so
labels stay whole (and unique) instead of being cut to identical stems."""
THRESHOLD_ROW = 10.0
THRESHOLD_DASHES = ("4 2", "1.5 1.5", "6 2 1.5 2", "2 3")
STATUS_NOTES = {"no_patients": NO_PATIENTS, "not_reached": "not reached",
                "not_estimable": NOT_ESTIMABLE_WORDS}


@dataclass(frozen=True)
class ForestRow:
    """One forest-plot row; None for a limit that is not reached or not estimable.

    ``n_text`` is printed beside the label (e.g. "5/24"); ``note`` replaces the estimate text
    when nothing can be drawn (e.g. "no patients").
    """

    label: str
    estimate: float | None
    lower: float | None
    upper: float | None
    n_text: str = ""
    note: str = ""


def _value(v: float | None) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _estimate_text(row: ForestRow, percent: bool) -> str:
    values = [_value(row.estimate), _value(row.lower), _value(row.upper)]
    if all(v is None for v in values):
        return row.note or NOT_ESTIMABLE_WORDS

    # a rate's missing part is not estimable; a median's estimate or upper limit not reached
    above = NOT_ESTIMABLE if percent else NOT_REACHED

    def fmt(v: float | None, missing: str) -> str:
        return limit_text(v, percent, missing)

    head = fmt(values[0], above) if values[0] is not None else (row.note or above)
    return f"{head} ({fmt(values[1], NOT_ESTIMABLE)}–{fmt(values[2], above)})"


def _two_lines(label: str, width: float) -> tuple[float, list[str]]:
    """The largest font size (WRAP_SIZE down to 5.6 pt) at which ``label`` fits two lines whole;
    at the smallest size the second line is cut with an ellipsis as a last resort."""
    size = WRAP_SIZE
    while size >= 5.6:
        lines = wrap(label, size, width)
        if " ".join(lines) == " ".join(label.split()):
            return size, lines
        size = round(size - 0.4, 1)
    return 5.6, wrap(label, 5.6, width)


def _arrow(x: float, cy: float, direction: int) -> str:
    """An open arrowhead at ``x`` pointing left (-1) or right (+1)."""
    back = x - 4.5 * direction
    return f"M{num(back)} {num(cy - 3)}L{num(x)} {num(cy)}L{num(back)} {num(cy + 3)}"


def forest_svg(rows: Sequence[ForestRow], *, title: str,
               thresholds: Sequence[tuple[float, str]] = (), x_label: str = "rate (%)",
               percent: bool = True, x_limits: tuple[float, float] | None = None,
               label_header: str = "", n_header: str = "",
               threshold_rows: Sequence[Collection[str] | None] = ()) -> str:
    """Draw a forest plot with labelled vertical threshold lines.

    Parameters
    ----------
    rows : one per cohort, drawn top to bottom in the given order.
    thresholds : (value, label) pairs in the rows' unit, e.g. ``(0.20, "ESMO ORR 20%")``.
    percent : values are proportions 0-1 shown on a 0-100 % axis; False draws them as given.
    x_limits : axis range in the rows' unit; default 0-1 for proportions, else 0 to the largest
        value rounded up to a tick.
    label_header, n_header : optional column headings above the labels and the ``n_text``.
    threshold_rows : per threshold, the labels of the rows it applies to (None: every row).
        A threshold that applies to some rows only is drawn across those rows alone (e.g. the
        DRUP stage-2 bar across the cohorts that reached stage 2), and not at all when it
        applies to none of them.
    """
    for row in rows:
        for name in ("estimate", "lower", "upper"):
            v = _value(getattr(row, name))
            if v is not None and not math.isfinite(v):
                raise ValueError(f"forest row {row.label!r}: {name} = {v!r} is not finite")
    scale = 100.0 if percent else 1.0
    if x_limits is None:
        if percent:
            lo_lim, hi_lim = 0.0, 1.0
        else:
            values = [v for r in rows for v in (_value(r.estimate), _value(r.lower),
                                                _value(r.upper)) if v is not None]
            values += [float(t) for t, _ in thresholds]
            top_value = max(values, default=1.0)
            top_value = top_value if top_value > 0 else 1.0
            # 10% headroom so that an open-ended arrow or a threshold never sits on the edge
            lo_lim, hi_lim = 0.0, round_up(top_value * 1.1, nice_tick_step(top_value * 1.1, 5))
    else:
        lo_lim, hi_lim = float(x_limits[0]), float(x_limits[1])
        if not hi_lim > lo_lim:
            raise ValueError(f"x_limits must be increasing, got {x_limits!r}")

    width = FIGURE_WIDTH_PT
    label_w = min(max((text_width(r.label, TEXT_SIZE) for r in rows), default=40.0), 170.0)
    label_w = max(label_w, text_width(label_header, TEXT_SIZE))
    n_w = max((text_width(t, TEXT_SIZE) for t in [*(r.n_text for r in rows), n_header]),
              default=0.0)
    estimate_header = "% (95% CI)" if percent else "estimate (95% CI)"
    text_w = max([text_width(_estimate_text(r, percent), TEXT_SIZE) for r in rows]
                 + [text_width(estimate_header, TEXT_SIZE) * 1.1])
    x0 = PAD + label_w + 8 + (n_w + 10 if n_w else 0) + 8
    x1 = width - PAD - text_w - 12
    title_lines = wrap(title, TITLE_SIZE, width - 2 * PAD)
    header_y = PAD + TITLE_SIZE + 13 * (len(title_lines) - 1) + 16
    top = header_y + 6 + THRESHOLD_ROW * len(thresholds)
    bottom = top + ROW * max(len(rows), 1)
    height = bottom + 34 + PAD
    x = LinearScale(lo_lim * scale, hi_lim * scale, x0, x1)
    svg = SvgCanvas(width, height, title)

    for i, line in enumerate(title_lines):
        svg.text(PAD, PAD + TITLE_SIZE + 13 * i, line, size=TITLE_SIZE, weight="bold",
                 css_class="figure-title")
    if label_header:
        svg.text(PAD, header_y, label_header, size=TEXT_SIZE, weight="bold",
                 css_class="column-header")
    if n_header:
        svg.text(x0 - 8, header_y, n_header, size=TEXT_SIZE, weight="bold", anchor="end",
                 css_class="column-header")
    svg.text(x1 + 12, header_y, estimate_header, size=TEXT_SIZE, weight="bold",
             css_class="column-header")

    step = nice_tick_step((hi_lim - lo_lim) * scale, 5)
    ticks = [lo_lim * scale + t for t in ticks_upto((hi_lim - lo_lim) * scale, step)]
    for i in range(len(rows)):
        if i % 2 == 0:
            svg.rect(PAD, top + ROW * i, width - 2 * PAD, ROW, fill="#F3F3F3",
                     css_class="row-stripe")
    for t in ticks:
        svg.line(x(t), top, x(t), bottom, stroke=GRID, width=0.5, css_class="grid")
        svg.line(x(t), bottom, x(t), bottom + 3, css_class="x-tick")
        svg.text(x(t), bottom + 12, tick_text(t), size=TICK_SIZE, anchor="middle",
                 css_class="x-tick-label")
    svg.line(x0, bottom, x1, bottom, css_class="axis")
    svg.text((x0 + x1) / 2, bottom + 26, x_label, size=LABEL_SIZE, anchor="middle",
             css_class="axis-title")

    for k, (value, text) in enumerate(thresholds):
        tx = x(float(value) * scale)
        if not x0 - 1e-9 <= tx <= x1 + 1e-9:
            continue
        label_y = header_y + 6 + THRESHOLD_ROW * (k + 1) - 2
        label_x, anchor = _label_place(tx, text_width(text, 7.5), x0 + 0.6 * (x1 - x0),
                                       width)
        dash = THRESHOLD_DASHES[k % len(THRESHOLD_DASHES)]
        scope = threshold_rows[k] if k < len(threshold_rows) else None
        if scope is None:
            svg.line(tx, label_y + 2, tx, bottom, stroke=MUTED, width=0.9, dash=dash,
                     css_class="threshold-line")
        else:
            spans = _row_spans([r.label in scope for r in rows])
            if not spans:
                continue
            svg.line(tx, label_y + 2, tx, top + ROW * spans[0][0], stroke=MUTED, width=0.4,
                     dash="1 2", css_class="threshold-leader")
            for first, last in spans:
                svg.line(tx, top + ROW * first, tx, top + ROW * (last + 1), stroke=MUTED,
                         width=0.9, dash=dash, css_class="threshold-line")
        svg.text(label_x, label_y, text, size=7.5, fill=MUTED, anchor=anchor,
                 css_class="threshold-label")

    if not rows:
        svg.text((x0 + x1) / 2, (top + bottom) / 2 + 4, "no cohorts", size=11.0,
                 anchor="middle", fill=MUTED, css_class="forest-empty")
    for i, row in enumerate(rows):
        cy = top + ROW * (i + 0.5)
        base = cy + TEXT_SIZE * 0.35
        svg.open_group("forest-row")
        if text_width(row.label, TEXT_SIZE) <= label_w:
            svg.text(PAD, base, row.label, size=TEXT_SIZE, css_class="forest-label",
                     tooltip=row.label)
        else:
            size, lines = _two_lines(row.label, label_w)
            first = cy - (len(lines) - 1) * size * 0.55 + size * 0.35
            for k, line in enumerate(lines):
                svg.text(PAD, first + k * size * 1.1, line, size=size,
                         css_class="forest-label", tooltip=row.label if k == 0 else "")
        if row.n_text:
            svg.text(x0 - 8, base, row.n_text, size=TEXT_SIZE, anchor="end",
                     css_class="forest-n")
        svg.text(x1 + 12, base, _estimate_text(row, percent), size=TEXT_SIZE,
                 css_class="forest-estimate")
        est, lo, hi = _value(row.estimate), _value(row.lower), _value(row.upper)
        if lo is not None or hi is not None:
            left = x0 if lo is None else min(max(x(lo * scale), x0), x1)
            right = x1 if hi is None else min(max(x(hi * scale), x0), x1)
            svg.line(left, cy, right, cy, stroke=INK, width=1.0, css_class="forest-ci")
            for limit, edge, direction in ((lo, left, -1), (hi, right, 1)):
                if limit is None or not x0 <= x(limit * scale) <= x1:
                    svg.path(_arrow(edge, cy, direction), stroke=INK, width=1.0,
                             css_class="forest-open-limit")
                else:
                    svg.line(edge, cy - 3, edge, cy + 3, stroke=INK, width=1.0,
                             css_class="forest-cap")
        if est is not None and x0 <= x(est * scale) <= x1:
            cx = x(est * scale)
            svg.rect(cx - 2.75, cy - 2.75, 5.5, 5.5, fill=INK, css_class="forest-point")
        svg.close_group()
    return svg.to_svg()


def _label_place(tx: float, text_w: float, right_from: float, width: float
                 ) -> tuple[float, str]:
    """Where a threshold's label goes: right of its line (left of it in the right part of the
    axis), and wherever it stays inside the figure when the preferred side would leave it."""
    right = (tx + 3, "start")
    left = (tx - 3, "end")
    fits_right = tx + 3 + text_w <= width - PAD
    fits_left = tx - 3 - text_w >= PAD
    if tx > right_from:
        return left if fits_left or not fits_right else right
    if fits_right:
        return right
    if fits_left:
        return left
    return (max(PAD, width - PAD - text_w), "start")


def _row_spans(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """(first, last) row indices of each run of rows where ``flags`` holds."""
    spans: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if spans and spans[-1][1] == i - 1:
            spans[-1] = (spans[-1][0], i)
        else:
            spans.append((i, i))
    return spans


def forest_rows_from_results(results: pd.DataFrame, endpoint: str, *,
                             group_by: str = "cohort_id", statistic: str = "rate",
                             denominator: str | None = "evaluable") -> list[ForestRow]:
    """Read one forest row per group from results rows (contract D), in table order.

    Rates get ``n_text`` "x/n"; a status of no_patients / not_reached / not_estimable becomes
    the row's note. ``denominator=None`` keeps rows of any denominator (e.g. for medians).
    """
    mask = ((results["group_by"].astype(str) == group_by)
            & (results["endpoint"].astype(str) == endpoint)
            & (results["statistic"].astype(str) == statistic))
    if denominator is not None:
        mask &= results["denominator"].astype(str) == denominator
    chosen = results[mask]
    if chosen.empty:
        raise ValueError(f"results table has no rows for group_by={group_by!r}, "
                         f"endpoint={endpoint!r}, statistic={statistic!r}, "
                         f"denominator={denominator!r}")
    rows = []
    for _, r in chosen.iterrows():
        n_text = (f"{int(r['x'])}/{int(r['n'])}" if pd.notna(r["x"]) and pd.notna(r["n"])
                  else "")
        rows.append(ForestRow(
            label=str(r["group"]),
            estimate=None if pd.isna(r["estimate"]) else float(r["estimate"]),
            lower=None if pd.isna(r["lower"]) else float(r["lower"]),
            upper=None if pd.isna(r["upper"]) else float(r["upper"]),
            n_text=n_text,
            note=STATUS_NOTES.get(str(r.get("status", "")), ""),
        ))
    return rows
