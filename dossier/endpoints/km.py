"""Kaplan-Meier estimation with R ``survival`` semantics (survfit, quantile.survfit, summary).

Every number here is meant to equal what R's ``survival`` package (3.5-3) reports for
``survfit(Surv(time, event) ~ 1, conf.type = ...)``, ``quantile(fit, conf.int = TRUE)`` and
``summary(fit, times = t, extend = TRUE)``:

* the estimate is the product over distinct times of (n - d) / n, computed in the same order as
  R, so S is bit-for-bit R's S; times closer than R's ``aeqSurv`` tolerance are pooled, as R does;
* the variance of log S is Greenwood's sum d / (n (n - d)), infinite once S reaches 0;
* pointwise intervals: "log-log" (dossier's default, as SAS PROC LIFETEST), "log" (R's default)
  and "plain" (S +/- z se(S), clipped to [0, 1]); NaN exactly where R gives NA;
* quantiles (the median) by Brookmeyer-Crowley inversion of the pointwise band, with R's
  rules for a curve that is flat at 1 - p and its sqrt(machine eps) tolerance.

Pure numpy; vectorised so that thousands of small cohorts take milliseconds each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri

__all__ = [
    "ConfType",
    "KaplanMeier",
    "Landmark",
    "QuantileEstimate",
    "kaplan_meier",
    "km_at_times",
    "km_median",
    "km_quantile",
    "median_followup",
]

ConfType = Literal["log-log", "log", "plain"]
CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")

#: R's ``sqrt(.Machine$double.eps)``: the tolerance of quantile.survfit and of aeqSurv (timefix).
TOLERANCE = math.sqrt(np.finfo(float).eps)


@lru_cache(maxsize=32)
def _z(level: float) -> float:
    """Two-sided normal quantile for a confidence level (R: qnorm(1 - (1 - level) / 2))."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be between 0 and 1 (exclusive); got {level!r}")
    return float(ndtri(1.0 - (1.0 - level) / 2.0))


