"""Each rate and median clause decided with its uncertainty: 95% CI, four states, posterior.

The engine decides a clause on the point estimate; this module adds, from the cohort's
:class:`~dossier.scoring.evidence.CohortEvidence`, the CI of the observed value, whether the CI
lies wholly on one side of the threshold ("met", "met, uncertain", "not met, uncertain", "not
met") and the posterior probability that the true value meets it. Rates use x of n (exact
Clopper-Pearson CI, beta-binomial posterior with the Jeffreys prior); a median threshold T is
decided through the Kaplan-Meier S(T) (median >= T exactly when S(T) >= 1/2) with its pointwise
CI, the posterior a normal approximation on the log-log scale. Counts and yes/no clauses are
exact facts and get no CI. The statistics are :mod:`dossier.endpoints.certainty`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from dossier.endpoints.certainty import (
    JEFFREYS,
    ClauseDecision,
    ClauseState,
    decide,
    posterior_survival_at_least,
    rate_threshold,
)
from dossier.endpoints.km import TOLERANCE
from dossier.scoring.evidence import (
    MEDIAN_METRICS,
    CohortEvidence,
    MedianEvidence,
    SurvivalPoint,
    landmark_endpoint,
)
from dossier.scoring.metrics import MetricSpec, format_number, unit_suffix
from dossier.scoring.verdicts import ClauseResult

COMPARISONS = (">=", ">", "<=", "<")
_BAND = re.compile(r"^([\[(])\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*([\])])$")

RATE_METHOD = (f"posterior probability, beta-binomial with the {JEFFREYS.name} "
               "(exact)")
SURVIVAL_METHOD = ("approximate posterior probability: Kaplan-Meier {at} with its Greenwood "
                   "standard error, normal on the log-log scale (flat prior)")


@dataclass(frozen=True)
class _Side:
    """One side of a clause: "value op threshold", decided and with its posterior."""

    op: str
    threshold: float
    decision: ClauseDecision
    posterior: float | None


def _band(threshold: object) -> tuple[float, bool, float, bool] | None:
    found = _BAND.match(str(threshold)) if isinstance(threshold, str) else None
    if found is None:
        return None
    opening, low, high, closing = found.groups()
    return float(low), opening == "[", float(high), closing == "]"


def _sides(op: str, threshold: object) -> list[tuple[str, float]]:
    """The comparisons a clause is made of: one for ">= 6", two for a band "[3, 6)"."""
    if op in COMPARISONS and isinstance(threshold, int | float) and not isinstance(threshold,
                                                                                   bool):
        return [(op, float(threshold))]
    if op == "in":
        band = _band(threshold)
        if band is not None:
            low, low_closed, high, high_closed = band
            return [(">=" if low_closed else ">", low), ("<=" if high_closed else "<", high)]
    return []


def _combine(held: bool | None, sides: list[_Side]) -> ClauseState:
    """The clause's state: met/not met as the engine decided it (the point estimate, with the
    engine's tolerance), uncertain when the CI holds values on both sides of the clause."""
    states = [s.decision.state for s in sides]
    if any(s is ClauseState.NOT_ESTIMABLE for s in states):
        return ClauseState.NOT_ESTIMABLE
    all_meet = all(s is ClauseState.MET for s in states)
    # the clause surely fails when one side's whole CI misses it
    none_meet = any(s is ClauseState.NOT_MET for s in states)
    met = held if held is not None else all(s.met for s in states)
    if met:
        return ClauseState.MET if all_meet else ClauseState.MET_UNCERTAIN
    return ClauseState.NOT_MET if none_meet else ClauseState.NOT_MET_UNCERTAIN


def _band_posterior(sides: list[_Side]) -> float | None:
    """P(low <= value <= high) = P(value >= low) - P(value > high) for a continuous posterior."""
    if len(sides) == 1:
        return sides[0].posterior
    low, high = sides
    if low.posterior is None or high.posterior is None:
        return None
    # high.posterior is P(value < high) = 1 - P(value >= high)
    return min(1.0, max(0.0, low.posterior - (1.0 - high.posterior)))


def _percent(value: float | None) -> str:
    return "NE" if value is None else f"{100 * value:.1f}%"


def _level_words(level: float) -> str:
    return f"{100 * level:g}% CI"


