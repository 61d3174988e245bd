"""The report's figure calls: Kaplan-Meier axes and forest plots cut to fit a page.

The figures themselves are drawn by :mod:`dossier.render.figures` from results rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from dossier.render.figures import (
    forest_rows_from_results,
    forest_svg,
    km_curve_data_from_results,
    km_plot_svg,
    readable_x_max,
)
from dossier.render.results_index import ResultsIndex
from dossier.render.svg import month_tick_step

FOREST_ROWS_PER_FIGURE = 36
"""Cohorts per forest plot: one figure must fit an A4 page."""


KM_ENDPOINTS = (("pfs", "PFS", "Progression-free survival"), ("os", "OS", "Overall survival"))
KM_TICK_MONTHS = 3.0
KM_MAX_TICKS = 16
"""3-month ticks while they stay legible (up to 48 months); longer axes tick every 6 or 12."""


def km_axis(curves: Sequence[Any], *, full_followup: bool = False,
            thresholds: Sequence[tuple[float, str]] = ()) -> dict[str, Any]:
    """Time axis of a cohort's Kaplan-Meier plot: cut where < 10% remain at risk (or at the
    last event), rounded up to a tick, with a note saying so; 3-month ticks where legible.

    With ``full_followup`` the axis runs to the last observed time (no cut). The axis always
    reaches the largest threshold drawn, so that a criterion's line is never cut off.
    """
    end = max((c.end_time for c in curves if not c.is_empty), default=0.0)
    reach = max((float(t) for t, _ in thresholds), default=0.0)
    cut = None if full_followup else readable_x_max(curves)
    if cut is None or max(cut, reach) >= end:
        span = max(end, reach)
        step = KM_TICK_MONTHS if span <= KM_TICK_MONTHS * KM_MAX_TICKS else month_tick_step(span)
        if reach > end:
            return {"tick_step": step, "x_max": math.ceil(reach / step - 1e-9) * step}
        return {"tick_step": step if span <= KM_TICK_MONTHS * KM_MAX_TICKS else None}
    cut = max(cut, reach)
    step = KM_TICK_MONTHS if cut <= KM_TICK_MONTHS * KM_MAX_TICKS else month_tick_step(cut)
    x_max = math.ceil(cut / step - 1e-9) * step
    if x_max >= end:
        return {"tick_step": step}
    return {"x_max": x_max, "tick_step": step,
            "note": f"axis truncated at {x_max:g} months (fewer than 10% of patients at risk "
                    f"or no later event); curve continues to {end:.1f} months"}


def cohort_km_figures(results: pd.DataFrame, cohort_id: str, number: int, drug: str,
                      indication: str, *, pfs_thresholds: Sequence[tuple[float, str]] = (),
                      full_followup: bool = False) -> list[str]:
    """The PFS and OS plots of one cohort, numbered "Figure <cohort>.<k>" and titled with the
    drug and the cohort; the PFS plot carries the rule files' median-PFS thresholds."""
    figures = []
    for endpoint, short, name in KM_ENDPOINTS:
        present = results[(results["endpoint"] == endpoint) & (results["statistic"] == "n")]
        if present.empty:
            continue
        curve = km_curve_data_from_results(results, "cohort_id", cohort_id, endpoint,
                                           label=short)
        lines = pfs_thresholds if endpoint == "pfs" else ()
        figures.append(km_plot_svg(
            [curve], title=f"Figure {number}.{len(figures) + 1}. {name}, Kaplan-Meier "
                           f"estimate: {drug}, cohort {number} ({indication})",
            y_label=f"{name} (%)", thresholds=lines,
            **km_axis([curve], full_followup=full_followup, thresholds=lines)))
    return figures


def swimmer_title(number: int, n_figure: int, drug: str, indication: str) -> str:
    """Title of a cohort's swimmer plot, numbered after its Kaplan-Meier plots."""
    return (f"Figure {number}.{n_figure}. Progression-free time by patient and best overall "
            f"response: {drug}, cohort {number} ({indication})")


def forest_figures(index: ResultsIndex, endpoint: str, labels: Mapping[str, str], title: str,
                   thresholds: Sequence[tuple[float, str]],
                   min_patients: Sequence[int | None] = (), number: str = "") -> list[str]:
    """Forest plots of one rate, cut into figures that each fit a page.

    ``min_patients`` (per threshold, None for none) limits a threshold to the cohorts with at
    least that many patients in the rate's denominator: DRUP's stage-2 bar (5 of 24) applies
    to cohorts that reached 24 evaluable patients, not to one closed after 8. The label says so.
    ``number`` ("C.1") heads the titles: "Figure C.1. <title> (1 of 2)".
    """
    title = f"Figure {number}. {title}" if number else title
    scoped: list[tuple[float, str]] = []
    scopes: list[set[str] | None] = []
    for k, (value, text) in enumerate(thresholds):
        least = min_patients[k] if k < len(min_patients) else None
        if least is None:
            scoped.append((value, text))
            scopes.append(None)
            continue
        scoped.append((value, f"{text}, drawn for cohorts with >= {least} evaluable"))
        scopes.append({labels[cid] for cid in labels
                       if _denominator(index, cid, endpoint) >= least})
    rows = sorted((replace(r, label=labels[r.label]) for r in
                   forest_rows_from_results(index.frame, endpoint) if r.label in labels),
                  key=lambda r: int(r.label.split(".", 1)[0]))
    if not rows:
        return [forest_svg([], title=title, thresholds=scoped, threshold_rows=scopes)]
    chunks = math.ceil(len(rows) / FOREST_ROWS_PER_FIGURE)
    size = math.ceil(len(rows) / chunks)
    out = []
    for k in range(chunks):
        part = f" ({k + 1} of {chunks})" if chunks > 1 else ""
        out.append(forest_svg(rows[k * size:(k + 1) * size], title=title + part,
                              thresholds=scoped, label_header="Cohort",
                              n_header="x/n", threshold_rows=scopes))
    return out


def _denominator(index: ResultsIndex, cohort_id: str, endpoint: str) -> int:
    """Patients in the denominator of a cohort's rate (0 when the row is missing)."""
    row = index.get(("cohort_id", cohort_id), endpoint, "rate", "evaluable")
    return 0 if row is None or pd.isna(row["n"]) else int(row["n"])
