"""ESMO-MCBS scorecards and rule ids in words: the scorecard copies its verdict, the row reached
is worded from the rule file itself, and the engine's ids become the framework's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.render.rule_words import condition_words, plain_ids, rule_words
from dossier.render.scorecard import scorecard, scorecard_view
from dossier.render.workbook_scorecard import scorecard_records
from dossier.resources import resource_dir
from dossier.scoring.engine import score
from dossier.scoring.rulefile import load_rule_file

FORM3 = resource_dir("criteria") / "esmo-mcbs-v1.1-form3.yaml"


def _form3(path: Path = FORM3):
    rule_set = load_rule_file(path)
    assert rule_set.id == "esmo-mcbs-v1.1-form3"
    return rule_set


def test_rule_words_are_derived_from_the_rule_file_conditions() -> None:
    words = rule_words(_form3())
    assert words["g3-orr-dor"] == "grade 3 (ORR >= 20% and < 60% with median DoR >= 9 months)"
    assert words["g3-pfs"] == "grade 3 (median PFS >= 6 months)"
    assert words["toxicity"] == ">= 30% grade 3-4 toxicities impacting daily well-being"
    assert words["esmo-mcbs-v1.1-form3"] == "ESMO Form 3"


def test_rule_words_follow_an_edited_threshold(tmp_path: Path) -> None:
    edited = tmp_path / "form3.yaml"
    text = FORM3.read_text(encoding="utf-8")
    edited.write_text(text.replace("- {metric: dor_median_months, op: \">=\", value: 9}",
                                   "- {metric: dor_median_months, op: \">=\", value: 10}"),
                      encoding="utf-8")
    rule = next(r for r in _form3(edited).all_rules if r.id == "g3-orr-dor")
    assert condition_words(rule.when, _form3(edited).specs) == (
        "ORR >= 20% and < 60% with median DoR >= 10 months")


def test_plain_ids_rewrites_the_engines_places_and_leaves_prose_alone() -> None:
    words = rule_words(_form3())
    assert plain_ids("g3-pfs (grade 3): median PFS 6.01 months vs >= 6 months", words) == (
        "grade 3 (median PFS >= 6 months): median PFS 6.01 months vs >= 6 months")
    assert plain_ids("to grade 3 (g3-orr-dor): ORR 22.9% vs >= 20%", words) == (
        "to grade 3 (ORR >= 20% and < 60% with median DoR >= 9 months): ORR 22.9% vs >= 20%")
    assert plain_ids("x; toxicity: -1 applies if", words) == (
        "x; >= 30% grade 3-4 toxicities impacting daily well-being: -1 applies if")
    prose = "Form 3 is for single-arm studies; grade 3 rows (g1-pfs, g2-pfs) are not reached"
    assert plain_ids(prose, words) == (
        "Form 3 is for single-arm studies; grade 3 rows (grade 1 (median PFS >= 2 months and "
        "< 3 months), grade 2 (median PFS >= 3 months and < 6 months)) are not reached")


@pytest.mark.parametrize(("metrics", "rule_id", "criterion", "endpoint", "grade"), [
    ({"orr": 0.30, "dor_median_months": 10.0, "pfs_median_months": 2.5, "g3_trae_rate": 0.1},
     "g3-orr-dor", "ORR >= 20% and < 60% with median DoR >= 9 months",
     "ORR and duration of response", 3),
    ({"orr": 0.05, "dor_median_months": 3.0, "pfs_median_months": 4.0, "g3_trae_rate": 0.1},
     "g2-pfs", "median PFS >= 3 months and < 6 months", "PFS", 2),
])
def test_scorecard_copies_the_verdict(metrics, rule_id, criterion, endpoint, grade) -> None:
    rule_set = _form3()
    verdict = score(rule_set, metrics, "c1")
    card = scorecard(verdict, rule_set, "2026-01-02", "2025-12-31")
    assert card is not None
    assert (card.form, card.version, card.comparator) == ("Form 3", "1.1", "single arm")
    assert (card.rule_id, card.criterion, card.endpoint) == (rule_id, criterion, endpoint)
    assert card.preliminary_grade == verdict.preliminary_grade == grade
    assert card.final_grade == verdict.grade == grade
    assert [(a.id, a.change) for a in card.adjustments] == [
        (a.id, a.change) for a in verdict.adjustments]
    assert card.adjustments[0].state == "not applied"  # grade >= 3 TRAE 10% < 30%
    assert [a.state for a in card.adjustments[1:]] == ["not applied", "not applied"]
    view = scorecard_view(card, {"drug": "drug A", "tumour_type": "NSCLC", "alteration": "X"})
    rows = dict(view["rows"])
    assert rows["Preliminary grade"] == str(grade) and view["final"] == str(grade)
    assert rule_id not in str(view) and criterion in rows["Criterion reached"]
    lines = scorecard_records(card, 7)
    assert [line["step"] for line in lines] == ["preliminary grade", "adjustment", "adjustment",
                                                "adjustment", "final grade"]
    assert lines[0]["rule_id"] == rule_id and lines[0]["grade"] == grade
    assert lines[-1]["grade"] == grade and lines[0]["cohort_no"] == 7
    assert {line["evaluated"] for line in lines} == {"2026-01-02"}


def test_unresolved_toxicity_leaves_the_final_grade_open_and_says_why() -> None:
    rule_set = _form3()
    verdict = score(rule_set, {"orr": 0.30, "dor_median_months": 10.0,
                               "pfs_median_months": 2.5, "g3_trae_rate": 0.45}, "c1")
    card = scorecard(verdict, rule_set, "2026-01-02", "2025-12-31")
    assert card.preliminary_grade == 3 and card.final_grade is None
    assert card.final_text == "2 to 3 (unresolved)" == (
        f"{verdict.grade_range[0]} to {verdict.grade_range[1]} (unresolved)")
    toxicity = card.adjustments[0]
    assert toxicity.state == "unresolved" and "45.0%" in toxicity.reason


def test_other_frameworks_and_not_applicable_verdicts_have_no_scorecard() -> None:
    rule_set = _form3()
    verdict = score(rule_set, {"orr": 0.3, "control_os_median_months": 10.0}, "c1")
    assert verdict.verdict == "not applicable"
    assert scorecard(verdict, rule_set, "2026-01-02", "2025-12-31") is None
