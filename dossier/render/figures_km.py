"""Kaplan-Meier figure: step curves, pointwise CI bands, censor marks and a number-at-risk table.

The figure only draws what the results table holds (contract D, ``statistic == "curve"`` and
``"n_risk"`` rows); it estimates nothing. Curves are true right-continuous step functions (SVG
path 'H'/'V' commands), as R's ``plot.survfit`` draws them.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from dossier.render.formatting import (
    NOT_ESTIMABLE,
    NOT_REACHED,
    median_parts,
    months_value_text,
)
from dossier.render.svg import (
    DASHES,
    FIGURE_WIDTH_PT,
    GRID,
    MUTED,
    PALETTE,
    LinearScale,
    SvgCanvas,
    legend_rows,
    month_tick_step,
    nice_tick_step,
    num,
    round_up,
    step_path,
    text_width,
    tick_text,
    ticks_upto,
    truncate,
    wrap,
)

PLOT_HEIGHT = 190.0
PAD = 8.0
TICK_SIZE = 8.0
LABEL_SIZE = 8.5
AT_RISK_SIZE = 7.5
LEGEND_SIZE = 8.0
TITLE_SIZE = 10.5
ROW = 12.0
SAMPLE = 22.0
CENSOR_HALF = 2.5
TIME_TOLERANCE = 1e-6
EMPTY_NOTE = "no patients"
THRESHOLD_COLOUR = "#7A1F5C"
THRESHOLD_SIZE = 7.0


@dataclass(frozen=True)
class KMCurveData:
    """One Kaplan-Meier curve as the figure draws it (times in the axis unit, S in 0-1).

    ``time``/``surv``/``lower``/``upper`` are the steps (S from that time on); ``lower``/``upper``
    hold None (or NaN) where the CI is not estimable. ``censor_times``/``censor_surv`` place one
    '+' mark per time with censoring; ``at_risk`` maps a time to the number at risk there.
    """

    label: str
    time: Sequence[float]
    surv: Sequence[float]
    lower: Sequence[float | None]
    upper: Sequence[float | None]
    censor_times: Sequence[float] = ()
    censor_surv: Sequence[float] = ()
    at_risk: Mapping[float, int] = field(default_factory=dict)
    events: int | None = None
    """Number of events; with ``patients`` shown in the legend
    ("PFS: 12 events / 24 patients; median ...")."""
    patients: int | None = None
    median: float | None = None
    """The Kaplan-Meier median (from the results row; None when not reached or not estimable),
    marked on the curve; ``median_text`` is how the legend states it ("3.4 months", "not
    reached")."""
    median_text: str = ""

    @property
    def legend_text(self) -> str:
        """The legend entry: label, events / patients and the median, as far as they are known."""
        parts = []
        if self.events is not None and self.patients is not None:
            parts.append(f"{self.events} events / {self.patients} patients")
        if self.median_text:
            parts.append(f"median {self.median_text}")
        return f"{self.label}: {'; '.join(parts)}" if parts else self.label

    @property
    def is_empty(self) -> bool:
        """True for a group without patients (nothing to draw)."""
        return len(self.time) == 0 and len(self.censor_times) == 0

    @property
    def end_time(self) -> float:
        """Last observed time (event or censoring): where the drawn curve stops."""
        times = [*self.time, *self.censor_times]
        return float(max(times)) if times else 0.0


def _finite(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _check_curve(curve: KMCurveData) -> None:
    """Guard clause: lengths agree, times are sorted and >= 0, S and CI limits lie in [0, 1]."""
    name = f"KM curve {curve.label!r}"
    n = len(curve.time)
    for field_name in ("surv", "lower", "upper"):
        if len(getattr(curve, field_name)) != n:
            raise ValueError(f"{name}: {field_name} has {len(getattr(curve, field_name))} "
                             f"values but time has {n}")
    if len(curve.censor_surv) != len(curve.censor_times):
        raise ValueError(f"{name}: censor_surv and censor_times differ in length")
    for field_name in ("time", "censor_times"):
        values = [float(v) for v in getattr(curve, field_name)]
        if any(math.isnan(v) or v < 0 for v in values):
            raise ValueError(f"{name}: {field_name} must be finite and >= 0")
        if any(b < a for a, b in itertools.pairwise(values)):
            raise ValueError(f"{name}: {field_name} must be sorted ascending")
    for field_name in ("surv", "censor_surv", "lower", "upper"):
        for index, value in enumerate(getattr(curve, field_name)):
            if field_name in ("lower", "upper") and not _finite(value):
                continue
            if not _finite(value) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name}: {field_name}[{index}] = {value!r} is not in [0, 1]")


def _lookup(at_risk: Mapping[float, int], time: float) -> int | None:
    for key, count in at_risk.items():
        if abs(float(key) - time) < TIME_TOLERANCE:
            return int(count)
    return None


def _band_path(curve: KMCurveData, end_time: float, x_max: float, x: LinearScale,
               y: LinearScale) -> list[str]:
    """Filled step polygons of the pointwise CI, one per run of steps where both limits exist."""
    intervals: list[tuple[float, float, float, float] | None] = []
    times = [float(t) for t in curve.time]
    for i, start in enumerate(times):
        stop = min(times[i + 1] if i + 1 < len(times) else end_time, x_max)
        lo, hi = curve.lower[i], curve.upper[i]
        if start >= x_max or stop <= start:
            continue
        intervals.append((start, stop, float(lo), float(hi))  # type: ignore[arg-type]
                         if _finite(lo) and _finite(hi) else None)
    runs: list[list[tuple[float, float, float, float]]] = [[]]
    for interval in intervals:
        if interval is None:
            runs.append([])
        else:
            runs[-1].append(interval)
    paths = []
    for run in (r for r in runs if r):
        d = [f"M{num(x(run[0][0]))} {num(y(run[0][3]))}"]
        for j, (_, stop, _, hi) in enumerate(run):
            if j:
                d.append(f"V{num(y(hi))}")
            d.append(f"H{num(x(stop))}")
        for j in range(len(run) - 1, -1, -1):
            start, _, lo, _ = run[j]
            d.append(f"V{num(y(lo))}")
            d.append(f"H{num(x(start))}")
        d.append("Z")
        paths.append(" ".join(d))
    return paths


def readable_x_max(curves: Sequence[KMCurveData], share: float = 0.10) -> float | None:
    """Where to cut a long time axis: the first at-risk time with fewer than ``share`` of the
    starting patients left (or the last event when that comes first); None when the curves
    end before that (no cut needed).

    Reads only the number-at-risk table and the step times, so the early months, where most
    patients are, get most of the width; the tail past the cut rests on few patients.
    """
    cuts = []
    for curve in curves:
        if curve.is_empty or not curve.at_risk:
            continue
        start = curve.at_risk.get(0.0) or max(curve.at_risk.values())
        sparse = [t for t, n in sorted(curve.at_risk.items()) if t > 0 and n < share * start]
        events = [float(t) for t, s, before in zip(curve.time, curve.surv,
                                                   [1.0, *curve.surv], strict=False)
                  if s < before]
        candidates = [c for c in (sparse[0] if sparse else None,
                                  max(events) if events else None) if c is not None]
        cuts.append(max(min(candidates), 3.0) if candidates else curve.end_time)
    if not cuts:
        return None
    cut = max(cuts)
    end = max(c.end_time for c in curves if not c.is_empty)
    return None if cut >= end - TIME_TOLERANCE else cut


def km_plot_svg(curves: Sequence[KMCurveData], *, title: str, time_unit: str = "months",
                at_risk_times: Sequence[float] | None = None, x_max: float | None = None,
                y_label: str = "Survival (%)", ci_band: bool = True,
                tick_step: float | None = None, note: str = "",
                thresholds: Sequence[tuple[float, str]] = ()) -> str:
    """Draw Kaplan-Meier curves with CI bands, censor marks and a number-at-risk table.

    Parameters
    ----------
    curves : up to about four curves; each gets an Okabe-Ito colour and its own dash style.
    title : figure title (wrapped to up to three lines).
    time_unit : unit of the times, used in the axis title; "months" ticks every 3/6/12 months.
    at_risk_times : where to print numbers at risk; default every x tick that has a count.
    x_max : right end of the time axis; default the last observed time rounded up to a tick.
    y_label : y-axis title, e.g. "Progression-free survival (%)".
    tick_step : spacing of the time ticks (and at-risk counts); default by the axis length.
    note : a line printed under the axis title, e.g. "axis truncated at 24 months".
    ci_band : draw the pointwise 95% CI as a light band.
    thresholds : (time, label) pairs drawn as labelled vertical dashed lines, e.g. a criterion's
        median-PFS threshold ``(6.0, "ESMO Form 3: median PFS >= 6 months")``.

    Each curve's median (``KMCurveData.median``) is marked by dotted lines from 50% to the
    curve and down to the time axis, labelled with its value; the legend gives events /
    patients and the median as stated in ``median_text``.

    Returns
    -------
    str : a standalone ``<svg>`` element (170 mm wide); a figure saying "no patients" when
    every curve is empty.
    """
    for curve in curves:
        _check_curve(curve)
    if x_max is not None and not x_max > 0:
        raise ValueError(f"x_max must be > 0, got {x_max!r}")
    drawn = [c for c in curves if not c.is_empty]
    months = time_unit.strip().lower() == "months"
    if x_max is None:
        data_max = max((c.end_time for c in drawn), default=0.0)
        data_max = data_max if data_max > 0 else 12.0
        step = tick_step or (month_tick_step(data_max) if months else nice_tick_step(data_max))
        x_max = round_up(data_max, step)
    else:
        step = tick_step or (month_tick_step(x_max) if months else nice_tick_step(x_max))
    ticks = ticks_upto(x_max, step)
    if at_risk_times is None:
        risk_times = [t for t in ticks if any(_lookup(c.at_risk, t) is not None for c in curves)]
    else:
        risk_times = [float(t) for t in at_risk_times if 0 <= float(t) <= x_max + TIME_TOLERANCE]

    width = FIGURE_WIDTH_PT
    labels = [c.label + f" ({EMPTY_NOTE})" if c.is_empty else c.legend_text for c in curves]
    label_need = max((SAMPLE * 0.6 + 4 + text_width(c.label, AT_RISK_SIZE) for c in curves),
                     default=0.0) if risk_times else 0.0
    # at-risk labels end 14 pt before the axis: room for half a 4-digit count centred at 0
    x0 = min(max(48.0, PAD + label_need + 14), 120.0)
    x1 = width - 18.0
    title_lines = wrap(title, TITLE_SIZE, width - 2 * PAD, max_lines=3)
    legend = legend_rows(labels, LEGEND_SIZE, SAMPLE, width - 2 * PAD) if curves else []
    top = PAD + TITLE_SIZE + (len(title_lines) - 1) * 13 + 6 + len(legend) * ROW + 6
    bottom = top + PLOT_HEIGHT
    risk_top = bottom + 40 + (12 if note else 0)
    height = (risk_top + ROW * (1 + len(curves)) if risk_times else bottom + 30 +
              (12 if note else 0)) + PAD

    x = LinearScale(0.0, x_max, x0, x1)
    y = LinearScale(0.0, 1.0, bottom, top)
    svg = SvgCanvas(width, height, title)

    for i, line in enumerate(title_lines):
        svg.text(PAD, PAD + TITLE_SIZE + i * 13, line, size=TITLE_SIZE, weight="bold",
                 css_class="figure-title")
    legend_y = PAD + TITLE_SIZE + (len(title_lines) - 1) * 13 + 6
    for r, row in enumerate(legend):
        cursor = PAD
        baseline = legend_y + (r + 1) * ROW - 3
        for index in row:
            colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
            svg.line(cursor, baseline - 3, cursor + SAMPLE, baseline - 3, stroke=colour,
                     width=1.5, dash=dash, css_class="legend-sample")
            text = truncate(labels[index], LEGEND_SIZE, width - PAD - cursor - SAMPLE - 4)
            svg.text(cursor + SAMPLE + 4, baseline, text, size=LEGEND_SIZE,
                     css_class="legend-label", tooltip=labels[index])
            cursor += SAMPLE + 4 + text_width(labels[index], LEGEND_SIZE) + 14

    # axes, grid and tick labels
    for value in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        if value > 0:
            svg.line(x0, y(value), x1, y(value), stroke=GRID, width=0.5, css_class="grid")
        svg.line(x0 - 3, y(value), x0, y(value), css_class="y-tick")
        svg.text(x0 - 5, y(value) + TICK_SIZE * 0.35, tick_text(value * 100), size=TICK_SIZE,
                 anchor="end", css_class="y-tick-label")
    for t in ticks:
        svg.line(x(t), bottom, x(t), bottom + 3, css_class="x-tick")
        svg.text(x(t), bottom + 12, tick_text(t), size=TICK_SIZE, anchor="middle",
                 css_class="x-tick-label")
    svg.line(x0, top, x0, bottom, css_class="axis")
    svg.line(x0, bottom, x1, bottom, css_class="axis")
    svg.text(x0 - 26, (top + bottom) / 2, y_label, size=LABEL_SIZE, anchor="middle",
             rotate=True, css_class="axis-title")
    svg.text((x0 + x1) / 2, bottom + 26, f"Time since start of treatment ({time_unit})",
             size=LABEL_SIZE, anchor="middle", css_class="axis-title")
    if note:
        svg.text((x0 + x1) / 2, bottom + 38, note, size=AT_RISK_SIZE, anchor="middle",
                 fill=MUTED, css_class="axis-note")

    _draw_thresholds(svg, thresholds, x, top, bottom, x_max)
    if not drawn:
        svg.text((x0 + x1) / 2, (top + bottom) / 2, EMPTY_NOTE, size=11.0, anchor="middle",
                 fill=MUTED, css_class="km-no-patients")
    styles = [(PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]) for i in range(len(curves))]
    if ci_band:
        for curve, (colour, _) in zip(curves, styles, strict=True):
            for d in _band_path(curve, curve.end_time, x_max, x, y):
                svg.path(d, fill=colour, fill_opacity=0.15, css_class="km-ci")
    for curve, (colour, dash) in zip(curves, styles, strict=True):
        if curve.is_empty:
            continue
        points = [(x(0.0), y(1.0))]
        points += [(x(float(t)), y(float(s)))
                   for t, s in zip(curve.time, curve.surv, strict=True) if float(t) <= x_max]
        svg.path(step_path(points, x(min(curve.end_time, x_max))), stroke=colour, width=1.5,
                 dash=dash, css_class="km-curve", tooltip=curve.label)
        svg.open_group("km-censor-marks")
        for t, s in zip(curve.censor_times, curve.censor_surv, strict=True):
            if float(t) <= x_max + TIME_TOLERANCE:
                cx, cy = x(float(t)), y(float(s))
                svg.path(f"M{num(cx - CENSOR_HALF)} {num(cy)}H{num(cx + CENSOR_HALF)}"
                         f"M{num(cx)} {num(cy - CENSOR_HALF)}V{num(cy + CENSOR_HALF)}",
                         stroke=colour, width=0.9, css_class="km-censor")
        svg.close_group()
    _draw_medians(svg, curves, styles, x, y, x_max)

    if risk_times:
        svg.text(PAD, risk_top, "Number at risk", size=AT_RISK_SIZE + 0.5, weight="bold",
                 css_class="at-risk-heading")
        for i, (curve, (colour, dash)) in enumerate(zip(curves, styles, strict=True)):
            baseline = risk_top + (i + 1) * ROW
            svg.line(PAD, baseline - 3, PAD + SAMPLE * 0.6, baseline - 3, stroke=colour,
                     width=1.5, dash=dash, css_class="legend-sample")
            svg.text(PAD + SAMPLE * 0.6 + 4, baseline,
                     truncate(curve.label, AT_RISK_SIZE, x0 - 14 - (PAD + SAMPLE * 0.6 + 4)),
                     size=AT_RISK_SIZE, fill=colour, css_class="at-risk-label",
                     tooltip=curve.label)
            for t in risk_times:
                count = _lookup(curve.at_risk, t)
                if count is None and (curve.is_empty or t > curve.end_time + TIME_TOLERANCE):
                    count = 0  # nobody is at risk after the last observed time
                svg.text(x(t), baseline, "–" if count is None else str(count),
                         size=AT_RISK_SIZE, anchor="middle", css_class="km-at-risk")
    return svg.to_svg()


