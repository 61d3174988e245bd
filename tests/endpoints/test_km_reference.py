"""Kaplan-Meier results against R's survival package, value by value.

Expected values come from two R scripts:
* ``tests/reference/oracle.R`` -> ``tests/reference/expected.json`` (64 cohorts of public trial
  data + 8 small cases; conf.type "log" and "log-log" at 95%): survfit(Surv(time, event) ~ 1),
  quantile(fit, c(.25, .5, .75), conf.int = TRUE), summary(fit, times = t, extend = TRUE);
* ``tests/reference/plain_oracle.R`` -> ``tests/reference/plain_expected.json`` (a subset of
  the cohorts + 11 small cases): conf.type "plain" at 95%, all three conf.types at 90%, and
  median follow-up by reverse Kaplan-Meier, quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5).

The cohorts are read from the CSVs in ``tests/reference/data`` as a user would (empty cells are
missing, the text "NA" is a value) and filtered with each cohort's own definition. Data, R
scripts and expected values are all in the repository (tests/reference/README.md), so every
case runs from a clean clone.

lifelines is a second, independent reference where it and R agree (see "Matching R" in
tests/reference/README.md): S, Greenwood variance, the log-log pointwise CI away from S = 0 and
S = 1, and medians away from a flat stretch at S = 0.5.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
import pytest
from lifelines.utils import median_survival_times

from dossier.endpoints.km import (
    KaplanMeier,
    kaplan_meier,
    km_at_times,
    km_quantile,
    median_followup,
)

TESTS = Path(__file__).resolve().parents[1]  # dataset paths in the JSON are relative to tests/
REFERENCE = TESTS / "reference"

REL_TOL = 1e-9
QUANTILES = {"p25": 0.25, "median": 0.5, "p75": 0.75}


def _load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


EXPECTED = _load_json(REFERENCE / "expected.json")
PLAIN = _load_json(REFERENCE / "plain_expected.json")

R_CASES: dict[str, dict] = {c["id"]: c for c in EXPECTED["km"] + EXPECTED["edge_cases"]["km"]}
PLAIN_CASES: dict[str, dict] = {c["id"]: c for c in PLAIN["km"] + PLAIN["edge_cases"]}


def _ids(cases: dict[str, dict]) -> list[str]:
    return list(cases)


@functools.cache
def _csv(dataset: str) -> pd.DataFrame:
    return pd.read_csv(TESTS / dataset, keep_default_na=False, na_values=[""])


def cohort_data(case: dict) -> tuple[np.ndarray, np.ndarray]:
    """(time, event) of a cohort: its CSV, filtered and coded as its definition says."""
    if "dataset" not in case:  # a small hand-made case
        return np.asarray(case["time"], dtype=float), np.asarray(case["event"], dtype=int)
    data = _csv(case["dataset"])
    keep = np.ones(len(data), dtype=bool)
    for column, values in case["filter"].items():
        keep &= data[column].isin(values).to_numpy()
    rows = data[keep]
    time = rows[case["time_column"]].to_numpy(dtype=float) / case["time_divisor"]
    event = rows[case["event_column"]].isin(case["event_values"]).to_numpy(dtype=int)
    return time, event


@functools.cache
def _fit(source: str, case_id: str) -> tuple[KaplanMeier, np.ndarray, np.ndarray]:
    case = (R_CASES if source == "r" else PLAIN_CASES)[case_id]
    time, event = cohort_data(case)
    return kaplan_meier(time, event), time, event


def assert_value(actual: float | None, expected: float | None, what: str) -> None:
    """R's NA (JSON null) must be None; anything else equal within 1e-9 relative."""
    if expected is None:
        assert actual is None, f"{what}: R gives NA, dossier gives {actual!r}"
        return
    assert actual is not None, f"{what}: R gives {expected!r}, dossier gives None"
    assert abs(actual - expected) <= REL_TOL * abs(expected), (
        f"{what}: R gives {expected!r}, dossier gives {actual!r}"
    )


def assert_curve(actual: np.ndarray, expected: list, what: str) -> None:
    """A whole column of the step function: NA (non-finite here) exactly where R has null."""
    want = np.array([np.nan if v is None else v for v in expected], dtype=float)
    got = np.asarray(actual, dtype=float)
    assert got.shape == want.shape, f"{what}: {got.size} steps, R has {want.size}"
    r_na = np.isnan(want)
    our_na = ~np.isfinite(got)
    assert np.array_equal(r_na, our_na), (
        f"{what}: R is NA at steps {np.flatnonzero(r_na).tolist()}, "
        f"dossier at {np.flatnonzero(our_na).tolist()}"
    )
    off = np.abs(got[~r_na] - want[~r_na]) > REL_TOL * np.abs(want[~r_na])
    assert not off.any(), (
        f"{what}: step {np.flatnonzero(~r_na)[np.argmax(off)]} R gives "
        f"{want[~r_na][off][0]!r}, dossier {got[~r_na][off][0]!r}"
    )


