"""The command group: every documented command is there, and python -m dossier works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from dossier import __version__
from dossier.cli import app
from dossier.commands import common

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("validate", "demo", "endpoints", "criteria", "score", "compare", "build", "diff")


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print tables 400 columns wide, so that no cell is folded across lines."""
    monkeypatch.setattr(common.console, "width", 400)


def _table_rows(output: str) -> list[list[str]]:
    """The body rows of the rich tables in ``output``, as lists of stripped cells."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in output.splitlines() if line.startswith("│")]


def test_help_lists_every_command() -> None:
    registered = typer.main.get_command(app).commands
    assert set(registered) == set(COMMANDS)
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    # the Commands panel: one row per command, its name first
    listed = [line.strip("│ ").split()[0] for line in result.output.splitlines()
              if line.startswith("│ ") and line.strip("│ ")
              and line.strip("│ ").split()[0] in COMMANDS]
    assert sorted(listed) == sorted(COMMANDS)


def test_python_dash_m_dossier_runs_the_same_app() -> None:
    result = subprocess.run([sys.executable, "-m", "dossier", "--version"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"dossier {__version__}"


def test_criteria_list_shows_every_bundled_rule_file() -> None:
    listed = CliRunner().invoke(app, ["criteria", "list"])
    assert listed.exit_code == 0, listed.output
    bundled = {yaml.safe_load(path.read_text(encoding="utf-8"))["id"]
               for path in (REPO / "criteria").glob("*.yaml")}
    ids = [row[0] for row in _table_rows(listed.output) if row[0]]
    assert sorted(ids) == sorted(bundled)
    assert f"{len(bundled)} rule file(s)" in listed.output


def test_criteria_show_prints_each_stage_of_the_rule_file() -> None:
    rule = yaml.safe_load((REPO / "criteria" / "drup-two-stage.yaml").read_text(encoding="utf-8"))
    shown = CliRunner().invoke(app, ["criteria", "show", "drup-two-stage"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0] == f"drup-two-stage: {rule['title']}"
    stage_rows = [row for row in _table_rows(shown.output) if row[0].startswith("Stage")]
    assert stage_rows == [
        [stage["label"], f">= {stage['at_least']} patients with clinical benefit of {stage['of']}",
         stage["pass"], stage["fail"], stage["status"], stage["source"]]
        for stage in rule["stages"]
    ]
