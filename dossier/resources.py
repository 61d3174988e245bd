"""Locate the data that ships with dossier: rule files (criteria/) and report templates.

The folders live at the top of the source tree; a built wheel carries them inside the package.
One function serves both layouts so that code never cares how dossier was installed.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent

RESOURCE_NAMES = ("criteria", "templates")


def resource_dir(name: str) -> Path:
    """Return the folder of a bundled resource ("criteria" or "templates").

    An installed wheel has it at ``dossier/<name>``; an editable install or a source checkout has
    it beside the package, at ``<repo>/<name>``.
    """
    if name not in RESOURCE_NAMES:
        raise ValueError(f"unknown resource {name!r}; expected one of {RESOURCE_NAMES}")
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"dossier's {name}/ folder is missing: looked in {_PACKAGE_DIR / name} and "
        f"{_PACKAGE_DIR.parent / name}; reinstall the package"
    )
