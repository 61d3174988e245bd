"""Where a pending cohort is heading: the Bayesian predictive probability of a final count.

A cohort with x successes among n patients so far, planned to reach N patients, ends with
x + Y successes, Y the successes among the N - n patients still to come. With a Beta(a, b)
prior on the true rate the posterior is Beta(a + x, b + n - x) and Y is beta-binomial:

    P(Y = y) = C(N - n, y) B(a + x + y, b + n - x + N - n - y) / B(a + x, b + n - x).

The probability to reach a bar ("at least r of N", or a rate clause "ORR >= 20% at N", i.e.
at least ceil(0.20 N) of N) is the sum of that distribution over y >= r - x, by exact
enumeration of the N - n + 1 outcomes. The assumptions: the patients still to come are
exchangeable with those seen (same rate), and every one will be evaluable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln

from dossier.endpoints.certainty import JEFFREYS, BetaPrior

__all__ = [
    "PredictiveProbability",
    "predictive_pmf",
    "predictive_probability",
    "successes_needed",
]

RELATIVE_TOLERANCE = 1e-9
"""A rate threshold times N within this of a whole number counts as that number (0.2 x 25)."""


def _check_counts(x: int, n: int, planned: int) -> None:
    for name, value in (("successes", x), ("patients", n), ("planned size", planned)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0; got {value!r}")
    if x > n:
        raise ValueError(f"successes ({x}) cannot exceed patients ({n})")


def predictive_pmf(x: int, n: int, planned: int, prior: BetaPrior = JEFFREYS) -> np.ndarray:
    """P(Y = y), y = 0 .. planned - n: successes among the patients still to come.

    Empty when the cohort already has ``planned`` patients or more (nothing left to predict
    gives the one outcome y = 0 with probability 1).
    """
    _check_counts(x, n, planned)
    remaining = max(planned - n, 0)
    y = np.arange(remaining + 1, dtype=float)
    a, b = prior.a + x, prior.b + n - x
    log_p = (gammaln(remaining + 1) - gammaln(y + 1) - gammaln(remaining - y + 1)
             + betaln(a + y, b + remaining - y) - betaln(a, b))
    pmf = np.exp(log_p)
    pmf.setflags(write=False)
    return pmf


def successes_needed(threshold: float, op: str, planned: int) -> int:
    """The fewest successes of ``planned`` that make the rate meet ``op threshold``.

    ``>= 0.20`` of 24 needs 5 (4.8 rounded up); ``> 0.20`` of 25 needs 6 (5 is not more).
    """
    if op not in (">=", ">"):
        raise ValueError(f"a rate target is '>=' or '>'; got {op!r}")
    exact = threshold * planned
    whole = round(exact)
    if abs(exact - whole) <= RELATIVE_TOLERANCE * max(1.0, abs(exact)):
        return int(whole) + (1 if op == ">" else 0)
    return math.floor(exact) + 1


@dataclass(frozen=True)
class PredictiveProbability:
    """The probability that a cohort of x of n so far ends with at least ``needed`` of
    ``planned``, with what it assumed."""

    x: int
    n: int
    planned: int
    needed: int
    probability: float
    prior: BetaPrior
    method: str

    @property
    def remaining(self) -> int:
        """Patients still to come."""
        return max(self.planned - self.n, 0)

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON and the workbook."""
        return {"x": self.x, "n": self.n, "planned": self.planned, "needed": self.needed,
                "remaining": self.remaining, "probability": self.probability,
                "prior": self.prior.name, "method": self.method}


def predictive_probability(x: int, n: int, planned: int, needed: int,
                           prior: BetaPrior = JEFFREYS) -> PredictiveProbability:
    """P(x + Y >= needed) with Y beta-binomial on the ``planned - n`` patients still to come.

    Already reached: 1; out of reach even if every remaining patient succeeds: 0. A cohort at
    or beyond its planned size is decided by its counts (1 or 0).
    """
    _check_counts(x, n, planned)
    if isinstance(needed, bool) or not isinstance(needed, int | np.integer):
        raise ValueError(f"needed successes must be a whole number; got {needed!r}")
    pmf = predictive_pmf(x, n, planned, prior)
    short = int(needed) - x
    if short <= 0:
        probability = 1.0
    elif short >= len(pmf):
        probability = 0.0
    else:
        probability = float(min(1.0, pmf[short:].sum()))
    method = (f"beta-binomial predictive distribution of the successes among the "
              f"{max(planned - n, 0)} patients still to come, {prior.name}, exact enumeration")
    return PredictiveProbability(int(x), int(n), int(planned), int(needed), probability, prior,
                                 method)
