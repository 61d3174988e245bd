"""Clause states, rate and median clauses, and posterior chances, against R and scipy.

Expected values: ``tests/reference/certainty_oracle.R`` -> ``certainty_expected.json`` (base R's
binom.test and pbeta, survival's survfit/summary/quantile, pnorm; data written into the JSON).
scipy's ``stats.beta`` and ``stats.norm`` give a second, independent computation here.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
from scipy import stats

from dossier.endpoints.certainty import (
    JEFFREYS,
    UNIFORM,
    BetaPrior,
    ClauseState,
    decide,
    decide_median,
    median_threshold,
    posterior_rate,
    posterior_survival_at_least,
    rate_threshold,
)
from dossier.endpoints.km import kaplan_meier

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
EXPECTED = json.loads((REFERENCE / "certainty_expected.json").read_text(encoding="utf-8"))
RATES = EXPECTED["rates"]
CURVES = {c["id"]: c for c in EXPECTED["surv"]}
REL_TOL = 1e-9

MET, MET_U = ClauseState.MET, ClauseState.MET_UNCERTAIN
NOT_U, NOT = ClauseState.NOT_MET_UNCERTAIN, ClauseState.NOT_MET


def close(got: float | None, want: float | None, rel: float = REL_TOL) -> bool:
    if want is None:
        return got is None
    return got is not None and abs(got - want) <= rel * max(abs(want), 1e-300)


# ------------------------------------------------------------------------------ the four states


@pytest.mark.parametrize(
    ("estimate", "lower", "upper", "direction", "state"),
    [
        (25, 21, 30, ">=", MET),  # whole CI above
        (25, 20, 30, ">=", MET),  # a limit on the threshold still meets ">="
        (25, 20, 30, ">", MET_U),  # ... but not ">"
        (25, 15, 30, ">=", MET_U),
        (20, 15, 30, ">=", MET_U),  # the estimate on the threshold meets ">="
        (20, 15, 30, ">", NOT_U),
        (18, 15, 30, ">=", NOT_U),
        (18, 15, 20, ">=", NOT_U),  # upper limit on the threshold: the CI touches it
        (18, 15, 20, ">", NOT),
        (18, 15, 19, ">=", NOT),
        (15, 10, 19, "<=", MET),
        (15, 10, 20, "<=", MET),
        (15, 10, 20, "<", MET_U),
        (25, 20, 30, "<=", NOT_U),
        (25, 20, 30, "<", NOT),
        (25, 21, 30, "<=", NOT),
    ],
)
def test_clause_state_follows_where_the_ci_lies(estimate, lower, upper, direction, state):
    decision = decide(estimate, lower, upper, 20, direction)
    assert decision.state is state
    assert decision.words == state.value
    assert decision.met == (state in (MET, MET_U))
    assert decision.uncertain == (state in (MET_U, NOT_U))


def test_payer_words_are_the_four_states():
    assert [s.value for s in (MET, MET_U, NOT_U, NOT)] == [
        "met", "met, uncertain", "not met, uncertain", "not met"]
    assert str(MET_U) == "met, uncertain"


def test_median_not_reached_upper_limit_is_above_any_threshold():
    # issue 14: median PFS 6.01 (95% CI 1.0 to not reached) against 6 months
    assert decide(6.01, 1.0, math.inf, 6, ">=").state is MET_U
    assert decide(6.01, 6.0, math.inf, 6, ">=").state is MET
    assert decide(5.8, 2.3, math.inf, 6, ">=").state is NOT_U
    assert decide(math.inf, math.inf, math.inf, 6, ">=").state is MET


def test_undefined_limit_is_unbounded_on_its_side():
    assert decide(25, None, 30, 20, ">=").state is MET_U
    assert decide(18, 15, None, 20, ">=").state is NOT_U
    assert decide(15, 10, None, 20, "<=").state is MET_U
    # unbounded towards the side that meets the clause anyway: still certain
    assert decide(15, None, 19, 20, "<=").state is MET
    assert decide(25, 21, None, 20, ">=").state is MET
    assert decide(25, float("nan"), 30, 20, ">=").lower is None


def test_no_estimate_is_not_estimable_whatever_the_limits():
    decision = decide(None, 1, 2, 20)
    assert decision.state is ClauseState.NOT_ESTIMABLE
    assert decision.met is None and decision.uncertain is None
    assert decide(float("nan"), None, None, 0.5).state is ClauseState.NOT_ESTIMABLE


def test_tolerance_counts_near_values_as_the_threshold():
    assert decide(0.49999999999999994, 0.2, 0.8, 0.5).state is NOT_U
    assert decide(0.49999999999999994, 0.2, 0.8, 0.5, tolerance=1e-9).state is MET_U
    assert decide(0.6, 0.5 - 1e-12, 0.8, 0.5, tolerance=1e-9).state is MET


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((25, 30, 20, 20), "exceeds upper"),
        ((35, 20, 30, 20), "outside its confidence interval"),
        ((25, 20, 30, math.inf), "finite"),
        ((25, 20, 30, "20"), "threshold must be a number"),
    ],
)
def test_inconsistent_input_is_refused(args, message):
    with pytest.raises(ValueError, match=message):
        decide(*args)


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction must be one of"):
        decide(1, 0, 2, 1, "=>")


# ------------------------------------------------------------------------------ rates


@pytest.mark.parametrize("case", RATES, ids=lambda c: f"{c['x']}of{c['n']}{c['direction']}"
                         f"{c['threshold']}-a{c['prior_a']}-l{c['level']}")
def test_rate_clause_equals_r(case):
    prior = BetaPrior(case["prior_a"], case["prior_b"], "test prior")
    got = rate_threshold(case["x"], case["n"], case["threshold"], case["direction"],
                         level=case["level"], prior=prior)
    assert close(got.rate.estimate, case["estimate"])
    assert close(got.rate.lower, case["lower"])
    assert close(got.rate.upper, case["upper"])
    assert close(got.posterior, case["posterior"])
    if case["n"] == 0:
        assert got.state is ClauseState.NOT_ESTIMABLE
        return
    # independent: scipy's Beta distribution
    a, b = case["x"] + prior.a, case["n"] - case["x"] + prior.b
    tail = stats.beta.sf if case["direction"] in (">=", ">") else stats.beta.cdf
    assert got.posterior == pytest.approx(float(tail(case["threshold"], a, b)), rel=1e-9)


def test_issue_orr_below_twenty_percent_lower_limit_is_uncertain():
    got = rate_threshold(8, 35, 0.2)
    assert got.rate.estimate == pytest.approx(0.2286, abs=1e-4)
    assert got.rate.lower < 0.2
    assert got.state is MET_U
    assert 0.5 < got.posterior < 0.975


def test_rate_states_cover_all_four():
    assert rate_threshold(14, 24, 0.2).state is MET
    assert rate_threshold(1, 5, 0.2).state is MET_U  # 1/5 is exactly 20%
    assert rate_threshold(3, 24, 0.2).state is NOT_U
    assert rate_threshold(1, 40, 0.2).state is NOT


def test_rate_posterior_directions_are_complements():
    up = posterior_rate(7, 24, 0.2, ">=")
    down = posterior_rate(7, 24, 0.2, "<=")
    assert up + down == pytest.approx(1.0, abs=1e-15)
    assert posterior_rate(7, 24, 0.2, ">") == up


def test_default_prior_is_jeffreys_and_named():
    assert (JEFFREYS.a, JEFFREYS.b) == (0.5, 0.5)
    assert "Jeffreys" in JEFFREYS.name and "Beta(0.5, 0.5)" in JEFFREYS.name
    assert rate_threshold(3, 10, 0.2).prior is JEFFREYS
    assert posterior_rate(3, 10, 0.2, prior=UNIFORM) == pytest.approx(
        float(stats.beta.sf(0.2, 4, 8)), rel=1e-12)


def test_rate_threshold_is_a_proportion():
    with pytest.raises(ValueError, match=r"write 20% as 0\.2"):
        rate_threshold(3, 10, 20)
    with pytest.raises(ValueError, match="positive"):
        BetaPrior(0, 1, "bad")
    with pytest.raises(ValueError, match="exceeds n"):
        rate_threshold(11, 10, 0.2)


# ------------------------------------------------------------------------------ medians via S(T)


def _curve_cases():
    return [(cid, i) for cid, c in CURVES.items() for i in range(len(c["at"]))]


@pytest.mark.parametrize(("curve_id", "i"), _curve_cases())
def test_survival_at_threshold_and_posterior_equal_r(curve_id, i):
    curve = CURVES[curve_id]
    want = curve["at"][i]
    km = kaplan_meier(curve["time"], curve["event"])
    got = median_threshold(km, want["threshold"], conf_type=curve["conf_type"],
                           level=curve["level"])
    assert close(got.survival.surv, want["surv"])
    assert close(got.survival.lower, want["lower"])
    assert close(got.survival.upper, want["upper"])
    assert close(got.survival.se, want["se_surv"])
    assert got.survival.n_risk == want["n_risk"]
    assert close(got.posterior, want["posterior_at_least_half"], rel=1e-8)
    for name in ("estimate", "lower", "upper"):
        assert close(getattr(got.median, name), curve["median"][name])


@pytest.mark.parametrize(("curve_id", "i"), _curve_cases())
def test_median_posterior_equals_scipy_normal_on_log_log_scale(curve_id, i):
    curve = CURVES[curve_id]
    t = curve["at"][i]["threshold"]
    km = kaplan_meier(curve["time"], curve["event"])
    got = median_threshold(km, t, conf_type=curve["conf_type"], level=curve["level"])
    s, se = got.survival.surv, got.survival.se
    if got.posterior is None:
        assert s in (0.0, 1.0)
        return
    # independent: the log-log statistic for S(T) = 1/2, read as a normal tail
    z = (math.log(math.log(2.0)) - math.log(-math.log(s))) / (se / (s * -math.log(s)))
    assert got.posterior == pytest.approx(float(stats.norm.cdf(z)), rel=1e-12)


@pytest.mark.parametrize(("curve_id", "i"), [
    (cid, i) for cid, i in _curve_cases()
    if CURVES[cid]["conf_type"] == "log-log" and CURVES[cid]["level"] == 0.95])
def test_median_clause_is_certain_exactly_when_posterior_passes_97_5_percent(curve_id, i):
    curve = CURVES[curve_id]
    km = kaplan_meier(curve["time"], curve["event"])
    got = median_threshold(km, curve["at"][i]["threshold"])
    if got.posterior is None:
        return
    assert (got.state is MET) == (got.posterior >= 0.975)
    assert (got.state is NOT) == (got.posterior <= 0.025)


def test_five_patient_cohort_median_six_months_is_met_but_uncertain():
    curve = CURVES["five_patients"]
    km = kaplan_meier(curve["time"], curve["event"])
    got = median_threshold(km, 6.0)
    assert got.median.estimate == 6.01 and got.median.upper is None
    assert got.survival.surv == pytest.approx(0.6)
    assert got.state is MET_U
    assert got.decision.words == "met, uncertain"
    assert got.on_median.state is MET_U and got.on_median.upper == math.inf
    assert got.agrees and not got.beyond_follow_up


def test_step_across_half_at_the_threshold_is_reported_as_disagreement():
    curve = CURVES["step_across_half"]
    km = kaplan_meier(curve["time"], curve["event"])
    got = median_threshold(km, 2.0)
    assert got.median.estimate == 2.0  # R: the median is 2, so "median >= 2" on the median
    assert got.on_median.met is True
    assert got.decision.met is False  # S(2) = 1/3: the curve says not met
    assert not got.agrees


def test_plateau_at_half_meets_through_s_while_r_midpoint_is_below():
    curve = CURVES["plateau_at_half"]
    km = kaplan_meier(curve["time"], curve["event"])
    inside = median_threshold(km, 2.4)
    assert inside.decision.met and inside.on_median.met and inside.agrees
    after_midpoint = median_threshold(km, 2.7)
    assert after_midpoint.survival.surv == 0.5 and after_midpoint.decision.met
    assert after_midpoint.median.estimate == 2.5 and not after_midpoint.on_median.met
    assert not after_midpoint.agrees
    assert after_midpoint.posterior == 0.5


def test_half_by_product_uses_r_tolerance():
    curve = CURVES["half_by_product"]
    km = kaplan_meier(curve["time"], curve["event"])
    got = median_threshold(km, 5.0)
    assert abs(got.survival.surv - 0.5) < 1e-12
    assert got.decision.estimate == 0.5 and got.decision.met
    assert got.posterior == pytest.approx(0.5, abs=1e-12)


def test_threshold_after_last_observation_is_flagged():
    curve = CURVES["beyond_follow_up"]
    km = kaplan_meier(curve["time"], curve["event"])
    assert median_threshold(km, 9).beyond_follow_up
    assert not median_threshold(km, 4).beyond_follow_up


def test_median_less_than_is_the_complement():
    curve = CURVES["lung_os_months"]
    km = kaplan_meier(curve["time"], curve["event"])
    at_least = median_threshold(km, 10.2)
    below = median_threshold(km, 10.2, "<")
    assert below.posterior == pytest.approx(1 - at_least.posterior, abs=1e-15)
    assert below.decision.met is (not at_least.decision.met)


def test_lung_states_cover_met_and_not_met():
    curve = CURVES["lung_os_months"]
    km = kaplan_meier(curve["time"], curve["event"])
    assert median_threshold(km, 6).state is MET
    assert median_threshold(km, 24).state is NOT
    assert median_threshold(km, 10.2).decision.uncertain


def test_no_patients_is_not_estimable():
    got = median_threshold(kaplan_meier([], []), 6)
    assert got.state is ClauseState.NOT_ESTIMABLE and got.posterior is None
    assert decide_median(kaplan_meier([], []), 6).state is ClauseState.NOT_ESTIMABLE


def test_decide_median_reads_not_reached_as_above_any_threshold():
    curve = CURVES["beyond_follow_up"]  # median not reached, lower limit 1
    km = kaplan_meier(curve["time"], curve["event"])
    got = decide_median(km, 3)
    assert got.estimate == math.inf and got.upper == math.inf and got.lower == 1
    assert got.state is MET_U


def test_posterior_survival_undefined_at_zero_and_one():
    assert posterior_survival_at_least(1.0, 0.0) is None
    assert posterior_survival_at_least(0.0, None) is None
    assert posterior_survival_at_least(0.5, 0.1) == 0.5
    with pytest.raises(ValueError, match="strictly between"):
        posterior_survival_at_least(0.5, 0.1, p=1.0)


# ------------------------------------------------------------------------------ the oracle


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_oracle_regenerates_expected_json_byte_for_byte(tmp_path):
    script = tmp_path / "certainty_oracle.R"
    shutil.copyfile(REFERENCE / "certainty_oracle.R", script)
    probe = subprocess.run(["Rscript", "-e", "library(survival)"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("R package survival not installed")
    subprocess.run(["Rscript", str(script)], check=True, capture_output=True)
    produced = (tmp_path / "certainty_expected.json").read_bytes()
    assert produced == (REFERENCE / "certainty_expected.json").read_bytes()


@pytest.mark.parametrize("level", [0, 1, 1.5, True])
def test_confidence_level_must_lie_between_zero_and_one(level):
    with pytest.raises(ValueError, match="confidence level"):
        decide(1, 0, 2, 1, level=level)
    with pytest.raises(ValueError, match="confidence level"):
        median_threshold(kaplan_meier([1, 2], [1, 0]), 1, level=level)
