"""The optional adverse-event file: one row per adverse event of a treated patient.

CSV, Excel or Parquet with the columns of ``AE_COLUMNS`` (MedDRA system organ class and preferred
term, CTCAE grade, serious, treatment-related, led to discontinuation, onset date). Every cell is
checked like a patient-file cell and reported with file, row and column; an event of a patient
the registry does not hold is an error. The events are kept without patient identifiers: each
carries the position of its patient in the canonical patient frame and that patient's cohort, so
pseudonymising the patients never leaves a registry id behind in the safety tables.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from dossier.registry.load import Registry, RegistryError
from dossier.registry.readers import (
    RawTable,
    ReadError,
    SourceFile,
    frame_table,
    match_columns,
    read_table,
)
from dossier.registry.schema import AE_COLUMNS
from dossier.registry.validate import IssueLog, ValidationReport, check_cells, show_value

ROLE = "adverse events"


def read_adverse_events(path: Path | str,
                        patients: pd.DataFrame) -> tuple[pd.DataFrame, ValidationReport]:
    """Read an adverse-event file and check it (see :func:`check_adverse_events`)."""
    path = Path(path)
    try:
        raw = read_table(path, role=ROLE)
    except ReadError as exc:
        source = SourceFile(path.name, ROLE, "spreadsheet", path)
        log = IssueLog(source)
        log.error(exc.rule, str(exc))
        raise RegistryError(ValidationReport.of(log.items, [source])) from exc
    return check_adverse_events(raw, patients)


def check_adverse_events(raw: RawTable,
                         patients: pd.DataFrame) -> tuple[pd.DataFrame, ValidationReport]:
    """Check adverse-event rows against the registry's patients.

    Returns one row per event: ``patient`` (position in ``patients``), ``cohort_id``, ``soc``,
    ``pt``, ``grade``, ``serious``, ``related``, ``discontinued`` (nullable booleans) and
    ``onset_days``, and the file's report (its warnings). Raises RegistryError listing every
    problem with file, row and column.
    """
    log = IssueLog(raw.source)
    match = match_columns(raw.frame.columns, AE_COLUMNS)
    for col in AE_COLUMNS:
        if col.required and col.name not in match.mapping:
            log.error("missing_required_column", f"the adverse-event file has no {col.name} "
                      f"column (accepted names: {', '.join((col.name, *col.aliases))})", None,
                      col.name)
    cells = {canon: raw.frame.iloc[:, pos] for canon, pos in match.mapping.items()}
    frame = check_cells(cells, AE_COLUMNS, raw.frame.index, log)
    position = {str(pid): k for k, pid in enumerate(patients["patient_id"].astype(str))}
    where = [position.get(str(pid)) if pid is not None else None
             for pid in frame["patient_id"]]
    for row, pid, found in zip(frame.index, frame["patient_id"], where, strict=True):
        if pid is not None and found is None:
            log.error("unknown_patient", f"patient_id {show_value(pid)} is not a patient of the "
                      "registry (an adverse event needs a treated patient)", row, "patient_id",
                      pid)
    starts = patients["treatment_start"].to_numpy()
    onset_days = np.full(len(frame), np.nan)
    for k, (row, onset, found) in enumerate(zip(frame.index, frame["onset_date"], where,
                                                strict=True)):
        if found is None or pd.isna(onset):
            continue
        onset_days[k] = (pd.Timestamp(onset) - pd.Timestamp(starts[found])).days
        if onset_days[k] < 0:
            log.warning("event_before_treatment", f"onset_date {show_value(onset)} is before "
                        f"the patient's treatment_start {show_value(starts[found])}: not "
                        "treatment-emergent; check the date", row, "onset_date", onset)
    report = ValidationReport.of(log.items, [raw.source], len(patients),
                                 patients["cohort_id"].nunique())
    if not report.ok:
        raise RegistryError(report)
    cohort = patients["cohort_id"].astype(str).to_numpy()
    events = pd.DataFrame({
        "patient": pd.array(where, dtype="Int64"),
        "cohort_id": [cohort[w] if w is not None else None for w in where],
        "soc": frame["soc"].astype(object), "pt": frame["pt"].astype(object),
        "grade": frame["grade"].astype("Int64"),
        "serious": frame["serious"].astype("boolean"),
        "related": frame["related"].astype("boolean"),
        "discontinued": frame["discontinued"].astype("boolean"),
        "onset_days": onset_days,
    }).reset_index(drop=True)
    return events, report


def with_adverse_events(registry: Registry, path: Path | str | RawTable | None) -> Registry:
    """The registry with the events of ``path`` (or of a raw table) attached; unchanged when
    ``path`` is None."""
    if path is None:
        return registry
    if isinstance(path, RawTable):
        events, own = check_adverse_events(path, registry.patients)
    else:
        events, own = read_adverse_events(path, registry.patients)
    old = registry.report
    report = ValidationReport.of([*old.issues, *own.issues], [*old.sources, *own.sources],
                                 old.n_patients, old.n_cohorts, old.decisions)
    return replace(registry, adverse_events=events, report=report)


SIDECAR_SUFFIXES = (".adverse_events.csv", ".adverse_events.xlsx", ".adverse_events.parquet")
"""An adverse-event file beside a patient file ``x.csv`` as ``x.adverse_events.csv`` (as
``dossier demo`` writes it) is read when no adverse-event file is given."""


def sidecar_events(path: Path) -> Path | None:
    """The adverse-event file beside the patient file ``path``, if one exists."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def demo_events_table(patients: pd.DataFrame) -> RawTable:
    """The bundled demo registry's adverse events as a raw table (checked like a user file)."""
    from dossier.registry.demo import DEMO_SEED
    from dossier.registry.demo_adverse_events import demo_adverse_events

    return frame_table(demo_adverse_events(patients, DEMO_SEED), "demo adverse events", ROLE)
