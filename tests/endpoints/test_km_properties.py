"""Properties every Kaplan-Meier estimate must have, on random data (hypothesis), and the
behaviour a user meets with no patients or bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.endpoints.km import (
    kaplan_meier,
    km_at_times,
    km_median,
    km_quantile,
    median_followup,
)

# integer days give many ties (events and censorings on the same day); floats give none
_time = st.one_of(
    st.integers(min_value=0, max_value=40).map(float),
    st.floats(min_value=0, max_value=2000, allow_nan=False, allow_infinity=False),
)
cohorts = st.lists(st.tuples(_time, st.integers(0, 1)), min_size=1, max_size=80).map(
    lambda rows: (np.array([t for t, _ in rows]), np.array([e for _, e in rows]))
)
conf_types = st.sampled_from(["log-log", "log", "plain"])
levels = st.sampled_from([0.8, 0.9, 0.95, 0.99])

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(cohorts)
def test_survival_never_rises_and_stays_between_0_and_1(data) -> None:
    km = kaplan_meier(*data)
    assert np.all(np.diff(km.surv) <= 0)
    assert np.all((km.surv >= 0) & (km.surv <= 1))


@SETTINGS
@given(cohorts)
def test_risk_set_shrinks_by_the_events_and_censorings_at_each_time(data) -> None:
    time, event = data
    km = kaplan_meier(time, event)
    assert km.n_risk[0] == km.n == time.size
    assert km.n_event.sum() == km.n_events == event.sum()
    assert km.n_censor.sum() == km.n_censored
    np.testing.assert_array_equal(km.n_risk[1:], (km.n_risk - km.n_event - km.n_censor)[:-1])
    assert np.all(np.diff(km.time) > 0)


@SETTINGS
@given(cohorts, conf_types, levels)
def test_confidence_band_contains_the_estimate_wherever_it_is_defined(data, conf_type, level):
    km = kaplan_meier(*data)
    lower, upper = km.band(conf_type, level)
    defined = np.isfinite(lower) & np.isfinite(upper)
    assert np.all(lower[defined] <= km.surv[defined])
    assert np.all(km.surv[defined] <= upper[defined])
    assert np.all((lower[defined] >= 0) & (upper[defined] <= 1))
    # undefined only where R has NA: S = 0, and S = 1 under log-log
    undefined_where = (km.surv == 0) | ((km.surv == 1) & (conf_type == "log-log"))
    np.testing.assert_array_equal(~defined, undefined_where)


@SETTINGS
@given(cohorts, conf_types)
def test_median_and_its_ci_lie_within_the_observed_times_in_order(data, conf_type) -> None:
    time, event = data
    km = kaplan_meier(time, event)
    median = km_median(km, conf_type)
    if median.estimate is not None:
        assert time.min() <= median.estimate <= time.max()
    assert (median.estimate is None) == (km.surv.min() > 0.5)
    for limit in (median.lower, median.upper):
        if limit is not None:
            assert time.min() <= limit <= time.max()
    if median.estimate is not None:
        assert median.lower is None or median.lower <= median.estimate
        assert median.upper is None or median.estimate <= median.upper


@SETTINGS
@given(cohorts, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_the_patients(data, rnd) -> None:
    time, event = data
    order = list(range(time.size))
    rnd.shuffle(order)
    a, b = kaplan_meier(time, event), kaplan_meier(time[order], event[order])
    for name in ("time", "n_risk", "n_event", "n_censor", "surv", "greenwood"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert km_median(a) == km_median(b)
    assert km_quantile(a, 0.25, "log") == km_quantile(b, 0.25, "log")
    landmarks = [0.0, float(np.median(time)), float(time.max()) + 1]
    assert km_at_times(a, landmarks) == km_at_times(b, landmarks)


@SETTINGS
@given(cohorts)
def test_landmark_at_an_observed_time_is_that_step_of_the_curve(data) -> None:
    km = kaplan_meier(*data)
    for lm, s, risk in zip(km_at_times(km, km.time, "log"), km.surv, km.n_risk, strict=True):
        assert (lm.surv, lm.n_risk, lm.beyond_last_observation) == (s, risk, False)


# ------------------------------------------------------------------ no patients


def test_zero_patients_give_an_empty_estimate_not_an_error() -> None:
    km = kaplan_meier([], [])
    assert (km.n, km.n_events, km.time.size) == (0, 0, 0)
    assert km_median(km).estimate is None
    assert km_quantile(km, 0.25, "plain") == km_median(km, "plain")
    lower, upper = km.band("log")
    assert lower.size == upper.size == 0
    (landmark,) = km_at_times(km, [6.0])
    assert math.isnan(landmark.surv)
    assert (landmark.lower, landmark.upper, landmark.se, landmark.n_risk) == (None, None, None, 0)
    assert median_followup([], []).estimate is None


def test_everyone_censored_means_median_not_reached_and_s_stays_1() -> None:
    km = kaplan_meier([3, 5, 8], [0, 0, 0])
    assert km.surv.tolist() == [1.0, 1.0, 1.0]
    assert km_median(km) == km_median(km, "log")
    assert km_median(km).estimate is None


def test_median_followup_counts_censoring_as_the_event() -> None:
    time, event = [2, 4, 6, 8, 10], [1, 0, 1, 0, 0]
    assert median_followup(time, event) == km_median(kaplan_meier(time, [0, 1, 0, 1, 1]))


def test_events_may_be_booleans_and_inputs_pandas_series() -> None:
    time = pd.Series([5.0, 3.0, 9.0, 1.0])
    flags = pd.Series([True, False, True, True])
    a, b = kaplan_meier(time, flags), kaplan_meier(time.to_list(), flags.astype(int).to_list())
    np.testing.assert_array_equal(a.surv, b.surv)


def test_estimate_cannot_be_changed_after_the_fact() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 1])
    with pytest.raises(ValueError, match="read-only"):
        km.surv[0] = 0.5
    lower, _ = km.band()
    with pytest.raises(ValueError, match="read-only"):
        lower[0] = 0.0


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [
        ([1, float("nan"), 3], [1, 0, 1], r"time\[1\] is nan"),
        ([1, -2, 3], [1, 0, 1], r"time\[1\] is -2.0: times must be >= 0"),
        ([1, 2, float("inf")], [1, 0, 1], r"time\[2\] is inf"),
        ([1, 2, 3], [1, 2, 1], r"event\[1\] is 2.0: must be 0 \(censored\) or 1 \(event\)"),
        ([1, 2, 3], [1, float("nan"), 1], r"event\[1\] is nan"),
        ([1, 2, 3], [1, 0], "time and event differ in length: 3 times, 2 event values"),
        (["a", "b"], [1, 0], "time must be numbers"),
    ],
)
def test_bad_times_or_events_are_refused_naming_the_position(time, event, message) -> None:
    with pytest.raises(ValueError, match=message):
        kaplan_meier(time, event)


def test_unknown_confidence_interval_type_or_level_is_refused() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 1])
    with pytest.raises(ValueError, match="conf_type must be one of log-log, log, plain"):
        km_median(km, "linear")
    with pytest.raises(ValueError, match="confidence level must be between 0 and 1"):
        km.band("log", 95)
    with pytest.raises(ValueError, match="p must be strictly between 0 and 1"):
        km_quantile(km, 1.0)
    with pytest.raises(ValueError, match=r"times\[0\] is -1.0: times must be >= 0"):
        km_at_times(km, [-1])
