"""The bad-input corpus: every case of tests/corpus/manifest.toml through the real CLI app.

Each case names a command line, the exit code, words the message must hold and, for a
warning, the rule the validation report must carry. No case may end in a traceback: an
exception other than SystemExit escaping the app fails the case.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dossier.cli import app

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads(
    (CORPUS / "manifest.toml").read_text(encoding="utf-8"))["case"]


def test_the_corpus_holds_at_least_sixty_cases_each_with_its_own_file() -> None:
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)
    files = {p for p in (CORPUS / "files").rglob("*") if p.is_file()}
    assert len(files) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_gets_a_clear_message_and_no_traceback(case: dict[str, Any],
                                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.replace("{files}", str(CORPUS / "files")).replace("{out}", str(out))
            for a in case["argv"]]
    if "warning" in case:
        argv += ["--format", "json"]
    result = CliRunner().invoke(app, argv, env=case.get("env"))
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{case['id']} ended in {result.exception!r}")
    assert "Traceback" not in output
    assert result.exit_code == case["exit"], output
    for words in case["contains"]:
        assert words in output, f"{words!r} not in:\n{output}"
    if "rule" in case:
        assert case["rule"] in output, output
    if "warning" in case:
        report = json.loads(output)
        assert any(i["rule"] == case["warning"] and i["severity"] == "warning"
                   for i in report["issues"]), report["issues"]
    if case["exit"] != 0:  # a refused input writes nothing
        assert list(out.iterdir()) == []
