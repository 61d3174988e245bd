"""Predictive probabilities of a pending cohort, against exact enumeration and against R.

Expected values: ``tests/reference/outlook_oracle.R`` -> ``outlook_expected.json`` (base R's
``choose``/``beta`` sums and ``integrate(pbinom * dbeta)``).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from dossier.endpoints.certainty import JEFFREYS, UNIFORM, BetaPrior
from dossier.endpoints.predictive import (
    predictive_pmf,
    predictive_probability,
    successes_needed,
)

EXPECTED = json.loads((Path(__file__).parents[1] / "reference" / "outlook_expected.json")
                      .read_text(encoding="utf-8"))


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def by_sequences(x: int, n: int, planned: int, needed: int, a: float, b: float) -> float:
    """Every sequence of outcomes of the remaining patients, each with its Polya-urn probability."""
    remaining = planned - n
    total = 0.0
    for sequence in itertools.product((0, 1), repeat=remaining):
        s = sum(sequence)
        if x + s >= needed:
            total += math.exp(_log_beta(a + x + s, b + n - x + remaining - s)
                              - _log_beta(a + x, b + n - x))
    return total


@pytest.mark.parametrize("case", EXPECTED["predictive"],
                         ids=lambda c: f"{c['x']}of{c['n']}to{c['needed']}of{c['planned']}")
def test_predictive_probability_equals_r(case):
    prior = BetaPrior(case["prior_a"], case["prior_b"], "prior")
    got = predictive_probability(case["x"], case["n"], case["planned"], case["needed"], prior)
    assert got.probability == pytest.approx(case["by_sum"], abs=1e-12)
    assert got.probability == pytest.approx(case["by_integral"], abs=1e-9)
    pmf = predictive_pmf(case["x"], case["n"], case["planned"], prior)
    assert pmf == pytest.approx(case["pmf"] if isinstance(case["pmf"], list) else [case["pmf"]],
                                abs=1e-13)


@pytest.mark.parametrize(("x", "n", "planned", "needed", "prior"), [
    (3, 15, 24, 5, JEFFREYS), (1, 12, 24, 5, JEFFREYS), (4, 12, 24, 8, UNIFORM),
    (0, 9, 24, 5, JEFFREYS), (2, 16, 24, 6, UNIFORM),
])
def test_predictive_probability_equals_enumeration_of_every_outcome_sequence(
        x, n, planned, needed, prior):
    got = predictive_probability(x, n, planned, needed, prior).probability
    assert got == pytest.approx(by_sequences(x, n, planned, needed, prior.a, prior.b), abs=1e-12)


def test_the_pmf_sums_to_one_and_its_mean_is_the_posterior_mean_times_the_remaining():
    pmf = predictive_pmf(3, 15, 24)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-13)
    mean = sum(y * p for y, p in enumerate(pmf))
    assert mean == pytest.approx(9 * (3 + 0.5) / (15 + 1.0), abs=1e-12)


def test_reached_bars_are_certain_and_unreachable_ones_impossible():
    assert predictive_probability(5, 10, 24, 5).probability == 1.0
    assert predictive_probability(0, 20, 24, 5).probability == 0.0
    assert predictive_probability(4, 24, 24, 5).probability == 0.0  # complete: decided
    assert predictive_probability(1, 20, 24, 5).probability > 0.0   # 4 of 4 still possible


def test_successes_needed_rounds_a_rate_threshold_up_to_whole_patients():
    assert successes_needed(0.20, ">=", 24) == 5   # 4.8
    assert successes_needed(0.20, ">=", 25) == 5   # exactly 5
    assert successes_needed(0.20, ">", 25) == 6
    assert successes_needed(0.60, ">=", 24) == 15  # 14.4
    assert successes_needed(0.10, ">=", 24) == 3   # 2.4
    with pytest.raises(ValueError, match="'>='"):
        successes_needed(0.2, "<", 24)


@pytest.mark.parametrize(("x", "n", "planned", "match"), [
    (5, 4, 24, "exceed"), (-1, 4, 24, "whole number"), (1.5, 4, 24, "whole number"),
    (True, 4, 24, "whole number"),
])
def test_impossible_counts_are_refused_by_name(x, n, planned, match):
    with pytest.raises(ValueError, match=match):
        predictive_probability(x, n, planned, 5)


def test_the_method_states_the_prior_and_how_many_patients_are_still_to_come():
    got = predictive_probability(3, 15, 24, 5)
    assert "Jeffreys" in got.method and "9 patients still to come" in got.method
    assert got.to_dict()["remaining"] == 9
