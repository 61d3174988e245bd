"""Which folders a build may replace: only a dossier that dossier itself wrote.

A dossier folder is recognised by its ``manifest.json``: a JSON object with the signature
``"generator": "dossier"`` (or, for dossiers of earlier versions, dossier's own entry under
``software``) and a list of ``outputs``. The folder may hold nothing but those outputs and the
manifest; any other file is the user's, and a folder that holds one is not replaced without an
explicit ``force``. Whatever ``force`` says, a folder that holds an input of the build (or the
working directory, the home folder or the filesystem root) is never replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from dossier.errors import OutputError

MANIFEST_NAME = "manifest.json"
GENERATOR = "dossier"
"""The manifest's ``generator`` field: the signature of a folder dossier wrote."""
MAX_MANIFEST_BYTES = 64 << 20
"""A manifest larger than this is not read (and so not recognised as dossier's)."""
MAX_LISTED = 5
"""How many of the user's files a refusal names."""

FORCE_HINT = ("choose an empty or new folder with --out, move the files away, or pass --force "
              "to replace the folder and everything in it")


def _walk_files(folder: Path) -> list[str]:
    """Every file and symbolic link under ``folder`` (POSIX, relative); links not followed."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        links = [d for d in dirs if (base / d).is_symlink()]
        for name in [*files, *links]:
            found.append((base / name).relative_to(folder).as_posix())
    return sorted(found)


def listed_outputs(folder: Path) -> set[str] | None:
    """The outputs ``folder``'s manifest lists, or ``None`` when it holds no dossier manifest."""
    manifest = Path(folder) / MANIFEST_NAME
    try:
        if manifest.is_symlink() or not manifest.is_file():
            return None
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    software = document.get("software")
    signed = document.get("generator") == GENERATOR or (
        document.get("manifest_version") == 1 and isinstance(software, dict)
        and GENERATOR in software)
    outputs = document.get("outputs")
    if not signed or not isinstance(outputs, list):
        return None
    paths = {o.get("path") for o in outputs if isinstance(o, dict)}
    if not all(isinstance(p, str) for p in paths) or len(paths) != len(outputs):
        return None
    return paths


def foreign_files(folder: Path) -> list[str] | None:
    """Files in ``folder`` that its dossier manifest does not list (None: not a dossier at all)."""
    listed = listed_outputs(folder)
    if listed is None:
        return None
    return [p for p in _walk_files(folder) if p != MANIFEST_NAME and p not in listed]


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _holds(folder: Path, path: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _names(paths: Iterable[str]) -> str:
    paths = list(paths)
    shown = ", ".join(paths[:MAX_LISTED])
    return shown + (f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else "")


def check_destination(destination: Path, *, force: bool = False,
                      inputs: Iterable[Path] = ()) -> None:
    """Raise :class:`OutputError` unless a build may write (and replace) ``destination``.

    Allowed: a folder that does not exist, an empty folder, or a dossier written by dossier that
    holds only the files its manifest lists. ``force`` also allows any other folder. Never
    allowed, ``force`` or not: a file or symbolic link, a folder holding one of ``inputs`` (the
    files and folders the build reads), the working directory or a folder above it, the home
    folder, the filesystem root.
    """
    dest = Path(destination)
    if dest.is_symlink():
        raise OutputError("is a symbolic link; dossier does not replace it",
                          file=dest, hint="give the folder it points to, or a new folder")
    if not dest.exists():
        return
    if not dest.is_dir():
        raise OutputError("exists and is not a folder; dossier does not replace it", file=dest,
                          hint="choose a new folder with --out")
    real = _resolved(dest)
    held = sorted(str(p) for p in inputs if _holds(real, _resolved(Path(p))))
    if held:
        raise OutputError(f"holds input(s) of this build ({_names(held)}); dossier never "
                          "replaces a folder that holds its inputs, not even with --force",
                          file=dest, hint="choose another folder with --out")
    protected = [Path(os.sep).resolve(), _resolved(Path.home()), _resolved(Path.cwd())]
    if any(_holds(real, p) for p in protected):
        raise OutputError("is the working directory, the home folder, the filesystem root or a "
                          "folder that holds one of them; dossier never replaces it",
                          file=dest, hint="choose a folder inside it, e.g. --out output/dossier")
    if force:
        return
    if not any(dest.iterdir()):
        return
    foreign = foreign_files(dest)
    if foreign is None:
        raise OutputError("is not empty and holds no dossier written by dossier (no dossier "
                          "manifest.json); a build replaces the whole folder", file=dest,
                          hint=FORCE_HINT)
    if foreign:
        raise OutputError(f"holds a dossier, but also file(s) dossier did not write "
                          f"({_names(foreign)}); a build replaces the whole folder",
                          file=dest, hint=FORCE_HINT)
