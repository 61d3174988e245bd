"""The opt-in to grade cohorts DRUP closed at stage 1: dossier.toml setting and command option."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.config import ConfigError, parse_settings


def test_the_setting_is_read_from_the_criteria_section():
    assert parse_settings("").grade_closed_cohorts is False
    assert parse_settings("[criteria]\ngrade_closed_cohorts = true\n").grade_closed_cohorts


def test_a_setting_that_is_not_true_or_false_is_an_error_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match="grade_closed_cohorts must be true or false"):
        parse_settings('[criteria]\ngrade_closed_cohorts = "yes"\n', tmp_path / "dossier.toml")


def _verdicts(*options: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["score", "--criteria", "drup-two-stage", "--criteria",
                                      "esmo-mcbs-v1.1-form3", "--format", "json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["verdicts"]


def test_score_grades_closed_cohorts_only_when_asked():
    default = _verdicts()
    closed = {v["id"] for v in default if v["criteria"] == "drup-two-stage"
              and v["verdict"] == "not met" and "stage 1" in v["outcome"]}
    assert closed
    withheld = [v for v in default if v["id"] in closed
                and v["criteria"] == "esmo-mcbs-v1.1-form3"
                and "closed at stage 1" in v["certainty_reason"]]
    assert withheld and all(v["verdict"] == "insufficient evidence" for v in withheld)
    asked = {v["id"]: v for v in _verdicts("--grade-closed-cohorts")
             if v["criteria"] == "esmo-mcbs-v1.1-form3"}
    regraded = 0
    for v in withheld:
        again = asked[v["id"]]
        if "fewer than" in again["certainty_reason"]:
            continue  # too few evaluable patients: never graded
        assert again["verdict"] != "insufficient evidence"
        assert any("graded on request" in n for n in again["notes"])
        regraded += 1
    assert regraded > 0
