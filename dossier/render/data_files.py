"""The build's data files, ``results.json`` and ``dossier.xlsx``, written by one job.

The job carries everything the two files are made from (the analysis, the registry as the
renderers may show it, the build's facts), so that a PDF worker process can write them while
the build's own process prepares the PDFs: on two cores the two files and the PDFs' HTML no
longer take turns on one. The files are the same wherever the job runs.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dossier.render.bundle import dumps_json

if TYPE_CHECKING:
    from dossier.build import Analysis
    from dossier.registry.load import Registry


@dataclass(frozen=True)
class DataFiles:
    """What ``results.json`` and ``dossier.xlsx`` are written from, and where (None: not
    written)."""

    analysis: Analysis
    only: list[str] | None
    shown: Registry  # the registry as the renderers show it (patient ids as chosen)
    build_info: dict[str, str]
    created: dt.datetime
    changes: dict[str, object] | None
    json_path: Path | None
    xlsx_path: Path | None


def write_data_files(job: DataFiles) -> dict[str, float]:
    """Write the job's files; return the seconds each took ("json", "xlsx")."""
    timings: dict[str, float] = {}
    if job.json_path is not None:
        from dossier.build import results_json

        start = time.perf_counter()
        text = dumps_json(results_json(job.analysis, job.only, job.created.date().isoformat()))
        Path(job.json_path).write_bytes(text.encode("utf-8"))
        timings["json"] = time.perf_counter() - start
    if job.xlsx_path is not None:
        from dossier.render.workbook import write_dossier_workbook

        start = time.perf_counter()
        analysis, shown = job.analysis, job.shown
        write_dossier_workbook(
            Path(job.xlsx_path), results=analysis.results, verdicts=analysis.verdicts,
            readiness=analysis.readiness, rule_sets=analysis.rules.rule_sets,
            patients=shown.patients, registry_cohorts=analysis.registry.cohorts,
            report=shown.report, build_info=job.build_info, created=job.created,
            only=job.only, adverse_events=shown.adverse_events, changes=job.changes)
        timings["xlsx"] = time.perf_counter() - start
    return timings
