"""DRUP's two-stage rule and dossier's durability screen, at every count that changes a verdict.

Stage 1: >= 1 of 8 evaluable with clinical benefit; stage 2: >= 5 of 24 (criteria.md 3.3).
"""

from __future__ import annotations

import pytest
from _scoring_helpers import verdict_of

DRUP = "drup-two-stage"
SCREEN = "dossier-durability-screen"

# (n evaluable, n with clinical benefit, verdict, outcome starts with, distance contains)
DRUP_CASES = [
    (5, 0, "pending", "Stage 1 in progress",
     "needs 1 more patient with clinical benefit among the next 3 evaluable patients"),
    (7, 0, "pending", "Stage 1 in progress", "among the next 1 evaluable"),
    (7, 1, "pending", "Stage 2 in progress",
     "needs 4 more patients with clinical benefit among the next 17 evaluable patients"),
    (8, 0, "not met", "closed at stage 1", "0 of 8 patients with clinical benefit"),
    (8, 1, "pending", "Stage 2 in progress", "needs 4 more patients with clinical benefit "
                                             "among the next 16"),
    (8, 3, "pending", "Stage 2 in progress", "needs 2 more patients with clinical benefit "
                                             "among the next 16"),
    (12, 0, "not met", "closed at stage 1", "0 of 12"),
    (20, 5, "pending", "Stage 2 in progress", "already reach the bar of 5; 4 more evaluable"),
    (23, 3, "not met", "negative", "can no longer reach 5 of 24"),
    (23, 4, "pending", "Stage 2 in progress", "needs 1 more patient with clinical benefit "
                                              "among the next 1"),
    (24, 4, "not met", "negative", "4 of 24 patients with clinical benefit; needed at least 5"),
    (24, 5, "met", "successful", ""),
    (30, 19, "met", "successful", ""),
]


@pytest.mark.parametrize(("n", "cb", "word", "outcome", "distance"), DRUP_CASES,
                         ids=[f"{c[1]} of {c[0]}" for c in DRUP_CASES])
def test_drup_two_stage_verdict_and_what_is_still_needed(n, cb, word, outcome, distance):
    verdict = verdict_of(DRUP, n_evaluable=n, cb_n=cb)
    assert verdict.verdict == word
    assert verdict.outcome.startswith(outcome) or outcome in verdict.outcome, verdict.outcome
    if distance:
        assert any(distance in d for d in verdict.distance), verdict.distance
    else:
        assert verdict.distance == ()


def test_drup_says_stage_1_is_already_passed_before_8_patients():
    verdict = verdict_of(DRUP, n_evaluable=6, cb_n=2)
    stage1 = next(c for c in verdict.clauses if c.rule == "stage-1")
    assert stage1.held is True
    assert "already passed" in stage1.note


def test_drup_notes_that_counts_beyond_8_patients_are_all_evaluable_so_far():
    verdict = verdict_of(DRUP, n_evaluable=12, cb_n=1)
    stage1 = next(c for c in verdict.clauses if c.rule == "stage-1")
    assert "judged on all 12 evaluable patients" in stage1.note
    assert "cannot be told" in stage1.note


def test_drup_counts_past_24_patients_warn_when_the_first_24_cannot_be_told():
    verdict = verdict_of(DRUP, n_evaluable=30, cb_n=5)
    assert verdict.verdict == "met"
    stage2 = next(c for c in verdict.clauses if c.rule == "stage-2")
    assert "cannot be told" in stage2.note


@pytest.mark.parametrize(("metrics", "reason"), [
    ({"n_evaluable": 10}, "needs cb_n"),
    ({"n_evaluable": 4, "cb_n": 5}, "exceeds"),
])
def test_drup_is_not_assessable_without_consistent_counts(metrics, reason):
    verdict = verdict_of(DRUP, **metrics)
    assert verdict.verdict == "not assessable"
    assert reason in verdict.reasons[0]


# (n, patients with SD >= 24 weeks or response, median PFS, verdict)
SCREEN_CASES = [
    (24, 4, 7.0, "not met"),
    (24, 5, 7.0, "met"),
    (24, 6, 7.0, "met"),
    (24, 5, 5.99, "not met"),
    (24, 5, 6.0, "met"),
    (24, 5, 6.01, "met"),
    (23, 5, 7.0, "pending"),  # the screen waits for 24 evaluable patients (maturity)
    (20, 0, 7.0, "pending"),
    (20, 3, 5.0, "pending"),
    (30, 5, 7.0, "met"),
]


@pytest.mark.parametrize(("n", "cb24", "pfs", "word"), SCREEN_CASES,
                         ids=[f"{c[1]} of {c[0]}, PFS {c[2]}" for c in SCREEN_CASES])
def test_durability_screen_needs_5_of_24_with_24_week_benefit_and_pfs_6_months(n, cb24, pfs,
                                                                               word):
    verdict = verdict_of(SCREEN, n_evaluable=n, cb_durable_n=cb24, pfs_median_months=pfs)
    assert verdict.verdict == word
    assert verdict.ours is True


def test_durability_screen_with_pfs_not_reached_depends_on_follow_up_exceeding_6_months():
    common = {"n_evaluable": 24, "cb_durable_n": 8, "pfs_median_months": "NR"}
    assert verdict_of(SCREEN, **common, pfs_followup_months=6.0).verdict == "immature"
    assert verdict_of(SCREEN, **common, pfs_followup_months=6.01).verdict == "met"
    assert verdict_of(SCREEN, **common).verdict == "immature"
