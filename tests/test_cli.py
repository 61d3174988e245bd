"""The command group: every documented command is there, and python -m dossier works."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from dossier import __version__
from dossier.cli import app

COMMANDS = ("validate", "demo", "endpoints", "criteria", "score", "compare", "build")


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_python_dash_m_dossier_runs_the_same_app() -> None:
    result = subprocess.run([sys.executable, "-m", "dossier", "--version"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"dossier {__version__}"


def test_criteria_group_has_list_and_show() -> None:
    listed = CliRunner().invoke(app, ["criteria", "list"])
    assert listed.exit_code == 0 and "esmo-mcbs-v1.1-form3" in listed.output
    shown = CliRunner().invoke(app, ["criteria", "show", "drup-two-stage"])
    assert shown.exit_code == 0 and "24" in shown.output
