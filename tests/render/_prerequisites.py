"""Programs some tests need from outside Python: skipped honestly here, a failure under CI.

A test that needs a program calls :func:`require_program` first. When the program is missing the
test is skipped, saying which program and how to get it; under CI (``CI=true``, as .ci/run and
CI services set it) a program that .ci/run installs must be there, so its absence fails the run
instead of quietly skipping the tests that need it.
"""

from __future__ import annotations

import os
import shutil

import pytest


def under_ci() -> bool:
    """True when the environment says this is a CI run (CI=true/1/yes)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_program(program: str, how_to_get: str, *, ci_installs: bool) -> None:
    """Skip the calling test when ``program`` is not on PATH (fail instead under CI when
    .ci/run is meant to install it)."""
    if shutil.which(program) is not None:
        return
    message = f"`{program}` is not on PATH ({how_to_get})"
    if ci_installs and under_ci():
        pytest.fail(f"{message}; .ci/run installs it, so under CI it must be there",
                    pytrace=False)
    pytest.skip(message)
