"""The engine: immature and missing values, derived metrics, verdict contents and JSON."""

from __future__ import annotations

import json

import pytest
from _scoring_helpers import builtin_book, verdict_of

from dossier.scoring.engine import score, score_cohorts
from dossier.scoring.metrics import MetricValueError

FORM3 = "esmo-mcbs-v1.1-form3"
NO_TOX = {"g34_tox_wellbeing_rate": 0.0}


@pytest.mark.parametrize(("followup", "word", "grade_range"), [
    (6.0, "immature", (2, 3)),      # follow-up equal to 6 months does not exceed it
    (6.01, "met", (3, 3)),
    (4.5, "immature", (2, 3)),      # known >= 3 (grade 2), may reach 6 (grade 3)
    (2.5, "immature", (1, 3)),
    (None, "immature", (0, 3)),     # not reached, follow-up not given
])
def test_form3_median_pfs_not_reached_counts_only_when_follow_up_exceeds_the_threshold(
        followup, word, grade_range):
    metrics = {**NO_TOX, "orr": 0.0, "pfs_median_months": "NR"}
    if followup is not None:
        metrics["pfs_followup_months"] = followup
    verdict = verdict_of(FORM3, **metrics)
    assert (verdict.verdict, verdict.grade_range) == (word, grade_range)
    if word == "immature":
        assert any("immature" in r for r in verdict.reasons)


def test_an_immature_clause_that_cannot_change_the_grade_leaves_the_verdict_decided():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.65, pfs_median_months="NR",
                         pfs_followup_months=4.0)
    assert (verdict.verdict, verdict.grade) == ("met", 3)
    pfs = next(c for c in verdict.clauses if c.rule == "g3-pfs")
    assert pfs.state == "immature" and pfs.held is None


def test_median_dor_not_reached_beyond_9_months_of_follow_up_gives_grade_3():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.30, dor_median_months="NR",
                         dor_followup_months=12.0, pfs_median_months=2.2)
    assert verdict.grade == 3
    assert verdict.deciding[0].startswith("g3-orr-dor (grade 3)")


def test_a_missing_value_that_could_change_the_grade_makes_it_not_assessable():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.30)
    assert verdict.verdict == "not assessable"
    assert verdict.grade_range == (1, 3)  # ORR 20-40% earns grade 1 whatever the DoR
    assert any("median DoR not given" in r for r in verdict.reasons)
    assert any("g3-pfs: not reported" in n for n in verdict.notes)


def test_nothing_reported_is_not_assessable_rather_than_not_met():
    verdict = verdict_of(FORM3, **NO_TOX, n_evaluable=10)
    assert verdict.verdict == "not assessable"
    assert "none of the values" in verdict.reasons[0]


@pytest.mark.parametrize(("g3_trae_rate", "word", "grade_range"), [
    (0.29, "met", (3, 3)),               # all grade >= 3 AEs below 30%: no downgrade possible
    (0.31, "not assessable", (2, 3)),    # the well-being subset could reach 30%
])
def test_grade_3_plus_treatment_related_aes_bound_the_toxicity_downgrade(g3_trae_rate, word,
                                                                          grade_range):
    verdict = verdict_of(FORM3, orr=0.0, pfs_median_months=7.0, g3_trae_rate=g3_trae_rate)
    assert (verdict.verdict, verdict.grade_range) == (word, grade_range)


def test_a_curative_setting_cohort_is_not_scored_on_a_palliative_form():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.7, setting="curative")
    assert verdict.verdict == "not applicable"
    assert "palliative" in verdict.reasons[0]


def test_a_percentage_written_as_a_fraction_metric_is_an_error_naming_cohort_and_metric():
    rule_set = builtin_book().get(FORM3)
    with pytest.raises(MetricValueError, match=r"^trial-x: orr must be a fraction from 0 to 1, "
                                               r"not 45; write 0.45 for 45%"):
        score(rule_set, {"orr": 45}, "trial-x")


def test_every_clause_of_every_rule_is_listed_with_value_threshold_and_outcome():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.25, dor_median_months=7.0, pfs_median_months=4.1)
    rules = {c.rule for c in verdict.clauses}
    assert rules == {"single-arm", "g3-pfs", "g3-orr", "g3-orr-dor", "g2-pfs", "g2-orr",
                     "g2-orr-dor", "g1-pfs", "g1-orr-dor-short", "g1-orr10-dor"}
    pfs = next(c for c in verdict.clauses if c.rule == "g3-pfs")
    assert (pfs.observed, pfs.threshold, pfs.op, pfs.held) == (4.1, 6.0, ">=", False)
    assert pfs.source == "https://pmc.ncbi.nlm.nih.gov/articles/PMC10158123/table/T3"
    assert verdict.grade == 2
    # the nearest route to grade 3: DoR is 22% short of 9 months, PFS 32% short of 6
    assert verdict.distance == ("to grade 3 (g3-orr-dor): median DoR 7.00 months vs >= 9 months",)


def test_a_value_just_short_of_the_threshold_prints_with_enough_decimals_to_differ():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.0, pfs_median_months=5.999)
    assert "to grade 3 (g3-pfs): median PFS 5.999 months vs >= 6 months" in verdict.distance


def test_a_gain_derived_from_a_median_not_reached_is_immature_until_follow_up_settles_it():
    base = {"ema_approved": True, "control_os_median_months": 10.0, "hr_os": 0.6,
            "os_median_months": "NR"}
    assert verdict_of("paskwil-2024", **base, os_followup_months=20.0).verdict == "met"
    assert verdict_of("paskwil-2024", **base, os_followup_months=12.0).verdict == "immature"


def test_verdicts_convert_to_json_with_every_field_the_issue_lists():
    verdicts = score_cohorts(builtin_book(), {
        "a": {**NO_TOX, "orr": 0.3, "pfs_median_months": "NR", "n_evaluable": 9, "cb_n": 2},
        "b": {"n_evaluable": 24, "cb_n": 5, "cb_durable_n": 5, "pfs_median_months": 7.0},
    })
    assert [v.cohort_id for v in verdicts[:2]] == ["a", "a"]
    assert len(verdicts) == 2 * len(builtin_book().rule_sets)
    text = json.dumps([v.to_dict() for v in verdicts], allow_nan=False)
    first = json.loads(text)[0]
    for key in ("id", "framework", "version", "verdict", "preliminary_grade", "grade",
                "adjustments", "clauses", "distance"):
        assert key in first
