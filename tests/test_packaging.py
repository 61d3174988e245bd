"""The built wheel carries criteria/ and templates/ and works from outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("dossier-*.whl")
    return built


def test_wheel_carries_the_rule_files_and_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("criteria", "templates"):
        shipped = sorted(p.name for p in (REPO / folder).iterdir() if p.is_file())
        for name in shipped:
            assert f"dossier/{folder}/{name}" in names, f"{folder}/{name} missing from the wheel"


def test_installed_wheel_runs_help_and_validates_the_demo_outside_the_tree(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    # The fresh environment sees the already-installed dependencies (no network needed) but
    # gets its own copy of dossier from the wheel, which shadows the editable checkout.
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=elsewhere, env=run_env, capture_output=True, text=True, timeout=600
        )

    where = run(str(python), "-c", "import dossier, dossier.resources as r; "
                "print(dossier.__file__); print(r.resource_dir('criteria'))")
    assert where.returncode == 0, where.stderr
    module_file, criteria_dir = where.stdout.splitlines()
    assert Path(module_file).is_relative_to(env_dir), "the wheel's dossier was not the one imported"
    assert Path(criteria_dir).is_relative_to(env_dir)

    helped = run(str(bin_dir / "dossier"), "--help")
    assert helped.returncode == 0, helped.stderr
    assert "validate" in helped.stdout

    validated = run(str(bin_dir / "dossier"), "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "1,610" in validated.stdout or "1610" in validated.stdout
