"""One hierarchy for what the user can fix; commands catch it (and OSError) and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dossier.build
from dossier.build import BuildError
from dossier.cli import app
from dossier.config import ConfigError
from dossier.errors import ConfigurationError, CriteriaFileError, DossierError, InputError
from dossier.registry.adam import OptionsError
from dossier.registry.adam_mapping import MappingError
from dossier.registry.load import RegistryError
from dossier.registry.readers import ReadError
from dossier.render.docx import DocxError
from dossier.render.qmd import QuartoError
from dossier.scoring.metrics import MetricValueError
from dossier.scoring.rulebook import CriteriaError
from dossier.yamlfile import FileCheckError

REPO = Path(__file__).resolve().parents[1]
CLEAN = REPO / "tests" / "corpus" / "files" / "clean.csv"


@pytest.mark.parametrize(("error", "family"), [
    (ConfigError, ConfigurationError), (OptionsError, ConfigurationError),
    (BuildError, ConfigurationError), (ReadError, InputError), (RegistryError, InputError),
    (MappingError, InputError), (MetricValueError, InputError), (FileCheckError, InputError),
    (CriteriaError, CriteriaFileError), (DocxError, DossierError), (QuartoError, DossierError),
])
def test_every_user_facing_error_is_a_dossier_error(error: type, family: type) -> None:
    assert issubclass(error, family) and issubclass(error, DossierError)


def test_usage_errors_exit_2_and_input_errors_exit_1() -> None:
    assert ConfigurationError("x").exit_code == 2
    assert InputError("x", file="a.csv", row=3, column="pfs_days").exit_code == 1
    assert str(InputError("bad", file="a.csv", row=3, column="pfs_days", hint="fix it")) == \
        "a.csv, row 3, column 'pfs_days': bad (fix it)"


def test_build_lets_a_bug_surface_as_a_bug(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """A ValueError inside dossier is not 'the data has errors': it propagates."""
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("an internal bug")

    monkeypatch.setattr(dossier.build, "compute_endpoints", broken)
    result = CliRunner().invoke(app, ["build", str(CLEAN), "--out", str(tmp_path / "o"),
                                      "--format", "json"])
    assert isinstance(result.exception, ValueError)
    assert "an internal bug" in str(result.exception)


@pytest.mark.parametrize(("command", "code"), [(["validate", str(CLEAN)], 0),
                                               (["build", str(CLEAN), "--format", "json"], 2)])
def test_a_bad_source_date_epoch_never_ends_in_a_traceback(command: list[str], code: int,
                                                           tmp_path: Path) -> None:
    """A subprocess: numpy.f2py reads the variable while scipy is imported, before any command."""
    if command[0] == "build":
        command = [*command, "--out", str(tmp_path / "out")]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "yesterday"}
    done = subprocess.run([sys.executable, "-m", "dossier", *command], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=300)
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == code, done.stderr
    if code:
        assert "SOURCE_DATE_EPOCH" in done.stderr and "'yesterday'" in done.stderr
        assert not (tmp_path / "out").exists()
