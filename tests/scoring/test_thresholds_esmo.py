"""Every threshold of the ESMO-MCBS v1.1 rule files, at, just below and just above its boundary.

Form 3 values are those of the form (criteria.md 2.7, PMC10158123 table T3); Form 2a/2b those of
criteria.md 2.2-2.5. Each case varies one metric while the others keep the deciding rule alone.
"""

from __future__ import annotations

import pytest
from _scoring_helpers import rule_held, verdict_of

FORM3 = "esmo-mcbs-v1.1-form3"
FORM2A = "esmo-mcbs-v1.1-form2a"
FORM2B = "esmo-mcbs-v1.1-form2b"

NO_TOX = {"g34_tox_wellbeing_rate": 0.0}

# (case, fixed metrics, metric varied, boundary, step, grade below, at, above); 0 = no grade
FORM3_CASES = [
    ("PFS >= 6 -> 3", {"orr": 0.0}, "pfs_median_months", 6.0, 0.01, 2, 3, 3),
    ("PFS >= 3 -> 2", {"orr": 0.0}, "pfs_median_months", 3.0, 0.01, 1, 2, 2),
    ("PFS >= 2 -> 1", {"orr": 0.0}, "pfs_median_months", 2.0, 0.01, 0, 1, 1),
    ("ORR >= 60% -> 3", {"pfs_median_months": 1.0, "dor_median_months": 1.0}, "orr", 0.60,
     0.001, 2, 3, 3),
    ("ORR >= 40% -> 2", {"pfs_median_months": 1.0, "dor_median_months": 1.0}, "orr", 0.40,
     0.001, 1, 2, 2),
    ("ORR >= 20% with DoR >= 9 -> 3", {"pfs_median_months": 1.0, "dor_median_months": 10.0},
     "orr", 0.20, 0.001, 1, 3, 3),
    ("ORR >= 10% with DoR >= 6 -> 1", {"pfs_median_months": 1.0, "dor_median_months": 7.0},
     "orr", 0.10, 0.001, 0, 1, 1),
    ("DoR >= 9 with ORR 30% -> 3", {"pfs_median_months": 1.0, "orr": 0.30},
     "dor_median_months", 9.0, 0.01, 2, 3, 3),
    ("DoR >= 6 with ORR 30% -> 2, below 6 -> 1", {"pfs_median_months": 1.0, "orr": 0.30},
     "dor_median_months", 6.0, 0.01, 1, 2, 2),
    ("DoR >= 6 with ORR 15% -> 1", {"pfs_median_months": 1.0, "orr": 0.15},
     "dor_median_months", 6.0, 0.01, 0, 1, 1),
    ("ORR < 40% band end with DoR 7", {"pfs_median_months": 1.0, "dor_median_months": 7.0},
     "orr", 0.40, 0.001, 2, 2, 2),
    ("ORR < 60% band end with DoR 10", {"pfs_median_months": 1.0, "dor_median_months": 10.0},
     "orr", 0.60, 0.001, 3, 3, 3),
    ("ORR < 20% band end with DoR 3", {"pfs_median_months": 1.0, "dor_median_months": 3.0},
     "orr", 0.20, 0.001, 0, 1, 1),
]


@pytest.mark.parametrize(("case", "fixed", "metric", "boundary", "step", "below", "at", "above"),
                         FORM3_CASES, ids=[c[0] for c in FORM3_CASES])
def test_form3_preliminary_grade_changes_exactly_at_the_forms_thresholds(
        case, fixed, metric, boundary, step, below, at, above):
    for value, expected in ((boundary - step, below), (boundary, at), (boundary + step, above)):
        verdict = verdict_of(FORM3, **NO_TOX, **fixed, **{metric: value})
        assert verdict.grade_range == (expected, expected), (case, value, verdict.outcome)
        assert verdict.grade == (expected or None)
        assert verdict.verdict == ("met" if expected >= 3 else "not met")


@pytest.mark.parametrize(("value", "g2_held", "g3_held"), [(5.99, True, False), (6.0, False, True)])
def test_form3_pfs_band_upper_end_is_exclusive_as_the_form_writes_it(value, g2_held, g3_held):
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.0, pfs_median_months=value)
    assert rule_held(verdict, "g2-pfs") is g2_held
    assert rule_held(verdict, "g3-pfs") is g3_held


