"""Every threshold of the PASKWIL rule files (2016, 2023, 2024, 2021 non-randomised).

PASKWIL writes strict inequalities (gain > 12 weeks, HR < 0.70, > 20% alive) and >= for the
10-point landmark gain: each is tested at, just below and just above its boundary. Weeks are
converted at 7 / 30.4375 months, so "exactly 12 weeks" is 84 days.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _scoring_helpers import WEEK_MONTHS, builtin_book, verdict_of

from dossier.scoring.engine import score
from dossier.scoring.rulebook import load_rulebook

W12, W16 = 12 * WEEK_MONTHS, 16 * WEEK_MONTHS
STEP = 0.001
RCT = {"ema_approved": True}

# (rule id, case, fixed metrics, metric varied, boundary, verdict below / at / above)
CASES = [
    ("paskwil-2016", "OS gain > 12 weeks", {**RCT, "control_os_median_months": 10.0,
                                            "hr_os": 0.6}, "os_gain_months", W12,
     "not met", "not met", "met"),
    ("paskwil-2016", "PFS gain > 12 weeks", {**RCT, "control_pfs_median_months": 5.0,
                                             "hr_pfs": 0.6}, "pfs_gain_months", W12,
     "not met", "not met", "met"),
    ("paskwil-2016", "HR OS < 0.7 (unverified clause)",
     {**RCT, "control_os_median_months": 10.0, "os_gain_months": 4.0}, "hr_os", 0.7,
     "met", "not assessable", "not assessable"),
    ("paskwil-2023", "<= 1 year: OS gain > 12 weeks", {**RCT, "control_os_median_months": 10.0,
                                                       "hr_os": 0.6}, "os_gain_months", W12,
     "not met", "not met", "met"),
    ("paskwil-2023", "> 1 year: OS gain > 16 weeks", {**RCT, "control_os_median_months": 18.0,
                                                      "hr_os": 0.6}, "os_gain_months", W16,
     "not met", "not met", "met"),
    ("paskwil-2023", "> 1 year: PFS gain > 16 weeks",
     {**RCT, "control_os_median_months": 18.0, "hr_pfs": 0.6, "os_gain_months": 1.0,
      "hr_os": 0.9}, "pfs_gain_months", W16, "not met", "not met", "met"),
    ("paskwil-2023", "stratum: control median OS 12 (gain 3 months)",
     {**RCT, "os_gain_months": 3.0, "hr_os": 0.6}, "control_os_median_months", 12.0,
     "met", "met", "not met"),
    ("paskwil-2023", "HR OS < 0.70 (unverified clause)",
     {**RCT, "control_os_median_months": 10.0, "os_gain_months": 4.0}, "hr_os", 0.70,
     "met", "not assessable", "not assessable"),
    ("paskwil-2024", "<= 12: OS gain > 12 weeks", {**RCT, "control_os_median_months": 10.0,
                                                   "hr_os": 0.6}, "os_gain_months", W12,
     "not met", "not met", "met"),
    ("paskwil-2024", "<= 12: HR OS < 0.70", {**RCT, "control_os_median_months": 10.0,
                                             "os_gain_months": 4.0}, "hr_os", 0.70,
     "met", "not met", "not met"),
    ("paskwil-2024", "<= 12: 2-year OS gain >= 10 points",
     {**RCT, "control_os_median_months": 10.0, "os_gain_months": 1.0, "hr_os": 0.9,
      "os_landmark_2y": 0.3}, "os_landmark_gain_2y", 10.0, "not met", "met", "met"),
    ("paskwil-2024", "<= 12: > 20% alive at 2 years",
     {**RCT, "control_os_median_months": 10.0, "os_gain_months": 1.0, "hr_os": 0.9,
      "os_landmark_gain_2y": 12.0}, "os_landmark_2y", 0.20, "not met", "not met", "met"),
    ("paskwil-2024", "> 12: OS gain > 16 weeks", {**RCT, "control_os_median_months": 18.0,
                                                  "hr_os": 0.6}, "os_gain_months", W16,
     "not met", "not met", "met"),
    ("paskwil-2024", "> 12: PFS gain > 16 weeks",
     {**RCT, "control_os_median_months": 18.0, "hr_pfs": 0.6, "os_gain_months": 1.0,
      "hr_os": 0.9}, "pfs_gain_months", W16, "not met", "not met", "met"),
    ("paskwil-2024", "> 12: HR PFS < 0.70",
     {**RCT, "control_os_median_months": 18.0, "pfs_gain_months": 5.0, "os_gain_months": 1.0,
      "hr_os": 0.9}, "hr_pfs", 0.70, "met", "not met", "not met"),
    ("paskwil-2024", "> 12: 3-year OS gain >= 10 points",
     {**RCT, "control_os_median_months": 18.0, "os_gain_months": 1.0, "hr_os": 0.9,
      "os_landmark_3y": 0.3}, "os_landmark_gain_3y", 10.0, "not met", "met", "met"),
    ("paskwil-2024", "> 12: > 20% alive at 3 years",
     {**RCT, "control_os_median_months": 18.0, "os_gain_months": 1.0, "hr_os": 0.9,
      "os_landmark_gain_3y": 12.0}, "os_landmark_3y", 0.20, "not met", "not met", "met"),
    ("paskwil-2024", "stratum: control median OS 12 (gain 3 months)",
     {**RCT, "os_gain_months": 3.0, "hr_os": 0.6}, "control_os_median_months", 12.0,
     "met", "met", "not met"),
]


@pytest.mark.parametrize(("rule_id", "case", "fixed", "metric", "boundary", "below", "at",
                          "above"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_paskwil_verdict_flips_exactly_at_each_strict_threshold(
        rule_id, case, fixed, metric, boundary, below, at, above):
    for value, expected in ((boundary - STEP, below), (boundary, at), (boundary + STEP, above)):
        verdict = verdict_of(rule_id, **fixed, **{metric: value})
        assert verdict.verdict == expected, (case, value, verdict.reasons, verdict.distance)


def test_paskwil_gain_of_exactly_84_days_is_not_more_than_12_weeks():
    verdict = verdict_of("paskwil-2024", **RCT, control_os_median_months=10.0, hr_os=0.6,
                         os_gain_months=84 / 30.4375)
    assert verdict.verdict == "not met"
    gain = next(c for c in verdict.clauses if c.metric == "os_gain_months")
    assert gain.threshold_text == "> 12 weeks (2.76 months)"
    assert gain.held is False


def test_paskwil_2024_names_the_route_that_carried_the_verdict():
    verdict = verdict_of("paskwil-2024", **RCT, control_os_median_months=18.0, os_gain_months=1.0,
                         hr_os=0.9, pfs_gain_months=5.0, hr_pfs=0.6)
    assert verdict.verdict == "met"
    assert verdict.stratum.startswith("control median OS > 12")
    assert all(d.startswith("gt12-pfs-gain") for d in verdict.deciding)


def test_paskwil_2024_does_not_judge_pfs_when_control_median_os_is_12_months_or_less():
    verdict = verdict_of("paskwil-2024", **RCT, control_os_median_months=10.0, os_gain_months=1.0,
                         hr_os=0.9, pfs_gain_months=9.0, hr_pfs=0.3)
    assert verdict.verdict == "not met"
    assert not any(c.metric == "pfs_gain_months" for c in verdict.clauses)


def test_paskwil_2023_pfs_route_below_one_year_is_unverified_and_cannot_carry_a_verdict():
    verdict = verdict_of("paskwil-2023", **RCT, control_os_median_months=10.0, os_gain_months=1.0,
                         hr_os=0.9, pfs_gain_months=5.0, hr_pfs=0.5)
    assert verdict.verdict == "not assessable"
    assert "le1y-pfs-gain" in verdict.reasons[0]


@pytest.mark.parametrize("rule_id", ["paskwil-2016", "paskwil-2023", "paskwil-2024"])
def test_paskwil_standard_criteria_do_not_apply_to_a_single_arm_cohort(rule_id):
    verdict = verdict_of(rule_id, n_evaluable=24, cb_n=8, orr=0.4, ema_approved=True)
    assert verdict.verdict == "not applicable"
    assert "randomised comparative" in verdict.reasons[0]


@pytest.mark.parametrize(("ema", "word"), [(False, "not applicable"), (None, "not assessable")])
@pytest.mark.parametrize("rule_id", ["paskwil-2016", "paskwil-2023", "paskwil-2024"])
def test_paskwil_standard_criteria_need_ema_registration(rule_id, ema, word):
    metrics = {"control_os_median_months": 10.0, "os_gain_months": 4.0, "hr_os": 0.6}
    if ema is not None:
        metrics["ema_approved"] = ema
    verdict = verdict_of(rule_id, **metrics)
    assert verdict.verdict == word
    assert "EMA" in verdict.reasons[0]


def test_paskwil_2023_and_2024_need_the_control_median_to_choose_the_stratum():
    verdict = verdict_of("paskwil-2024", **RCT, hr_os=0.6, os_gain_months=4.0)
    assert verdict.verdict == "not assessable"
    assert "stratum" in verdict.reasons[0]


# ----------------------------------------------------------------------------- 2021

GATE_OPEN = {"ema_approved": True, "rare_indication": True, "no_effective_treatment": True}


@pytest.mark.parametrize("closed", ["ema_approved", "rare_indication", "no_effective_treatment"])
def test_paskwil_2021_entry_gate_needs_all_three_conditions(closed):
    verdict = verdict_of("paskwil-2021-nonrandomised", **{**GATE_OPEN, closed: False}, orr=0.5)
    assert verdict.verdict == "not applicable"


def test_paskwil_2021_does_not_apply_to_a_randomised_comparison():
    verdict = verdict_of("paskwil-2021-nonrandomised", **GATE_OPEN, hr_os=0.6)
    assert verdict.verdict == "not applicable"
    assert "standard" in verdict.reasons[0]


def test_paskwil_2021_without_an_override_is_not_assessable_and_never_guesses():
    verdict = verdict_of("paskwil-2021-nonrandomised", **GATE_OPEN, orr=0.9,
                         dor_median_months=30.0)
    assert verdict.verdict == "not assessable"
    assert "not published in the sources" in verdict.reasons[0]
    assert "not assessable without a documented threshold" in verdict.reasons[0]
    assert "override" not in verdict.reasons[0] and "--criteria" not in verdict.reasons[0]


OVERRIDE = """\
override: paskwil-2021-nonrandomised
title: thresholds copied from the May 2021 table (test)
sources:
  - id: table-2021
    citation: Medische Oncologie 2021;4, table 1 (hypothetical values for this test)
    status: verified
