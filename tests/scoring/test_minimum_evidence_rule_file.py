"""The minimum-evidence key of a rule file: validated with file and line, resolved from data."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.errors import CriteriaFileError
from dossier.resources import drup_stage_sizes
from dossier.scoring.engine import score_cohorts
from dossier.scoring.rulefile import load_rule_file
from dossier.scoring.verdicts import INSUFFICIENT, MET
from dossier.yamlfile import FileCheckError
from tests.scoring._scoring_helpers import builtin_book

RULE = """\
id: my-rule
title: My rule
framework: Mine
version: "1"
effective: "2026-01"
sources:
  - id: src
    url: https://example.org/rule
    status: verified
inputs:
  orr: fraction
minimum_evidence:
  design: drup-two-stage
  evaluable_patients: stage-1
outcome:
  scale: binary
rules:
  - id: r1
    when: {metric: orr, op: ">=", value: 0.3}
    status: verified
    source: src
"""


def test_every_esmo_and_paskwil_file_and_the_durability_screen_carries_the_rule():
    for rule_set in builtin_book().rule_sets:
        wanted = rule_set.framework in ("ESMO-MCBS", "PASKWIL") or rule_set.ours
        assert (rule_set.minimum_evidence is not None) == wanted, rule_set.id
        if wanted:
            assert rule_set.minimum_evidence.design == "drup-two-stage"
            assert rule_set.minimum_evidence.evaluable_patients == "stage-1"


def test_the_minimum_follows_the_drup_rule_files_stage_one_size(tmp_path: Path):
    """Change DRUP's stage 1 to 5 patients in a user copy: the minimum follows, no code."""
    drup = (Path(builtin_book().get("drup-two-stage").path)).read_text(encoding="utf-8")
    stage1 = drup_stage_sizes()[0]
    user = drup.replace("id: drup-two-stage", "id: my-drup").replace(
        f"of: {stage1}\n", "of: 5\n", 1)
    (tmp_path / "drup.yaml").write_text(user, encoding="utf-8")
    (tmp_path / "mine.yaml").write_text(RULE.replace("design: drup-two-stage",
                                                     "design: my-drup"), encoding="utf-8")
    design, mine = load_rule_file(tmp_path / "drup.yaml"), load_rule_file(tmp_path / "mine.yaml")
    metrics = {"orr": 0.5, "n_evaluable": 5}
    _, verdict = score_cohorts([design, mine], {"c": metrics})
    assert verdict.verdict == MET
    _, verdict = score_cohorts([design, mine], {"c": {**metrics, "n_evaluable": 4}})
    assert verdict.verdict == INSUFFICIENT
    assert "4 evaluable patients, fewer than the 5" in verdict.certainty_reason


def test_a_whole_number_minimum_is_taken_as_written(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(RULE.replace("evaluable_patients: stage-1", "evaluable_patients: 12"),
                    encoding="utf-8")
    (verdict,) = score_cohorts([load_rule_file(path)], {"c": {"orr": 0.5, "n_evaluable": 11}})
    assert verdict.verdict == INSUFFICIENT and "fewer than the 12" in verdict.certainty_reason


@pytest.mark.parametrize("old, new, line, message", [
    ("  evaluable_patients: stage-1\n", "  evaluable_patients: -3\n", 14,
     "evaluable_patients must be a whole number >= 1 or a stage id"),
    ("  design: drup-two-stage\n", "  design: drup-two-stage\n  closed: stage-1\n", 14,
     "unknown key 'closed' in minimum_evidence"),
    ("  design: drup-two-stage\n", "", 12, "minimum_evidence needs design"),
])
def test_a_malformed_minimum_names_file_and_line(tmp_path: Path, old, new, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(RULE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(FileCheckError) as caught:
        load_rule_file(path)
    text = str(caught.value)
    assert "bad.yaml" in text and f"line {line}" in text and message in text


def test_an_unknown_design_or_stage_is_an_error_naming_the_file_and_line(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(RULE.replace("design: drup-two-stage", "design: nowhere"), encoding="utf-8")
    with pytest.raises(CriteriaFileError) as caught:
        score_cohorts([load_rule_file(path)], {"c": {"orr": 0.5}})
    assert caught.value.file == str(path) and caught.value.row == 12
    assert "'nowhere'" in str(caught.value)
    path.write_text(RULE.replace("stage-1", "stage-9"), encoding="utf-8")
    with pytest.raises(CriteriaFileError, match="'stage-9' is not a stage of drup-two-stage"):
        score_cohorts([load_rule_file(path)], {"c": {"orr": 0.5}})


def test_without_the_number_of_evaluable_patients_the_check_is_noted_not_guessed(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(RULE, encoding="utf-8")
    (verdict,) = score_cohorts([load_rule_file(path)], {"c": {"orr": 0.5}})
    assert verdict.verdict == MET
    assert any("not checked" in n for n in verdict.notes)
