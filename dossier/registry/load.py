"""Load a registry: read, validate, and -- only when there are no errors -- build the canonical
patient frame (contract A) that every endpoint reads.

A registry with errors never yields a frame: :func:`load_registry` raises :class:`RegistryError`
carrying the full :class:`ValidationReport`, so a dossier cannot be built on data that failed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dossier.errors import InputError
from dossier.registry.cohorts import (
    YAML_SUFFIXES,
    canonical_cohorts,
    check_cohorts,
    read_cohort_metadata,
)
from dossier.registry.readers import (
    RawTable,
    ReadError,
    SourceFile,
    frame_table,
    numbering_for,
    read_table,
)
from dossier.registry.validate import Issue, ValidationReport, check_patients

DEMO_NAME = "demo registry"
"""How the in-memory demo registry is named in reports (it has no file)."""

SIDECAR_SUFFIXES = (".cohorts.yaml", ".cohorts.yml", ".cohorts.csv")
"""Cohort metadata found beside a patient file ``x.csv`` as ``x.cohorts.yaml`` (as ``dossier demo``
writes it) is read when no metadata file is given."""

CANONICAL_COLUMNS = (
    "patient_id", "cohort_id", "drug", "tumour_type", "alteration", "rare_cancer", "stage",
    "treatment_start", "response_evaluable", "best_response", "response_confirmed",
    "response_days", "pfs_days", "os_days", "pfs_event", "os_event", "worst_ae_grade",
    "prior_lines", "prior_pfs_days", "age", "sex", "ecog", "tumour_subtype", "diagnosis_date",
    "best_pct_change", "row",
)
"""Columns of the canonical patient frame, in order (contract A)."""


@dataclass(frozen=True, eq=False)  # holds DataFrames: compare by identity
class Registry:
    """A validated registry: canonical patients and cohorts, the report, and where it came from."""

    patients: pd.DataFrame
    cohorts: pd.DataFrame
    report: ValidationReport
    source: Path
    sha256: str
    adverse_events: pd.DataFrame | None = None
    """One row per adverse event (registry/adverse_events.py), when an AE file is given."""


class RegistryError(InputError, ValueError):
    """The registry has errors; ``report`` lists every one of them."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        lines = [report.summary()]
        lines += [f"  {i.location}: {i.message} [{i.rule}]" for i in report.errors[:5]]
        if len(report.errors) > 5:
            lines.append(f"  ... and {len(report.errors) - 5:,} more errors")
        super().__init__("\n".join(lines))


