"""``dossier validate``: the report on screen or as JSON, exit 1 on errors, nothing written."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from _factories import clean_patients, write
from typer.testing import CliRunner

from dossier.cli import app


def _run(*args: str) -> object:
    return CliRunner().invoke(app, ["validate", *args])


def test_clean_file_exits_0_with_a_summary_line(tmp_path: Path) -> None:
    path = write(clean_patients(), tmp_path / "registry", "csv")
    result = _run(str(path))
    assert result.exit_code == 0, result.output
    assert "OK registry.csv: 10 patients, 1 cohort, 0 errors, 0 warnings" in result.stdout


def test_file_with_errors_exits_1_and_lists_them_in_a_table(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[2, "best_response"] = "MR"
    frame.loc[5, "os_event"] = "2"
    path = write(frame, tmp_path / "registry", "xlsx")
    result = _run(str(path))
    assert result.exit_code == 1
    out = result.stdout
    assert "FAILED registry.xlsx: 10 patients, 1 cohort, 2 errors, 0 warnings" in out
    assert "row = spreadsheet row (header = row 1, first data row = row 2)" in out
    assert "unknown_response_code" in out and "invalid_event_flag" in out


def test_json_format_prints_only_json_with_every_issue(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[2, "best_response"] = "MR"
    frame.loc[0, "response_date"] = ""
    path = write(frame, tmp_path / "registry", "parquet")
    result = _run(str(path), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["n_errors"], data["n_warnings"], data["ok"]) == (1, 1, False)
    assert [(i["rule"], i["row"], i["column"]) for i in data["issues"]] == [
        ("unknown_response_code", 3, "best_response"),
        ("missing_response_date", 1, "response_date/response_days")]
    assert data["files"][0]["row_numbering"] == "record"


def test_json_for_a_clean_file_exits_0(tmp_path: Path) -> None:
    path = write(clean_patients(), tmp_path / "registry", "csv")
    result = _run(str(path), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["issues"] == []


def test_missing_file_exits_1_naming_it(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "nowhere.csv"), "--format", "json")
    assert result.exit_code == 1
    issue = json.loads(result.stdout)["issues"][0]
    assert (issue["rule"], issue["file"]) == ("file_not_found", "nowhere.csv")


def test_cohorts_option_is_validated_too(tmp_path: Path) -> None:
    path = write(clean_patients(), tmp_path / "registry", "csv")
    meta = tmp_path / "meta.yaml"
    meta.write_text("- cohort_id: C1\n  escat_tier: Z\n", encoding="utf-8")
    result = _run(str(path), "--cohorts", str(meta), "--format", "json")
    assert result.exit_code == 1
    issue = json.loads(result.stdout)["issues"][0]
    assert (issue["rule"], issue["file"], issue["row"]) == ("value_not_allowed", "meta.yaml", 1)


def test_validate_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = clean_patients()
    frame.loc[1, "stage"] = "0"
    bad = write(frame, tmp_path / "bad", "csv")
    good = write(clean_patients(), tmp_path / "good", "csv")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert _run(str(bad)).exit_code == 1
    assert _run(str(good)).exit_code == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_data_from_dossier_toml_is_used_without_a_file(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[3, "pfs_days"] = "-1"
    write(frame, tmp_path / "trial", "csv")
    (tmp_path / "meta.yaml").write_text("- cohort_id: C9\n", encoding="utf-8")
    config = tmp_path / "dossier.toml"
    config.write_text('[study]\ndata = "trial.csv"\ncohorts = "meta.yaml"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(config), "validate", "--format",
                                         "json"])
    assert result.exit_code == 1
    issues = json.loads(result.stdout)["issues"]
    assert [(i["file"], i["rule"], i["row"]) for i in issues] == [
        ("trial.csv", "negative_days", 5), ("meta.yaml", "unknown_cohort", 1)]


def test_no_file_validates_the_demo_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    demo = types.ModuleType("dossier.registry.demo")
    frame = clean_patients()
    frame.loc[4, "stage"] = "stage two"
    demo.demo_registry = lambda n_patients=1610, seed=0: (
        frame, pd.DataFrame({"cohort_id": ["C1"], "title": ["Demo cohort"]}))
    monkeypatch.setitem(sys.modules, "dossier.registry.demo", demo)
    result = _run("--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [f["file"] for f in data["files"]] == ["demo registry", "demo registry cohorts"]
    assert [(i["rule"], i["row"], i["value"]) for i in data["issues"]] == [
        ("invalid_stage", 5, "stage two")]


def test_bundled_demo_registry_is_valid() -> None:
    result = _run()
    assert result.exit_code == 0, result.stdout
    assert "demo registry: 1,610 patients" in result.stdout
