"""The build's data files, ``results.json`` and ``dossier.xlsx``, each written by one job.

A job carries everything its file is made from (the analysis, the registry as the renderers
may show it, the build's facts, the population records counted once for both files), so that
it can run in a PDF worker process: a build hands the workbook to one while it prepares the
PDFs, and writes the JSON itself once the PDFs' parts are handed out (on two cores, the one
job then runs beside the context and the other beside the layout). The files are the same
wherever the jobs run.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dossier.endpoints.population import (
    GroupRecords,
    collected_columns,
    group_records,
    patient_groups,
)
from dossier.render.bundle import dumps_json
from dossier.render.memo import Memo, frame_digest

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
    population: dict[str, GroupRecords] | None = None
    """Every group's population records (:func:`population_tables`), else counted here."""


def population_tables(registry: Registry, memo: Memo) -> dict[str, GroupRecords]:
    """Every group's population records (all patients, then each cohort): counted once for
    both files, each taken from the last build when its patients and the registry's adverse
    events are unchanged (:mod:`dossier.render.memo`)."""
    patients, events = registry.patients, registry.adverse_events
    collected = collected_columns(patients)
    events_key = frame_digest(events)
    return {name: memo.value("population records", (group, collected, events_key),
                             functools.partial(group_records, group, collected, events))
            for name, group in patient_groups(patients).items()}


def write_data_files(job: DataFiles) -> dict[str, float]:
    """Write the job's files; return the seconds each took ("json", "xlsx")."""
    timings: dict[str, float] = {}
    if job.json_path is not None:
        from dossier.build import results_json

        start = time.perf_counter()
        text = dumps_json(results_json(job.analysis, job.only, job.created.date().isoformat(),
                                       job.population))
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
            only=job.only, adverse_events=shown.adverse_events, changes=job.changes,
            population=job.population)
        timings["xlsx"] = time.perf_counter() - start
    return timings