# ------------------------------------------------------------------ tests/reference/expected.json


@pytest.mark.parametrize("case_id", _ids(R_CASES))
def test_patient_and_event_counts_match_r(case_id: str) -> None:
    case = R_CASES[case_id]
    km, _, _ = _fit("r", case_id)
    assert (km.n, km.n_events, km.n_censored) == (
        case["n"],
        case["n_events"],
        case["n_censored"],
    )


@pytest.mark.parametrize("case_id", _ids(R_CASES))
def test_median_and_quartiles_with_log_and_loglog_ci_match_r(case_id: str) -> None:
    case = R_CASES[case_id]
    km, _, _ = _fit("r", case_id)
    blocks = {"median": case["median"], **case["quantiles"]}
    for name, p in QUANTILES.items():
        for conf_type in ("log", "log-log"):
            q = km_quantile(km, p, conf_type)
            assert_value(q.estimate, blocks[name]["estimate"], f"{name} estimate")
            ci = blocks[name]["ci"][conf_type]
            assert_value(q.lower, ci["lower"], f"{name} {conf_type} lower limit")
            assert_value(q.upper, ci["upper"], f"{name} {conf_type} upper limit")


@pytest.mark.parametrize("case_id", _ids(R_CASES))
def test_survival_and_numbers_at_risk_at_fixed_times_match_r(case_id: str) -> None:
    case = R_CASES[case_id]
    km, _, _ = _fit("r", case_id)
    times = [row["time"] for row in case["at_times"]]
    for conf_type in ("log", "log-log"):
        for got, want in zip(km_at_times(km, times, conf_type), case["at_times"], strict=True):
            label = f"{want['label']} ({conf_type})"
            assert got.time == want["time"]
            assert_value(got.surv, want["surv"], f"S at {label}")
            assert_value(got.se, want["se_surv"], f"SE at {label}")
            assert_value(got.lower, want["ci"][conf_type]["lower"], f"lower limit at {label}")
            assert_value(got.upper, want["ci"][conf_type]["upper"], f"upper limit at {label}")
            assert (
                got.n_risk,
                got.n_event_cum,
                got.n_censor_cum,
                got.beyond_last_observation,
            ) == (
                want["n_risk"],
                want["n_event_cum"],
                want["n_censor_cum"],
                want["beyond_last_observation"],
            ), f"counts at {label}"


@pytest.mark.parametrize("case_id", _ids(R_CASES))
def test_whole_curve_with_se_and_both_bands_matches_r_step_by_step(case_id: str) -> None:
    curve = R_CASES[case_id]["curve"]
    km, _, _ = _fit("r", case_id)
    for name in ("n_risk", "n_event", "n_censor"):
        assert getattr(km, name).tolist() == curve[name], name
    assert_curve(km.time, curve["time"], "time")
    assert_curve(km.surv, curve["surv"], "S")
    assert_curve(km.std_err, curve["se_log_surv"], "SE of log S")
    assert_curve(km.se_surv, curve["se_surv"], "SE of S")
    lower, upper = km.band("log")
    assert_curve(lower, curve["lower_log"], "log band lower")
    assert_curve(upper, curve["upper_log"], "log band upper")
    lower, upper = km.band("log-log")
    assert_curve(lower, curve["lower_loglog"], "log-log band lower")
    assert_curve(upper, curve["upper_loglog"], "log-log band upper")


def test_every_r_cohort_and_small_case_is_checked() -> None:
    assert len(EXPECTED["km"]) == 64
    assert len(EXPECTED["edge_cases"]["km"]) == 8
    assert len(R_CASES) == 72


# ---------------------------------------------------- tests/reference/plain_expected.json


