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


DRUP_RULE_FILE = "drup-two-stage.yaml"
"""The bundled rule file that holds DRUP's stage sizes (``stages: - of: 8 ... - of: 24``)."""


def drup_stages() -> tuple[tuple[int, int], ...]:
    """(at_least, of) of every stage of the bundled DRUP rule file, in stage order.

    The rule file is the one place DRUP's stage sizes are written; code that needs them when no
    rule file was chosen (the small-cohort warning, ``dossier endpoints``) reads them here.
    """
    import yaml  # imported here: most callers of this module never need it

    path = resource_dir("criteria") / DRUP_RULE_FILE
    with path.open(encoding="utf-8") as handle:
        stages = (yaml.safe_load(handle) or {}).get("stages") or []
    return tuple((int(s["at_least"]), int(s["of"])) for s in stages)


def drup_stage_sizes() -> tuple[int, ...]:
    """The bundled DRUP rule file's stage sizes (how many evaluable patients each stage judges)."""
    return tuple(of for _, of in drup_stages())
