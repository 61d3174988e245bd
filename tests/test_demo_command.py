"""dossier demo writes a registry that dossier validate accepts, in every supported format."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dossier.cli import app

runner = CliRunner()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_demo_writes_a_registry_that_validates(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"registry{suffix}"
    written = runner.invoke(app, ["demo", "--out", str(out), "--patients", "200", "--seed", "7"])
    assert written.exit_code == 0, written.output
    assert out.is_file() and (tmp_path / "registry.cohorts.yaml").is_file()
    checked = runner.invoke(app, ["validate", str(out), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    assert report["ok"] is True and report["n_errors"] == 0
    assert report["n_patients"] == 200


def test_demo_default_size_is_the_drup_registry(tmp_path: Path) -> None:
    out = tmp_path / "drup.csv"
    assert runner.invoke(app, ["demo", "--out", str(out)]).exit_code == 0
    frame = pd.read_csv(out)
    assert len(frame) == 1610
    assert frame["response_evaluable"].sum() == 1363
    assert frame["drug"].nunique() == 37


def test_demo_refuses_an_unknown_suffix_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "registry.txt"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 2
    assert "registry.txt" in result.output
    assert list(tmp_path.iterdir()) == []
