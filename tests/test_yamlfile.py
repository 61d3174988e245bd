"""The one YAML loader: repeated keys and alias bombs are refused in every YAML dossier reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dossier.registry.adam_mapping import MappingError, read_mapping
from dossier.registry.cohorts import read_cohort_metadata
from dossier.registry.readers import ReadError
from dossier.scoring.rulefile import load_rule_file
from dossier.scoring.summary import read_summary
from dossier.yamlfile import MAX_YAML_VALUES, FileCheckError, load_yaml

LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
       for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
) + "\n"
"""The 'billion laughs' shape: 9 nested levels of 9 aliases each, 9**9 strings, about 400 bytes."""


def test_the_laughs_file_is_small_and_would_expand_beyond_the_bound() -> None:
    assert len(LAUGHS.encode()) < 500
    assert MAX_YAML_VALUES < 9 ** 9


def test_a_billion_laughs_is_refused_with_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    with pytest.raises(FileCheckError) as caught:
        load_yaml(path)
    assert caught.value.problems[0].line == 6  # the first value that expands past the bound
    assert str(path) in str(caught.value) and "billion laughs" in str(caught.value)


def test_modest_aliases_and_merge_keys_still_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  z: 3\nlist: [*b, *b]\n",
                    encoding="utf-8")
    data = load_yaml(path)
    assert data["other"] == {"x": 1, "y": 2, "z": 3}
    assert data["list"] == [{"x": 1, "y": 2}, {"x": 1, "y": 2}]


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &x [1, *x]\n", encoding="utf-8")
    with pytest.raises(FileCheckError, match="line 1: an alias refers to the collection"):
        load_yaml(path)


@pytest.mark.parametrize("body", [LAUGHS, "cohorts:\n  - cohort_id: A\n    title: x\n"
                                  "    title: y\n"])
def test_every_yaml_reader_refuses_bombs_and_repeated_keys(tmp_path: Path, body: str) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ReadError) as meta:
        read_cohort_metadata(path)
    with pytest.raises(MappingError) as mapping:
        read_mapping(path)
    with pytest.raises(FileCheckError) as summary:
        read_summary(path, {})
    with pytest.raises(FileCheckError) as rules:
        load_rule_file(path)
    line = 6 if body is LAUGHS else 4
    assert f"line {line}" in str(meta.value)
    assert mapping.value.issues[0].row == line
    assert summary.value.problems[0].line == line and rules.value.problems[0].line == line


def test_the_cli_refuses_billion_laughs_cohort_metadata_without_a_traceback(
        tmp_path: Path) -> None:
    """Run as a subprocess with a timeout: a regression would hang, not pass."""
    path = tmp_path / "laughs.cohorts.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dossier", "validate", "--cohorts", str(path)],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert "laughs.cohorts.yaml" in output and "line 6" in output