@pytest.mark.parametrize(("rate", "grade"), [(0.299, 3), (0.30, 2), (0.301, 2)])
def test_form3_downgrades_from_30_percent_grade_3_4_toxicity(rate, grade):
    verdict = verdict_of(FORM3, orr=0.0, pfs_median_months=7.0, g34_tox_wellbeing_rate=rate)
    assert verdict.preliminary_grade == 3
    assert verdict.grade == grade
    toxicity = next(a for a in verdict.adjustments if a.id == "toxicity")
    assert toxicity.applied is (grade == 2)


@pytest.mark.parametrize(("extra", "grade"), [
    ({"qol_improved": True}, 4),
    ({"phase4_confirmatory": True}, 4),
    ({"qol_improved": True, "phase4_confirmatory": True}, 5),
    ({"qol_improved": False, "phase4_confirmatory": False}, 3),
])
def test_form3_upgrades_for_quality_of_life_and_phase_4_evidence(extra, grade):
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.0, pfs_median_months=7.0, **extra)
    assert verdict.grade == grade
    assert verdict.preliminary_grade == 3


def test_form3_downgrade_never_goes_below_grade_1():
    verdict = verdict_of(FORM3, orr=0.0, pfs_median_months=2.5, g34_tox_wellbeing_rate=0.5)
    assert verdict.preliminary_grade == 1
    assert verdict.grade == 1
    assert any("capped" in n for n in verdict.notes)


def test_form3_gives_no_grade_to_combinations_the_form_does_not_list():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.15, dor_median_months=4.0, pfs_median_months=1.9)
    assert verdict.grade is None and verdict.grade_text == "no grade"
    assert verdict.outcome == ("no grade (dossier's payer screen: grade >= 3; ours, no payer "
                               "decision)")
    assert verdict.verdict == "not met"


def test_form3_is_not_applicable_to_a_study_with_a_control_arm():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.7, control_pfs_median_months=4.0)
    assert verdict.verdict == "not applicable"
    assert "Form 2a" in verdict.reasons[0]


# ----------------------------------------------------------------------------- Form 2a

NO_LANDMARK = {"os_landmark_gain_2y": 0.0, "os_landmark_gain_3y": 0.0, "os_landmark_gain_5y": 0.0}
FORM2A_BASE = {"control_os_median_months": 10.0, **NO_LANDMARK}

# (case, fixed, metric, boundary, step, (verdict, grade, indicative) below / at / above)
FORM2A_CASES = [
    ("<=12: HR lower limit <= 0.65 (gain 4)", {**FORM2A_BASE, "os_gain_months": 4.0},
     "hr_os_lower95", 0.65, 0.001, ("met", 4, None), ("met", 4, None), ("not met", None, 2)),
    ("<=12: gain >= 3 (HRL 0.5)", {**FORM2A_BASE, "hr_os_lower95": 0.5}, "os_gain_months", 3.0,
     0.01, ("not met", None, 3), ("met", 4, None), ("met", 4, None)),
    ("12-24: HR lower limit <= 0.70 (gain 6)",
     {**NO_LANDMARK, "control_os_median_months": 18.0, "os_gain_months": 6.0},
     "hr_os_lower95", 0.70, 0.001,
     ("met", 4, None), ("met", 4, None), ("not met", None, 2)),
    ("12-24: gain >= 5 (HRL 0.6)",
     {**NO_LANDMARK, "control_os_median_months": 18.0, "hr_os_lower95": 0.6},
     "os_gain_months", 5.0, 0.01, ("not met", None, 3), ("met", 4, None), ("met", 4, None)),
    ("stratum at control median 12 (HRL 0.68, gain 5)",
     {**NO_LANDMARK, "hr_os_lower95": 0.68, "os_gain_months": 5.0}, "control_os_median_months",
     12.0, 0.01,
     ("not met", None, 2), ("not met", None, 2), ("met", 4, None)),
    ("stratum at control median 24 (HRL 0.6, gain 6)",
     {**NO_LANDMARK, "hr_os_lower95": 0.6, "os_gain_months": 6.0}, "control_os_median_months",
     24.0, 0.01,
     ("met", 4, None), ("met", 4, None), ("not met", None, 3)),
    (">24: gain >= 9 rests on a secondary source",
     {**NO_LANDMARK, "control_os_median_months": 30.0, "hr_os_lower95": 0.6},
     "os_gain_months", 9.0, 0.01,
     ("not met", None, 3), ("not assessable", None, 4), ("not assessable", None, 4)),
    ("<=12: 2-year landmark gain >= 10 is secondary source",
     {"control_os_median_months": 10.0, "hr_os_lower95": 0.9, "os_gain_months": 0.5},
     "os_landmark_gain_2y", 10.0,
     0.01, ("not met", None, 1), ("not assessable", None, 4), ("not assessable", None, 4)),
    ("<=12: HRL band (0.65, 0.70] for grade 2 (gain 1.6)",
     {**FORM2A_BASE, "os_gain_months": 1.6}, "hr_os_lower95", 0.70, 0.001,
     ("not met", None, 2), ("not met", None, 2), ("not met", None, 1)),
]


