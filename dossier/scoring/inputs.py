"""From the analysis-results table (contract D) and cohort metadata to scoring metrics (contract E).

The engine never reads patient files: this module picks, per cohort, the few rows of the long
results table a rule file needs, and adds what only the cohort metadata can carry (comparator
data, quality of life, regulatory status).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dossier.scoring.grammar import thresholds_of
from dossier.scoring.metrics import NOT_REACHED, is_absent
from dossier.scoring.rules import RuleSet, used_metrics

RESULT_COLUMNS = ("group_by", "group", "endpoint", "statistic", "time", "estimate", "x", "n",
                  "denominator", "status")

RATES: dict[str, tuple[str, str, str]] = {
    # metric: (endpoint, denominator, column)
    "n_evaluable": ("patients", "", "estimate"),
    "cbr": ("cbr", "evaluable", "estimate"),
    "cb_n": ("cbr", "evaluable", "x"),
    "cb_durable_n": ("cbr_durable", "evaluable", "x"),
    "orr": ("orr", "evaluable", "estimate"),
    "g3_trae_rate": ("severe_trae", "treated", "estimate"),
}
"""Rates are taken over evaluable patients (as DRUP reports them); severe_trae over treated."""

STAGE_RATES: dict[str, tuple[str, str]] = {
    # metric stem: (endpoint stem, column); stage k adds the suffix _stage<k> to both
    "cb_n": ("cbr", "x"),
    "n_evaluable": ("cbr", "n"),
    "cb_durable_n": ("cbr_durable", "x"),
}
"""Counts among the first evaluable patients of stage k (``cb_n_stage1`` of
``n_evaluable_stage1``), taken from the ``cbr_stage<k>`` rows: how many patients a stage counts
is the stage's ``of:`` in the staged rule file, recorded in the rows' parameters ("first")."""

STAGE_SUFFIX = re.compile(r"_stage([1-9][0-9]*)$")


def stage_metrics(endpoint: str) -> dict[str, str]:
    """Metric -> column of a stage row: ``cbr_stage2`` gives cb_n_stage2 (x) and
    n_evaluable_stage2 (n)."""
    found = STAGE_SUFFIX.search(endpoint)
    if found is None:
        return {}
    stem, suffix = endpoint[:found.start()], found.group(0)
    return {metric + suffix: column for metric, (rate, column) in STAGE_RATES.items()
            if rate == stem}


def stage_metric_endpoint(metric: str) -> str | None:
    """The results endpoint a stage metric comes from (``cb_n_stage1`` -> ``cbr_stage1``)."""
    found = STAGE_SUFFIX.search(metric)
    entry = STAGE_RATES.get(metric[:found.start()]) if found else None
    return None if entry is None else entry[0] + found.group(0)  # type: ignore[union-attr]


COUNTS = frozenset(m for m, (_, _, column) in RATES.items() if column in ("x", "n")) | {
    "n_evaluable"}

MEDIANS = {"pfs": "pfs", "os": "os", "dor": "dor"}
LANDMARK_METRIC = re.compile(r"^(os|pfs)_landmark_([1-9][0-9]*)(y|m)$")
"""``os_landmark_3y`` / ``pfs_landmark_6m``: Kaplan-Meier survival at that time, a fraction
(whole years are named in years: 36 months is ``os_landmark_3y``)."""


def landmark_months(metric: str) -> float | None:
    """The time a landmark metric is read at, in months (``os_landmark_3y`` -> 36)."""
    found = LANDMARK_METRIC.match(metric)
    if found is None:
        return None
    _, count, unit = found.groups()
    return float(count) * (12.0 if unit == "y" else 1.0)


MEDIAN_THRESHOLD_METRICS = frozenset({"pfs_median_months", "os_median_months",
                                      "dor_median_months"})
"""Medians whose thresholds are decided through the Kaplan-Meier S(T) at the threshold time."""


def median_threshold_times(rule_sets: Sequence[RuleSet]) -> tuple[float, ...]:
    """Every time T a rule file compares a median with ("median PFS >= 6 months": 6)."""
    conditions = []
    for rule_set in rule_sets:
        conditions += [g.when for g in rule_set.gates]
        conditions += [s.when for s in rule_set.strata]
        conditions += [r.when for r in rule_set.all_rules if r.when is not None]
        conditions += [a.when for a in rule_set.adjustments]
    times = {float(t) for condition in conditions
             for metric, found in thresholds_of(condition).items()
             if metric in MEDIAN_THRESHOLD_METRICS for t in found}
    return tuple(sorted(t for t in times if math.isfinite(t) and t > 0))


def needed_landmarks(rule_sets: Sequence[RuleSet]) -> tuple[float, ...]:
    """The landmark times (months) the rule files read: their landmark metrics (PASKWIL 2024's
    os_landmark_3y: 36) and the threshold times of their median clauses (decided via S(T))."""
    months = {landmark_months(name) for rule_set in rule_sets for name in used_metrics(rule_set)}
    months |= set(median_threshold_times(rule_sets))
    return tuple(sorted(m for m in months if m is not None))


def landmark_metric_name(endpoint: str, months: float) -> str:
    """The metric a landmark row answers to: whole years in years (``os_landmark_3y`` at 36
    months), other times in months (``pfs_landmark_6m``)."""
    if months % 12 == 0:
        return f"{endpoint}_landmark_{months / 12:g}y"
    return f"{endpoint}_landmark_{months:g}m"


META_COLUMNS = (
    "setting", "rare_indication", "no_effective_treatment", "qol_improved", "phase4_confirmatory",
    "g34_tox_wellbeing_rate", "control_os_median_months", "control_pfs_median_months", "hr_os",
    "hr_os_lower95", "hr_pfs", "hr_pfs_lower95", "os_landmark_gain_2y", "os_landmark_gain_3y",
)
"""Cohort-metadata columns copied as metrics of the same name."""

EMA_APPROVED = {"approved": True, "conditional": True, "not_approved": False}
"""ema_status -> ema_approved: conditional approval counts as (conditional) EMA approval."""


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class _Rows:
    """One group's results rows, split once by endpoint and statistic (a filter of the whole
    frame for each metric was most of the scoring's time)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._split = dict(iter(frame.groupby(["endpoint", "statistic"], sort=False)))
        self._none = frame.iloc[0:0]

    def __call__(self, endpoint: str, statistic: str) -> pd.DataFrame:
        return self._split.get((endpoint, statistic), self._none)