def _rate_clause(clause: ClauseResult, sides: list[tuple[str, float]], x: int, n: int,
                 level: float) -> ClauseResult:
    decided = []
    rate = None
    for op, t in sides:
        found = rate_threshold(x, n, min(1.0, max(0.0, t)), op, level=level)  # type: ignore[arg-type]
        rate = found.rate
        decided.append(_Side(op, t, found.decision, found.posterior))
    assert rate is not None
    state = _combine(clause.held, decided)
    if rate.no_patients:
        return replace(clause, certainty=ClauseState.NOT_ESTIMABLE.value)
    return replace(
        clause, ci_lower=rate.lower, ci_upper=rate.upper,
        ci_text=f"{_level_words(rate.level)} {_percent(rate.lower)} to {_percent(rate.upper)}",
        certainty=state.value, probability=_band_posterior(decided),
        probability_method=f"{RATE_METHOD}; {x} of {n} patients")


def _survival_side(point: SurvivalPoint, op: str, p: float) -> _Side:
    decision = decide(point.estimate, point.lower, point.upper, p, op,  # type: ignore[arg-type]
                      level=point.level, tolerance=TOLERANCE)
    at_least = None
    if point.estimate is not None:
        at_least = posterior_survival_at_least(point.estimate, point.se, p)
    posterior = at_least if at_least is None or op in (">=", ">") else 1.0 - at_least
    return _Side(op, p, decision, posterior)


def _median_side(point: SurvivalPoint, op: str, months: float,
                 median: MedianEvidence | None) -> _Side:
    """S(T) op 1/2 on S(T)'s CI; where that CI is undefined (S(T) of 0 or 1, as in R) the
    median's own Brookmeyer-Crowley CI decides the state (no posterior then)."""
    if point.estimate is None or (point.lower is not None and point.upper is not None) \
            or median is None:
        return _survival_side(point, op, 0.5)
    reached = not median.not_reached and median.estimate is not None
    estimate = median.estimate if reached else math.inf
    upper = math.inf if median.upper is None else median.upper
    lower = median.lower if median.lower is not None else (None if reached else math.inf)
    decision = decide(estimate, lower, upper, months, op, level=median.level)  # type: ignore[arg-type]
    return _Side(op, months, decision, None)


def _survival_words(point: SurvivalPoint) -> str:
    if point.estimate is None:
        return f"S({point.months:g} months) not estimable"
    return (f"S({point.months:g} months) {_percent(point.estimate)} "
            f"({_level_words(point.level)} {_percent(point.lower)} to {_percent(point.upper)})")


def _median_text(median: MedianEvidence | None, spec: MetricSpec) -> tuple[
        float | None, float | None, str]:
    if median is None or (median.estimate is None and not median.not_reached):
        return None, None, ""  # no patients or not estimable: no CI to show
    def shown(value: float | None, upper: bool) -> str:
        if value is None:
            return "NR" if (upper or median.not_reached) else "NE"
        return format_number(spec, value)
    return (median.lower, median.upper,
            f"{_level_words(median.level)} {shown(median.lower, False)} to "
            f"{shown(median.upper, True)}")


def _median_clause(clause: ClauseResult, sides: list[tuple[str, float]], endpoint: str,
                   evidence: CohortEvidence, spec: MetricSpec) -> ClauseResult:
    points = [evidence.survival_at(endpoint, t) for _, t in sides]
    if any(p is None for p in points):
        return clause  # the rows lack S(T): computed without the rule files' landmarks
    # median op T  <=>  S(T) op 1/2 (the operator carries over, see docs/certainty.md)
    median = evidence.medians.get(endpoint)
    decided = [_median_side(p, op, t, median) for (op, t), p in zip(sides, points, strict=True)
               if p is not None]
    state = _combine(clause.held, decided)
    if clause.held is None and state is not ClauseState.NOT_ESTIMABLE:
        return clause  # immature or missing: the engine's state says why
    lower, upper, text = _median_text(evidence.medians.get(endpoint), spec)
    at = "; ".join(_survival_words(p) for p in points if p is not None)
    return replace(clause, ci_lower=lower, ci_upper=upper, ci_text=text, certainty=state.value,
                   probability=_band_posterior(decided),
                   probability_method=SURVIVAL_METHOD.format(at=at))


def _landmark_clause(clause: ClauseResult, sides: list[tuple[str, float]], point: SurvivalPoint
                     ) -> ClauseResult:
    decided = [_survival_side(point, op, t) for op, t in sides]
    state = _combine(clause.held, decided)
    if clause.held is None and state is not ClauseState.NOT_ESTIMABLE:
        return clause
    return replace(clause, ci_lower=point.lower, ci_upper=point.upper,
                   ci_text=f"{_level_words(point.level)} {_percent(point.lower)} to "
                           f"{_percent(point.upper)}",
                   certainty=state.value, probability=_band_posterior(decided),
                   probability_method=SURVIVAL_METHOD.format(at=_survival_words(point)))


