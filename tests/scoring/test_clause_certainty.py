"""Every rate and median clause decided with its CI, state and posterior; verdict certainty.

Hand-made cohorts: the x of n and the Kaplan-Meier S(T) are given as the results table gives
them, and every number is checked against scipy (beta posterior, Clopper-Pearson limits, normal
approximation on the log-log scale) computed here, independently of dossier's code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from dossier.endpoints.km import kaplan_meier, km_at_times, km_median
from dossier.scoring.engine import score
from dossier.scoring.evidence import (
    CohortEvidence,
    MedianEvidence,
    RateEvidence,
    SurvivalPoint,
    greenwood_se,
)
from dossier.scoring.verdicts import INSUFFICIENT, MET, NOT_MET, ROBUST, UNCERTAIN
from tests.scoring._scoring_helpers import builtin_book

FORM3 = "esmo-mcbs-v1.1-form3"


def clopper_pearson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    alpha = 1 - level
    lower = 0.0 if x == 0 else stats.beta.ppf(alpha / 2, x, n - x + 1)
    upper = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
    return lower, upper


def jeffreys_at_least(x: int, n: int, t: float) -> float:
    return float(stats.beta.sf(t, x + 0.5, n - x + 0.5))


def rate_cohort(x: int, n: int) -> tuple[dict[str, object], CohortEvidence]:
    lower, upper = clopper_pearson(x, n)
    metrics = {"orr": x / n, "n_evaluable": n, "g3_trae_rate": 0.05}
    return metrics, CohortEvidence(rates={"orr": RateEvidence(x, n, lower, upper)})


def form3(metrics: dict[str, object], evidence: CohortEvidence | None):
    return score(builtin_book().get(FORM3), metrics, "cohort", evidence=evidence)


def clause(verdict, rule: str, metric: str):
    return next(c for c in verdict.clauses if c.rule == rule and c.metric == metric)


# ------------------------------------------------------------------------------------- rates


def test_a_rate_whose_whole_ci_clears_the_threshold_is_met_and_the_grade_robust():
    metrics, evidence = rate_cohort(45, 50)
    verdict = form3(metrics, evidence)
    c = clause(verdict, "g3-orr", "orr")
    lower, upper = clopper_pearson(45, 50)
    assert (c.ci_lower, c.ci_upper) == (pytest.approx(lower, abs=1e-12),
                                        pytest.approx(upper, abs=1e-12))
    assert lower > 0.60
    assert c.certainty == "met"
    assert c.probability == pytest.approx(jeffreys_at_least(45, 50, 0.60), abs=1e-12)
    assert "Jeffreys" in c.probability_method and "45 of 50" in c.probability_method
    assert c.ci_text == f"95% CI {100 * lower:.1f}% to {100 * upper:.1f}%"
    assert verdict.verdict == MET and verdict.grade == 3
    assert verdict.certainty == ROBUST
    assert "uncertain" not in verdict.outcome


def test_a_rate_met_on_its_estimate_whose_ci_spans_the_threshold_makes_the_grade_uncertain():
    metrics, evidence = rate_cohort(7, 10)  # 70%, CI 34.8% to 93.3%: spans 60%
    verdict = form3(metrics, evidence)
    c = clause(verdict, "g3-orr", "orr")
    lower, upper = clopper_pearson(7, 10)
    assert lower < 0.60 < upper
    assert c.certainty == "met, uncertain"
    assert c.probability == pytest.approx(jeffreys_at_least(7, 10, 0.60), abs=1e-12)
    assert verdict.grade == 3 and verdict.certainty == UNCERTAIN
    expected = f"the 95% CI of ORR ({100 * lower:.1f}% to {100 * upper:.1f}%) spans 60%"
    assert verdict.certainty_reason == expected
    assert verdict.outcome.endswith(f", uncertain: {expected}")


def test_a_rate_missing_on_its_estimate_whose_ci_reaches_the_threshold_is_not_met_uncertain():
    metrics, evidence = rate_cohort(1, 12)  # 8.3%, upper limit 38.5%: reaches 10% and 20%
    verdict = form3(metrics, evidence)
    c = clause(verdict, "g3-orr", "orr")
    assert c.certainty == "not met"  # the whole CI lies below 60%
    band = clause(verdict, "g1-orr10-dor", "orr")  # ORR in [10%, 20%)
    assert band.certainty == "not met, uncertain"
    # P(10% <= p < 20%) under Beta(1.5, 11.5)
    expected = jeffreys_at_least(1, 12, 0.10) - jeffreys_at_least(1, 12, 0.20)
    assert band.probability == pytest.approx(expected, abs=1e-12)


def test_band_clause_met_with_the_whole_ci_inside_the_band_is_met():
    metrics, evidence = rate_cohort(250, 500)  # 50%, CI 45.5% to 54.5%: inside [40%, 60%)
    verdict = form3(metrics, evidence)
    c = clause(verdict, "g2-orr", "orr")
    assert c.certainty == "met"
    expected = jeffreys_at_least(250, 500, 0.40) - jeffreys_at_least(250, 500, 0.60)
    assert c.probability == pytest.approx(expected, abs=1e-12)


def test_counts_and_yes_no_clauses_stay_without_a_ci():
    verdict = score(builtin_book().get("drup-two-stage"),
                    {"n_evaluable": 8, "cb_n": 0, "n_evaluable_stage1": 8, "cb_n_stage1": 0},
                    "cohort", evidence=CohortEvidence())
    assert verdict.verdict == NOT_MET
    assert all(c.certainty == "" and c.ci_text == "" and c.probability is None
               for c in verdict.clauses)
    assert verdict.certainty == ROBUST  # the design's own exact rule
    assert "exact patient counts" in verdict.certainty_reason


def test_without_evidence_clauses_carry_no_certainty():
    metrics, _ = rate_cohort(7, 10)
    verdict = form3(metrics, None)
    assert all(c.certainty == "" for c in verdict.clauses)
    assert verdict.certainty == "" and "uncertain" not in verdict.outcome


# ------------------------------------------------------------------------------------ medians


def km_evidence(months: list[float], events: list[int], thresholds: list[float]
                ) -> tuple[dict[str, object], CohortEvidence, dict[float, object]]:
    km = kaplan_meier(np.array(months), np.array(events))
    points = {}
    survival = {}
    for landmark in km_at_times(km, thresholds):
        se = None if landmark.lower is None else greenwood_se(
            landmark.surv, landmark.lower, landmark.upper, "log-log", 0.95)
        survival[("pfs", landmark.time)] = SurvivalPoint(
            "pfs", landmark.time, landmark.surv, landmark.lower, landmark.upper, se, "log-log",
            0.95)
        points[landmark.time] = landmark
    median = km_median(km)
    metrics = {"pfs_median_months": median.estimate if median.estimate is not None else "NR",
               "pfs_followup_months": max(months), "n_evaluable": len(months),
               "g3_trae_rate": 0.05}
    evidence = CohortEvidence(survival=survival, medians={"pfs": MedianEvidence(
        median.estimate, median.lower, median.upper, median.estimate is None, "log-log", 0.95)})
    return metrics, evidence, points


def loglog_probability_at_least_half(surv: float, se: float) -> float:
    """P(S >= 1/2) with eta = log(-log S) ~ Normal(eta_hat, (se / (S |log S|))^2)."""
    se_eta = se / (surv * abs(math.log(surv)))
    return float(stats.norm.cdf((math.log(math.log(2)) - math.log(-math.log(surv))) / se_eta))


MONTHS = [1.0, 1.5, 2.5, 4.0, 5.0, 6.5, 7.0, 8.0, 9.5, 11.0, 12.0, 14.0]
EVENTS = [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0]


def test_a_median_clause_is_decided_through_s_at_the_threshold_time():
    metrics, evidence, points = km_evidence(MONTHS, EVENTS, [2.0, 3.0, 6.0, 9.0])
    verdict = form3({**metrics, "orr": 0.0}, evidence)
    c = clause(verdict, "g3-pfs", "pfs_median_months")
    s6 = points[6.0]
    assert s6.surv > 0.5 and s6.lower < 0.5  # met on the estimate, the CI spans one half
    assert c.certainty == "met, uncertain"
    assert c.probability == pytest.approx(loglog_probability_at_least_half(s6.surv, s6.se),
                                          abs=1e-12)
    assert "log-log" in c.probability_method and "S(6 months)" in c.probability_method
    median = km_median(kaplan_meier(np.array(MONTHS), np.array(EVENTS)))
    assert c.ci_lower == pytest.approx(median.lower)
    assert c.observed == pytest.approx(median.estimate)
    assert verdict.grade == 3 and verdict.certainty == UNCERTAIN
    assert "the 95% CI of median PFS" in verdict.outcome and "spans 6 months" in verdict.outcome


def test_a_median_whose_curve_drops_early_misses_the_threshold_with_its_whole_ci():
    months = [0.5, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 1.6, 1.8, 2.0, 2.2, 2.4, 2.6, 3.0, 3.5,
              4.0, 4.5, 5.0, 5.5]
    metrics, evidence, points = km_evidence(months, [1] * len(months), [2.0, 3.0, 6.0, 9.0])
    verdict = form3({**metrics, "orr": 0.0}, evidence)
    c = clause(verdict, "g3-pfs", "pfs_median_months")
    assert points[6.0].surv == 0.0
    assert c.certainty == "not met"  # S(6) = 0: the median's own CI decides (upper < 6)
    assert c.probability is None
    g2 = clause(verdict, "g2-pfs", "pfs_median_months")  # median in [3, 6)
    assert g2.held is False  # the median is about 1.9 months
    assert g2.certainty in ("not met", "not met, uncertain")


def test_greenwood_se_is_recovered_from_each_ci_type():
    km = kaplan_meier(np.array(MONTHS), np.array(EVENTS))
    for conf_type in ("log-log", "log", "plain"):
        for landmark in km_at_times(km, [2.0, 6.0, 9.0], conf_type):
            found = greenwood_se(landmark.surv, landmark.lower, landmark.upper, conf_type, 0.95)
            assert found == pytest.approx(landmark.se, rel=1e-10), (conf_type, landmark.time)


# ---------------------------------------------------------------------- verdicts not met


def test_a_not_met_verdict_is_uncertain_when_a_route_is_within_the_cis():
    metrics, evidence = rate_cohort(5, 10)  # 50%: misses 60% on the estimate, CI reaches it
    metrics["dor_median_months"] = 3.0
    verdict = score(builtin_book().get(FORM3), metrics, "cohort", evidence=evidence)
    assert verdict.verdict == NOT_MET
    assert verdict.certainty == UNCERTAIN
    lower, upper = clopper_pearson(5, 10)
    assert verdict.certainty_reason == (
        f"the 95% CI of ORR ({100 * lower:.1f}% to {100 * upper:.1f}%) reaches 60%")


def test_a_not_met_verdict_is_robust_when_every_route_misses_with_its_whole_ci():
    metrics, evidence = rate_cohort(1, 200)  # 0.5%, upper limit 2.8%
    metrics["dor_median_months"] = 3.0
    verdict = score(builtin_book().get(FORM3), metrics, "cohort", evidence=evidence)
    assert verdict.verdict == NOT_MET and verdict.certainty == ROBUST


# ------------------------------------------------------------------- minimum evidence


def test_fewer_evaluable_patients_than_drup_stage_one_gives_insufficient_evidence():
    from dossier.resources import drup_stage_sizes
    from dossier.scoring.engine import score_cohorts

    stage1 = drup_stage_sizes()[0]
    metrics, evidence = rate_cohort(stage1 - 2, stage1 - 1)  # a high ORR, too few patients
    rule = builtin_book().get(FORM3)
    (verdict,) = score_cohorts([rule], {"c": metrics}, {"c": evidence})
    assert verdict.verdict == INSUFFICIENT and verdict.certainty == INSUFFICIENT
    assert verdict.grade is None and verdict.grade_range is None
    assert verdict.certainty_reason.startswith(
        f"{stage1 - 1} evaluable patients, fewer than the {stage1}")
    assert verdict.outcome == "no grade" and verdict.reasons == (verdict.certainty_reason,)
    # exactly the stage-1 size is enough
    metrics, evidence = rate_cohort(stage1 - 1, stage1)
    (verdict,) = score_cohorts([rule], {"c": metrics}, {"c": evidence})
    assert verdict.verdict != INSUFFICIENT


def closed_cohort() -> tuple[dict[str, object], CohortEvidence]:
    metrics, evidence = rate_cohort(0, 10)
    metrics.update({"cb_n": 0, "n_evaluable_stage1": 8, "cb_n_stage1": 0,
                    "pfs_median_months": 6.5, "pfs_followup_months": 12.0})
    return metrics, evidence


def test_a_cohort_drup_closed_at_stage_one_gets_no_grade_unless_asked():
    from dossier.scoring.engine import score_cohorts

    metrics, evidence = closed_cohort()
    rules = [builtin_book().get("drup-two-stage"), builtin_book().get(FORM3)]
    drup, esmo = score_cohorts(rules, {"c": metrics}, {"c": evidence})
    assert drup.verdict == NOT_MET
    assert esmo.verdict == INSUFFICIENT
    assert "closed at stage 1" in esmo.certainty_reason
    assert "graded only on request" in esmo.certainty_reason
    # the opt-in: the grade comes back, with a note saying why
    _, asked = score_cohorts(rules, {"c": metrics}, {"c": evidence}, grade_closed_cohorts=True)
    assert asked.verdict == MET and asked.grade == 3
    assert any("graded on request" in n for n in asked.notes)


def test_the_closure_is_read_from_the_bundled_drup_file_when_it_is_not_in_use():
    from dossier.scoring.engine import score_cohorts

    metrics, evidence = closed_cohort()
    (esmo,) = score_cohorts([builtin_book().get(FORM3)], {"c": metrics}, {"c": evidence})
    assert esmo.verdict == INSUFFICIENT


LANDMARK_RULE = """\
id: my-landmark
title: One-year OS
framework: Mine
version: "1"
effective: "2026-01"
sources:
  - id: src
    url: https://example.org/rule
    status: verified
