"""Write what ``dossier diff`` found: changes.json and a readable report, never over a file
dossier did not write.

An existing file is replaced only when it is one ``diff`` wrote before (a changes.json of
format ``dossier-changes``, a report starting with :data:`REPORT_MARK`) or with ``force``; every
file is written atomically (:mod:`dossier.atomic`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dossier.atomic import check_targets, write_files_atomic
from dossier.changes.compare import FORMAT
from dossier.changes.text import COLUMNS, change_rows, heading, lead
from dossier.errors import OutputError

REPORT_MARK = "<!-- changes report written by dossier diff -->"
"""First line of a report dossier wrote, so that a later diff may replace it."""


def changes_bytes(document: Mapping[str, Any]) -> bytes:
    """changes.json as bytes: sorted keys, two-space indent, a final newline (deterministic)."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_text(document: Mapping[str, Any]) -> str:
    """The report as Markdown: heading, lead, one table of every change."""
    lines = [REPORT_MARK, f"# {heading(document)}", "", lead(document), ""]
    lines += [f"- Note: {n}" for n in document.get("notes", [])]
    rows = change_rows(document)
    if rows:
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(_cell(r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _ours(path: Path) -> bool:
    """The file at ``path`` is one a diff wrote (so it may be replaced)."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        head = path.read_bytes()[: 1 << 20]
    except OSError:
        return False
    if path.suffix.lower() == ".json":
        try:
            return json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            return False
    return head.startswith(REPORT_MARK.encode())


def check_changes_targets(json_path: Path | None = None, report_path: Path | None = None, *,
                          force: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, targets that are inputs or folders, the same file twice, or
    files that a diff did not write (unless ``force``)."""
    paths = [Path(p) for p in (json_path, report_path) if p is not None]
    if len({p.resolve() for p in paths}) < len(paths):
        raise OutputError("--json and --report name the same file; give two files")
    check_targets(paths, overwrite=True, inputs=inputs)  # inputs and folders: never
    foreign = [str(p) for p in paths if (p.exists() or p.is_symlink()) and not _ours(p)]
    if foreign and not force:
        raise OutputError(f"{', '.join(foreign)}: already exists and was not written by "
                          "dossier diff; dossier does not overwrite it unless asked",
                          hint="pass --force to replace it, or choose another file")


def write_changes(document: Mapping[str, Any], *, json_path: Path | None = None,
                  report_path: Path | None = None, force: bool = False,
                  inputs: tuple[Path, ...] = ()) -> list[Path]:
    """Write changes.json and/or the report atomically; returns the paths written."""
    check_changes_targets(json_path, report_path, force=force, inputs=inputs)
    files = []
    if json_path is not None:
        files.append((Path(json_path), changes_bytes(document)))
    if report_path is not None:
        files.append((Path(report_path), report_text(document).encode("utf-8")))
    # a file that appears meanwhile is not replaced unless one was there (and ours) or --force
    write_files_atomic(files, overwrite=force or any(p.exists() for p, _ in files))
    return [p for p, _ in files]
