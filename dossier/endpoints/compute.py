"""Every endpoint of every group, as one results table (contract D).

``compute_endpoints`` derives the per-patient outcomes once (:mod:`.response`), then for each
grouping - the pooled set, every cohort, and each grouping the user asks for - counts outcomes
per group with ``np.bincount`` (exact Clopper-Pearson intervals from :mod:`.rates`) and runs the
Kaplan-Meier core (:mod:`.km`, R ``survival`` semantics) on contiguous array slices of a single
sort. No per-group pandas work, and the table is built once from row tuples at the end.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from itertools import pairwise

import numpy as np
import pandas as pd

from dossier.config import ConfigError
from dossier.endpoints.km import kaplan_meier, km_at_times, km_quantile, median_followup
from dossier.endpoints.labels import PATIENT_LABELS, denominator_label, time_to_event_label
from dossier.endpoints.parameters import EndpointParameters, number_text
from dossier.endpoints.pfs_ratio import median_ratio_method, median_ratio_row, ratios_by_group
from dossier.endpoints.rates import Rate, clopper_pearson
from dossier.endpoints.response import (
    PatientOutcomes,
    RateEndpoint,
    check_response_columns,
    derive_outcomes,
    parameters_json,
    rate_endpoints,
)
from dossier.endpoints.results import ResultsBuilder
from dossier.registry.schema import DAYS_PER_MONTH
from dossier.resources import drup_stage_sizes

POOLED = "all"
MISSING_GROUP = "missing"
KNOWN_GROUPINGS = ("drug", "tumour_type", "alteration", "rare_cancer", "stage", "prior_lines_band")
"""Groupings the DRUP reports use; any other column of the patient frame works too."""

PRIOR_LINES_BANDS = ("0-1", "2", "3+")
"""Bands of ``prior_lines`` for the derived ``prior_lines_band`` column (missing -> 'missing')."""

REQUIRED_COLUMNS = ("cohort_id", "os_days", "os_event")
QUANTILES = (("median", 0.5), ("q25", 0.25), ("q75", 0.75))
RISK_TABLE_STEP_MONTHS = 3.0
MIN_GROUPS_PER_WORKER = 250
"""A grouping is shared between worker processes only when each gets at least this many groups."""

_CI_TEXT = {"log-log": "log-log", "log": "log", "plain": "plain (linear)"}
_TIME_TO_EVENT = {
    "pfs": (
        "treated",
        "PFS from treatment start to progression or death; censored at the last known "
        "progression-free date",
    ),
    "os": (
        "treated",
        "OS from treatment start to death from any cause; censored at the last known alive date",
    ),
    "dor": (
        "responders",
        "DoR from the first documented CR/PR to progression or death, among confirmed "
        "responders with a response date; censored at the last known progression-free date",
    ),
}


@dataclass(frozen=True)
class _Grouping:
    name: str
    codes: np.ndarray  # int64 group code per patient
    labels: tuple[str, ...]  # sorted group values


@dataclass(frozen=True)
class _Arrays:
    """The per-patient arrays the engine needs, aligned with the frame rows."""

    pfs_days: np.ndarray
    pfs_event: np.ndarray
    os_days: np.ndarray
    os_event: np.ndarray
    rare: np.ndarray
    outcomes: PatientOutcomes


def _take(arrays: _Arrays, mask: np.ndarray) -> _Arrays:
    """The arrays of the patients in ``mask`` only (for a worker's share of the groups)."""
    outcomes = arrays.outcomes
    picked = {f.name: getattr(outcomes, f.name)[mask] for f in fields(outcomes)
              if f.name != "stage_sizes"}
    return _Arrays(
        arrays.pfs_days[mask], arrays.pfs_event[mask], arrays.os_days[mask],
        arrays.os_event[mask], arrays.rare[mask], replace(outcomes, **picked),
    )


@dataclass(frozen=True)
class _Task:
    """A share of the work: some groups of one grouping, with their patients' arrays."""

    arrays: _Arrays
    grouping: _Grouping
    rates: tuple[RateEndpoint, ...]
    parameters: EndpointParameters
    risk_table_months: tuple[float, ...] | None

    def run(self) -> pd.DataFrame:
        engine = _Engine(self.arrays, self.rates, self.parameters, self.risk_table_months)
        engine.grouping(self.grouping)
        return engine.builder.frame()


def _run_task(task: _Task) -> pd.DataFrame:
    return task.run()


def _shares(task: _Task, workers: int) -> list[_Task]:
    """Split a task's groups into ``workers`` contiguous shares of about equal patient count."""
    codes, labels = task.grouping.codes, task.grouping.labels
    size = len(labels)
    if workers <= 1 or size < workers * MIN_GROUPS_PER_WORKER:
        return [task]
    per_group = np.bincount(codes, minlength=size)
    cut = np.searchsorted(np.cumsum(per_group), per_group.sum() * np.arange(1, workers) / workers)
    edges = [0, *sorted(set(np.minimum(cut + 1, size).tolist())), size]
    out = []
    for lo, hi in pairwise(edges):
        if hi <= lo:
            continue
        mask = (codes >= lo) & (codes < hi)
        grouping = _Grouping(task.grouping.name, codes[mask] - lo, labels[lo:hi])
        out.append(replace(task, arrays=_take(task.arrays, mask), grouping=grouping))
    return out


_clopper_pearson = lru_cache(maxsize=1 << 16)(clopper_pearson)


def _none_to_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def prior_lines_band(prior_lines: pd.Series) -> pd.Series:
    """Bands of prior systemic lines: '0-1', '2', '3+' ('missing' when not recorded)."""
    lines = pd.to_numeric(prior_lines.astype("object"), errors="coerce")
    band = np.select(
        [lines.isna().to_numpy(), (lines <= 1).to_numpy(), (lines == 2).to_numpy()],
        [MISSING_GROUP, PRIOR_LINES_BANDS[0], PRIOR_LINES_BANDS[1]],
        default=PRIOR_LINES_BANDS[2],
    )
    return pd.Series(band, index=prior_lines.index, name="prior_lines_band", dtype=object)


def _label(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _grouping(name: str, values: pd.Series) -> _Grouping:
    """Integer group codes for a column, groups in sorted order of their text value."""
    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    labels = np.array([_label(u) for u in uniques] + [MISSING_GROUP], dtype=object)
    codes = np.where(codes < 0, len(uniques), codes)
    sorted_labels, inverse = np.unique(labels, return_inverse=True)
    codes = inverse[codes]
    used = np.bincount(codes, minlength=len(sorted_labels)) > 0
    remap = np.cumsum(used) - 1
    return _Grouping(name, remap[codes].astype(np.int64), tuple(sorted_labels[used].tolist()))


def _resolve_by(patients: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, pd.Series]]:
    if isinstance(by, str):
        by = [by]
    available = sorted({*map(str, patients.columns), "prior_lines_band"})
    out: list[tuple[str, pd.Series]] = []
    seen = {POOLED, "cohort_id"}
    for name in by:
        if name in seen:
            continue
        seen.add(name)
        if name in patients.columns:
            out.append((name, patients[name]))
        elif name == "prior_lines_band" and "prior_lines" in patients.columns:
            out.append((name, prior_lines_band(patients["prior_lines"])))
        else:
            raise ConfigError(
                f"cannot group by {name!r}: no such column; available: {', '.join(available)}"
            )
    return out


def _row_labels(patients: pd.DataFrame, mask: np.ndarray) -> str:
    where = patients["row"] if "row" in patients.columns else pd.Series(patients.index)
    ids = patients["patient_id"] if "patient_id" in patients.columns else where
    shown = [f"{i} (row {r})" for i, r in zip(ids[mask][:5], where[mask][:5], strict=True)]
    more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
    return ", ".join(shown) + more


def _times(patients: pd.DataFrame, time: str, event: str) -> tuple[np.ndarray, np.ndarray]:
    days = pd.to_numeric(patients[time].astype("object"), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(days) | (days < 0)
    if bad.any():
        raise ValueError(f"column {time!r} must be days >= 0; bad for {_row_labels(patients, bad)}")
    flags = pd.to_numeric(patients[event].astype("object"), errors="coerce").to_numpy(float)
    bad = ~np.isin(flags, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"column {event!r} must be 0 or 1; bad for {_row_labels(patients, bad)}")
    return days, flags.astype(np.int64)


class _Engine:
    """Emits the rows of one computation; holds the settings shared by every group."""

    def __init__(
        self,
        arrays: _Arrays,
        rates: tuple[RateEndpoint, ...],
        parameters: EndpointParameters,
        risk_table_months: tuple[float, ...] | None,
    ) -> None:
        self.a = arrays
        self.rates = rates
        self.ci = ci = parameters.ci
        self.level = level = parameters.conf_level
        self.p = parameters
        self.landmarks_months = parameters.landmarks_months
        self.landmark_days = np.array(self.landmarks_months, dtype=float) * DAYS_PER_MONTH
        self.risk_table_months = risk_table_months
        self.builder = ResultsBuilder()
        self.rows = self.builder.rows
        self.km_params = parameters_json({"ci": ci, "level": level})
        ci_text = _CI_TEXT[ci]
        percent = f"{number_text(level * 100)}%"
        self.rate_method = {
            (r.endpoint, r.denominator): f"Clopper-Pearson exact {percent} CI; {r.definition}"
            for r in rates
        }
        self.rate_params = {(r.endpoint, r.denominator): r.parameters_json for r in rates}
        self.rate_labels = {(r.endpoint, r.denominator): (r.label, r.denominator_label)
                            for r in rates}
        self.km_labels = {
            (endpoint, statistic): time_to_event_label(endpoint, statistic)
            for endpoint in _TIME_TO_EVENT
            for statistic in ("n", "events", "censored", "median", "q25", "q75", "n_risk",
                              "curve", "followup")}
        self.km_denominator = {endpoint: denominator_label(d, parameters)
                               for endpoint, (d, _) in _TIME_TO_EVENT.items()}
        self.landmark_labels = {(endpoint, months): time_to_event_label(endpoint, "survival",
                                                                         months)
                                for endpoint in _TIME_TO_EVENT
                                for months in self.landmarks_months}
        self.km_method: dict[tuple[str, str], str] = {}
        for endpoint, (_, censoring) in _TIME_TO_EVENT.items():
            base = f"times in months = days / 30.4375; {censoring}"
            km = f"Kaplan-Meier; pointwise CI {ci_text} (Greenwood)"
            quantile = (
                f"{km}; quantile CI Brookmeyer-Crowley (R quantile.survfit rules); "
                f"not reached = NaN; {base}"
            )
            self.km_method[endpoint, "n"] = f"count of patients (x = events); {base}"
            self.km_method[endpoint, "events"] = f"count of events; {base}"
            self.km_method[endpoint, "censored"] = f"count of censored patients; {base}"
            for statistic, _ in QUANTILES:
                self.km_method[endpoint, statistic] = quantile
            self.km_method[endpoint, "survival"] = (
                f"{km}; S(t) right-continuous (R summary.survfit, extend = TRUE); "
                f"not_estimable beyond the last observation unless S reached 0; {base}"
            )
            step = number_text(RISK_TABLE_STEP_MONTHS)
            every = (
                f"every {step} months to the group's last observation"
                if risk_table_months is None
                else "at the requested times"
            )
            self.km_method[endpoint, "n_risk"] = (
                f"number at risk = patients with time >= t, {every}; {base}"
            )
            self.km_method[endpoint, "curve"] = (
                f"{km}; one row per distinct time: estimate = S, n = at risk, x = events; {base}"
            )
            self.km_method[endpoint, "followup"] = (
                f"median follow-up by reverse Kaplan-Meier (censorings as events; x = censored); "
                f"CI Brookmeyer-Crowley, {ci_text}; {base}"
            )

    # -- rows ------------------------------------------------------------------------------

    def patients(self, gb: str, g: str, treated: int, evaluable: int, rare: int,
                 rare_evaluable: int) -> None:
        status = "ok" if treated else "no_patients"
        nan = math.nan
        words = PATIENT_LABELS
        self.rows += [
            (gb, g, "patients", "treated", nan, float(treated), nan, nan, nan, float(treated),
             "patients", "", status, "count of treated patients (rows of the registry)", "{}",
             words["treated"], ""),
            (gb, g, "patients", "evaluable", nan, float(evaluable), nan, nan, float(evaluable),
             float(treated), "patients", "treated", status,
             "count of response-evaluable patients", "{}", words["evaluable"], "treated"),
            (gb, g, "patients", "rare", nan, float(rare), nan, nan, float(rare), float(treated),
             "patients", "treated", status,
             "count of patients with a rare cancer (< 6 per 100,000 per year)", "{}",
             words["rare"], "treated"),
            (gb, g, "patients", "rare", nan, float(rare_evaluable), nan, nan,
             float(rare_evaluable), float(evaluable), "patients", "evaluable",
             "ok" if evaluable else "no_patients",
             "count of response-evaluable patients with a rare cancer "
             "(< 6 per 100,000 per year)", "{}", words["rare"], "evaluable"),
        ]

    def rate(self, gb: str, g: str, definition: RateEndpoint, x: int, n: int,
             order_unknown: bool = False) -> None:
        key = definition.endpoint, definition.denominator
        label, of = self.rate_labels[key]
        if order_unknown:  # the first patients of the cohort cannot be told apart
            nan = math.nan
            self.rows.append(
                (gb, g, definition.endpoint, "rate", nan, nan, nan, nan, nan, nan, "proportion",
                 definition.denominator, "not_estimable",
                 f"{self.rate_method[key]}; not estimable: an evaluable patient of the cohort "
                 "has no treatment_start", self.rate_params[key], label, of)
            )
            return
        rate: Rate = _clopper_pearson(x, n, self.level)
        self.rows.append(
            (gb, g, definition.endpoint, "rate", math.nan, _none_to_nan(rate.estimate),
             _none_to_nan(rate.lower), _none_to_nan(rate.upper), float(x), float(n),
             "proportion", definition.denominator, "no_patients" if n == 0 else "ok",
             self.rate_method[key], self.rate_params[key], label, of)
        )

    def time_to_event(
        self, gb: str, g: str, endpoint: str, time: np.ndarray, event: np.ndarray
    ) -> None:
        """All rows of one Kaplan-Meier endpoint; ``time`` is sorted ascending."""
        denominator = _TIME_TO_EVENT[endpoint][0]
        method = self.km_method
        params = self.km_params
        label = self.km_labels
        of = self.km_denominator[endpoint]
        ci, level = self.ci, self.level
        rows = self.rows
        nan = math.nan
        n = int(time.shape[0])
        events = int(event.sum())
        if n == 0:
            self._no_patients(gb, g, endpoint, denominator)
            return
        fn, fe = float(n), float(events)
        rows.append((gb, g, endpoint, "n", nan, fn, nan, nan, fe, fn, "patients", denominator,
                     "ok", method[endpoint, "n"], params, label[endpoint, "n"], of))
        rows.append((gb, g, endpoint, "events", nan, fe, nan, nan, fe, fn, "patients",
                     denominator, "ok", method[endpoint, "events"], params,
                     label[endpoint, "events"], of))
        rows.append((gb, g, endpoint, "censored", nan, fn - fe, nan, nan, fn - fe, fn,
                     "patients", denominator, "ok", method[endpoint, "censored"], params,
                     label[endpoint, "censored"], of))
        km = kaplan_meier(time, event)
        for statistic, p in QUANTILES:
            q = km_quantile(km, p, ci, level)
            rows.append(
                (gb, g, endpoint, statistic, nan, _months(q.estimate), _months(q.lower),
                 _months(q.upper), fe, fn, "months", denominator,
                 "not_reached" if q.estimate is None else "ok", method[endpoint, statistic],
                 params, label[endpoint, statistic], of)
            )
        marks = km_at_times(km, self.landmark_days, ci, level)
        for months, mark in zip(self.landmarks_months, marks, strict=True):
            mark_label = self.landmark_labels[endpoint, months]
            if mark.beyond_last_observation and mark.surv > 0:
                rows.append((gb, g, endpoint, "survival", months, nan, nan, nan,
                             float(mark.n_event_cum), float(mark.n_risk), "proportion",
                             denominator, "not_estimable", method[endpoint, "survival"], params,
                             mark_label, of))
            else:
                rows.append((gb, g, endpoint, "survival", months, mark.surv,
                             _none_to_nan(mark.lower), _none_to_nan(mark.upper),
                             float(mark.n_event_cum), float(mark.n_risk), "proportion",
                             denominator, "ok", method[endpoint, "survival"], params,
                             mark_label, of))
        risk_months = self._risk_months(float(time[-1]))
        at_risk = n - np.searchsorted(time, risk_months * DAYS_PER_MONTH, side="left")
        self.builder.add_block(gb, g, endpoint, "n_risk",
                               (risk_months, at_risk, None, None, None, fn),
                               "patients", denominator, "ok", method[endpoint, "n_risk"], params,
                               label[endpoint, "n_risk"], of)
        lower, upper = km.band(ci, level)
        self.builder.add_block(gb, g, endpoint, "curve",
                               (km.time / DAYS_PER_MONTH, km.surv, lower, upper, km.n_event,
                                km.n_risk),
                               "proportion", denominator, "ok", method[endpoint, "curve"], params,
                               label[endpoint, "curve"], of)
        f = median_followup(time, event, ci, level)
        rows.append(
            (gb, g, endpoint, "followup", nan, _months(f.estimate), _months(f.lower),
             _months(f.upper), fn - fe, fn, "months", denominator,
             "not_reached" if f.estimate is None else "ok", method[endpoint, "followup"], params,
             label[endpoint, "followup"], of)
        )

    def _risk_months(self, last_day: float) -> np.ndarray:
        if self.risk_table_months is not None:
            return np.array(self.risk_table_months, dtype=float)
        steps = math.ceil(last_day / DAYS_PER_MONTH / RISK_TABLE_STEP_MONTHS - 1e-9)
        return RISK_TABLE_STEP_MONTHS * np.arange(max(steps, 0) + 1, dtype=float)

    def _no_patients(self, gb: str, g: str, endpoint: str, denominator: str) -> None:
        """The fixed rows of an endpoint with no patients (status no_patients, no curve)."""
        method, params, nan = self.km_method, self.km_params, math.nan
        of = self.km_denominator[endpoint]

        def row(statistic: str, time: float, unit: str) -> tuple:
            label = (self.landmark_labels[endpoint, time] if statistic == "survival"
                     else self.km_labels[endpoint, statistic])
            return (gb, g, endpoint, statistic, time, nan, nan, nan, 0.0, 0.0, unit,
                    denominator, "no_patients", method[endpoint, statistic], params, label, of)

        self.rows.extend(row(statistic, nan, "patients") for statistic in ("n", "events",
                                                                            "censored"))
        self.rows.extend(row(statistic, nan, "months") for statistic, _ in QUANTILES)
        self.rows.extend(row("survival", months, "proportion")
                         for months in self.landmarks_months)
        self.rows.append(row("followup", nan, "months"))

    # -- one grouping ----------------------------------------------------------------------

    def grouping(self, grouping: _Grouping) -> None:
        a, o = self.a, self.a.outcomes
        codes = grouping.codes
        size = len(grouping.labels)

        def count(mask: np.ndarray) -> np.ndarray:
            return np.bincount(codes[mask], minlength=size)

        treated = count(o.treated)
        evaluable = count(o.evaluable)
        rare = count(a.rare)
        rare_evaluable = count(a.rare & o.evaluable)
        by_cohort = grouping.name == "cohort_id"
        rate_counts = [
            (r, count(o.flags(r.numerator) & o.flags(r.population)),
             count(o.flags(r.population)))
            for r in self.rates if by_cohort or not r.cohort_only
        ]
        order_unknown = count(o.start_unknown) > 0
        dor = o.dor_population
        slices = {
            "pfs": _split(codes, size, a.pfs_days, a.pfs_event),
            "os": _split(codes, size, a.os_days, a.os_event),
            "dor": _split(codes[dor], size, o.dor_days[dor], o.dor_event[dor]),
        }
        gb = grouping.name
        ratios = ratios_by_group(codes, size, o.pfs_ratio, o.with_prior_pfs)
        ratio_method = median_ratio_method(self.p)
        for index, g in enumerate(grouping.labels):
            self.patients(gb, g, int(treated[index]), int(evaluable[index]), int(rare[index]),
                          int(rare_evaluable[index]))
            for definition, x, n in rate_counts:
                self.rate(gb, g, definition, int(x[index]), int(n[index]),
                          definition.cohort_only and bool(order_unknown[index]))
            self.rows.append(median_ratio_row(gb, g, ratios[index], self.p, ratio_method))
            for endpoint in ("pfs", "os", "dor"):
                time, event = slices[endpoint](index)
                self.time_to_event(gb, g, endpoint, time, event)


def _months(days: float | None) -> float:
    return math.nan if days is None else float(days) / DAYS_PER_MONTH


def _split(
    codes: np.ndarray, size: int, time: np.ndarray, event: np.ndarray
) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """Sort once by group code and time; return a function giving group i's (time, event)."""
    order = np.lexsort((time, codes))
    bounds = np.searchsorted(codes[order], np.arange(size + 1), side="left").tolist()
    time, event = time[order], event[order]

    def group(i: int) -> tuple[np.ndarray, np.ndarray]:
        return time[bounds[i]:bounds[i + 1]], event[bounds[i]:bounds[i + 1]]

    return group


def groupings(patients: pd.DataFrame, by: Sequence[str] = ()) -> Iterator[_Grouping]:
    """The pooled set, every cohort, then each requested grouping, in that order."""
    n = len(patients)
    yield _Grouping(POOLED, np.zeros(n, dtype=np.int64), (POOLED,))
    yield _grouping("cohort_id", patients["cohort_id"])
    for name, values in _resolve_by(patients, by):
        yield _grouping(name, values)


def compute_endpoints(
    patients: pd.DataFrame,
    by: Sequence[str] = (),
    parameters: EndpointParameters | None = None,
    *,
    stage_sizes: Sequence[int] | None = None,
    risk_table_months: Sequence[float] | None = None,
    workers: int = 1,
    **overrides: object,
) -> pd.DataFrame:
    """Compute every endpoint for the pooled set, each cohort and each grouping in ``by``.

    Parameters
    ----------
    patients
        Canonical patient frame (contract A), one row per treated patient.
    by
        Extra groupings: ``drug``, ``tumour_type``, ``alteration``, ``rare_cancer``, ``stage``,
        ``prior_lines_band`` (derived: 0-1, 2, 3+ prior lines) or any column of ``patients``.
    parameters
        The endpoint parameters (:class:`~dossier.endpoints.parameters.EndpointParameters`:
        CI type, SD and durable weeks, landmarks, ...); default DRUP's.
    stage_sizes
        How many evaluable patients each stage of the staged rule file is judged on (its
        ``of:`` values, e.g. DRUP's 8 and 24): one ``cbr_stage<k>`` row per stage and cohort.
        None reads them from the bundled DRUP rule file; ``()`` computes no stage rows.
    risk_table_months
        Times of the number-at-risk rows; default every 3 months from 0 to the group's last
        observed time (rounded up), so a Kaplan-Meier plot's risk table needs no arithmetic.
    workers
        Processes to share the work of groupings with many groups (thousands of cohorts);
        1 computes everything in this process. The table is identical either way.
    overrides
        Parameter fields to change on ``parameters`` (``sd_weeks=20``, ``ci="log"``), checked
        as the parameters object checks them.

    Returns
    -------
    pandas.DataFrame
        The results table of :mod:`dossier.endpoints.results` (contract D); every row carries
        its label and denominator label, derived from the parameters.
    """
    base = parameters or EndpointParameters()
    unknown = sorted(set(overrides) - set(EndpointParameters.names()))
    if unknown:
        raise TypeError(f"unknown endpoint parameter(s): {', '.join(unknown)}")
    params = replace(base, **overrides) if overrides else base  # type: ignore[arg-type]
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, not {workers!r}")
    missing = [c for c in REQUIRED_COLUMNS if c not in patients.columns]
    if missing:
        raise ValueError(
            f"patient frame lacks column(s) {', '.join(missing)}; "
            f"available columns: {', '.join(map(str, patients.columns))}"
        )
    check_response_columns(patients)
    sizes = drup_stage_sizes() if stage_sizes is None else tuple(stage_sizes)
    if any(isinstance(k, bool) or int(k) != k or k < 1 for k in sizes):
        raise ValueError(f"stage_sizes must be whole numbers >= 1, not {stage_sizes!r}")
    sizes = tuple(int(k) for k in sizes)
    all_groupings = list(groupings(patients, by))  # validates `by` before any work
    pfs_days, pfs_event = _times(patients, "pfs_days", "pfs_event")
    os_days, os_event = _times(patients, "os_days", "os_event")
    rare = (
        patients["rare_cancer"].astype("boolean").to_numpy(dtype=bool, na_value=False)
        if "rare_cancer" in patients.columns
        else np.zeros(len(patients), dtype=bool)
    )
    arrays = _Arrays(pfs_days, pfs_event, os_days, os_event, rare,
                     derive_outcomes(patients, params, sizes))
    risk = None if risk_table_months is None else tuple(float(m) for m in risk_table_months)
    rates = rate_endpoints(params, sizes)
    tasks = [_Task(arrays, grouping, rates, params, risk) for grouping in all_groupings]
    return _run(tasks, workers)


def _run(tasks: list[_Task], workers: int) -> pd.DataFrame:
    """Run the tasks, sharing big groupings with worker processes; parts keep their order."""
    shares = [_shares(task, workers) for task in tasks]
    if all(len(s) == 1 for s in shares):
        engine = _Engine(tasks[0].arrays, tasks[0].rates, tasks[0].parameters,
                         tasks[0].risk_table_months)
        for task in tasks:
            engine.grouping(task.grouping)
        return engine.builder.frame()
    # spawn, not fork: safe with the threads numpy/pyarrow may run, and the same on every OS
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        parts: list[pd.DataFrame | Future[pd.DataFrame]] = []
        local: list[tuple[int, _Task]] = []
        for task_shares in shares:
            for k, share in enumerate(task_shares):
                if k == 0:  # this process takes the first share of every grouping
                    local.append((len(parts), share))
                    parts.append(share)  # placeholder, replaced below
                else:
                    parts.append(pool.submit(_run_task, share))
        for position, share in local:
            parts[position] = share.run()
        frames = [p.result() if isinstance(p, Future) else p for p in parts]
    return pd.concat(frames, ignore_index=True)
