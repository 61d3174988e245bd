"""Clopper-Pearson rates against R's binom.test, and the rate function's guard clauses.

Expected values: ``tests/reference/oracle.R`` -> ``tests/reference/expected.json`` ("rates": 34
rates computed from the CSVs in tests/reference/data, "edge_cases.rates": 7 hand-picked x/n),
with ``binom.test(x, n, conf.level = 0.95)$conf.int``. x and n are recounted here from the CSVs,
read as a user would, with each rate's own filter and numerator definition. Everything is in the
repository (tests/reference/README.md), so every case runs from a clean clone.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dossier.endpoints.rates import Rate, clopper_pearson

TESTS = Path(__file__).resolve().parents[1]  # dataset paths in the JSON are relative to tests/
REL_TOL = 1e-9

EXPECTED = json.loads((TESTS / "reference" / "expected.json").read_text(encoding="utf-8"))
RATES = {r["id"]: r for r in EXPECTED["rates"]}
EDGE_RATES = {r["id"]: r for r in EXPECTED["edge_cases"]["rates"]}


def _ids(cases: dict) -> list[str]:
    return list(cases)


@functools.cache
def _csv(dataset: str) -> pd.DataFrame:
    return pd.read_csv(TESTS / dataset, keep_default_na=False, na_values=[""])


def count_outcome(spec: dict) -> tuple[int, int]:
    """(x, n) for a rate definition: rows after the filter, and those meeting the numerator."""
    data = _csv(spec["dataset"])
    keep = np.ones(len(data), dtype=bool)
    for column, values in spec["filter"].items():
        keep &= data[column].isin(values).to_numpy()
    rows = data[keep]
    if spec.get("subject_column"):
        assert not rows[spec["subject_column"]].duplicated().any(), "one row per subject"
    numerator = spec["numerator"]
    column = rows[numerator["column"]]
    if numerator["op"] == "in":
        hit = column.notna() & column.isin(numerator["values"])
    else:
        assert numerator["op"] == "not_missing"
        hit = column.notna()
    return int(hit.sum()), len(rows)


def assert_rate_equals_r(rate: Rate, want: dict) -> None:
    for name in ("estimate", "lower", "upper"):
        got, expected = getattr(rate, name), want[name]
        if expected is None:
            assert got is None, f"{name}: R gives NA, dossier gives {got!r}"
        else:
            assert got is not None, f"{name}: R gives {expected!r}, dossier gives None"
            assert abs(got - expected) <= REL_TOL * abs(expected), (
                f"{name}: R gives {expected!r}, dossier gives {got!r}"
            )


@pytest.mark.parametrize("rate_id", _ids(RATES))
def test_rate_and_exact_ci_from_the_data_match_r(rate_id: str) -> None:
    want = RATES[rate_id]
    x, n = count_outcome(want)
    assert (x, n) == (want["x"], want["n"])
    rate = clopper_pearson(x, n)
    assert (rate.x, rate.n, rate.no_patients) == (x, n, False)
    assert_rate_equals_r(rate, want)


@pytest.mark.parametrize("rate_id", _ids(EDGE_RATES))
def test_edge_case_rates_match_r(rate_id: str) -> None:
    want = EDGE_RATES[rate_id]
    rate = clopper_pearson(want["x"], want["n"])
    assert rate.no_patients == (want["n"] == 0)
    assert_rate_equals_r(rate, want)


def test_every_r_rate_is_checked() -> None:
    assert (len(RATES), len(EDGE_RATES)) == (34, 7)


# ------------------------------------------------------------------ behaviour without R


def test_no_patients_gives_an_empty_rate_not_an_error() -> None:
    rate = clopper_pearson(0, 0)
    assert rate.no_patients
    assert (rate.x, rate.n, rate.estimate, rate.lower, rate.upper) == (0, 0, None, None, None)


def test_limits_are_exactly_0_and_1_at_the_extremes() -> None:
    assert clopper_pearson(0, 12).lower == 0.0
    assert clopper_pearson(12, 12).upper == 1.0
    assert clopper_pearson(0, 12).estimate == 0.0


@pytest.mark.parametrize(("x", "n", "level"), [(7, 20, 0.95), (3, 41, 0.90), (1, 2, 0.80)])
def test_limits_are_the_beta_quantiles_of_clopper_pearson(x: int, n: int, level: float) -> None:
    rate = clopper_pearson(x, n, level)
    alpha = 1 - level
    assert rate.lower == pytest.approx(stats.beta.ppf(alpha / 2, x, n - x + 1), rel=1e-12)
    assert rate.upper == pytest.approx(stats.beta.ppf(1 - alpha / 2, x + 1, n - x), rel=1e-12)
    assert rate.level == level


def test_a_narrower_level_gives_a_narrower_interval() -> None:
    wide, narrow = clopper_pearson(7, 20, 0.95), clopper_pearson(7, 20, 0.80)
    assert wide.lower < narrow.lower < narrow.estimate < narrow.upper < wide.upper


def test_whole_number_floats_and_numpy_integers_are_accepted() -> None:
    assert clopper_pearson(np.int64(3), 10.0) == clopper_pearson(3, 10)


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        (5, 3, r"x \(5 patients with the outcome\) exceeds n \(3 patients\)"),
        (-1, 3, r"x \(patients with the outcome\) must be >= 0"),
        (0, -2, r"n \(patients in the denominator\) must be >= 0"),
        (1.5, 3, "x .* must be a whole number"),
        (1, float("nan"), "n .* must be a whole number"),
        (True, 3, "x .* must be a whole number"),
        ("2", 3, "x .* must be a whole number"),
    ],
)
def test_impossible_counts_are_refused_with_a_clear_message(x, n, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clopper_pearson(x, n)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1])
def test_a_confidence_level_outside_0_1_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="confidence level must be between 0 and 1"):
        clopper_pearson(2, 10, level)
