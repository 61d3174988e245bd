"""Every clause decided with its uncertainty: four states, medians via S(T), posterior chances.

A criterion clause such as "ORR >= 20%" or "median PFS >= 6 months" is decided three ways:

* on the **point estimate** (met / not met), as the rule is written;
* on the **95% confidence interval**: the clause is *certain* when every value of the closed
  interval [lower, upper] lies on the same side of the threshold, *uncertain* when the interval
  holds values on both sides. Together: "met", "met, uncertain", "not met, uncertain", "not met";
* as a **posterior probability** that the true value meets the threshold: exact beta-binomial
  for rates (Jeffreys prior by default), a normal approximation on the log-log scale for
  Kaplan-Meier survival at the threshold time (the median clause).

A median threshold is decided through the survival curve (median >= T exactly when
S(T) >= 0.5, see :func:`median_threshold`), so that a median whose upper limit is "not reached"
still gets a finite, checkable CI: that of S(T). The estimates come from :mod:`.km` (R survival
semantics, log-log pointwise CI by default) and :mod:`.rates` (Clopper-Pearson, as binom.test).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from scipy.special import betainc, betaincc, ndtr

from dossier.endpoints.km import (
    TOLERANCE,
    ConfType,
    KaplanMeier,
    Landmark,
    QuantileEstimate,
    km_at_times,
    km_median,
)
from dossier.endpoints.rates import Rate, clopper_pearson

__all__ = [
    "DIRECTIONS",
    "JEFFREYS",
    "UNIFORM",
    "BetaPrior",
    "ClauseDecision",
    "ClauseState",
    "Direction",
    "MedianThreshold",
    "RateThreshold",
    "decide",
    "decide_median",
    "median_threshold",
    "posterior_rate",
    "posterior_survival_at_least",
    "rate_threshold",
]

Direction = Literal[">=", ">", "<=", "<"]
DIRECTIONS: tuple[str, ...] = (">=", ">", "<=", "<")

MEDIAN_SURVIVAL = 0.5
"""The median is the time at which the survival curve reaches one half."""


class ClauseState(Enum):
    """How a clause stands against its threshold, in the words a payer committee reads.

    ``NOT_ESTIMABLE`` is for a clause without an estimate (no patients, a curve that cannot be
    evaluated): the engine reports it as insufficient evidence, never as met or not met.
    """

    MET = "met"
    MET_UNCERTAIN = "met, uncertain"
    NOT_MET_UNCERTAIN = "not met, uncertain"
    NOT_MET = "not met"
    NOT_ESTIMABLE = "not estimable"

    @property
    def met(self) -> bool | None:
        """Met on the point estimate (None when there is no estimate)."""
        if self is ClauseState.NOT_ESTIMABLE:
            return None
        return self in (ClauseState.MET, ClauseState.MET_UNCERTAIN)

    @property
    def uncertain(self) -> bool | None:
        """The CI holds values on both sides of the threshold (None without an estimate)."""
        if self is ClauseState.NOT_ESTIMABLE:
            return None
        return self in (ClauseState.MET_UNCERTAIN, ClauseState.NOT_MET_UNCERTAIN)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ClauseDecision:
    """A clause "value <direction> threshold" decided on its estimate and its CI.

    ``lower``/``upper`` are the limits as used for the decision: ``math.inf`` is a limit that is
    not reached (a median's upper limit), None a limit that is undefined (the interval is then
    taken as unbounded on that side).
    """

    estimate: float | None
    lower: float | None
    upper: float | None
    threshold: float
    direction: Direction
    state: ClauseState
    level: float = 0.95

    @property
    def met(self) -> bool | None:
        """Met on the point estimate (None when there is no estimate)."""
        return self.state.met

    @property
    def uncertain(self) -> bool | None:
        """True when the CI crosses (or touches, for a strict direction) the threshold."""
        return self.state.uncertain

    @property
    def words(self) -> str:
        """The state as a payer reads it: "met", "met, uncertain", ..."""
        return self.state.value


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")


def _number(value: object, name: str, *, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number{' or None' if allow_none else ''}; "
                         f"got {value!r}")
    value = float(value)
    if math.isnan(value):
        if allow_none:
            return None
        raise ValueError(f"{name} must be a number, not NaN")
    return value


def _satisfies(value: float, threshold: float, direction: str) -> bool:
    if direction == ">=":
        return value >= threshold
    if direction == ">":
        return value > threshold
    if direction == "<=":
        return value <= threshold
    return value < threshold


def _snap(value: float | None, threshold: float, tolerance: float) -> float | None:
    """A value within ``tolerance`` of the threshold counts as equal to it."""
    if value is None or not abs(value - threshold) <= tolerance:
        return value
    return threshold


def decide(
    estimate: float | None,
    lower: float | None,
    upper: float | None,
    threshold: float,
    direction: Direction = ">=",
    *,
    level: float = 0.95,
    tolerance: float = 0.0,
) -> ClauseDecision:
    """Decide "true value <direction> threshold" on the estimate and on the CI [lower, upper].

    Rules, exact:

    * the estimate says met / not met;
    * the CI is read as the closed interval [lower, upper]: the clause is certain when every
      value in it satisfies the clause (met) or none does (not met), uncertain otherwise. So a
      limit equal to the threshold clears it for ">=" and "<=" (the threshold itself meets the
      clause) and crosses it for ">" and "<";
    * ``math.inf`` / ``-math.inf`` are limits beyond every threshold (a median's "not reached"
      upper limit is ``math.inf``); None or NaN is an undefined limit, read as unbounded on that
      side (a CI with an undefined lower limit can never be said to clear ">= threshold", nor
      one with an undefined upper limit to miss it);
    * without an estimate (None or NaN) the state is ``NOT_ESTIMABLE``, whatever the limits;
    * ``tolerance`` >= 0: estimate and limits within it of the threshold count as equal to it
      (R's median rule uses sqrt(machine eps)); 0, the default, compares exactly.

    An inconsistent interval (lower > upper, or an estimate outside it) is a bug upstream and
    raises ValueError.
    """
    _check_direction(direction)
    level = _check_level(level)
    threshold = _number(threshold, "threshold", allow_none=False)
    if math.isinf(threshold):
        raise ValueError(f"threshold must be finite; got {threshold}")
    if not (isinstance(tolerance, numbers.Real) and tolerance >= 0):
        raise ValueError(f"tolerance must be a number >= 0; got {tolerance!r}")
    est = _snap(_number(estimate, "estimate"), threshold, tolerance)
    lo = _snap(_number(lower, "lower"), threshold, tolerance)
    hi = _snap(_number(upper, "upper"), threshold, tolerance)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"lower confidence limit {lo} exceeds upper limit {hi}")
    if est is not None and ((lo is not None and est < lo) or (hi is not None and est > hi)):
        raise ValueError(f"estimate {est} lies outside its confidence interval [{lo}, {hi}]")

    if est is None:
        state = ClauseState.NOT_ESTIMABLE
    else:
        # an undefined limit is unbounded on its side
        lo_ = -math.inf if lo is None else lo
        hi_ = math.inf if hi is None else hi
        # The met set is a half-line, so the interval lies inside it iff its end farther from
        # the met side does, and outside it iff its end nearer to the met side does not.
        upward = direction in (">=", ">")
        far, near = (lo_, hi_) if upward else (hi_, lo_)
        all_meet = _satisfies(far, threshold, direction)
        none_meet = not _satisfies(near, threshold, direction)
        if _satisfies(est, threshold, direction):
            state = ClauseState.MET if all_meet else ClauseState.MET_UNCERTAIN
        else:
            state = ClauseState.NOT_MET if none_meet else ClauseState.NOT_MET_UNCERTAIN
    return ClauseDecision(estimate=est, lower=lo, upper=hi, threshold=threshold,
                          direction=direction, state=state, level=level)


# ---------------------------------------------------------------------------------------- rates


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(a, b) prior for a proportion, with the name a report states it by."""

    a: float
    b: float
    name: str

    def __post_init__(self) -> None:
        for field_name in ("a", "b"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not (
                isinstance(value, numbers.Real) and math.isfinite(value) and value > 0
            ):
                raise ValueError(f"Beta prior parameter {field_name} must be a positive number; "
                                 f"got {value!r}")


JEFFREYS = BetaPrior(0.5, 0.5, "Jeffreys prior Beta(0.5, 0.5)")
"""dossier's default prior for rates: invariant, and half a patient's weight on each side."""

UNIFORM = BetaPrior(1.0, 1.0, "uniform prior Beta(1, 1)")


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not (isinstance(level, numbers.Real) and 0.0 < level < 1.0):
        raise ValueError(f"confidence level must be between 0 and 1 (exclusive); got {level!r}")
    return float(level)


def _check_proportion(threshold: float) -> float:
    value = _number(threshold, "threshold (a proportion)", allow_none=False)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a rate threshold is a proportion between 0 and 1; got {threshold!r} "
                         "(write 20% as 0.2)")
    return value


def posterior_rate(
    x: int, n: int, threshold: float, direction: Direction = ">=", prior: BetaPrior = JEFFREYS
) -> float | None:
    """Posterior probability that the true rate p meets the threshold, given x of n patients.

    Beta-binomial conjugacy: with a Beta(a, b) prior, p | x, n ~ Beta(x + a, n - x + b), so
    P(p >= t | x, n) = 1 - I_t(x + a, n - x + b), with I the regularised incomplete beta
    function (the Beta CDF), and P(p <= t | x, n) = I_t(x + a, n - x + b). The posterior is
    continuous, so ">" equals ">=" and "<" equals "<=". None when n = 0 (no patients: the
    "posterior" would be the prior alone, which is not evidence).
    """
    _check_direction(direction)
    t = _check_proportion(threshold)
    rate = clopper_pearson(x, n)  # validates x and n as counts
    if rate.no_patients:
        return None
    a, b = rate.x + prior.a, rate.n - rate.x + prior.b
    if direction in (">=", ">"):
        return float(betaincc(a, b, t))
    return float(betainc(a, b, t))


@dataclass(frozen=True)
class RateThreshold:
    """A rate clause: x/n with its exact CI, its state and the posterior chance it is met."""

    rate: Rate
    decision: ClauseDecision
    posterior: float | None
    prior: BetaPrior

    @property
    def state(self) -> ClauseState:
        return self.decision.state


def rate_threshold(
    x: int,
    n: int,
    threshold: float,
    direction: Direction = ">=",
    *,
    level: float = 0.95,
    prior: BetaPrior = JEFFREYS,
) -> RateThreshold:
    """Decide "rate <direction> threshold" for x of n patients (threshold a proportion, 0.2).

    The state uses the estimate x/n and the Clopper-Pearson interval (as R's binom.test); the
    posterior uses ``prior`` (Jeffreys by default, see :func:`posterior_rate`). The estimate is
    compared exactly: 1/5 meets ">= 0.2". With n = 0 the state is ``NOT_ESTIMABLE``.
    """
    t = _check_proportion(threshold)
    rate = clopper_pearson(x, n, _check_level(level))
    decision = decide(rate.estimate, rate.lower, rate.upper, t, direction, level=rate.level)
    return RateThreshold(rate=rate, decision=decision,
                         posterior=posterior_rate(rate.x, rate.n, t, direction, prior),
                         prior=prior)


# -------------------------------------------------------------------------------------- medians


def posterior_survival_at_least(surv: float, se_surv: float | None, p: float = 0.5) -> float | None:
    """Approximate probability that the true S(T) is >= p, from the KM S(T) and its Greenwood SE.

    Normal approximation on the log-log scale, the scale of dossier's default CI: with
    eta = log(-log S) and se(eta) = se(S) / (S |log S|) (delta method; se(S) / S is the
    Greenwood SE of log S), the true eta is taken as Normal(eta_hat, se(eta)^2). Since
    log(-log s) decreases in s, S >= p exactly when eta <= log(-log p), so

        P(S(T) >= p) ~= Phi((log(-log p) - log(-log S_hat)) / se(eta)).

    This is an approximate posterior under a flat prior on eta (equivalently one minus the
    one-sided p-value of the log-log test of S(T) = p): it is >= 1 - alpha/2 exactly when the
    log-log lower confidence limit of S(T) is >= p. None where it is undefined: S_hat is 0 or 1
    (log-log undefined; no event yet, or every patient has had one) or the SE is missing.
    """
    surv_f = _number(surv, "surv")
    se_f = _number(se_surv, "se_surv")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1; got {p!r}")
    if surv_f is None or se_f is None or not 0.0 < surv_f < 1.0:
        return None
    log_s = math.log(surv_f)
    se_eta = se_f / (surv_f * -log_s)
    eta_hat = math.log(-log_s)
    eta_p = math.log(-math.log(p))
    if se_eta == 0.0:  # cannot happen for 0 < S < 1 with events, kept for safety
        return 1.0 if eta_hat <= eta_p else 0.0
    return float(ndtr((eta_p - eta_hat) / se_eta))


def _as_time(value: object, name: str) -> float:
    t = _number(value, name, allow_none=False)
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"{name} must be a finite time >= 0; got {value!r}")
    return t


