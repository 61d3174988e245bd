"""The built wheel carries criteria/ and templates/ and works from outside the source tree."""

from __future__ import annotations

import json
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


def _environment_path(cwd: Path, env: dict[str, str]) -> list[str]:
    """sys.path of the interpreter running the tests, as a fresh process in ``cwd`` sees it."""
    shown = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sys.path))"],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )
    return [p for p in json.loads(shown.stdout) if p and Path(p).resolve() != REPO]


def test_installed_wheel_runs_help_and_validates_the_demo_outside_the_tree(
    wheel: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # A fresh environment with its own copy of dossier from the wheel. Its dependencies (and pip)
    # come from the environment running the tests - a venv, a conda env or the system Python -
    # whose import path a .pth file appends after the fresh site-packages, so the wheel's dossier
    # comes first and nothing is downloaded. (system_site_packages would see the *base*
    # interpreter's packages, not those of an active venv.) Lines of a .pth file are plain
    # directories: .pth files inside them (the editable checkout's) are not processed.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    site_dir = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    Path(site_dir, "_outer_environment.pth").write_text(
        "\n".join(_environment_path(elsewhere, run_env)) + "\n", encoding="utf-8"
    )
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
         "--no-warn-script-location", "--quiet", str(wheel)],
        cwd=elsewhere, env=run_env, capture_output=True, text=True,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

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
    assert validated.stdout.startswith("OK demo registry: 1,610 patients, "), validated.stdout
