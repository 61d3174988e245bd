"""The README's two commands are the ones CI and new users run."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", text, flags=re.S)


def test_readme_starts_with_a_demo_command_and_a_test_command() -> None:
    demo, tests = _readme_commands()[:2]
    assert demo.startswith("python3 -m pip install ") and "dossier " in demo
    assert tests.startswith('python3 -m pip install -e ".[test]"') and "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    tests = _readme_commands()[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines(), ".ci/run must run the README's test command verbatim"
