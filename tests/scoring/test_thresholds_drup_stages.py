"""DRUP's stages judged on the first 8 / first 24 evaluable patients, and the screen's maturity.

With the per-stage counts (cb_n_stage1 of n_evaluable_stage1, cb_n_stage2 of
n_evaluable_stage2, cb_durable_n_stage2) the stages no longer depend on the expansion; the totals
(cb_n of n_evaluable) are only reported. Summary files with totals only keep the old judgement.
"""

from __future__ import annotations

import pytest
from _scoring_helpers import verdict_of

DRUP = "drup-two-stage"
SCREEN = "dossier-durability-screen"


def staged(first8: tuple[int, int], first24: tuple[int, int], total: tuple[int, int]
           ) -> dict[str, int]:
    """Metrics of a cohort: (successes, patients) among the first 8, first 24, and overall."""
    return {"cb_n_stage1": first8[0], "n_evaluable_stage1": first8[1],
            "cb_n_stage2": first24[0], "n_evaluable_stage2": first24[1],
            "cb_n": total[0], "n_evaluable": total[1]}


# (first 8, first 24, overall, verdict, outcome starts with)
CASES = [
    ((0, 5), (0, 5), (0, 5), "pending", "Stage 1 in progress"),
    ((0, 8), (0, 8), (0, 8), "not met", "closed at stage 1"),
    ((0, 8), (3, 20), (3, 20), "not met", "closed at stage 1"),  # benefit only after the 8th
    ((1, 8), (1, 8), (1, 8), "pending", "Stage 2 in progress"),
    ((2, 8), (4, 23), (4, 23), "pending", "Stage 2 in progress"),
    ((2, 8), (4, 24), (4, 24), "not met", "negative"),       # below the bar
    ((2, 8), (4, 24), (30, 200), "not met", "negative"),     # the expansion cannot rescue it
    ((2, 8), (5, 24), (5, 24), "met", "successful"),         # at the bar
    ((2, 8), (6, 24), (6, 24), "met", "successful"),         # above the bar
    ((8, 8), (16, 24), (120, 200), "met", "successful"),
    ((1, 8), (5, 20), (5, 20), "pending", "Stage 2 in progress"),  # bar reached, 4 to enrol
]


@pytest.mark.parametrize(("first8", "first24", "total", "word", "outcome"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_drup_stages_are_decided_on_the_first_8_and_first_24(first8, first24, total, word,
                                                             outcome):
    verdict = verdict_of(DRUP, **staged(first8, first24, total))
    assert verdict.verdict == word
    assert verdict.outcome.startswith(outcome), verdict.outcome
    assert not any("cannot be told" in c.note for c in verdict.clauses)


def test_expansion_total_is_reported_once_beside_the_stages():
    verdict = verdict_of(DRUP, **staged((8, 8), (16, 24), (120, 200)))
    assert verdict.notes == ("expansion: 120 of 200 overall",)
    stage2 = next(c for c in verdict.clauses if c.rule == "stage-2")
    assert stage2.observed_text == "16 of 24" and stage2.metric == "cb_n_stage2"
    assert verdict.deciding == ("Stage 2: 16 of 24 patients with clinical benefit among the "
                                "first 24",)


def test_no_expansion_note_before_24_patients():
    assert verdict_of(DRUP, **staged((1, 8), (3, 20), (3, 20))).notes == ()


def test_summary_with_totals_only_still_says_the_first_24_cannot_be_told():
    verdict = verdict_of(DRUP, cb_n=120, n_evaluable=200)
    assert verdict.verdict == "met"
    stage2 = next(c for c in verdict.clauses if c.rule == "stage-2")
    assert "whether 5 of the first 24 had it cannot be told" in stage2.note


def test_stage_condition_reads_in_the_singular_for_one_patient():
    stage1 = next(c for c in verdict_of(DRUP, **staged((1, 8), (1, 8), (1, 8))).clauses
                  if c.rule == "stage-1")
    assert stage1.condition == ("at least 1 patient with clinical benefit among the first 8 "
                                "evaluable patients")


# durability screen: (n evaluable, cb among first 8 of 8, cb24 among first 24, cb24 overall,
# median PFS, verdict)
SCREEN_CASES = [
    (3, None, None, 0, 7.0, "pending"),
    (23, 2, 23, 6, 7.0, "pending"),
    (8, 0, 8, 0, 2.0, "not applicable"),     # DRUP closed it at stage 1
    (24, 2, 4, 4, 7.0, "not met"),           # below the bar
    (24, 2, 5, 5, 7.0, "met"),               # at the bar
    (24, 2, 6, 6, 7.0, "met"),               # above the bar
    (200, 8, 4, 60, 7.0, "not met"),         # the expansion does not count for the bar
    (200, 8, 14, 108, 4.12, "not met"),      # bar held, median PFS short
]


@pytest.mark.parametrize(("n", "cb8", "cb24_first", "cb24_total", "pfs", "word"), SCREEN_CASES,
                         ids=[f"{c[0]} evaluable, {c[2]} of first 24" for c in SCREEN_CASES])
def test_durability_screen_waits_for_24_and_judges_the_first_24(n, cb8, cb24_first, cb24_total,
                                                                pfs, word):
    metrics: dict[str, object] = {"n_evaluable": n, "cb_durable_n": cb24_total,
                                  "pfs_median_months": pfs}
    if cb8 is not None:
        metrics.update(cb_n_stage1=cb8, n_evaluable_stage1=min(n, 8),
                       cb_durable_n_stage2=cb24_first, n_evaluable_stage2=min(n, 24))
    verdict = verdict_of(SCREEN, **metrics)
    assert verdict.verdict == word


def test_immature_screen_says_when_it_will_be_assessed():
    verdict = verdict_of(SCREEN, n_evaluable=3, cb_durable_n=0, pfs_median_months=1.5)
    assert verdict.verdict == "pending"
    assert verdict.reasons == ("assessed once 24 patients are evaluable; 3 so far",)
    gate = next(c for c in verdict.clauses if c.rule == "mature")
    assert gate.state == "pending" and gate.held is None


def test_screen_does_not_tell_a_closed_cohort_how_many_more_it_needs():
    verdict = verdict_of(SCREEN, n_evaluable=8, cb_durable_n=0, pfs_median_months=2.0,
                         cb_n_stage1=0, n_evaluable_stage1=8, cb_durable_n_stage2=0,
                         n_evaluable_stage2=8)
    assert verdict.verdict == "not applicable"
    assert verdict.reasons[0].startswith("closed at stage 1 under DRUP")
    assert not any("among the next" in text for text in verdict.distance + verdict.deciding)


def test_screen_bar_uses_the_first_24_and_notes_the_expansion():
    verdict = verdict_of(SCREEN, n_evaluable=200, cb_durable_n=108, pfs_median_months=7.0,
                         cb_n_stage1=8, n_evaluable_stage1=8, cb_durable_n_stage2=14,
                         n_evaluable_stage2=24)
    assert verdict.verdict == "met"
    bar = next(c for c in verdict.clauses if c.op == "bar")
    assert bar.observed_text == "14 of 24"
    assert "108 of 200 evaluable patients so far overall" in bar.note  # a bar is no stage
    assert "cannot be told" not in bar.note
    assert ".;" not in bar.note