def decide_median(
    km: KaplanMeier,
    threshold: float,
    direction: Direction = ">=",
    *,
    conf_type: ConfType = "log-log",
    level: float = 0.95,
) -> ClauseDecision:
    """Decide "median <direction> threshold" on R's median and its Brookmeyer-Crowley CI.

    A median or upper limit that is not reached (R's NA, None in :class:`.km.QuantileEstimate`)
    is above any threshold (``math.inf``); a lower limit that is not reached is read so only
    when the median itself is not reached, else it is undefined (R gives NA, e.g. when the
    log-log band is undefined at the crossing). No patients: ``NOT_ESTIMABLE``. Prefer
    :func:`median_threshold`, which decides through S(T) and flags a threshold beyond the
    last observation, where "not reached" says nothing.
    """
    t = _as_time(threshold, "threshold")
    median = km_median(km, conf_type, _check_level(level))
    if km.n == 0:
        return decide(None, None, None, t, direction, level=level)
    return decide(*_median_limits(median), t, direction, level=level)


def _median_limits(median: QuantileEstimate) -> tuple[float, float | None, float]:
    estimate = math.inf if median.estimate is None else median.estimate
    upper = math.inf if median.upper is None else median.upper
    if median.lower is not None:
        lower: float | None = median.lower
    else:
        lower = math.inf if median.estimate is None else None
    return estimate, lower, upper