rules:
  - id: efficacy
    when:
      all:
        - {metric: orr, op: ">", value: 0.30}
        - {metric: dor_median_months, op: ">=", value: 6}
    status: verified
    source: table-2021
"""


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory):
    path: Path = tmp_path_factory.mktemp("override") / "paskwil-2021-thresholds.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    return load_rulebook([path]).get("paskwil-2021-nonrandomised"), path


@pytest.mark.parametrize(("metric", "fixed", "boundary", "step", "below", "at", "above"), [
    ("orr", {"dor_median_months": 8.0}, 0.30, 0.001, "not met", "not met", "met"),
    ("dor_median_months", {"orr": 0.5}, 6.0, 0.01, "not met", "met", "met"),
])
def test_paskwil_2021_applies_the_thresholds_of_a_user_override(
        overridden, metric, fixed, boundary, step, below, at, above):
    rule_set, path = overridden
    for value, expected in ((boundary - step, below), (boundary, at), (boundary + step, above)):
        verdict = score(rule_set, {**GATE_OPEN, **fixed, metric: value}, "cohort")
        assert verdict.verdict == expected, (metric, value)
    assert any(str(path) in n for n in verdict.notes)


def test_an_override_leaves_the_builtin_rule_files_untouched(overridden):
    assert builtin_book().get("paskwil-2021-nonrandomised").rules[0].when is None


def test_paskwil_2021_gate_asks_for_ema_approval_for_this_indication():
    verdict = verdict_of("paskwil-2021-nonrandomised", **{**GATE_OPEN, "ema_approved": False})
    assert verdict.verdict == "not applicable"
    assert verdict.reasons == ("the non-randomised criteria need a drug (conditionally) approved "
                               "by EMA for this indication",)
    gate = next(c for c in verdict.clauses if c.rule == "ema-approval")
    assert (gate.state, gate.held) == ("does not apply", False)


def test_paskwil_2021_verdict_text_is_payer_facing_without_cli_instructions():
    verdict = verdict_of("paskwil-2021-nonrandomised", **GATE_OPEN, orr=0.9)
    texts = [*verdict.reasons, *verdict.deciding, *verdict.distance, *verdict.notes,
             *(c.text for c in verdict.clauses), *(c.note for c in verdict.clauses)]
    assert not [t for t in texts if "--criteria" in t or "override file" in t]
    efficacy = next(c for c in verdict.clauses if c.rule == "efficacy")
    assert efficacy.threshold_text == "thresholds not published in the sources"
