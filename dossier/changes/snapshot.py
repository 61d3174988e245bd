"""One side of a comparison: the results rows and verdicts of a dossier or of a registry.

A dossier folder is read from its JSON (``manifest.json`` and ``results.json``), a registry is
analysed as ``dossier build`` would. Either way the rows are those of ``results.json``, so two
snapshots compare alike whatever they came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dossier.errors import InputError
from dossier.render.ownership import MANIFEST_NAME, listed_outputs

if TYPE_CHECKING:
    from dossier.build import Analysis
    from dossier.config import Settings

RESULTS_NAME = "results.json"
RESULTS_FORMAT = "dossier-results"
RESULTS_VERSION = 2
"""The results table format this comparison reads (results.json's ``results.version``)."""
MAX_RESULTS_BYTES = 512 << 20


class SnapshotError(InputError):
    """A side of a comparison that cannot be read: not a dossier, no results, other version."""


@dataclass(frozen=True)
class Snapshot:
    """An analysis as the comparison sees it: where it came from, its rows and its verdicts."""

    source: str
    data_cutoff: str
    dossier_version: str
    parameters: dict[str, Any]
    criteria: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]

    @property
    def label(self) -> str:
        """The data cut-off (``2024-07-01``), or the source when the cut-off is not known."""
        return self.data_cutoff or self.source


def _rows(table: object, where: Path) -> list[dict[str, Any]]:
    if not isinstance(table, dict) or table.get("format") != RESULTS_FORMAT:
        raise SnapshotError("holds no dossier results table", file=where,
                            hint="build the dossier with --format json")
    if table.get("version") != RESULTS_VERSION:
        raise SnapshotError(
            f"holds results of format version {table.get('version')!r}; this dossier reads "
            f"version {RESULTS_VERSION}", file=where,
            hint="rebuild it with this version of dossier, or compare the registries")
    columns, rows = table.get("columns"), table.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list) or \
            not all(isinstance(r, list) and len(r) == len(columns) for r in rows):
        raise SnapshotError("holds a damaged results table (rows do not match its columns)",
                            file=where, hint="rebuild the dossier")
    return [dict(zip(columns, r, strict=True)) for r in rows]


def from_document(document: dict[str, Any], source: str, where: Path) -> Snapshot:
    """The snapshot of a results.json document (``where`` names it in errors)."""
    verdicts = document.get("verdicts")
    if not isinstance(verdicts, list) or not all(isinstance(v, dict) for v in verdicts):
        raise SnapshotError("holds no verdicts list", file=where, hint="rebuild the dossier")
    software = document.get("software") if isinstance(document.get("software"), dict) else {}
    parameters = document.get("parameters")
    criteria = document.get("criteria")
    return Snapshot(source=source, data_cutoff=str(document.get("data_cutoff") or ""),
                    dossier_version=str(software.get("dossier", "")),
                    parameters=parameters if isinstance(parameters, dict) else {},
                    criteria=criteria if isinstance(criteria, list) else [],
                    rows=_rows(document.get("results"), where), verdicts=verdicts)


def from_folder(folder: Path) -> Snapshot:
    """The snapshot of a dossier folder written by dossier, read from its results.json."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SnapshotError("is not a folder", file=folder,
                            hint="give a dossier folder or a patient file")
    listed = listed_outputs(folder)
    if listed is None:
        raise SnapshotError(f"is not a dossier folder (no {MANIFEST_NAME} written by dossier)",
                            file=folder, hint="give the folder a dossier build wrote")
    path = folder / RESULTS_NAME
    if RESULTS_NAME not in listed or not path.is_file():
        raise SnapshotError(f"holds a dossier without {RESULTS_NAME}", file=folder,
                            hint="build it with --format json (the default includes it)")
    if path.stat().st_size > MAX_RESULTS_BYTES:
        raise SnapshotError("is too large to be a dossier's results", file=path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SnapshotError(f"is not readable JSON ({exc})", file=path,
                            hint="rebuild the dossier") from None
    if not isinstance(document, dict):
        raise SnapshotError("is not a dossier's results (not a JSON object)", file=path)
    snapshot = from_document(document, folder.name, path)
    if not snapshot.data_cutoff:
        snapshot = _with_manifest_cutoff(snapshot, folder)
    return snapshot


def _with_manifest_cutoff(snapshot: Snapshot, folder: Path) -> Snapshot:
    """Dossiers older than the ``data_cutoff`` field: their build date, when it was the data's."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return snapshot
    if isinstance(manifest, dict) and manifest.get("build_time_source") == "caller":
        when = str(manifest.get("build_time", ""))[:10]
        return Snapshot(**{**snapshot.__dict__, "data_cutoff": when})
    return snapshot


def from_analysis(analysis: Analysis, source: str,
                  only: list[str] | None = None) -> Snapshot:
    """The snapshot of an analysis run in this process (a registry, or the build itself), of
    the cohorts in ``only`` when given (and the pooled group), as its results.json holds it."""
    from dossier.build import results_json

    document = json.loads(json.dumps(results_json(analysis, only), default=str))
    return from_document(document, source, Path(source))


def from_registry(path: Path, settings: Settings, criteria: Sequence[str] = ()) -> Snapshot:
    """The snapshot of a patient file (its cohort metadata beside it), analysed as a build."""
    from dossier.build import analyse
    from dossier.registry.adam import registry_from_options

    path = Path(path)
    if not path.is_file():
        raise SnapshotError("is neither a dossier folder nor a patient file", file=path,
                            hint="give a dossier folder or a CSV, Excel or Parquet file")
    registry = registry_from_options(path, None, None, None, settings)
    return from_analysis(analyse(settings, registry, criteria, str(path)), path.name)


def load_snapshot(path: Path, settings: Settings, criteria: Sequence[str] = ()) -> Snapshot:
    """A dossier folder (read from its JSON) or a patient file (analysed)."""
    path = Path(path)
    if path.is_dir():
        return from_folder(path)
    return from_registry(path, settings, criteria)