def _draw_thresholds(svg: SvgCanvas, thresholds: Sequence[tuple[float, str]], x: LinearScale,
                     top: float, bottom: float, x_max: float) -> None:
    """Labelled vertical dashed lines at criteria thresholds; each group carries the time in
    ``data-months`` so that a reader (or test) can tell which value was drawn."""
    for k, (value, text) in enumerate(thresholds):
        if not 0 <= float(value) <= x_max + TIME_TOLERANCE:
            continue
        svg.open_group("km-threshold", **{"data-months": f"{float(value):g}"})
        svg.line(x(float(value)), top, x(float(value)), bottom, stroke=THRESHOLD_COLOUR,
                 width=0.9, dash="5 3", css_class="km-threshold-line")
        right_half = x(float(value)) > (x.range_lo + x.range_hi) / 2
        svg.text(x(float(value)) + (-3 if right_half else 3), top + 9 + 10 * k, text,
                 size=THRESHOLD_SIZE, fill=THRESHOLD_COLOUR, anchor="end" if right_half
                 else "start", css_class="km-threshold-label")
        svg.close_group()


def _draw_medians(svg: SvgCanvas, curves: Sequence[KMCurveData],
                  styles: Sequence[tuple[str, str]], x: LinearScale, y: LinearScale,
                  x_max: float) -> None:
    """Dotted lines from 50% across to each curve's median and down to the time axis, with
    the median's value next to the axis (the value comes with the curve, nothing is read off)."""
    for i, (curve, (colour, _)) in enumerate(zip(curves, styles, strict=True)):
        if curve.is_empty or not _finite(curve.median) or float(curve.median) > x_max:
            continue
        m = float(curve.median)  # type: ignore[arg-type]
        svg.open_group("km-median", **{"data-months": f"{m:g}"})
        svg.path(f"M{num(x(0.0))} {num(y(0.5))}H{num(x(m))}V{num(y(0.0))}", stroke=colour,
                 width=0.8, dash="1.5 1.5", css_class="km-median-line")
        svg.text(x(m) + 3, y(0.0) - 4 - 10 * i, f"median {months_value_text(m)}",
                 size=THRESHOLD_SIZE, fill=colour, css_class="km-median-label")
        svg.close_group()


