"""The PFS ratio as a within-patient comparator: the share reaching the threshold, the median.

Each patient with a known PFS on the previous line is their own control: ratio = PFS on the
study drug / PFS on the previous line (Von Hoff's growth-modulation index). The per-patient
ratio and the "ratio >= threshold" flag come from :func:`dossier.endpoints.response.
derive_outcomes` (one derivation, one threshold rule); this module summarises them per group:

* the **share** of patients with ratio >= threshold, with the exact Clopper-Pearson CI and,
  given a share threshold (data, e.g. from a rule file), its state and the beta-binomial
  posterior that the true share meets it (:func:`.certainty.rate_threshold`);
* the **median ratio** with the exact distribution-free CI for a median by order statistics
  (:func:`median_order_statistic_ci`), and the clause "median ratio >= threshold" decided on it.

A ratio whose trial PFS is censored is a lower bound of the true ratio. Counting it as below the
threshold when it is (and using it as is in the median) is conservative; how many such patients
there are is reported (``n_censored_below``) so the reader can judge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import bdtr

from dossier.endpoints.certainty import (
    JEFFREYS,
    BetaPrior,
    ClauseDecision,
    RateThreshold,
    decide,
    rate_threshold,
)
from dossier.endpoints.labels import denominator_label
from dossier.endpoints.parameters import EndpointParameters, number_text
from dossier.endpoints.rates import Rate, clopper_pearson
from dossier.endpoints.response import PatientOutcomes, derive_outcomes, parameters_json

__all__ = [
    "MedianInterval",
    "PfsRatioComparison",
    "median_order_statistic_ci",
    "pfs_ratio_comparison",
    "pfs_ratio_from_outcomes",
]

RELATIVE_TOLERANCE = 1e-12
"""As response.derive_outcomes' per-patient rule: 130/100 counts as >= 1.3 whatever the float
rounding. Used for the median ratio's clause, so that both readings of the threshold agree."""


@dataclass(frozen=True)
class MedianInterval:
    """A sample median with its exact distribution-free confidence interval.

    ``lower``/``upper`` are the order statistics X(k) and X(n - k + 1) (1-based ranks
    ``lower_rank``/``upper_rank``); ``coverage`` is their exact coverage for a continuous
    distribution, 1 - 2 P(Binomial(n, 1/2) <= k - 1), the smallest that is >= ``level``. With
    too few values for any such pair (n <= 5 at 95%) the limits, ranks and coverage are None;
    with no values the estimate is None too.
    """

    n: int
    estimate: float | None
    lower: float | None
    upper: float | None
    lower_rank: int | None
    upper_rank: int | None
    coverage: float | None
    level: float = 0.95


