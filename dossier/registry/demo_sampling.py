"""Random draws the demo registry is built from: exact apportioning, weighted picks, truncated
log-normals, a smooth stable-disease PFS distribution and the Kaplan-Meier median used to calibrate.

Kept apart from demo.py, which says what the registry looks like; here is only how to draw it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

__all__ = ["SmoothPFS", "adjust", "apportion", "half_up", "km_median", "lognormal_quantile",
           "pick", "pick_keys", "trunc_lognormal"]


def half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def apportion(total: int, weights: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Integers 0 <= x <= room summing to ``total`` (or to sum(room)), largest remainder."""
    room = np.asarray(room, np.int64)
    x = np.zeros(len(room), np.int64)
    need = min(int(total), int(room.sum()))
    w = np.asarray(weights, float)
    while need > 0:
        free = room - x > 0
        ww = np.where(free, np.maximum(w, 0), 0.0)
        ww = ww if ww.sum() > 0 else free.astype(float)
        quota = need * ww / ww.sum()
        add = np.minimum(np.floor(quota).astype(np.int64), room - x)
        if add.sum() == 0:
            order = np.argsort(-(quota - np.floor(quota)), kind="stable")
            add[order[free[order]][:need]] = 1
        x += add
        need -= int(add.sum())
    return x


def adjust(values: np.ndarray, total: int, lo: np.ndarray, hi: np.ndarray,
            weights: np.ndarray) -> np.ndarray:
    """Move integer ``values`` within [lo, hi] so that they sum to ``total`` where possible."""
    values = np.clip(values, lo, hi).astype(np.int64)
    gap = int(total) - int(values.sum())
    if gap >= 0:
        return values + apportion(gap, weights, hi - values)
    return values - apportion(-gap, weights, values - lo)


def pick(rng: np.random.Generator, mask: np.ndarray, weights: np.ndarray | float,
          k: int) -> np.ndarray:
    """Choose k of the patients in ``mask`` without replacement, weighted (Efraimidis-Spirakis)."""
    idx = np.flatnonzero(mask)
    out = np.zeros(len(mask), bool)
    k = max(0, min(int(k), len(idx)))
    if k == 0:
        return out
    w = np.broadcast_to(np.asarray(weights, float), mask.shape)[idx]
    keys = np.log(rng.random(len(idx))) / np.maximum(w, 1e-9)
    out[idx[np.argpartition(-keys, k - 1)[:k]]] = True
    return out


def trunc_lognormal(rng: np.random.Generator, median: np.ndarray, sigma: float,
                     lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Log-normal draws truncated to [lo, hi] by inverse CDF (bounds hold exactly)."""
    median = np.asarray(median, float)
    return lognormal_quantile(rng.random(median.shape), median, sigma, lo, hi)


def lognormal_quantile(u: np.ndarray, median: np.ndarray, sigma: float, lo: np.ndarray | float,
                        hi: np.ndarray | float) -> np.ndarray:
    """The u-quantiles of log-normals truncated to [lo, hi]; increasing in u and in median."""
    median = np.asarray(median, float)

    def cdf(v: np.ndarray | float) -> np.ndarray:
        return ndtr((np.log(np.maximum(np.asarray(v, float), 1e-9)) - np.log(median)) / sigma)

    a, b = cdf(lo), cdf(hi)
    x = median * np.exp(sigma * ndtri(np.clip(a + u * (b - a), 1e-12, 1 - 1e-12)))
    return np.clip(x, lo, hi)


class SmoothPFS:
    """PFS of stable disease: progression found around an assessment, or slow growth.

    A mixture of a normal (``scan``: mean, sd in days) and a log-normal shifted by 42 days
    (``slow``: median, sigma), conditioned on ``first`` days or more; the mixing weight is solved
    so that half of the patients reaching ``split[0]`` days also reach ``split[1]``. Tabulated on
    a fine grid and drawn by inverse CDF, so a draw restricted to an interval keeps the
    distribution's shape inside it and draws for adjoining intervals join without a step.
    """

    def __init__(self, first: float, scan: tuple[float, float], slow: tuple[float, float],
                 split: tuple[float, float]) -> None:
        self.t = np.arange(first, 4000.25, 0.25)
        normal = ndtr((self.t - scan[0]) / scan[1])
        shifted = ndtr((np.log(self.t - 42) - np.log(slow[0])) / slow[1])

        def cdf(weight: float) -> np.ndarray:
            mix = weight * normal + (1 - weight) * shifted
            return (mix - mix[0]) / (mix[-1] - mix[0])

        def half_rule(weight: float) -> float:
            at_first, at_second = np.interp(split, self.t, cdf(weight))
            return (at_second - at_first) - (1 - at_second)

        self.weight = float(brentq(half_rule, 0.0, 0.999, xtol=1e-12))
        self.cdf = cdf(self.weight)

    def mass(self, lo: float, hi: float = np.inf) -> float:
        """Probability of a PFS in [lo, hi) days."""
        return float(np.diff(np.interp([lo, min(hi, self.t[-1])], self.t, self.cdf))[0])

    def draw(self, rng: np.random.Generator, k: int, lo: float, hi: float) -> np.ndarray:
        """k whole-day PFS values in [lo, hi), from the distribution restricted to that range.

        Stratified: one draw from each of k equal-probability slices, in random order, so the
        pooled histogram follows the distribution without sampling noise.
        """
        a, b = np.interp([lo, hi], self.t, self.cdf)
        u = (rng.permutation(k) + rng.random(k)) / max(k, 1)
        days = np.floor(np.interp(a + u * (b - a), self.cdf, self.t))
        return np.clip(days, lo, hi - 1)


def pick_keys(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Random keys that sort heavier weights last more often (Efraimidis-Spirakis)."""
    return np.log(rng.random(len(weights))) / np.maximum(weights, 1e-9)


def km_median(time: np.ndarray, event: np.ndarray) -> tuple[float, bool]:
    """Kaplan-Meier median (first time S <= 0.5) and whether S is exactly 0.5 there."""
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order].astype(float)
    uniq, first = np.unique(t, return_index=True)
    surv = np.cumprod(1 - np.add.reduceat(e, first) / (len(t) - first))
    hit = np.flatnonzero(surv <= 0.5 + 1e-12)
    if not len(hit):
        return float("inf"), False
    return float(uniq[hit[0]]), bool(abs(surv[hit[0]] - 0.5) < 1e-12)