@pytest.mark.parametrize("case_id", _ids(PLAIN_CASES))
def test_plain_ci_and_90_percent_levels_match_r(case_id: str) -> None:
    case = PLAIN_CASES[case_id]
    km, _, _ = _fit("plain", case_id)
    assert (km.n, km.n_events) == (case["n"], case["n_events"])
    for fit in case["fits"]:
        conf_type, level = fit["conf_type"], fit["conf_level"]
        tag = f"{conf_type} {level:.0%}"
        for name, p in QUANTILES.items():
            q = km_quantile(km, p, conf_type, level)
            assert_value(q.estimate, fit[name]["estimate"], f"{name} estimate ({tag})")
            assert_value(q.lower, fit[name]["lower"], f"{name} lower limit ({tag})")
            assert_value(q.upper, fit[name]["upper"], f"{name} upper limit ({tag})")
        times = [row["time"] for row in fit["at_times"]]
        for got, want in zip(
            km_at_times(km, times, conf_type, level), fit["at_times"], strict=True
        ):
            where = f"t = {want['time']} ({tag})"
            assert_value(got.surv, want["surv"], f"S at {where}")
            assert_value(got.se, want["se_surv"], f"SE at {where}")
            assert_value(got.lower, want["lower"], f"lower limit at {where}")
            assert_value(got.upper, want["upper"], f"upper limit at {where}")
            assert got.n_risk == want["n_risk"], f"n at risk at {where}"
        lower, upper = km.band(conf_type, level)
        assert_curve(km.time, fit["curve"]["time"], f"time ({tag})")
        assert_curve(km.surv, fit["curve"]["surv"], f"S ({tag})")
        assert_curve(lower, fit["curve"]["lower"], f"band lower ({tag})")
        assert_curve(upper, fit["curve"]["upper"], f"band upper ({tag})")


@pytest.mark.parametrize("case_id", _ids(PLAIN_CASES))
def test_median_followup_matches_reverse_kaplan_meier_in_r(case_id: str) -> None:
    _, time, event = _fit("plain", case_id)
    for want in PLAIN_CASES[case_id]["followup"]:
        got = median_followup(time, event, want["conf_type"], want["conf_level"])
        tag = f"follow-up ({want['conf_type']})"
        assert_value(got.estimate, want["estimate"], f"median {tag}")
        assert_value(got.lower, want["lower"], f"lower limit {tag}")
        assert_value(got.upper, want["upper"], f"upper limit {tag}")


# ------------------------------------------------------------------ lifelines, a second reference


def _lifelines_value(v: float) -> float | None:
    return None if math.isinf(v) else float(v)


@pytest.mark.parametrize("case_id", _ids(R_CASES))
def test_lifelines_agrees_where_it_follows_r(case_id: str) -> None:
    km, time, event = _fit("r", case_id)
    kmf = lifelines.KaplanMeierFitter().fit(time, event)

    # S at every step and at the fixed times
    ll_surv = kmf.survival_function_at_times(km.time).to_numpy()
    np.testing.assert_allclose(km.surv, ll_surv, rtol=REL_TOL, atol=0)
    fixed = [row["time"] for row in R_CASES[case_id]["at_times"]]
    ours = [lm.surv for lm in km_at_times(km, fixed)]
    np.testing.assert_allclose(ours, kmf.survival_function_at_times(fixed), rtol=REL_TOL, atol=0)

    # Greenwood variance and the log-log band where S is neither 0 nor 1 (lifelines fills in
    # (0, 0) and (1, 1) there, R gives NA)
    inside = (km.surv > 0) & (km.surv < 1)
    ci = kmf.confidence_interval_.loc[km.time].to_numpy()
    lower, upper = km.band("log-log")
    np.testing.assert_allclose(lower[inside], ci[inside, 0], rtol=REL_TOL, atol=0)
    np.testing.assert_allclose(upper[inside], ci[inside, 1], rtol=REL_TOL, atol=0)
    greenwood = kmf._cumulative_sq_.loc[km.time].to_numpy()  # no public accessor
    np.testing.assert_allclose(km.greenwood[inside], greenwood[inside], rtol=REL_TOL, atol=1e-300)

    # median: lifelines takes the first time S <= 0.5, R the midpoint of a stretch at 0.5
    median = km_quantile(km, 0.5, "log-log")
    flat_at_half = bool(np.any(np.abs(km.surv - 0.5) < 1.5e-8))
    if not flat_at_half:
        assert median.estimate == _lifelines_value(kmf.median_survival_time_)
    # median CI: equal wherever R has a limit; where R has none, lifelines has none either,
    # unless the curve ends at S = 0 (lifelines' (0, 0) band there crosses 0.5)
    ll_lower, ll_upper = (
        _lifelines_value(v) for v in median_survival_times(kmf.confidence_interval_).iloc[0]
    )
    ends_at_zero = km.n > 0 and km.surv[-1] == 0
    for ours_limit, ll_limit in ((median.lower, ll_lower), (median.upper, ll_upper)):
        if ours_limit is not None or not ends_at_zero:
            assert ours_limit == ll_limit