def _from_rates(rows_of: _Rows, out: dict[str, object]) -> None:
    frame = rows_of.frame
    for metric, (endpoint, denominator, column) in RATES.items():
        if endpoint == "patients":
            rows = rows_of("patients", "evaluable")
        else:
            rows = rows_of(endpoint, "rate")
            rows = rows[rows["denominator"] == denominator]
        if rows.empty:
            continue
        value = _number(rows.iloc[0][column])
        if value is None:
            continue
        out[metric] = round(value) if metric in COUNTS else value
    stages = frame[(frame["statistic"] == "rate")
                   & frame["endpoint"].astype(str).str.contains("_stage", regex=False)]
    for endpoint, column_row in zip(stages["endpoint"].astype(str), stages.to_dict("records"),
                                    strict=True):
        for metric, column in stage_metrics(endpoint).items():
            value = _number(column_row[column])
            if value is not None:
                out.setdefault(metric, round(value))


def _from_survival(rows_of: _Rows, out: dict[str, object]) -> None:
    for stem, endpoint in MEDIANS.items():
        median = rows_of(endpoint, "median")
        if not median.empty:
            row = median.iloc[0]
            if row["status"] == "not_reached":
                out[f"{stem}_median_months"] = NOT_REACHED
            elif row["status"] == "ok" and _number(row["estimate"]) is not None:
                out[f"{stem}_median_months"] = _number(row["estimate"])
        followup = rows_of(endpoint, "followup")
        if not followup.empty and followup.iloc[0]["status"] == "ok":
            value = _number(followup.iloc[0]["estimate"])
            if value is not None:
                out[f"{stem}_followup_months"] = value
    for endpoint in ("os", "pfs"):
        survival = rows_of(endpoint, "survival")
        for months, estimate in zip(survival["time"], survival["estimate"], strict=True):
            value = _number(estimate)
            if value is None or _number(months) is None or months <= 0:
                continue
            out.setdefault(landmark_metric_name(endpoint, float(months)), value)


def _from_metadata(row: Mapping[str, object], out: dict[str, object]) -> None:
    for column in META_COLUMNS:
        value = row.get(column)
        if is_absent(value):
            continue
        if isinstance(value, bool | np.bool_):
            out[column] = bool(value)
        elif isinstance(value, int | float | np.integer | np.floating):
            out[column] = float(value)
        else:
            out[column] = value
    status = row.get("ema_status")
    if not is_absent(status) and str(status) in EMA_APPROVED:
        out["ema_approved"] = EMA_APPROVED[str(status)]


def metrics_from_results(results: pd.DataFrame, cohorts_meta: pd.DataFrame | None = None, *,
                         group_by: str = "cohort_id") -> dict[str, dict[str, object]]:
    """Per-cohort scoring metrics (contract E) from the results table and cohort metadata.

    Parameters
    ----------
    results
        The analysis-results table (contract D).
    cohorts_meta
        Cohort metadata (one row per ``cohort_id``), e.g. ``Registry.cohorts``; optional.
    group_by
        Which grouping of the results to score (default the DRUP cohorts).

    Returns
    -------
    dict
        ``{cohort_id: {metric: value}}`` in the order of the results table. Rates and counts are
        over evaluable patients; medians not reached are "NR" with their follow-up;
        ``g3_trae_rate`` (all grade >= 3 treatment-related AEs, treated patients) is given as an
        upper bound for ``g34_tox_wellbeing_rate``, which only the metadata can supply.

    Raises
    ------
    ValueError
        When ``results`` lacks a contract-D column (named in the message).
    """
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise ValueError(f"results table lacks column(s) {', '.join(missing)} (contract D)")
    rows = results[results["group_by"] == group_by]
    meta: dict[str, Mapping[str, object]] = {}
    if cohorts_meta is not None and "cohort_id" in cohorts_meta.columns:
        for record in cohorts_meta.to_dict("records"):
            meta[str(record["cohort_id"])] = record
    out: dict[str, dict[str, object]] = {}
    for group, frame in rows.groupby("group", sort=False):
        metrics: dict[str, object] = {}
        rows_of = _Rows(frame)
        _from_rates(rows_of, metrics)
        _from_survival(rows_of, metrics)
        if str(group) in meta:
            _from_metadata(meta[str(group)], metrics)
        out[str(group)] = metrics
    return out