@pytest.mark.parametrize(("case", "fixed", "metric", "boundary", "step", "below", "at", "above"),
                         FORM2A_CASES, ids=[c[0] for c in FORM2A_CASES])
def test_form2a_awards_only_verified_grades_at_the_dual_rule_thresholds(
        case, fixed, metric, boundary, step, below, at, above):
    for value, (word, grade, indicative) in ((boundary - step, below), (boundary, at),
                                             (boundary + step, above)):
        verdict = verdict_of(FORM2A, **fixed, **{metric: value})
        assert (verdict.verdict, verdict.grade, verdict.indicative_grade) == \
            (word, grade, indicative), (case, value, verdict.reasons)


def test_form2a_quality_of_life_lifts_a_verified_grade_4_to_5_and_caps_at_5():
    base = {**FORM2A_BASE, "hr_os_lower95": 0.5, "os_gain_months": 4.0}
    assert verdict_of(FORM2A, **base, qol_improved=True).grade == 5
    capped = verdict_of(FORM2A, **base, qol_improved=True, g34_tox_reduced=True)
    assert capped.grade == 5
    assert any("capped at 5" in n for n in capped.notes)


def test_form2a_notes_when_unawarded_rows_could_reach_grade_4_with_missing_values():
    verdict = verdict_of(FORM2A, control_os_median_months=30.0, hr_os_lower95=0.6)
    assert verdict.verdict == "not met"  # no verified row exists for control median OS > 24
    assert verdict.grade is None and verdict.indicative_grade is None
    assert any("could reach grade 4" in n for n in verdict.notes)


def test_form2a_counts_an_unreported_landmark_route_as_not_held():
    verdict = verdict_of(FORM2A, control_os_median_months=10.0, hr_os_lower95=0.66,
                         os_gain_months=4.0)
    assert (verdict.verdict, verdict.indicative_grade) == ("not met", 2)
    assert any(n.startswith("le12-g4-landmark: not reported") for n in verdict.notes)


def test_form2a_derives_the_os_gain_from_the_two_medians():
    verdict = verdict_of(FORM2A, **FORM2A_BASE, os_median_months=13.0, hr_os_lower95=0.6)
    assert verdict.grade == 4
    gain = next(c for c in verdict.clauses if c.metric == "os_gain_months")
    assert gain.observed == pytest.approx(3.0)
    assert "derived" in gain.note


def test_form2a_is_not_applicable_without_a_control_arm():
    verdict = verdict_of(FORM2A, orr=0.5, pfs_median_months=8.0)
    assert verdict.verdict == "not applicable"
    assert "control_os_median_months" in verdict.reasons[0]


# ----------------------------------------------------------------------------- Form 2b

FORM2B_BASE = {"toxicity_increased": False, "qol_no_improvement": False}

FORM2B_CASES = [
    ("<=6: HR lower limit <= 0.65 (gain 2)",
     {**FORM2B_BASE, "control_pfs_median_months": 5.0, "pfs_gain_months": 2.0},
     "hr_pfs_lower95", 0.65, 0.001, 3, 3, None),
    ("<=6: gain >= 1.5 (HRL 0.5)",
     {**FORM2B_BASE, "control_pfs_median_months": 5.0, "hr_pfs_lower95": 0.5},
     "pfs_gain_months", 1.5, 0.01, None, 3, 3),
    (">6: gain >= 3 (HRL 0.5)",
     {**FORM2B_BASE, "control_pfs_median_months": 8.0, "hr_pfs_lower95": 0.5},
     "pfs_gain_months", 3.0, 0.01, None, 3, 3),
    ("stratum at control median 6 (HRL 0.5, gain 2)",
     {**FORM2B_BASE, "hr_pfs_lower95": 0.5, "pfs_gain_months": 2.0},
     "control_pfs_median_months", 6.0, 0.01, 3, 3, None),
]


