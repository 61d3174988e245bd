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


def write_changes(document: Mapping[str, Any], *, json_path: Path | None = None,
                  report_path: Path | None = None, force: bool = False,
                  inputs: tuple[Path, ...] = ()) -> list[Path]:
    """Write changes.json and/or the report; returns the paths written."""
    files = []
    if json_path is not None:
        files.append((Path(json_path), changes_bytes(document)))
    if report_path is not None:
        files.append((Path(report_path), report_text(document).encode("utf-8")))
    if len({p.resolve() for p, _ in files}) < len(files):
        raise OutputError("--json and --report name the same file; give two files")
    replace = force or all(_ours(p) for p, _ in files if p.exists())
    check_targets([p for p, _ in files], overwrite=replace, inputs=inputs)
    write_files_atomic(files, overwrite=replace)
    return [p for p, _ in files]
