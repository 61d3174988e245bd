"""Swimmer plot: one lane per patient, progression-free time coloured by best overall response.

It reads the canonical patient frame (contract A) and only converts days to months (30.4375
days a month); the lane of a patient runs from treatment start to the PFS time.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dossier.registry.schema import DAYS_PER_MONTH
from dossier.render.svg import (
    FIGURE_WIDTH_PT,
    GRID,
    INK,
    MUTED,
    LinearScale,
    SvgCanvas,
    month_tick_step,
    num,
    round_up,
    text_width,
    tick_text,
    ticks_upto,
    truncate,
    wrap,
)

MAX_LANES = 60
PLOT_BUDGET = 500.0
"""Lane area height (pt) that 60 lanes share (8.3 pt a lane, 7 pt labels): under 220 mm in all."""
MAX_LANE = 16.0
PAD = 8.0
TITLE_SIZE = 10.5
LEGEND_SIZE = 8.0
TICK_SIZE = 8.0
LABEL_SIZE = 8.5
ROW = 12.0

RESPONSE_COLOURS = (  # Okabe-Ito, ordered from best to worst response
    ("CR", "#0072B2", "CR"),
    ("PR", "#56B4E9", "PR"),
    ("SD", "#E69F00", "SD"),
    ("PD", "#D55E00", "PD"),
    ("NE", "#999999", "NE"),
)
NOT_EVALUABLE = ("", "#CCCCCC", "not evaluable")
REQUIRED = ("patient_id", "best_response", "response_days", "pfs_days", "pfs_event", "os_days",
            "os_event")


def _response_style(value: object) -> tuple[str, str, str]:
    if value is None or pd.isna(value):
        return NOT_EVALUABLE
    for style in RESPONSE_COLOURS:
        if str(value) == style[0]:
            return style
    raise ValueError(f"best_response {value!r} is not one of CR, PR, SD, PD, NE")


def _where(row: pd.Series) -> str:
    source_row = f", row {int(row['row'])}" if "row" in row and pd.notna(row["row"]) else ""
    return f"patient {row['patient_id']!s}{source_row}"


def _check_patients(patients: pd.DataFrame) -> None:
    """Guard clause: required columns present, PFS times usable, known response codes."""
    missing = [c for c in REQUIRED if c not in patients.columns]
    if missing:
        raise ValueError(f"patient frame lacks column(s) {', '.join(missing)}")
    pfs = pd.to_numeric(patients["pfs_days"], errors="coerce")
    bad = patients.index[pfs.isna() | (pfs < 0)]
    if len(bad):
        row = patients.loc[bad[0]]
        raise ValueError(f"{_where(row)}: column 'pfs_days' must be a number >= 0, "
                         f"got {row['pfs_days']!r}")
    codes = patients["best_response"]
    known = codes.isna() | codes.astype("string").isin([c for c, _, _ in RESPONSE_COLOURS])
    if not known.all():
        row = patients.loc[patients.index[~known.to_numpy(dtype=bool)][0]]
        raise ValueError(f"{_where(row)}: column 'best_response' is {row['best_response']!r}, "
                         "not one of CR, PR, SD, PD, NE")


def _diamond(cx: float, cy: float, r: float) -> str:
    return (f"M{num(cx)} {num(cy - r)}L{num(cx + r)} {num(cy)}L{num(cx)} {num(cy + r)}"
            f"L{num(cx - r)} {num(cy)}Z")


def _arrow(x: float, cy: float, r: float) -> str:
    return f"M{num(x)} {num(cy - r)}L{num(x + 1.6 * r)} {num(cy)}L{num(x)} {num(cy + r)}Z"


def _cross(cx: float, cy: float, r: float) -> str:
    return (f"M{num(cx - r)} {num(cy - r)}L{num(cx + r)} {num(cy + r)}"
            f"M{num(cx - r)} {num(cy + r)}L{num(cx + r)} {num(cy - r)}")


def swimmer_svg(patients: pd.DataFrame, *, title: str,
                reference_months: Sequence[tuple[float, str]] = ()) -> str:
    """Draw a swimmer plot: a bar from treatment start to PFS per patient, longest on top.

    Bars are coloured by best overall response; a diamond marks the first response (open when
    the response was not confirmed), an arrow a patient progression-free at last follow-up
    (``pfs_event == 0``) and a cross a PFS event that was death (``os_event == 1`` and
    ``os_days == pfs_days``). Beyond 60 patients the 60 longest are drawn and the figure says
    "showing 60 of N patients: the 60 with the longest progression-free time; ...".
    ``reference_months`` adds labelled dashed lines (e.g. 16 weeks).
    """
    _check_patients(patients)
    total = len(patients)
    ordered = patients.assign(_order_id=patients["patient_id"].astype(str)).sort_values(
        ["pfs_days", "_order_id"], ascending=[False, True], kind="mergesort")
    shown = ordered.head(MAX_LANES)
    width = FIGURE_WIDTH_PT
    title_lines = wrap(title, TITLE_SIZE, width - 2 * PAD, max_lines=3)
    notes = []
    if total > MAX_LANES:
        notes += wrap(f"showing {MAX_LANES} of {total} patients: the {MAX_LANES} with the "
                      f"longest progression-free time; the other {total - MAX_LANES} progressed "
                      "or were censored earlier", LEGEND_SIZE, width - 2 * PAD, max_lines=3)

    lane = min(MAX_LANE, PLOT_BUDGET / max(len(shown), 1))
    label_size = min(8.0, lane * 0.85)
    ids = [str(v) for v in shown["patient_id"]]
    x0 = min(max(50.0, PAD + max((text_width(i, label_size) for i in ids), default=0) + 8),
             130.0)
    x1 = width - 22.0

    styles = [_response_style(v) for v in shown["best_response"]]
    months = shown["pfs_days"].astype(float) / DAYS_PER_MONTH
    response_months = shown["response_days"].astype(float) / DAYS_PER_MONTH
    confirmed = (shown["response_confirmed"] if "response_confirmed" in shown.columns
                 else pd.Series(pd.NA, index=shown.index, dtype="boolean"))
    ongoing = shown["pfs_event"].astype(int) == 0
    died = ((shown["os_event"].astype(int) == 1)
            & ((shown["os_days"].astype(float) - shown["pfs_days"].astype(float)).abs() < 1e-9))

    legend: list[tuple[str, str, str]] = []  # (kind, colour, text)
    present = {s[0] for s in styles}
    for style in (*RESPONSE_COLOURS, NOT_EVALUABLE):
        if style[0] in present:
            legend.append(("bar", style[1], style[2]))
    has_response = response_months.notna()
    unconfirmed = has_response & confirmed.astype("boolean").eq(False).fillna(False)
    if (has_response & ~unconfirmed).any():
        legend.append(("diamond", INK, "first response"))
    if unconfirmed.any():
        legend.append(("open-diamond", INK, "first response, unconfirmed"))
    if (ongoing & ~died).any():
        legend.append(("arrow", INK, "progression-free at last follow-up"))
    if died.any():
        legend.append(("cross", INK, "death (the PFS event)"))
    legend_lines: list[list[int]] = [[]]
    used = 0.0
    for i, (_, _, text) in enumerate(legend):
        need = 14 + text_width(text, LEGEND_SIZE) + 10
        if legend_lines[-1] and used + need > width - 2 * PAD:
            legend_lines.append([])
            used = 0.0
        legend_lines[-1].append(i)
        used += need

    top = PAD + TITLE_SIZE + 13 * (len(title_lines) - 1 + len(notes)) + 6
    legend_top = top
    top += ROW * len(legend_lines) + (len(reference_months) * 10.0) + 8
    bottom = top + lane * max(len(shown), 1)
    height = bottom + 34 + PAD
    data_max = max(float(months.max()) if len(shown) else 0.0,
                   float(response_months.max()) if has_response.any() else 0.0)
    data_max = data_max if data_max > 0 else 12.0
    x_max = round_up(data_max, month_tick_step(data_max))
    x = LinearScale(0.0, x_max, x0, x1)
    svg = SvgCanvas(width, height, title)

    for i, line in enumerate(title_lines):
        svg.text(PAD, PAD + TITLE_SIZE + 13 * i, line, size=TITLE_SIZE, weight="bold",
                 css_class="figure-title")
    for i, note in enumerate(notes):
        svg.text(PAD, PAD + TITLE_SIZE + 13 * (len(title_lines) + i), note, size=LEGEND_SIZE,
                 fill=MUTED, css_class="swimmer-note")
    for r, row in enumerate(legend_lines):
        cursor, baseline = PAD, legend_top + (r + 1) * ROW - 3
        for i in row:
            kind, colour, text = legend[i]
            cy = baseline - 3
            if kind == "bar":
                svg.rect(cursor, cy - 3.5, 10, 7, fill=colour, css_class="legend-sample")
            elif kind in ("diamond", "open-diamond"):
                fill = INK if kind == "diamond" else "#FFFFFF"
                svg.path(_diamond(cursor + 5, cy, 3.2), fill=fill, stroke=INK, width=0.8,
                         css_class="legend-sample")
            elif kind == "arrow":
                svg.path(_arrow(cursor + 2, cy, 3.2), fill=INK, css_class="legend-sample")
            else:
                svg.path(_cross(cursor + 5, cy, 3.0), stroke=INK, width=1.2,
                         css_class="legend-sample")
            svg.text(cursor + 14, baseline, text, size=LEGEND_SIZE, css_class="legend-label")
            cursor += 14 + text_width(text, LEGEND_SIZE) + 10

    ticks = ticks_upto(x_max, month_tick_step(x_max))
    for t in ticks:
        svg.line(x(t), top, x(t), bottom, stroke=GRID, width=0.5, css_class="grid")
        svg.line(x(t), bottom, x(t), bottom + 3, css_class="x-tick")
        svg.text(x(t), bottom + 12, tick_text(t), size=TICK_SIZE, anchor="middle",
                 css_class="x-tick-label")
    svg.line(x0, bottom, x1, bottom, css_class="axis")
    svg.text((x0 + x1) / 2, bottom + 26, "Months since start of treatment", size=LABEL_SIZE,
             anchor="middle", css_class="axis-title")
    for k, (value, text) in enumerate(reference_months):
        if 0 <= value <= x_max:
            label_y = top - 8 - 10.0 * (len(reference_months) - 1 - k)
            svg.line(x(value), label_y + 2, x(value), bottom, stroke=MUTED, width=0.75,
                     dash="3 2", css_class="reference-line")
            svg.text(x(value) + 2, label_y, text, size=7.5, fill=MUTED,
                     css_class="reference-label")

    if shown.empty:
        svg.text((x0 + x1) / 2, (top + bottom) / 2 + 4, "no patients", size=11.0,
                 anchor="middle", fill=MUTED, css_class="swimmer-no-patients")
    bar = lane * 0.6
    marker = min(bar * 0.55, 3.5)
    for i, (pid, style) in enumerate(zip(ids, styles, strict=True)):
        index = shown.index[i]
        cy = top + lane * (i + 0.5)
        end = x(float(months.loc[index]))
        svg.open_group("swimmer-lane")
        svg.text(x0 - 4, cy + label_size * 0.35, truncate(pid, label_size, x0 - 4 - PAD),
                 size=label_size, anchor="end", css_class="lane-label", tooltip=pid)
        svg.rect(x0, cy - bar / 2, end - x0, bar, fill=style[1], css_class="swimmer-bar",
                 tooltip=f"{pid}: {style[2]}, {float(months.loc[index]):.1f} months")
        if has_response.loc[index]:
            open_marker = bool(unconfirmed.loc[index])
            svg.path(_diamond(x(float(response_months.loc[index])), cy, marker),
                     fill="#FFFFFF" if open_marker else INK, stroke=INK, width=0.8,
                     css_class="swimmer-response")
        if died.loc[index]:
            svg.path(_cross(end + 2 + marker * 0.8, cy, marker * 0.8), stroke=INK, width=1.2,
                     css_class="swimmer-death")
        elif ongoing.loc[index]:
            svg.path(_arrow(end + 1.5, cy, marker), fill=INK, css_class="swimmer-ongoing")
        svg.close_group()
    return svg.to_svg()
