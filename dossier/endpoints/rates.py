"""Response-type rates with exact Clopper-Pearson confidence intervals, as R's binom.test."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from scipy.special import betaincinv

__all__ = ["Rate", "clopper_pearson"]


@dataclass(frozen=True)
class Rate:
    """x patients with the outcome out of n, with an exact confidence interval.

    With n = 0 the estimate and limits are None and ``no_patients`` is True: a cohort without
    evaluable patients is reported as such, never as an error or as 0%.
    """

    x: int
    n: int
    estimate: float | None
    lower: float | None
    upper: float | None
    level: float = 0.95

    @property
    def no_patients(self) -> bool:
        """True when there is no patient in the denominator (n = 0)."""
        return self.n == 0


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number of patients; got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    as_float = float(value)
    if not math.isfinite(as_float) or not as_float.is_integer():
        raise ValueError(f"{name} must be a whole number of patients; got {value!r}")
    return int(as_float)


def clopper_pearson(x: int, n: int, level: float = 0.95) -> Rate:
    """Proportion x / n with the exact Clopper-Pearson interval (R: binom.test(x, n)$conf.int).

    lower = Beta quantile alpha/2 with shape (x, n - x + 1), 0 when x = 0; upper = Beta
    quantile 1 - alpha/2 with shape (x + 1, n - x), 1 when x = n; alpha = 1 - level.
    ``x`` and ``n`` are whole numbers with 0 <= x <= n.
    """
    x = _count(x, "x (patients with the outcome)")
    n = _count(n, "n (patients in the denominator)")
    if n < 0:
        raise ValueError(f"n (patients in the denominator) must be >= 0; got {n}")
    if x < 0:
        raise ValueError(f"x (patients with the outcome) must be >= 0; got {x}")
    if x > n:
        raise ValueError(f"x ({x} patients with the outcome) exceeds n ({n} patients)")
    if not (isinstance(level, numbers.Real) and 0.0 < level < 1.0):
        raise ValueError(f"confidence level must be between 0 and 1 (exclusive); got {level!r}")
    if n == 0:
        return Rate(x=0, n=0, estimate=None, lower=None, upper=None, level=float(level))
    alpha = (1.0 - level) / 2.0
    # betaincinv(a, b, q) is the q-quantile of Beta(a, b) (what scipy.stats.beta.ppf computes,
    # without its per-call overhead)
    lower = 0.0 if x == 0 else float(betaincinv(x, n - x + 1, alpha))
    upper = 1.0 if x == n else float(betaincinv(x + 1, n - x, 1.0 - alpha))
    return Rate(x=x, n=n, estimate=x / n, lower=lower, upper=upper, level=float(level))
