"""Stage sizes live in the rule file only: change DRUP's ``of: 8`` to 10 and the endpoints count the
first 10, the verdict judges the first 10, and a rule file that disagrees with the counts is a
CriteriaFileError naming the file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dossier.build import analyse, endpoint_results
from dossier.config import Settings
from dossier.errors import CriteriaFileError
from dossier.registry.load import registry_from_frames
from dossier.resources import resource_dir
from dossier.scoring import rulebook
from dossier.scoring.rulebook import load_rulebook
from dossier.scoring.stage_sizes import check_stage_sizes, stage_sizes

COHORT = "drug-x | tumour-y | ALT-z"


def thirty_patients() -> pd.DataFrame:
    """30 evaluable patients, one a week; the only clinical benefit is the 10th to start."""
    rows = []
    for i in range(30):
        benefit = i == 9
        rows.append({
            "patient_id": f"P{i + 1:02d}", "cohort_id": COHORT, "drug": "drug-x",
            "tumour_type": "tumour-y", "alteration": "ALT-z", "rare_cancer": 0, "stage": "1",
            "treatment_start": dt.date(2020, 1, 1) + dt.timedelta(weeks=i),
            "response_evaluable": 1, "best_response": "PR" if benefit else "PD",
            "response_confirmed": 1 if benefit else None,
            "response_days": 56 if benefit else None, "pfs_days": 300 if benefit else 40,
            "pfs_event": 1, "os_days": 400, "os_event": 1, "worst_ae_grade": 1,
            "prior_lines": 1, "prior_pfs_days": 100})
    return pd.DataFrame(rows)


def criteria_with(tmp_path: Path, stage_one: int, screen_stage_one: int) -> Path:
    """A copy of the bundled rule files with DRUP's (and the screen's) stage 1 resized."""
    folder = tmp_path / "criteria"
    shutil.copytree(resource_dir("criteria"), folder)
    drup = folder / "drup-two-stage.yaml"
    drup.write_text(drup.read_text(encoding="utf-8").replace(
        "    at_least: 1\n    of: 8\n", f"    at_least: 1\n    of: {stage_one}\n"),
        encoding="utf-8")
    screen = folder / "dossier-durability-screen.yaml"
    screen.write_text(screen.read_text(encoding="utf-8").replace(
        "at_least: 1, of: 8,", f"at_least: 1, of: {screen_stage_one},"), encoding="utf-8")
    return folder


@pytest.fixture
def resized(tmp_path, monkeypatch):
    def use(stage_one: int, screen_stage_one: int) -> Path:
        folder = criteria_with(tmp_path, stage_one, screen_stage_one)
        monkeypatch.setattr(rulebook, "builtin_paths", lambda: sorted(folder.glob("*.yaml")))
        return folder
    return use


def test_of_10_in_the_rule_file_decides_stage_1_on_the_first_10(resized):
    resized(10, 10)
    registry = registry_from_frames(thirty_patients(), name="thirty.csv")
    analysis = analyse(Settings(), registry)
    rows = analysis.results[(analysis.results["endpoint"] == "cbr_stage1")
                            & (analysis.results["group"] == COHORT)]
    assert (rows.iloc[0]["x"], rows.iloc[0]["n"]) == (1, 10)
    assert '"first":10' in rows.iloc[0]["parameters"]
    drup = next(v for v in analysis.verdicts if v.criteria_id == "drup-two-stage")
    stage_1 = next(c for c in drup.clauses if c.rule == "stage-1")
    assert stage_1.observed_text == "1 of 10" and stage_1.threshold_text == ">= 1 of 10"
    assert stage_1.state == "held"  # not pending: 30 patients fill a stage of 10
    assert analysis.parameters["stage_sizes"] == [10, 24]


def test_the_bundled_sizes_close_the_same_cohort_at_stage_1():
    registry = registry_from_frames(thirty_patients(), name="thirty.csv")
    drup = next(v for v in analyse(Settings(), registry, ["drup-two-stage"]).verdicts
                if v.criteria_id == "drup-two-stage")
    assert drup.verdict == "not met"
    assert "closed at stage 1" in drup.outcome


def test_rule_files_that_give_a_stage_two_sizes_are_an_error(resized):
    folder = resized(10, 8)  # DRUP says 10, the screen's bar on cb_n_stage1 still says 8
    with pytest.raises(CriteriaFileError) as caught:
        stage_sizes(load_rulebook().rule_sets)
    assert caught.value.file == str(folder / "dossier-durability-screen.yaml")
    assert "among the first 8 evaluable patients, but drup-two-stage.yaml (stage stage-1) says " \
        "stage 1 has 10" in str(caught.value)


def test_counts_computed_with_other_sizes_than_the_rule_file_are_an_error(resized):
    registry = registry_from_frames(thirty_patients(), name="thirty.csv")
    results = endpoint_results(Settings(), registry)  # the bundled sizes: 8 and 24
    folder = resized(10, 10)
    book = load_rulebook().select(["drup-two-stage"])
    with pytest.raises(CriteriaFileError) as caught:
        check_stage_sizes(book.rule_sets, results)
    assert caught.value.file == str(folder / "drup-two-stage.yaml")
    assert "among the first 10" in str(caught.value)
    assert "counted it among the first 8" in str(caught.value)
