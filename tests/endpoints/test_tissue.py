"""Tissue context inside a basket: the exact heterogeneity test and the hierarchical estimates.

Expected values: ``tests/reference/outlook_oracle.R`` -> ``outlook_expected.json`` (R's
``fisher.test`` and nested adaptive ``integrate`` over the model's two hyperparameters); the
credible limits are checked here by scipy's adaptive ``dblquad`` of the posterior CDF.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats

from dossier.endpoints.tissue import (
    exact_heterogeneity_test,
    hierarchical_rates,
    quadrature_grid,
)

EXPECTED = json.loads((Path(__file__).parents[1] / "reference" / "outlook_expected.json")
                      .read_text(encoding="utf-8"))


def _ids(case: dict) -> str:
    return case["label"]


@pytest.mark.parametrize("case", EXPECTED["heterogeneity"], ids=_ids)
def test_heterogeneity_p_value_equals_r_fisher_test(case):
    assert exact_heterogeneity_test(case["x"], case["n"]) == pytest.approx(case["p_value"],
                                                                           rel=1e-9, abs=1e-14)


def test_two_tumour_types_give_the_two_by_two_fisher_test():
    for x, n in (([14, 1], [24, 24]), ([45, 1], [96, 4]), ([0, 3], [7, 5])):
        table = [[x[0], n[0] - x[0]], [x[1], n[1] - x[1]]]
        assert exact_heterogeneity_test(x, n) == pytest.approx(
            stats.fisher_exact(table).pvalue, rel=1e-9)


def test_heterogeneity_test_refuses_bad_tables():
    with pytest.raises(ValueError, match="two tumour types"):
        exact_heterogeneity_test([1], [4])
    with pytest.raises(ValueError, match="0 <= successes"):
        exact_heterogeneity_test([5, 1], [4, 4])
    assert exact_heterogeneity_test([0, 1], [0, 4]) is None


@pytest.mark.parametrize("case", EXPECTED["hierarchical"], ids=_ids)
def test_hierarchical_means_and_shrinkage_equal_r_nested_integration(case):
    fit = hierarchical_rates(case["x"], case["n"])
    assert fit.basket_mean == pytest.approx(case["basket_mean"], abs=2e-6)
    assert fit.rho_mean == pytest.approx(case["rho_mean"], abs=2e-6)
    for got, want in zip(fit.types, case["types"], strict=True):
        assert (got.x, got.n) == (want["x"], want["n"])
        assert got.mean == pytest.approx(want["mean"], abs=2e-6)
        assert got.shrinkage == pytest.approx(want["shrinkage"], abs=2e-6)


def _log_like(m: float, rho: float, x, n) -> float:
    k = (1 - rho) / rho
    return sum(special.betaln(m * k + xi, (1 - m) * k + ni - xi)
               - special.betaln(m * k, (1 - m) * k) for xi, ni in zip(x, n, strict=True))


@pytest.mark.parametrize(("x", "n"), [([14, 1], [24, 24]), ([3, 1], [15, 4])])
def test_credible_limits_hold_2_5_and_97_5_percent_by_adaptive_integration(x, n):
    fit = hierarchical_rates(x, n)
    top = max(_log_like(m, r, x, n) for m in np.linspace(0.01, 0.99, 50)
              for r in np.linspace(0.01, 0.99, 50))

    def posterior_integral(f) -> float:
        value, _ = integrate.dblquad(lambda m, r: math.exp(_log_like(m, r, x, n) - top) * f(m, r),
                                     0, 1, 0, 1, epsabs=1e-11, epsrel=1e-9)
        return value

    z = posterior_integral(lambda m, r: 1.0)
    for i, estimate in enumerate(fit.types[:1]):
        def cdf(c: float, i: int = i) -> float:
            def inner(m: float, r: float) -> float:
                k = (1 - r) / r
                return special.betainc(m * k + x[i], (1 - m) * k + n[i] - x[i], c)
            return posterior_integral(inner) / z
        assert cdf(estimate.lower) == pytest.approx(0.025, abs=2e-5)
        assert cdf(estimate.upper) == pytest.approx(0.975, abs=2e-5)


def test_symmetric_baskets_give_symmetric_estimates():
    fit = hierarchical_rates([3, 9], [12, 12])
    assert fit.basket_mean == pytest.approx(0.5, abs=1e-12)
    assert fit.types[0].mean + fit.types[1].mean == pytest.approx(1.0, abs=1e-12)
    assert fit.types[0].lower + fit.types[1].upper == pytest.approx(1.0, abs=1e-8)
    same = hierarchical_rates([2, 2, 2], [8, 8, 8])
    assert len({round(t.mean, 12) for t in same.types}) == 1


def test_estimates_move_towards_the_basket_mean_and_small_types_move_most():
    fit = hierarchical_rates([45, 1], [96, 4])
    big, small = fit.types
    for t in fit.types:
        assert min(t.observed, fit.basket_mean) <= t.mean <= max(t.observed, fit.basket_mean)
    assert small.shrinkage > big.shrinkage
    assert abs(small.mean - small.observed) > abs(big.mean - big.observed)


def test_when_tissue_matters_the_estimates_stay_apart():
    fit = hierarchical_rates([14, 1], [24, 24])
    assert fit.types[0].lower > fit.types[1].upper
    assert fit.rho_mean > hierarchical_rates([45, 1], [96, 4]).rho_mean


def test_the_quadrature_rule_integrates_polynomials_exactly():
    points, weights = quadrature_grid()
    assert weights.sum() == pytest.approx(1.0, abs=1e-14)
    assert float(np.dot(weights, points ** 7)) == pytest.approx(1 / 8, abs=1e-14)