def _none_if_nan(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def km_curve_data_from_results(results: pd.DataFrame, group_by: str, group: str, endpoint: str,
                               label: str | None = None,
                               at_risk_times: Sequence[float] | None = None) -> KMCurveData:
    """Build a curve from results rows (contract D): ``"curve"`` steps and ``"n_risk"`` rows.

    Censor marks sit at the steps where ``n_censor = n_risk(t) - n_event(t) - n_risk(next)``
    is positive (the curve rows hold every distinct observed time). Numbers at risk come from
    the ``"n_risk"`` rows and, at ``at_risk_times`` (default every 3 months up to the last
    observed time rounded up to a year), are read off the step table: the number at risk at t is
    ``n_risk`` of the first step at or after t, 0 after the last one. Where both exist they must
    agree, else the curve rows are incomplete and a ValueError says so.
    """
    required = {"group_by", "group", "endpoint", "statistic", "time", "estimate", "lower",
                "upper", "x", "n"}
    missing = sorted(required - set(results.columns))
    if missing:
        raise ValueError(f"results table lacks column(s) {', '.join(missing)}")
    where = f"group_by={group_by!r}, group={group!r}, endpoint={endpoint!r}"
    # numpy masks, not pandas ones: this runs for every cohort and endpoint of a build
    mask = results["endpoint"].astype(str).to_numpy() == str(endpoint)
    mask &= results["group"].astype(str).to_numpy() == str(group)
    mask &= results["group_by"].astype(str).to_numpy() == str(group_by)
    rows = results[mask]
    if rows.empty:
        raise ValueError(f"results table has no rows for {where}")
    label = label if label is not None else ("All patients" if group_by == "all" else str(group))
    statistic = rows["statistic"].to_numpy()
    curve = rows[statistic == "curve"].sort_values("time", kind="mergesort")
    for column in ("time", "estimate", "n", "x"):
        bad = curve.index[curve[column].isna()]
        if len(bad):
            raise ValueError(f"results row {bad[0]} ({where}, statistic 'curve'): "
                             f"column {column!r} is empty")
    times = [float(v) for v in curve["time"]]
    surv = [float(v) for v in curve["estimate"]]
    n_risk = [int(v) for v in curve["n"]]
    n_event = [int(v) for v in curve["x"]]
    censor_times: list[float] = []
    censor_surv: list[float] = []
    for i, t in enumerate(times):
        following = n_risk[i + 1] if i + 1 < len(times) else 0
        n_censor = n_risk[i] - n_event[i] - following
        if n_censor < 0:
            raise ValueError(f"results row {curve.index[i]} ({where}, statistic 'curve', "
                             f"time {t:g}): n_risk {n_risk[i]} - n_event {n_event[i]} is less "
                             f"than the next step's n_risk {following}")
        if n_censor > 0:
            censor_times.append(t)
            censor_surv.append(surv[i])

    def read_off(t: float) -> int:
        return next((n for s, n in zip(times, n_risk, strict=True)
                     if s >= t - TIME_TOLERANCE), 0)

    at_risk: dict[float, int] = {}
    risk_rows = rows[statistic == "n_risk"]
    for index, time, estimate in zip(risk_rows.index, risk_rows["time"].tolist(),
                                     risk_rows["estimate"].tolist(), strict=True):
        if pd.isna(time) or pd.isna(estimate):
            continue
        t, count = float(time), int(estimate)
        if times and read_off(t) != count:
            raise ValueError(f"results row {index} ({where}, statistic 'n_risk', time {t:g}): "
                             f"{count} at risk, but the curve rows give {read_off(t)}; the "
                             "curve rows must hold every distinct observed time")
        at_risk[t] = count
    if times:
        grid = at_risk_times
        if grid is None:
            grid = ticks_upto(round_up(max(times), 12.0), 3.0)
        for t in grid:
            if _lookup(at_risk, float(t)) is None:
                at_risk[float(t)] = read_off(float(t))
    untimed = rows["time"].isna().to_numpy()
    counts = rows[(statistic == "n") & untimed]
    medians = rows[(statistic == "median") & untimed]
    count = counts.iloc[0] if len(counts) else None
    median = medians.iloc[0] if len(medians) else None
    return KMCurveData(
        label=label, time=times, surv=surv,
        lower=[_none_if_nan(v) for v in curve["lower"]],
        upper=[_none_if_nan(v) for v in curve["upper"]],
        censor_times=censor_times, censor_surv=censor_surv,
        at_risk=dict(sorted(at_risk.items())),
        events=None if count is None or pd.isna(count["x"]) else int(count["x"]),
        patients=None if count is None or pd.isna(count["n"]) else int(count["n"]),
        median=None if median is None else _none_if_nan(median["estimate"]),
        median_text="" if median is None else median_words(median.to_dict()),
    )


def median_words(row: Mapping[str, object]) -> str:
    """The median as a legend states it: "3.4 months (95% CI 2.8-4.5)", "not reached (95% CI
    8.1-NR)"; the limits as :func:`dossier.render.formatting.median_parts` writes them."""
    estimate, lower, upper = median_parts(row)
    head = {NOT_REACHED: "not reached", NOT_ESTIMABLE: "not estimable"}.get(
        estimate, f"{estimate} months")
    try:
        level = float(json.loads(str(row.get("parameters") or "{}")).get("level", 0.95))
    except (ValueError, AttributeError):
        level = 0.95
    return f"{head} ({level * 100:g}% CI {lower}-{upper})"
