"""The PFS-ratio comparator against R (certainty_oracle.R) and scipy's binomial distribution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dossier.endpoints.certainty import ClauseState
from dossier.endpoints.parameters import EndpointParameters
from dossier.endpoints.pfs_ratio import (
    median_order_statistic_ci,
    pfs_ratio_comparison,
    pfs_ratio_from_outcomes,
)
from dossier.endpoints.response import derive_outcomes

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
EXPECTED = json.loads((REFERENCE / "certainty_expected.json").read_text(encoding="utf-8"))
RATIO_CASES = {c["id"]: c for c in EXPECTED["ratios"]}
REL_TOL = 1e-9


def patients(pfs, prior, event) -> pd.DataFrame:
    """A canonical patient frame with just what the PFS ratio needs (everyone evaluable, SD)."""
    n = len(pfs)
    return pd.DataFrame({
        "cohort_id": ["c1"] * n,
        "patient_id": [f"p{i:02d}" for i in range(n)],
        "response_evaluable": [True] * n,
        "best_response": ["SD"] * n,
        "response_confirmed": [False] * n,
        "pfs_days": pd.array(pfs, dtype="Float64"),
        "pfs_event": pd.array(event, dtype="Int64"),
        "prior_pfs_days": pd.array(prior, dtype="Float64"),
    })


def approx(value):
    return None if value is None else pytest.approx(value, rel=REL_TOL)


@pytest.mark.parametrize("case_id", list(RATIO_CASES))
def test_pfs_ratio_comparison_equals_r(case_id):
    case = RATIO_CASES[case_id]
    frame = patients(case["pfs_days"], case["prior_pfs_days"], case["pfs_event"])
    params = EndpointParameters(pfs_ratio_threshold=case["threshold"])
    got = pfs_ratio_comparison(frame, params, share_threshold=case["share_threshold"],
                               level=case["level"])
    assert got.threshold == case["threshold"]
    assert (got.share.x, got.share.n) == (case["x"], case["n"])
    assert got.share.lower == approx(case["share_lower"])
    assert got.share.upper == approx(case["share_upper"])
    assert got.share_clause.posterior == approx(case["share_posterior"])
    assert got.share_clause.rate == got.share
    assert got.median.estimate == approx(case["median"])
    ci = case["median_ci"]
    assert got.median.lower == approx(ci["lower"])
    assert got.median.upper == approx(ci["upper"])
    assert got.median.lower_rank == ci["lower_rank"]
    assert got.median.upper_rank == ci["upper_rank"]
    assert got.median.coverage == approx(ci["coverage"])
    assert (got.n_censored, got.n_censored_below) == (case["n_censored"],
                                                      case["n_censored_below"])


def test_ratios_come_from_derive_outcomes():
    case = RATIO_CASES["twelve_mixed"]
    frame = patients(case["pfs_days"], case["prior_pfs_days"], case["pfs_event"])
    outcomes = derive_outcomes(frame)
    assert sorted(outcomes.pfs_ratio[outcomes.with_prior_pfs]) == pytest.approx(case["ratios"])


def test_group_mask_selects_patients():
    case = RATIO_CASES["twenty_four"]
    frame = patients(case["pfs_days"], case["prior_pfs_days"], case["pfs_event"])
    params = EndpointParameters()
    outcomes = derive_outcomes(frame, params)
    rows = np.arange(len(frame)) < 10
    part = pfs_ratio_from_outcomes(outcomes, frame["pfs_event"], params, rows)
    whole = pfs_ratio_comparison(frame.iloc[:10].reset_index(drop=True), params)
    assert part.share == whole.share and part.median == whole.median
    assert part.share_clause is None and part.share_threshold is None


def test_ratio_exactly_at_threshold_counts_and_median_clause_states():
    frame = patients([130, 260, 390, 520, 65, 80, 150], [100] * 7, [1] * 7)
    got = pfs_ratio_comparison(frame)
    assert got.share.x == 5  # 1.3 counts as >= 1.3
    assert got.median.estimate == pytest.approx(1.5)
    assert got.median.lower_rank == 1 and got.median.upper_rank == 7
    assert got.median_clause.state is ClauseState.MET_UNCERTAIN
    few = pfs_ratio_comparison(patients([200, 300, 250], [100] * 3, [1] * 3))
    assert few.median.lower is None  # no exact 95% interval from 3 patients
    assert few.median_clause.state is ClauseState.MET_UNCERTAIN
    none = pfs_ratio_comparison(patients([200], [None], [1]))
    assert none.share.no_patients and none.median_clause.state is ClauseState.NOT_ESTIMABLE


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("n", [*range(61), 100, 250])
def test_order_statistic_interval_is_the_narrowest_with_enough_coverage(n, level):
    values = np.arange(n, dtype=float) * 1.5 + 0.25
    got = median_order_statistic_ci(values, level)
    if n == 0:
        assert got.estimate is None
        return
    assert got.estimate == pytest.approx(float(np.median(values)))

    def coverage(k: int) -> float:  # independent: scipy's binomial CDF
        return 1.0 - 2.0 * float(stats.binom.cdf(k - 1, n, 0.5))

    if got.lower_rank is None:
        assert coverage(1) < level
        return
    k = got.lower_rank
    assert got.upper_rank == n - k + 1
    assert (got.lower, got.upper) == (values[k - 1], values[n - k])
    assert got.coverage == pytest.approx(coverage(k), rel=1e-12) and got.coverage >= level
    assert k + 1 > (n + 1) // 2 or coverage(k + 1) < level


def test_order_statistic_interval_refuses_non_finite_values():
    with pytest.raises(ValueError, match=r"values\[1\] is nan"):
        median_order_statistic_ci([1.0, float("nan")])
