"""dossier's payer screen: DRUP success + durability screen + ESMO-MCBS Form 3 grade >= 3."""

from __future__ import annotations

import math

from _scoring_helpers import builtin_book

from dossier.scoring.engine import score_cohorts
from dossier.scoring.readiness import (
    BELOW_SCREEN,
    MEETS_SCREEN,
    NO_TRIAL_SUCCESS,
    NOT_SCORED,
    TRIAL_PENDING,
    UNRESOLVED,
    by_distance,
    readiness,
)

SUCCESS = {"n_evaluable": 24, "cb_n": 8, "g34_tox_wellbeing_rate": 0.1}

COHORTS = {
    "ready": {**SUCCESS, "cb_durable_n": 6, "pfs_median_months": 6.5, "orr": 0.1},
    "short-pfs": {**SUCCESS, "cb_durable_n": 6, "pfs_median_months": 4.0, "orr": 0.1},
    "sd-fades": {**SUCCESS, "cb_durable_n": 3, "pfs_median_months": 7.0, "orr": 0.1},
    "low-grade": {**SUCCESS, "cb_durable_n": 6, "pfs_median_months": 6.5, "orr": 0.0,
                  "g34_tox_wellbeing_rate": 0.4},
    "open": {**SUCCESS, "cb_durable_n": 6, "pfs_median_months": "NR", "pfs_followup_months": 5.0,
             "orr": 0.1},
    "pending": {"n_evaluable": 12, "cb_n": 2, "cb_durable_n": 1, "pfs_median_months": 3.0,
                "orr": 0.0},
    "failed": {"n_evaluable": 24, "cb_n": 3, "cb_durable_n": 1, "pfs_median_months": 2.0,
               "orr": 0.0},
}


def flags() -> dict[str, object]:
    return {r.cohort_id: r for r in readiness(score_cohorts(builtin_book(), COHORTS))}


def test_trial_successes_that_miss_durability_or_grade_3_are_flagged_below_the_payer_screen():
    got = flags()
    assert got["ready"].flag == MEETS_SCREEN and got["ready"].distance == 0.0
    for cohort in ("short-pfs", "sd-fades", "low-grade"):
        assert got[cohort].flag == BELOW_SCREEN, cohort
        assert got[cohort].trial_success is True and got[cohort].meets_screen is False
    assert got["open"].flag == UNRESOLVED
    assert got["pending"].flag == TRIAL_PENDING
    assert got["failed"].flag == NO_TRIAL_SUCCESS


def test_the_flag_says_what_is_missing_for_the_line():
    gaps = flags()["short-pfs"].gaps
    assert any("median PFS 4.00 months vs >= 6 months" in g for g in gaps)


def test_a_grade_lowered_below_3_by_toxicity_says_so_and_counts_one_grade_short():
    low = flags()["low-grade"]
    assert low.distance == 1.0
    assert any("toxicities impacting daily well-being lowered the grade (-1)" in g
               for g in low.gaps)


def test_compare_order_puts_ready_cohorts_first_then_the_nearest():
    ordered = [r.cohort_id for r in by_distance(flags().values())]
    assert ordered[0] == "ready"
    distances = [flags()[c].distance for c in ordered[1:]]
    finite = [d for d in distances if math.isfinite(d)]
    assert finite == sorted(finite) and len(finite) >= 3
    assert distances[: len(finite)] == finite  # cohorts whose distance is unknown come last
    # unknown: "open" (median PFS not reached) and "pending" (12 evaluable: the durability
    # screen waits for 24), the trial success first
    assert ordered[-2:] == ["open", "pending"] and distances[-2:] == [math.inf, math.inf]


def test_a_cohort_not_scored_on_the_whole_line_is_marked_not_scored():
    verdicts = score_cohorts(builtin_book().select(["drup-two-stage"]), COHORTS)
    assert {r.flag for r in readiness(verdicts)} == {NOT_SCORED}