@pytest.mark.parametrize(("case", "fixed", "metric", "boundary", "step", "below", "at", "above"),
                         FORM2B_CASES, ids=[c[0] for c in FORM2B_CASES])
def test_form2b_awards_grade_3_only_at_the_verified_dual_rule(
        case, fixed, metric, boundary, step, below, at, above):
    for value, grade in ((boundary - step, below), (boundary, at), (boundary + step, above)):
        verdict = verdict_of(FORM2B, **fixed, **{metric: value})
        assert verdict.grade == grade, (case, value, verdict.outcome)
        assert verdict.verdict == "not met"  # grade 3 is below ESMO's substantial benefit (4)


def test_form2b_lower_grades_are_unverified_and_shown_only_as_indicative():
    verdict = verdict_of(FORM2B, **FORM2B_BASE, control_pfs_median_months=5.0,
                         hr_pfs_lower95=0.7, pfs_gain_months=2.0)
    assert verdict.grade is None
    assert verdict.indicative_grade == 2
    assert {c.status for c in verdict.clauses if c.rule == "le6-g2"} == {"unverified"}


@pytest.mark.parametrize(("extra", "grade", "word"), [
    ({"qol_improved": True}, 4, "met"),
    ({"qol_improved": True, "g34_tox_reduced": True}, 4, "met"),
    ({"toxicity_increased": True}, 2, "not met"),
    ({"qol_no_improvement": True}, 2, "not met"),
])
def test_form2b_adjustments_move_grade_3_within_the_cap_of_4(extra, grade, word):
    metrics = {**FORM2B_BASE, "control_pfs_median_months": 5.0, "hr_pfs_lower95": 0.5,
               "pfs_gain_months": 2.0, **extra}
    verdict = verdict_of(FORM2B, **metrics)
    assert (verdict.grade, verdict.verdict) == (grade, word)


def test_form2b_leaves_the_grade_open_when_a_downgrade_is_not_reported():
    verdict = verdict_of(FORM2B, control_pfs_median_months=5.0, hr_pfs_lower95=0.5,
                         pfs_gain_months=2.0, qol_improved=True)
    assert verdict.grade_range == (2, 4)
    assert verdict.verdict == "not assessable"
    assert any("increased-toxicity" in r for r in verdict.reasons)


def test_form3_single_arm_gate_that_holds_reads_as_applying_not_as_failing():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.3, dor_median_months=10.0,
                         pfs_median_months=4.0)
    gates = [c for c in verdict.clauses if c.op == "gate"]
    assert [(c.rule, c.state, c.held) for c in gates] == [("single-arm", "applies", True)]
    assert "not held" not in gates[0].text


def test_form3_met_outcome_says_the_line_is_dossiers_grade_3():
    verdict = verdict_of(FORM3, **NO_TOX, orr=0.3, dor_median_months=10.0,
                         pfs_median_months=4.0)
    assert verdict.verdict == "met" and verdict.grade == 3
    assert verdict.outcome == ("grade 3 (dossier's payer screen: grade >= 3; ours, no payer "
                               "decision)")


def test_form3_open_toxicity_adjustment_says_when_it_applies_and_what_the_registry_shows():
    verdict = verdict_of(FORM3, orr=0.36, dor_median_months=10.25, pfs_median_months=4.12,
                         g3_trae_rate=0.308)
    toxicity = next(a for a in verdict.adjustments if a.id == "toxicity")
    assert toxicity.applied is None
    assert toxicity.state == (
        "-1 applies if grade 3-4 toxicity impacting daily well-being >= 30%; grade >= 3 "
        "treatment-related AEs 30.8% in the registry (an upper bound); grade 3-4 toxicity "
        "impacting daily well-being not recorded")
    assert "needed" not in toxicity.state
