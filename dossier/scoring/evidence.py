"""The uncertainty behind a cohort's metrics, read from the results table (contract D).

The engine decides a clause on a metric's value; to say how certain that is it also needs what
the value was estimated from: x of n patients for a rate (exact Clopper-Pearson CI, Jeffreys
posterior) and, for a median threshold T, the Kaplan-Meier S(T) with its CI and standard error
(median >= T exactly when S(T) >= 1/2). This module collects both per cohort, once, from the rows
the endpoints wrote; it never recomputes a statistic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from scipy.special import ndtri

from dossier.scoring.inputs import LANDMARK_METRIC, RATES

RATE_METRICS: dict[str, tuple[str, str]] = {
    metric: (endpoint, denominator) for metric, (endpoint, denominator, column) in RATES.items()
    if column == "estimate" and endpoint != "patients"
}
"""Rate metrics (fractions) -> the results rows (endpoint, denominator) holding their x and n."""

MEDIAN_METRICS: dict[str, str] = {"pfs_median_months": "pfs", "os_median_months": "os",
                                  "dor_median_months": "dor"}
"""Median metrics -> the Kaplan-Meier endpoint whose S(T) decides their thresholds."""


@dataclass(frozen=True)
class RateEvidence:
    """x of n patients behind a rate metric, with its exact CI as the results row gives it."""

    x: int
    n: int
    lower: float | None
    upper: float | None
    level: float = 0.95


@dataclass(frozen=True)
class SurvivalPoint:
    """Kaplan-Meier S(T) at one time with its pointwise CI and Greenwood SE of S.

    ``estimate`` is None where the row is not estimable (beyond the last observation, or no
    patients); ``se`` is None where it cannot be recovered (S of 0 or 1).
    """

    endpoint: str
    months: float
    estimate: float | None
    lower: float | None
    upper: float | None
    se: float | None
    conf_type: str
    level: float


@dataclass(frozen=True)
class MedianEvidence:
    """A Kaplan-Meier median with its CI (upper None = not reached)."""

    estimate: float | None
    lower: float | None
    upper: float | None
    not_reached: bool
    conf_type: str
    level: float


@dataclass(frozen=True)
class CohortEvidence:
    """What one cohort's metrics were estimated from (see the module docstring)."""

    rates: Mapping[str, RateEvidence] = field(default_factory=dict)
    survival: Mapping[tuple[str, float], SurvivalPoint] = field(default_factory=dict)
    medians: Mapping[str, MedianEvidence] = field(default_factory=dict)

    def survival_at(self, endpoint: str, months: float) -> SurvivalPoint | None:
        """S(T) of ``endpoint`` at ``months`` (matched to 1e-9 months), if the rows hold it."""
        for (name, time), point in self.survival.items():
            if name == endpoint and abs(time - months) <= 1e-9:
                return point
        return None


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ci_parameters(parameters: object) -> tuple[str, float]:
    try:
        found = json.loads(str(parameters))
    except json.JSONDecodeError:
        found = {}
    if not isinstance(found, dict):
        found = {}
    return str(found.get("ci", "log-log")), float(found.get("level", 0.95))


def greenwood_se(surv: float, lower: float | None, upper: float | None, conf_type: str,
                 level: float) -> float | None:
    """The Greenwood SE of S, recovered exactly from a pointwise CI of type ``conf_type``.

    R survival's limits are exp(-exp(eta -/+ z se_eta)) with eta = log(-log S) (log-log),
    S exp(-/+ z se(log S)) (log, upper cut at 1) and S -/+ z se(S) (plain, cut at 0 and 1);
    se(log S) = se(S) / S and se_eta = se(S) / (S |log S|). The limit that is never cut gives
    the SE back. None for S of 0 or 1 or a missing limit (the log-log scale is then undefined).
    """
    if not 0.0 < surv < 1.0:
        return None
    z = float(ndtri(1.0 - (1.0 - level) / 2.0))
    log_s = math.log(surv)
    if conf_type == "log-log":
        eta = math.log(-log_s)
        if lower is not None and 0.0 < lower < 1.0:
            se_eta = (math.log(-math.log(lower)) - eta) / z
        elif upper is not None and 0.0 < upper < 1.0:
            se_eta = (eta - math.log(-math.log(upper))) / z
        else:
            return None
        return se_eta * surv * -log_s
    if conf_type == "log":
        if lower is None or lower <= 0.0:
            return None
        return surv * math.log(surv / lower) / z
    if lower is not None and lower > 0.0:
        return (surv - lower) / z
    if upper is not None and upper < 1.0:
        return (upper - surv) / z
    return None


def _rates(frame: pd.DataFrame, level: float) -> dict[str, RateEvidence]:
    out: dict[str, RateEvidence] = {}
    rows = frame[frame["statistic"] == "rate"]
    for metric, (endpoint, denominator) in RATE_METRICS.items():
        found = rows[(rows["endpoint"] == endpoint) & (rows["denominator"] == denominator)]
        if found.empty:
            continue
        row = found.iloc[0]
        x, n = _number(row["x"]), _number(row["n"])
        if x is None or n is None:
            continue
        out[metric] = RateEvidence(round(x), round(n), _number(row["lower"]),
                                   _number(row["upper"]), level)
    return out


def _survival(frame: pd.DataFrame) -> dict[tuple[str, float], SurvivalPoint]:
    out: dict[tuple[str, float], SurvivalPoint] = {}
    rows = frame[frame["statistic"] == "survival"]
    for row in rows.to_dict("records"):
        months = _number(row["time"])
        if months is None:
            continue
        conf_type, level = _ci_parameters(row.get("parameters"))
        estimate = _number(row["estimate"]) if row["status"] == "ok" else None
        lower, upper = _number(row["lower"]), _number(row["upper"])
        se = None if estimate is None else greenwood_se(estimate, lower, upper, conf_type, level)
        key = (str(row["endpoint"]), months)
        out.setdefault(key, SurvivalPoint(key[0], months, estimate, lower, upper, se,
                                          conf_type, level))
    return out


def _medians(frame: pd.DataFrame) -> dict[str, MedianEvidence]:
    out: dict[str, MedianEvidence] = {}
    rows = frame[frame["statistic"] == "median"]
    for row in rows.to_dict("records"):
        conf_type, level = _ci_parameters(row.get("parameters"))
        not_reached = row["status"] == "not_reached"
        out.setdefault(str(row["endpoint"]), MedianEvidence(
            _number(row["estimate"]), _number(row["lower"]), _number(row["upper"]), not_reached,
            conf_type, level))
    return out


def evidence_from_results(results: pd.DataFrame, *, group_by: str = "cohort_id"
                          ) -> dict[str, CohortEvidence]:
    """Per group: the x and n of each rate metric and every S(T) / median row with its CI."""
    rows = results[results["group_by"] == group_by]
    out: dict[str, CohortEvidence] = {}
    for group, frame in rows.groupby("group", sort=False):
        survival, medians = _survival(frame), _medians(frame)
        # rates rows do not repeat the confidence level: it is the endpoints' one level
        levels = [p.level for p in survival.values()] + [m.level for m in medians.values()]
        out[str(group)] = CohortEvidence(_rates(frame, levels[0] if levels else 0.95),
                                         survival, medians)
    return out


def landmark_endpoint(metric: str) -> tuple[str, float] | None:
    """``os_landmark_3y`` -> ("os", 36.0): the S(T) row a landmark metric is."""
    found = LANDMARK_METRIC.match(metric)
    if found is None:
        return None
    endpoint, count, unit = found.groups()
    return endpoint, float(count) * (12.0 if unit == "y" else 1.0)