inputs:
  os_landmark_3y: fraction
outcome:
  scale: binary
rules:
  - id: r1
    when: {metric: os_landmark_3y, op: ">=", value: 0.4}
    status: verified
    source: src
"""


def test_a_landmark_clause_is_decided_on_s_at_its_time_with_the_log_log_posterior(tmp_path):
    from dossier.scoring.rulefile import load_rule_file

    path = tmp_path / "landmark.yaml"
    path.write_text(LANDMARK_RULE, encoding="utf-8")
    km = kaplan_meier(3 * np.array(MONTHS), np.array(EVENTS))  # to 42 months
    (s12,) = km_at_times(km, [36.0])
    se = greenwood_se(s12.surv, s12.lower, s12.upper, "log-log", 0.95)
    evidence = CohortEvidence(survival={("os", 36.0): SurvivalPoint(
        "os", 36.0, s12.surv, s12.lower, s12.upper, se, "log-log", 0.95)})
    verdict = score(load_rule_file(path), {"os_landmark_3y": s12.surv}, "c", evidence=evidence)
    (c,) = verdict.clauses
    assert (c.ci_lower, c.ci_upper) == (s12.lower, s12.upper)
    assert c.certainty == ("met, uncertain" if s12.surv >= 0.4 else "not met, uncertain")
    se_eta = s12.se / (s12.surv * abs(math.log(s12.surv)))
    expected = stats.norm.cdf((math.log(-math.log(0.4)) - math.log(-math.log(s12.surv)))
                              / se_eta)
    assert c.probability == pytest.approx(expected, abs=1e-12)