def sidecar_metadata(path: Path) -> Path | None:
    """The cohort metadata file beside ``path`` (``<stem>.cohorts.yaml`` etc.), if one exists."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _read_failure(exc: ReadError, path: Path, role: str) -> tuple[SourceFile, Issue]:
    numbering = "line" if path.suffix.lower() in YAML_SUFFIXES else numbering_for(path)
    source = SourceFile(path.name, role, numbering, path)
    return source, Issue("error", exc.rule, str(exc), path.name)


def load_registry(path: Path | str, cohorts_path: Path | str | None = None,
                  sheet: str | None = None) -> Registry:
    """Read and validate a patient file (and cohort metadata); raise RegistryError on errors.

    Without ``cohorts_path`` a metadata file beside the patient file (``<stem>.cohorts.yaml``,
    ``.yml`` or ``.csv``) is used when present; the report names it either way. ``sheet``
    names the workbook sheet of an .xlsx patient file (see readers.choose_sheet).
    """
    path = Path(path)
    meta_path = Path(cohorts_path) if cohorts_path is not None else sidecar_metadata(path)
    try:
        raw = read_table(path, role="patients", sheet=sheet)
    except ReadError as exc:
        source, issue = _read_failure(exc, path, "patients")
        raise RegistryError(ValidationReport.of([issue], [source])) from exc
    meta: RawTable | None = None
    extra: list[Issue] = []
    sources = [raw.source]
    if meta_path is not None:
        try:
            meta = read_cohort_metadata(meta_path)
            sources.append(meta.source)
        except ReadError as exc:  # still check the patients, so every problem is listed
            source, issue = _read_failure(exc, meta_path, "cohorts")
            sources.append(source)
            extra.append(issue)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return _assemble(raw, meta, sources, extra, path, digest)


def registry_from_frames(patients: pd.DataFrame, cohorts: pd.DataFrame | None = None,
                         name: str = "in-memory registry") -> Registry:
    """Validate in-memory input-schema tables (rows numbered as records from 1).

    The sha256 is that of the patient table written as CSV (index excluded), so the same data
    always gives the same fingerprint.
    """
    raw = frame_table(patients, name, "patients")
    sources = [raw.source]
    meta = None
    if cohorts is not None:
        meta = frame_table(cohorts, f"{name} cohorts", "cohorts")
        sources.append(meta.source)
    digest = hashlib.sha256(patients.to_csv(index=False).encode("utf-8")).hexdigest()
    return _assemble(raw, meta, sources, [], Path(name), digest)


def load_demo(cohorts_path: Path | str | None = None) -> Registry:
    """The bundled DRUP-like demo registry, validated like any user file.

    ``cohorts_path`` replaces the demo's own cohort metadata.
    """
    from dossier.registry.demo import demo_registry

    patients, cohorts = demo_registry()
    if cohorts_path is None:
        return registry_from_frames(patients, cohorts, name=DEMO_NAME)
    raw = frame_table(patients, DEMO_NAME, "patients")
    sources, extra = [raw.source], []
    meta = None
    try:
        meta = read_cohort_metadata(cohorts_path)
        sources.append(meta.source)
    except ReadError as exc:
        source, issue = _read_failure(exc, Path(cohorts_path), "cohorts")
        sources.append(source)
        extra.append(issue)
    digest = hashlib.sha256(patients.to_csv(index=False).encode("utf-8")).hexdigest()
    return _assemble(raw, meta, sources, extra, Path(DEMO_NAME), digest)


def _assemble(raw: RawTable, meta: RawTable | None, sources: list[SourceFile],
              extra: list[Issue], source: Path, digest: str) -> Registry:
    checked = check_patients(raw)
    cohort_ids = checked.cohort_ids
    issues = list(checked.issues) + extra
    cohort_frame = None
    if meta is not None:
        cohort_check = check_cohorts(meta, cohort_ids)
        issues += cohort_check.issues
        cohort_frame = cohort_check.frame
    report = ValidationReport.of(issues, sources, n_patients=len(raw.frame),
                                 n_cohorts=len(cohort_ids))
    if not report.ok:
        raise RegistryError(report)
    patients = canonical_patients(checked.frame)
    return Registry(patients, canonical_cohorts(patients, cohort_frame), report, source, digest)


def canonical_patients(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract-A patient frame from error-free checked cells (index = user row).

    Times become days since treatment_start; best_response is NA for non-evaluable patients and
    response_days NaN for anyone whose best response is not CR or PR.
    """
    evaluable = frame["response_evaluable"].astype(bool).to_numpy()
    bor = frame["best_response"].where(evaluable, None)
    responder = bor.isin(["CR", "PR"]).to_numpy()
    out = pd.DataFrame({
        "patient_id": frame["patient_id"].astype(object),
        "cohort_id": frame["cohort_id"].astype(object),
        "drug": frame["drug"].astype(object),
        "tumour_type": frame["tumour_type"].astype(object),
        "alteration": frame["alteration"].astype(object),
        "rare_cancer": frame["rare_cancer"].astype(bool),
        "stage": frame["stage"].astype(object),
        "treatment_start": frame["treatment_start"].astype("datetime64[ns]"),
        "response_evaluable": frame["response_evaluable"].astype(bool),
        "best_response": pd.Series([pd.NA if v is None else v for v in bor], index=frame.index,
                                   dtype=object),
        "response_confirmed": frame["response_confirmed"].astype("boolean"),
        "response_days": frame["response_time"].where(responder, np.nan).astype("float64"),
        "pfs_days": frame["pfs_time"].astype("float64"),
        "os_days": frame["os_time"].astype("float64"),
        "pfs_event": frame["pfs_event"].astype("int64"),
        "os_event": frame["os_event"].astype("int64"),
        "worst_ae_grade": frame["worst_ae_grade"].astype("Int64"),
        "prior_lines": frame["prior_lines"].astype("Int64"),
        "prior_pfs_days": frame["prior_pfs_days"].astype("float64"),
        "age": frame["age"].astype("float64"),
        "sex": frame["sex"].astype(object),
        "ecog": frame["ecog"].astype("Int64"),
        "tumour_subtype": frame["tumour_subtype"].astype(object),
        "diagnosis_date": frame["diagnosis_date"].astype("datetime64[ns]"),
        "best_pct_change": frame["best_pct_change"].astype("float64"),
        "row": frame.index.to_numpy(dtype="int64"),
    })
    return out.reset_index(drop=True)[list(CANONICAL_COLUMNS)]