def median_order_statistic_ci(values: ArrayLike, level: float = 0.95) -> MedianInterval:
    """Median and its exact distribution-free CI by order statistics (no distribution assumed).

    The number of values below the true median is Binomial(n, 1/2), so [X(k), X(n - k + 1)]
    covers it with probability 1 - 2 P(B <= k - 1) for continuous data (at least that with
    ties). k is the largest rank with coverage >= ``level``: R's ``qbinom((1 - level) / 2, n,
    0.5)`` gives the same k. The estimate is the usual sample median (mean of the two middle
    values for even n, as R's median). ``values`` must be finite numbers.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values must be one-dimensional; got shape {x.shape}")
    if x.size and not np.isfinite(x).all():
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(f"values[{i}] is {x[i]}: every value must be a finite number")
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be between 0 and 1 (exclusive); got {level!r}")
    n = int(x.size)
    if n == 0:
        return MedianInterval(0, None, None, None, None, None, None, float(level))
    x = np.sort(x)
    estimate = float(np.median(x))
    alpha = 1.0 - level
    k = 0
    # 2 P(B <= k - 1) grows with k; take the largest k (<= n/2) keeping it <= alpha
    while k + 1 <= (n + 1) // 2 and 2.0 * float(bdtr(k, n, 0.5)) <= alpha:
        k += 1
    if k == 0:
        return MedianInterval(n, estimate, None, None, None, None, None, float(level))
    coverage = 1.0 - 2.0 * float(bdtr(k - 1, n, 0.5))
    return MedianInterval(n, estimate, float(x[k - 1]), float(x[n - k]), k, n - k + 1,
                          coverage, float(level))


@dataclass(frozen=True)
class PfsRatioComparison:
    """The PFS ratio of one group of patients, as a within-patient comparator.

    ``share`` is the Clopper-Pearson rate of patients with ratio >= ``threshold`` among the
    ``share.n`` patients with a known prior-line PFS; ``share_clause`` (only given a
    ``share_threshold``) decides "share >= share_threshold" with its posterior. ``median`` is
    the median ratio with its order-statistic CI, ``median_clause`` decides "median ratio >=
    threshold" on it. ``n_censored`` ratios rest on a censored trial PFS (lower bounds), of which
    ``n_censored_below`` are below the threshold and might still reach it.
    """

    threshold: float
    share: Rate
    share_threshold: float | None
    share_clause: RateThreshold | None
    median: MedianInterval
    median_clause: ClauseDecision
    n_censored: int
    n_censored_below: int
    prior: BetaPrior


def pfs_ratio_from_outcomes(
    outcomes: PatientOutcomes,
    pfs_event: ArrayLike,
    parameters: EndpointParameters,
    rows: ArrayLike | None = None,
    *,
    share_threshold: float | None = None,
    level: float = 0.95,
    prior: BetaPrior = JEFFREYS,
) -> PfsRatioComparison:
    """Summarise the per-patient PFS ratios of ``outcomes`` (all rows, or the ``rows`` mask).

    ``outcomes`` must come from ``derive_outcomes(patients, parameters)`` with these very
    ``parameters`` (its success flags use their threshold); ``pfs_event`` is the patients'
    ``pfs_event`` column (1 progression or death, 0 censored), aligned with ``outcomes``; any
    other value (missing) counts as censored, i.e. the ratio as a lower bound.
    """
    n = len(outcomes)
    mask = np.ones(n, dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"rows must be a boolean mask of {n} patients; got shape {mask.shape}")
    event = np.asarray(pd.to_numeric(pd.Series(pfs_event), errors="coerce"), dtype=float)
    if event.shape != (n,):
        raise ValueError(f"pfs_event has {event.size} values for {n} patients")
    known = mask & outcomes.with_prior_pfs
    ratios = outcomes.pfs_ratio[known]
    success = outcomes.pfs_ratio_success[known]
    censored = event[known] != 1
    threshold = float(parameters.pfs_ratio_threshold)

    share = clopper_pearson(int(success.sum()), int(known.sum()), level)
    share_clause = None
    if share_threshold is not None:
        share_clause = rate_threshold(share.x, share.n, share_threshold, ">=", level=level,
                                      prior=prior)
    median = median_order_statistic_ci(ratios, level)
    # with too few patients for an exact interval the limits are None: never certain
    median_clause = decide(median.estimate, median.lower, median.upper, threshold, ">=",
                           level=level,
                           tolerance=threshold * RELATIVE_TOLERANCE)
    return PfsRatioComparison(
        threshold=threshold,
        share=share,
        share_threshold=None if share_threshold is None else float(share_threshold),
        share_clause=share_clause,
        median=median,
        median_clause=median_clause,
        n_censored=int(censored.sum()),
        n_censored_below=int((censored & ~success).sum()),
        prior=prior,
    )


def pfs_ratio_comparison(
    patients: pd.DataFrame,
    parameters: EndpointParameters | None = None,
    *,
    share_threshold: float | None = None,
    level: float = 0.95,
    prior: BetaPrior = JEFFREYS,
) -> PfsRatioComparison:
    """The PFS-ratio comparator of all patients of a canonical patient frame (contract A).

    Derives the ratios with :func:`dossier.endpoints.response.derive_outcomes` and summarises
    them with :func:`pfs_ratio_from_outcomes`; the threshold is ``parameters.
    pfs_ratio_threshold`` (DRUP default 1.3, configurable in dossier.toml).
    """
    parameters = parameters or EndpointParameters()
    outcomes = derive_outcomes(patients, parameters)
    return pfs_ratio_from_outcomes(outcomes, patients["pfs_event"].to_numpy(), parameters,
                                   share_threshold=share_threshold, level=level, prior=prior)



# ------------------------------------------------------------------ rows of the results table

MEDIAN_RATIO_ENDPOINT = "pfs_ratio_median"
"""Endpoint id of the median-ratio row (``pfs_ratio`` rows are the share >= threshold)."""
MEDIAN_RATIO_LABEL = "Median PFS ratio (trial / prior line)"


def ratios_by_group(codes: np.ndarray, size: int, ratio: np.ndarray, known: np.ndarray
                    ) -> list[np.ndarray]:
    """The known PFS ratios of each of ``size`` groups (``codes`` 0..size-1), in one pass."""
    picked = np.flatnonzero(np.asarray(known, dtype=bool))
    order = picked[np.argsort(codes[picked], kind="stable")]
    bounds = np.searchsorted(codes[order], np.arange(size + 1), side="left")
    return [ratio[order[bounds[i]:bounds[i + 1]]] for i in range(size)]


def median_ratio_method(parameters: EndpointParameters) -> str:
    """The method of the median-ratio row, in words."""
    percent = f"{number_text(parameters.conf_level * 100)}%"
    return (f"median of the per-patient PFS ratios (PFS on trial / PFS on the prior line) among "
            f"patients with a prior PFS > 0 days; exact distribution-free {percent} CI by order "
            "statistics X(k) to X(n - k + 1), k the largest rank whose coverage 1 - 2 P(Binomial"
            "(n, 1/2) <= k - 1) is at least the level (no interval for 5 or fewer patients at "
            "95%); a censored PFS on trial counts at its censored time (a lower bound)")


def median_ratio_row(group_by: str, group: str, ratios: np.ndarray,
                     parameters: EndpointParameters, method: str) -> tuple:
    """The ``pfs_ratio | median`` row of one group (contract D), x = ratios >= threshold."""
    median = median_order_statistic_ci(ratios, parameters.conf_level)
    threshold = float(parameters.pfs_ratio_threshold)
    reached = int(np.sum(ratios >= threshold * (1 - RELATIVE_TOLERANCE)))
    nan = math.nan
    params = parameters_json({"threshold": threshold})
    return (group_by, group, MEDIAN_RATIO_ENDPOINT, "median", nan,
            nan if median.estimate is None else median.estimate,
            nan if median.lower is None else median.lower,
            nan if median.upper is None else median.upper, float(reached), float(median.n),
            "ratio", "with_prior_pfs", "ok" if median.n else "no_patients", method, params,
            MEDIAN_RATIO_LABEL, denominator_label("with_prior_pfs", parameters))