GAIN_METRICS = {"os_gain_months": "os", "pfs_gain_months": "pfs"}
"""Gains over an external control -> the Kaplan-Meier endpoint whose median they shift."""

GAIN_METHOD = ("not computed: the control median is taken as known (an unanchored comparison), "
               "so the CI is the cohort median's CI shifted by it and understates the "
               "uncertainty")


def _gain_clause(clause: ClauseResult, sides: list[tuple[str, float]],
                 median: MedianEvidence | None, spec: MetricSpec) -> ClauseResult:
    """gain = cohort median - control median: its CI is the median's CI shifted by the control."""
    if clause.held is None or median is None or median.estimate is None \
            or not isinstance(clause.observed, int | float) or isinstance(clause.observed, bool):
        return clause
    control = median.estimate - float(clause.observed)
    lower = None if median.lower is None else median.lower - control
    upper = math.inf if median.upper is None else median.upper - control
    decided = [_Side(op, t, decide(float(clause.observed), lower, upper, t, op,  # type: ignore[arg-type]
                                   level=median.level), None) for op, t in sides]
    state = _combine(clause.held, decided)

    def shown(value: float | None, upper_side: bool) -> str:
        if value is None or not math.isfinite(value):
            return "NR" if upper_side else "NE"
        return format_number(spec, value)
    text = (f"{_level_words(median.level)} {shown(lower, False)} to {shown(upper, True)} "
            "(cohort median's CI minus the control median)")
    return replace(clause, ci_lower=lower, ci_upper=None if not math.isfinite(upper) else upper,
                   ci_text=text, certainty=state.value, probability=None,
                   probability_method=GAIN_METHOD)


def with_certainty(clause: ClauseResult, evidence: CohortEvidence | None,
                   specs: Mapping[str, MetricSpec]) -> ClauseResult:
    """The clause with its CI, certainty state and posterior filled where its metric is a rate
    (x of n known), a median (S(T) known at each threshold time) or a landmark survival.
    Other clauses (counts, yes/no, values given without their data) are returned unchanged."""
    if evidence is None or clause.metric not in specs:
        return clause
    sides = _sides(clause.op, clause.threshold)
    if not sides:
        return clause
    spec = specs[clause.metric]
    rate = evidence.rates.get(clause.metric)
    if rate is not None:
        if clause.held is None:
            return clause
        return _rate_clause(clause, sides, rate.x, rate.n, rate.level)
    if clause.metric in GAIN_METRICS:
        return _gain_clause(clause, sides, evidence.medians.get(GAIN_METRICS[clause.metric]),
                            spec)
    endpoint = MEDIAN_METRICS.get(clause.metric)
    if endpoint is not None:
        return _median_clause(clause, sides, endpoint, evidence, spec)
    landmark = landmark_endpoint(clause.metric)
    if landmark is not None:
        point = evidence.survival_at(*landmark)
        if point is not None:
            return _landmark_clause(clause, sides, point)
    return clause


def edge_text(clause: ClauseResult, specs: Mapping[str, MetricSpec]) -> str:
    """The threshold(s) a clause's CI spans, as a reader writes them (``6 months``, ``20%``)."""
    spec = specs.get(clause.metric)
    sides = _sides(clause.op, clause.threshold)
    if spec is None or not sides:
        return clause.threshold_text
    values = [t for _, t in sides]
    if len(values) == 2 and clause.ci_lower is not None and clause.ci_upper is not None:
        low, high = values
        # name only the edge(s) the CI actually reaches
        inside = [t for t in values if clause.ci_lower <= t <= clause.ci_upper]
        values = inside or [low if abs(clause.ci_lower - low) < abs(clause.ci_upper - high)
                            else high]
    elif len(values) == 2 and clause.ci_upper is None and clause.ci_lower is not None:
        values = [t for t in values if t >= clause.ci_lower] or values
    words = [format_number(spec, t, threshold=True) + unit_suffix(spec) for t in values]
    return " and ".join(words)


def spans_text(clause: ClauseResult, specs: Mapping[str, MetricSpec], verb: str = "spans") -> str:
    """``the 95% CI of median PFS (1.02 to NR) spans 6 months``."""
    ci = clause.ci_text
    level, _, limits = ci.partition(" CI ")
    what = f"the {level} CI of {clause.label}" if limits else f"the CI of {clause.label}"
    return f"{what} ({limits or ci}) {verb} {edge_text(clause, specs)}"