def _check_conf_type(conf_type: str) -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {', '.join(CONF_TYPES)}; got {conf_type!r}")


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """Kaplan-Meier step function at the distinct observed times (events and censorings).

    ``surv[i]`` is S just after ``time[i]`` (right-continuous); ``n_risk[i]`` is the number with
    time >= ``time[i]``; ``greenwood[i]`` is the Greenwood variance of log S, the cumulative sum
    of d / (n (n - d)), infinite from where S reaches 0 (R's ``fit$std.err`` squared).
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    greenwood: np.ndarray
    n: int
    n_events: int
    _bands: dict = field(default_factory=dict, repr=False)

    @property
    def n_censored(self) -> int:
        """Number of censored patients."""
        return self.n - self.n_events

    @property
    def std_err(self) -> np.ndarray:
        """Greenwood standard error of log S (R's ``fit$std.err``); inf where S = 0."""
        return np.sqrt(self.greenwood)

    @property
    def se_surv(self) -> np.ndarray:
        """Greenwood standard error of S itself (R: std.err * surv); NaN where S = 0."""
        with np.errstate(invalid="ignore"):
            return np.sqrt(self.greenwood) * self.surv

    def band(
        self, conf_type: ConfType = "log-log", level: float = 0.95
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise lower and upper confidence limits at each ``time``, as R's fit$lower/upper.

        "log-log" (as SAS): exp(-exp(log(-log S) -/+ z se / log S)), NaN where S is 0 or 1.
        "log" (R's default): S exp(-/+ z se), upper capped at 1, NaN where S = 0.
        "plain": S -/+ z se S, clipped to [0, 1], NaN where S = 0. Here se = sqrt(greenwood).
        The arrays are read-only and cached on the estimate.
        """
        _check_conf_type(conf_type)
        key = (conf_type, float(level))
        cached = self._bands.get(key)
        if cached is None:
            lower, upper = _pointwise_band(self.surv, self.greenwood, conf_type, _z(level))
            cached = (_readonly(lower), _readonly(upper))
            self._bands[key] = cached
        return cached


def _pointwise_band(
    surv: np.ndarray, greenwood: np.ndarray, conf_type: str, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """R's survfit_confint (conf.lower = "usual", logse = TRUE), operation for operation."""
    se = np.sqrt(greenwood)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if conf_type == "log":
            log_s = np.log(np.where(surv == 0.0, np.nan, surv))
            se2 = z * se
            return np.exp(log_s - se2), np.minimum(np.exp(log_s + se2), 1.0)
        if conf_type == "log-log":
            xx = np.where((surv == 0.0) | (surv == 1.0), np.nan, surv)
            log_xx = np.log(xx)
            se2 = z * se / log_xx
            loglog = np.log(-log_xx)
            return np.exp(-np.exp(loglog - se2)), np.exp(-np.exp(loglog + se2))
        # plain; se * S is inf * 0 = NaN where S = 0, and NaN survives the clipping, as in R
        se2 = se * surv * z
        return np.maximum(surv - se2, 0.0), np.minimum(surv + se2, 1.0)


@dataclass(frozen=True)
class QuantileEstimate:
    """A survival-time quantile with its confidence limits; None = not reached (R's NA)."""

    estimate: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Landmark:
    """Survival at a fixed time, as R's summary(fit, times = t, extend = TRUE).

    ``n_risk`` counts patients with time >= t; ``n_event_cum``/``n_censor_cum`` count events and
    censorings with time <= t. After the last observation S is carried forward with n_risk 0 and
    ``beyond_last_observation`` True. ``se`` is the Greenwood standard error of S.
    """

    time: float
    surv: float
    lower: float | None
    upper: float | None
    se: float | None
    n_risk: int
    n_event_cum: int
    n_censor_cum: int
    beyond_last_observation: bool


def _as_times(values: ArrayLike, what: str) -> np.ndarray:
    try:
        t = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numbers; {exc}") from None
    if t.ndim != 1:
        if t.ndim != 0:
            raise ValueError(f"{what} must be one-dimensional; got shape {t.shape}")
        t = t.reshape(1)
    # fast path: min is NaN if any value is NaN, and max is inf if any value is inf
    if t.size and not (t.min() >= 0.0 and t.max() < np.inf):
        bad = ~np.isfinite(t)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what}[{i}] is {t[i]}: every value must be a finite number")
        i = int(np.flatnonzero(t < 0)[0])
        raise ValueError(f"{what}[{i}] is {t[i]}: times must be >= 0")
    return t


def _as_events(values: ArrayLike, n: int) -> np.ndarray:
    try:
        e = np.asarray(values)
        checked = e.dtype == bool
        e = e.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"event must be 0 (censored) or 1 (event), with no missing values; {exc}"
        ) from None
    if e.ndim == 0:
        e = e.reshape(1)
    if e.shape != (n,):
        raise ValueError(f"time and event differ in length: {n} times, {e.size} event values")
    if not checked and n:
        bad = (e != 0.0) & (e != 1.0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"event[{i}] is {e[i]}: must be 0 (censored) or 1 (event)")
    return e


def _empty_km() -> KaplanMeier:
    empty_f = _readonly(np.empty(0))
    empty_i = _readonly(np.empty(0, dtype=np.int64))
    return KaplanMeier(empty_f, empty_i, empty_i, empty_i, empty_f, empty_f, 0, 0)


def kaplan_meier(time: ArrayLike, event: ArrayLike) -> KaplanMeier:
    """Kaplan-Meier estimate with Greenwood variance, as R's survfit(Surv(time, event) ~ 1).

    ``time`` is >= 0 and finite; ``event`` is 1 for an event and 0 for a censoring (booleans
    work). A censoring at the time of an event is still at risk at that time. Times that differ
    by less than sqrt(machine eps), absolutely or relative to the mean time, are pooled at the
    smaller one (R's default ``timefix``). Zero patients give an empty estimate (n = 0).
    """
    t = _as_times(time, "time")
    e = _as_events(event, t.size)
    n = t.size
    if n == 0:
        return _empty_km()

    order = np.argsort(t, kind="stable")
    ts = t[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ts[1:], ts[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    if starts.size > 1:
        # R survival's aeqSurv (timefix): pool distinct times closer than the tolerance,
        # absolutely or relative to the mean distinct time (times are >= 0, so no abs needed)
        uniq = ts[starts]
        gap = uniq[1:] - uniq[:-1]
        mean = uniq.sum() / uniq.size
        if gap.min() <= TOLERANCE * max(1.0, mean) * 2.0:  # else certainly no ties: skip
            tied = (gap <= TOLERANCE) | (gap / mean <= TOLERANCE)
            if tied.any():
                starts = starts[np.concatenate(([True], ~tied))]
    uniq = ts[starts]
    d = np.add.reduceat(e[order], starts)
    total = np.empty(starts.size, dtype=np.int64)
    total[:-1] = starts[1:] - starts[:-1]
    total[-1] = n - starts[-1]
    at_risk = n - starts

    nr = at_risk.astype(float)
    with np.errstate(divide="ignore"):
        surv = np.cumprod((nr - d) / nr)
        greenwood = np.cumsum(d / (nr * (nr - d)))
    n_event = d.astype(np.int64)
    return KaplanMeier(
        time=_readonly(uniq),
        n_risk=_readonly(at_risk.astype(np.int64)),
        n_event=_readonly(n_event),
        n_censor=_readonly(total - n_event),
        surv=_readonly(surv),
        greenwood=_readonly(greenwood),
        n=n,
        n_events=int(n_event.sum()),
    )


def _find_quantiles(x: np.ndarray, y: np.ndarray, p: float) -> list[float | None]:
    """R survival's findq, for several curves at once: the time each CDF y = 1 - S reaches p.

    ``x`` is (0, time...) and each row of ``y`` is (0, 1 - curve...), NaN where the curve is
    undefined. R drops repeated y values (keeping the first time each occurs; NA counts as one
    value), then takes x at the first y >= p - tol (i1) and at the first y >= p + tol (i2)
    and returns their midpoint: the first time the curve reaches 1 - p, or the middle of a
    stretch where it equals 1 - p within tol. If the last kept y equals p within tol, the
    stretch runs to the last time: (x[i1] + last time) / 2. NaN points never match; a curve
    whose largest y is below p gives None. "First y >= v" means the smallest such value, first
    occurrence (R's approx on the de-duplicated values), which is also what argmin finds on the
    original values, so the de-duplication is only needed for the last-point rule.
    """
    if p < TOLERANCE:  # below y[0] + tol = tol: outside approx's range, NA in R
        return [None] * y.shape[0]
    reached = np.fmax.reduce(y, axis=1) >= p
    shifted = y + TOLERANCE
    c1 = np.where(shifted >= p, shifted, np.inf)
    j1 = c1.argmin(axis=1)
    np.subtract(y, TOLERANCE, out=shifted)
    c2 = np.where(shifted >= p, shifted, np.inf)
    j2 = c2.argmin(axis=1)
    rows = np.arange(y.shape[0])
    found1 = (c1[rows, j1] != np.inf) & reached
    found2 = c2[rows, j2] != np.inf
    near = (np.abs(p - y) < TOLERANCE).any(axis=1)
    x_max = float(x[-1])
    out: list[float | None] = []
    for r, i1, i2 in zip(rows.tolist(), j1.tolist(), j2.tolist(), strict=True):
        if not found1[r]:
            out.append(None)
        elif near[r] and _last_kept_is_near(y[r], p):
            out.append(float((x[i1] + x_max) / 2))
        elif not found2[r]:
            out.append(None)
        else:
            out.append(float((x[i1] + x[i2]) / 2))
    return out


def _last_kept_is_near(y: np.ndarray, p: float) -> bool:
    """R's last-point rule: is the last of the de-duplicated y values within tol of p?"""
    _, first = np.unique(y, return_index=True)
    last = y[first.max()]
    return not math.isnan(last) and abs(p - last) < TOLERANCE


def km_quantile(
    km: KaplanMeier, p: float = 0.5, conf_type: ConfType = "log-log", level: float = 0.95
) -> QuantileEstimate:
    """Time by which a fraction ``p`` has had the event, with its CI, as R's quantile.survfit.

    The estimate is the first time S <= 1 - p (midpoint of a stretch where S = 1 - p within
    sqrt(machine eps)); the limits apply the same rule to the lower and upper pointwise band
    (Brookmeyer-Crowley), skipping points where the band is undefined. None = not reached.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1; got {p!r}")
    _check_conf_type(conf_type)
    if km.n == 0:
        _z(level)
        return QuantileEstimate(None, None, None)
    lower, upper = km.band(conf_type, level)
    m = km.time.size
    x = np.empty(m + 1)
    x[0] = 0.0
    x[1:] = km.time
    y = np.empty((3, m + 1))
    y[:, 0] = 0.0
    np.subtract(1.0, km.surv, out=y[0, 1:])
    np.subtract(1.0, lower, out=y[1, 1:])
    np.subtract(1.0, upper, out=y[2, 1:])
    estimate, low, high = _find_quantiles(x, y, p)
    return QuantileEstimate(estimate=estimate, lower=low, upper=high)


def km_median(
    km: KaplanMeier, conf_type: ConfType = "log-log", level: float = 0.95
) -> QuantileEstimate:
    """Median survival time with Brookmeyer-Crowley CI (log-log pointwise band by default)."""
    return km_quantile(km, 0.5, conf_type, level)


def _none_if_nan(v: float) -> float | None:
    return None if math.isnan(v) else v


def km_at_times(
    km: KaplanMeier, times: ArrayLike, conf_type: ConfType = "log-log", level: float = 0.95
) -> list[Landmark]:
    """Survival, CI, SE and numbers at risk at fixed times, as R's summary(fit, times, extend=TRUE).

    Before the first observed time S = 1 with CI (1, 1) and SE 0 (R's inserted time-0 row, so
    also (1, 1) under log-log); after a censoring while S is still 1 the log-log CI is undefined
    (None), as in R. With zero patients, S is NaN and everything else None or 0.
    """
    _check_conf_type(conf_type)
    t = _as_times(times, "times")
    if km.n == 0:
        _z(level)
        return [Landmark(float(ti), math.nan, None, None, None, 0, 0, 0, True) for ti in t]
    lower, upper = km.band(conf_type, level)
    # number of distinct times <= t (0 = before the first) and the first distinct time >= t
    n_at_or_before = np.searchsorted(km.time, t, side="right").tolist()
    first_at_or_after = np.searchsorted(km.time, t, side="left").tolist()
    events_cum = np.cumsum(km.n_event)
    censor_cum = np.cumsum(km.n_censor)
    steps = km.time.size
    last_time = float(km.time[-1])
    out = []
    for ti, k, j in zip(t.tolist(), n_at_or_before, first_at_or_after, strict=True):
        n_risk = int(km.n_risk[j]) if j < steps else 0
        if k == 0:  # R's inserted time-0 row: S = 1, SE 0, CI (1, 1) whatever the conf_type
            out.append(Landmark(ti, 1.0, 1.0, 1.0, 0.0, n_risk, 0, 0, False))
            continue
        r = k - 1
        surv = float(km.surv[r])
        se = math.sqrt(km.greenwood[r]) * surv  # inf * 0 = NaN where S = 0, as in R
        out.append(
            Landmark(
                time=ti,
                surv=surv,
                lower=_none_if_nan(float(lower[r])),
                upper=_none_if_nan(float(upper[r])),
                se=_none_if_nan(se),
                n_risk=n_risk,
                n_event_cum=int(events_cum[r]),
                n_censor_cum=int(censor_cum[r]),
                beyond_last_observation=ti > last_time,
            )
        )
    return out


def median_followup(
    time: ArrayLike, event: ArrayLike, conf_type: ConfType = "log-log", level: float = 0.95
) -> QuantileEstimate:
    """Median follow-up by the reverse Kaplan-Meier method (censoring is the "event").

    Equals R's quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5): patients who had the event
    are censored at their event time. None when fewer than half have been followed to censoring.
    """
    t = _as_times(time, "time")
    e = _as_events(event, t.size)
    return km_median(kaplan_meier(t, 1.0 - e), conf_type, level)
