"""The PFS-ratio rows of the results table against a brute-force computation kept in the test.

For every cohort: the share with ratio >= threshold (x/n of the ``pfs_ratio`` rate row) and the
median ratio with its exact order-statistic CI (``pfs_ratio_median``), recomputed here from the
patient rows with plain Python: the ratios as PFS on trial / PFS on the prior line, the
median as statistics.median, and the CI rank k as the largest rank whose coverage
1 - 2 sum_{j < k} C(n, j) / 2^n is at least 95%.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from _endpoint_cohorts import random_cohorts

from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.parameters import EndpointParameters
from dossier.registry.demo import demo_registry


def brute_force(pfs: list[float], prior: list[float], threshold: float
                ) -> tuple[int, int, float | None, float | None, float | None]:
    ratios = sorted(p / q for p, q in zip(pfs, prior, strict=True)
                    if q == q and q > 0 and p == p)
    n = len(ratios)
    reached = sum(r >= threshold * (1 - 1e-12) for r in ratios)
    if not n:
        return reached, n, None, None, None
    best = 0
    for k in range(1, (n + 1) // 2 + 1):
        below = sum(math.comb(n, j) for j in range(k)) / 2 ** n
        if 1 - 2 * below >= 0.95:
            best = k
    if best == 0:
        return reached, n, statistics.median(ratios), None, None
    return reached, n, statistics.median(ratios), ratios[best - 1], ratios[n - best]


@pytest.mark.parametrize("threshold", [1.3, 1.5])
def test_share_and_median_ratio_equal_a_brute_force_computation(threshold):
    patients = random_cohorts(400, 9)
    patients["prior_pfs_days"] = np.where(np.arange(400) % 7 == 0, np.nan,
                                          np.round(np.linspace(30, 400, 400)))
    results = compute_endpoints(patients, (), EndpointParameters(pfs_ratio_threshold=threshold))
    cohorts = results[results["group_by"] == "cohort_id"]
    checked = 0
    for cohort_id, rows in patients.groupby("cohort_id"):
        x, n, median, lower, upper = brute_force(rows["pfs_days"].tolist(),
                                                 rows["prior_pfs_days"].tolist(), threshold)
        mine = cohorts[cohorts["group"] == cohort_id]
        share = mine[(mine["endpoint"] == "pfs_ratio") & (mine["statistic"] == "rate")].iloc[0]
        assert (share["x"], share["n"]) == (x, n)
        row = mine[mine["endpoint"] == "pfs_ratio_median"].iloc[0]
        assert row["statistic"] == "median" and row["unit"] == "ratio"
        assert (row["x"], row["n"]) == (x, n)
        assert row["estimate"] == pytest.approx(median, rel=1e-12)
        assert row["lower"] == pytest.approx(lower, rel=1e-12)
        assert row["upper"] == pytest.approx(upper, rel=1e-12)
        assert row["label"] == "Median PFS ratio (trial / prior line)"
        checked += 1
    assert checked == 9


def test_too_few_ratios_give_a_median_without_an_interval():
    patients = random_cohorts(60, 1)
    patients["prior_pfs_days"] = np.nan
    patients.loc[patients.index[:5], "prior_pfs_days"] = [100.0, 120.0, 90.0, 200.0, 50.0]
    results = compute_endpoints(patients, ())
    row = results[(results["group_by"] == "cohort_id")
                  & (results["endpoint"] == "pfs_ratio_median")].iloc[0]
    expected = statistics.median(patients["pfs_days"].iloc[:5] / patients["prior_pfs_days"]
                                 .iloc[:5])
    assert row["n"] == 5 and row["estimate"] == pytest.approx(expected, rel=1e-12)
    assert math.isnan(row["lower"]) and math.isnan(row["upper"]) and row["status"] == "ok"


def test_the_demo_cohorts_carry_the_median_ratio_in_every_cohort():
    patients, _ = demo_registry()
    results = compute_endpoints(patients, ())
    rows = results[(results["group_by"] == "cohort_id")
                   & (results["endpoint"] == "pfs_ratio_median")]
    assert len(rows) == patients["cohort_id"].nunique()
    pooled = results[(results["group_by"] == "all")
                     & (results["endpoint"] == "pfs_ratio_median")].iloc[0]
    x, n, median, lower, upper = brute_force(patients["pfs_days"].astype(float).tolist(),
                                             patients["prior_pfs_days"].astype(float).tolist(),
                                             1.3)
    assert (pooled["x"], pooled["n"], pooled["estimate"]) == (x, n, pytest.approx(median))
    assert (pooled["lower"], pooled["upper"]) == (pytest.approx(lower), pytest.approx(upper))


def test_the_cohort_endpoint_table_shows_the_median_ratio_after_the_share():
    from dossier.render.context import endpoint_rows
    from dossier.render.results_index import ResultsIndex

    patients = random_cohorts(200, 2)
    patients["prior_pfs_days"] = np.round(np.linspace(60, 300, 200))
    results = compute_endpoints(patients, ())
    row = results[(results["group"] == "K000")
                  & (results["endpoint"] == "pfs_ratio_median")].iloc[0]
    table = endpoint_rows(ResultsIndex(results), ("cohort_id", "K000"))
    labels = [r["label"] for r in table]
    at = labels.index("Median PFS ratio (trial / prior line)")
    assert labels[at - 1].startswith("PFS ratio >= 1.3")
    assert table[at]["value"] == (f"{row['estimate']:.2f} ({row['lower']:.2f}-"
                                  f"{row['upper']:.2f})")
    assert table[at]["count"] == f"n = {int(row['n'])}"
