"""Rules of R's survival, binom.test and DRUP checked on cases worked out by hand or by theory.

Each group guards one rule that a plausible slip would break (tools/mutations.py makes those
slips on purpose; tests/README.md lists what catches each):

* the median (any quantile) on a flat stretch at S = 1 - p is R's midpoint, not the next time;
* Greenwood's variance sums d / (n (n - d)) with n the patients at risk at that time; without
  censoring it equals the binomial variance S (1 - S) / n;
* a censoring tied with an event is still at risk at that time (as if it came just after);
* the Clopper-Pearson limits are the p at which a binomial tail equals alpha / 2;
* stable disease counts from exactly ``sd_weeks`` on (>=, not >).

Every expected number below is written out by hand and was also checked with R 4.2.2 /
survival 3.5-3 (``quantile(survfit(...))``, ``summary(fit, times)``, ``binom.test``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _endpoint_cohorts import canonical
from scipy import stats

from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.km import kaplan_meier, km_at_times, km_quantile
from dossier.endpoints.parameters import EndpointParameters
from dossier.endpoints.rates import clopper_pearson
from dossier.endpoints.response import derive_outcomes
from dossier.endpoints.results import select

DAYS_PER_MONTH = 30.4375
Z95 = 1.959963984540054  # qnorm(0.975)


def quartiles(time: list[float], event: list[int]) -> tuple[float | None, ...]:
    km = kaplan_meier(time, event)
    return tuple(km_quantile(km, p).estimate for p in (0.25, 0.5, 0.75))


# ------------------------------------------------------------ quantiles on a flat stretch (M1)


@pytest.mark.parametrize(
    ("time", "event", "expected"),
    [
        # 8 events, no censoring: S = 6/8 from 2 to 3, 4/8 from 4 to 5, 2/8 from 6 to 7
        (list(range(1, 9)), [1] * 8, (2.5, 4.5, 6.5)),
        # S = 3/6 at 3, a censoring at 4 keeps it there, next drop at 5: median (3 + 5) / 2;
        # S = 2/6 * ... = 1/4 from 5 to 6: 75th percentile (5 + 6) / 2
        ([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 1], (2.0, 4.0, 5.5)),
        # S = 5/6 * 4/5 * 3/4 is 1/2 only up to rounding: R's tolerance still sees the stretch
        ([1, 2, 3, 5, 7, 9], [1] * 6, (2.0, 4.0, 7.0)),
        # S stays 1/2 to the end of follow-up (censorings at 3 and 4): (2 + last time 4) / 2;
        # S = 3/4 from 1 to 2: 25th percentile 1.5; S never reaches 1/4: not reached
        ([1, 2, 3, 4], [1, 1, 0, 0], (1.5, 3.0, None)),
    ],
)
def test_quantiles_on_a_flat_stretch_are_the_midpoint_as_in_r(time, event, expected) -> None:
    assert quartiles(time, event) == expected


def test_median_on_a_flat_stretch_is_the_midpoint_for_any_time_scale() -> None:
    for scale in (1.0, 7.0, 30.4375, 0.001):
        time = [t * scale for t in range(1, 9)]
        assert km_quantile(kaplan_meier(time, [1] * 8)).estimate == pytest.approx(4.5 * scale)


def test_median_is_the_event_time_where_s_steps_across_one_half() -> None:
    # S = 4/7 at 3, 3/7 at 4: no flat stretch at 1/2, so the median is the step at 4
    assert quartiles(list(range(1, 8)), [1] * 7)[1] == 4.0


# ---------------------------------------------------------------- Greenwood's variance (M2)


def test_greenwood_variance_by_hand_with_censorings() -> None:
    # at risk 5, 4, 3, 2, 1; events at 1, 2 and 4
    km = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 0, 1, 0])
    expected = np.cumsum([1 / (5 * 4), 1 / (4 * 3), 0, 1 / (2 * 1), 0])  # .05, .1333, .6333
    np.testing.assert_allclose(km.greenwood, expected, rtol=1e-14)
    (at2,) = km_at_times(km, [2.0], "log")
    assert at2.surv == pytest.approx(0.6, rel=1e-14)
    assert at2.se == pytest.approx(0.6 * math.sqrt(2 / 15), rel=1e-12)  # R: 0.2190890
    assert at2.lower == pytest.approx(0.6 * math.exp(-Z95 * math.sqrt(2 / 15)), rel=1e-12)
    assert at2.lower == pytest.approx(0.2933164, abs=5e-8)
    assert at2.upper == 1.0  # 0.6 exp(+z se) > 1, capped as in R


@pytest.mark.parametrize("n", [1, 2, 5, 12, 40])
def test_without_censoring_greenwood_is_the_binomial_variance(n: int) -> None:
    km = kaplan_meier(np.arange(1, n + 1), np.ones(n))
    alive = km.surv > 0
    s = km.surv[alive]
    np.testing.assert_allclose(km.se_surv[alive], np.sqrt(s * (1 - s) / n), rtol=1e-12)
    assert np.isinf(km.greenwood[~alive]).all()  # the last event empties the risk set


# ------------------------------------------------------ censoring tied with an event (M3)


def test_censoring_at_an_event_time_is_still_at_risk_there() -> None:
    km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert km.n_risk.tolist() == [5, 4, 2, 1]
    np.testing.assert_allclose(km.surv, [0.8, 0.6, 0.3, 0.3], rtol=1e-14)  # 4/5, x 3/4, x 1/2
    np.testing.assert_allclose(km.greenwood, np.cumsum([1 / 20, 1 / 12, 1 / 2, 0]), rtol=1e-14)


def test_a_tied_censoring_counts_as_if_it_came_just_after_the_event() -> None:
    rng = np.random.default_rng(13)
    time = rng.integers(1, 12, 200).astype(float)  # whole days: many ties of every kind
    event = (rng.random(200) < 0.6).astype(int)
    tied = kaplan_meier(time, event)
    after = kaplan_meier(np.where(event == 1, time, time + 0.5), event)
    at_events = np.isin(after.time, tied.time[tied.n_event > 0])
    event_steps = tied.n_event > 0
    np.testing.assert_array_equal(tied.n_risk[event_steps], after.n_risk[at_events])
    np.testing.assert_allclose(tied.surv[event_steps], after.surv[at_events], rtol=1e-14)
    np.testing.assert_allclose(tied.greenwood[event_steps], after.greenwood[at_events],
                               rtol=1e-14)


# ------------------------------------------------------------------- Clopper-Pearson (M4)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 24, 100])
def test_limits_at_zero_and_all_have_a_closed_form(n: int) -> None:
    none, every = clopper_pearson(0, n), clopper_pearson(n, n)
    assert none.upper == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)  # 0/10: 0.3084971
    assert every.lower == pytest.approx(0.025 ** (1 / n), rel=1e-12)
    assert (none.lower, every.upper) == (0.0, 1.0)


def test_limits_are_where_a_binomial_tail_equals_alpha_over_2() -> None:
    for n in (1, 3, 8, 24, 61):
        for x in range(n + 1):
            rate = clopper_pearson(x, n)
            if x < n:  # P(X <= x | p = upper) = 0.025
                assert stats.binom.cdf(x, n, rate.upper) == pytest.approx(0.025, rel=1e-9)
            if x > 0:  # P(X >= x | p = lower) = 0.025
                assert stats.binom.sf(x - 1, n, rate.lower) == pytest.approx(0.025, rel=1e-9)
            mirror = clopper_pearson(n - x, n)
            assert rate.upper == pytest.approx(1 - mirror.lower, rel=1e-12, abs=1e-15)


# ------------------------------------------------------------- SD from exactly 16 weeks (M5)


def _sd_patients(pfs_days: list[float]) -> pd.DataFrame:
    return canonical([
        {"patient_id": f"S{i:02d}", "response_evaluable": True, "best_response": "SD",
         "pfs_days": days, "pfs_event": 1}
        for i, days in enumerate(pfs_days)
    ])


@pytest.mark.parametrize("sd_weeks", [4, 8, 16, 20, 24])
def test_stable_disease_lasting_exactly_sd_weeks_is_clinical_benefit(sd_weeks: int) -> None:
    cut = sd_weeks * 7
    frame = _sd_patients([cut - 1, cut, cut + 1])
    outcomes = derive_outcomes(frame, EndpointParameters(sd_weeks=sd_weeks))
    assert outcomes.clinical_benefit.tolist() == [False, True, True]


# ----------------------------------------------- the same rules through compute_endpoints


def _pfs_cohort(cohort_id: str, pfs: list[float], events: list[int]) -> list[dict]:
    return [{"patient_id": f"{cohort_id}-{i:02d}", "cohort_id": cohort_id,
             "response_evaluable": True, "best_response": "PD", "pfs_days": days,
             "pfs_event": event} for i, (days, event) in enumerate(zip(pfs, events, strict=True))]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    flat = _pfs_cohort("FLAT", [30.0 * k for k in range(1, 9)], [1] * 8)
    # a censoring at 60 days tied with the event there
    tie = _pfs_cohort("TIE", [30, 60, 60, 90, 120, 150, 180, 210, 240], [1, 1, 0, 1, 1, 1, 1, 1, 1])
    boundary = _pfs_cohort("SD16", [111.0, 112.0, 113.0, 50.0], [1, 1, 1, 1])
    for row in boundary[:3]:
        row["best_response"] = "SD"
    return compute_endpoints(canonical(flat + tie + boundary))


def _row(table: pd.DataFrame, group: str, endpoint: str, statistic: str,
         time: float | None = None, **keys: str) -> pd.Series:
    rows = select(table, group_by="cohort_id", group=group, endpoint=endpoint,
                  statistic=statistic, **keys)
    if time is not None:
        rows = rows[rows["time"] == time]
    assert len(rows) == 1, f"{group} {endpoint} {statistic}: {len(rows)} rows"
    return rows.iloc[0]


def test_pfs_quartiles_in_the_results_table_are_r_midpoints(table) -> None:
    # events every 30 days: S = 6/8, 4/8, 2/8 on the stretches 60-90, 120-150, 180-210 days
    for statistic, days in (("q25", 75), ("median", 135), ("q75", 195)):
        row = _row(table, "FLAT", "pfs", statistic)
        assert row["estimate"] == pytest.approx(days / DAYS_PER_MONTH, rel=1e-12), statistic


def test_pfs_at_3_months_in_the_results_table_has_greenwood_limits(table) -> None:
    row = _row(table, "FLAT", "pfs", "survival", time=3)  # 91.3125 days: 5 of 8 left
    s, n = 5 / 8, 8
    log_s_se = math.sqrt((1 - s) / (n * s))  # binomial variance of S, over S squared
    assert (row["estimate"], row["n"]) == (s, 5)
    shift = Z95 * log_s_se / math.log(s)  # log-log band, dossier's default
    assert row["lower"] == pytest.approx(math.exp(-math.exp(math.log(-math.log(s)) - shift)),
                                         rel=1e-12)
    assert row["upper"] == pytest.approx(math.exp(-math.exp(math.log(-math.log(s)) + shift)),
                                         rel=1e-12)


def test_pfs_with_a_censoring_tied_to_an_event_in_the_results_table(table) -> None:
    # 9 at risk: 8/9 after day 30; 8 at risk at day 60 (the censoring too): x 7/8 = 7/9;
    # 6 at risk at day 90: x 5/6 = 35/54 at 3 months (91.3125 days)
    row = _row(table, "TIE", "pfs", "survival", time=3)
    assert row["estimate"] == pytest.approx(35 / 54, rel=1e-14)
    median = _row(table, "TIE", "pfs", "median")  # 28/54 after 120, 21/54 after 150 days
    assert median["estimate"] == pytest.approx(150 / DAYS_PER_MONTH, rel=1e-12)


def test_clinical_benefit_in_the_results_table_counts_sd_of_exactly_16_weeks(table) -> None:
    row = _row(table, "SD16", "cbr", "rate", denominator="evaluable")
    assert (row["x"], row["n"]) == (2, 4)  # 112 and 113 days, not 111 days nor the PD
    assert row["upper"] == pytest.approx(1 - clopper_pearson(2, 4).lower, rel=1e-12)
    assert stats.binom.cdf(2, 4, row["upper"]) == pytest.approx(0.025, rel=1e-9)