@dataclass(frozen=True)
class MedianThreshold:
    """A median clause "median <direction> T" decided through the survival curve at T.

    ``survival`` is the KM S(T) with its pointwise CI, SE and numbers at risk (R's
    summary(fit, times = T, extend = TRUE)); ``decision`` is "S(T) <direction> 0.5" on it, the
    clause's state; ``posterior`` the approximate probability that it holds (None where the
    log-log scale is undefined). ``median``/``on_median`` are R's median with its CI and the same
    clause decided on them, reported beside for the reader; ``agrees`` says whether both read
    the estimate the same way. ``beyond_follow_up``: T lies after the last observation, so S(T)
    is carried forward and says nothing about what happened after it.
    """

    threshold: float
    direction: Direction
    survival: Landmark
    decision: ClauseDecision
    posterior: float | None
    median: QuantileEstimate
    on_median: ClauseDecision
    beyond_follow_up: bool
    conf_type: str
    level: float

    @property
    def state(self) -> ClauseState:
        return self.decision.state

    @property
    def agrees(self) -> bool:
        """True when S(T) and R's median give the same verdict on the point estimate."""
        return self.decision.met == self.on_median.met


def median_threshold(
    km: KaplanMeier,
    threshold: float,
    direction: Direction = ">=",
    *,
    conf_type: ConfType = "log-log",
    level: float = 0.95,
) -> MedianThreshold:
    """Decide "median <direction> T" through the KM survival S(T), its CI and a posterior.

    Why S(T): for a survival function S that decreases continuously, the median m solves
    S(m) = 1/2, so m >= T exactly when S(T) >= 1/2 (and likewise for >, <=, <: the operator
    carries over unchanged). The pointwise CI of S(T) (log-log by default, as the rest of dossier)
    then decides the clause with a finite, checkable interval even when the median's upper limit
    is not reached, and at the very time the rule names.

    For the KM step function the two readings can differ only on a knife edge, reported by
    ``agrees``:

    * R's median is the first time S <= 1/2, except that where S equals 1/2 (within sqrt(machine
      eps)) on a stretch [t1, t2) it is the midpoint (t1 + t2) / 2. For T in that stretch
      S(T) = 1/2 counts as ">= 1/2" (met; compared with R's tolerance, so 0.49999999999999994
      from a product of fractions is 1/2), while R's median is below T when T > (t1 + t2) / 2;
    * where S steps from above 1/2 to below 1/2 exactly at T, R's median is T (>= T), while the
      right-continuous S(T) is already below 1/2.

    The state and the posterior come from S(T); the median and its own decision are reported
    beside them for the reader. The posterior is the normal approximation of
    :func:`posterior_survival_at_least` (stated as an approximation). With no patients the
    state is ``NOT_ESTIMABLE``.
    """
    _check_direction(direction)
    t = _as_time(threshold, "threshold")
    level = _check_level(level)
    (landmark,) = km_at_times(km, [t], conf_type, level)
    median = km_median(km, conf_type, level)
    if km.n == 0:
        decision = decide(None, None, None, MEDIAN_SURVIVAL, direction, level=level)
        on_median = decide(None, None, None, t, direction, level=level)
        return MedianThreshold(t, direction, landmark, decision, None, median, on_median,
                               True, conf_type, level)
    decision = decide(landmark.surv, landmark.lower, landmark.upper, MEDIAN_SURVIVAL, direction,
                      level=level, tolerance=TOLERANCE)
    at_least = posterior_survival_at_least(landmark.surv, landmark.se, MEDIAN_SURVIVAL)
    if at_least is None:
        posterior = None
    elif direction in (">=", ">"):
        posterior = at_least
    else:
        posterior = 1.0 - at_least
    on_median = decide(*_median_limits(median), t, direction, level=level)
    return MedianThreshold(
        threshold=t,
        direction=direction,
        survival=landmark,
        decision=decision,
        posterior=posterior,
        median=median,
        on_median=on_median,
        beyond_follow_up=landmark.beyond_last_observation,
        conf_type=conf_type,
        level=level,
    )
