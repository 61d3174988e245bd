"""Read CDISC ADaM datasets (ADSL, ADTTE, ADRS, ADAE) as a dossier registry (contract A).

Regulatory submissions keep analysis data as ADaM datasets: SAS transport (.xpt), or CSV /
Parquet exports. :func:`load_adam` finds them in a folder, maps them to dossier's patient
columns as the mapping file (``dossier.registry.adam_mapping``) says, and validates the result
with the same checks and row-level issues as any other input: a problem found in the mapped
patient table is reported at the ADaM file, row and variable it came from. Every mapping choice
is stated as a :class:`Decision` in the validation report (docs/adam.md lists them all).

Times are the sponsor's: PFS and OS are ADTTE ``AVAL`` (converted from ``AVALU`` to days) with
event = 1 - ``CNSR``, kept exactly as derived, so Kaplan-Meier estimates equal the sponsor's
(and R's) on the same records. Their origin is ADTTE's own (``STARTDT``, often randomisation,
sometimes counted from day 1), which the report states next to the treatment start (TRTSDT).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from dossier.config import Settings
from dossier.errors import ConfigurationError
from dossier.registry.adam_mapping import DATASETS, AdamMapping, MappingError, read_mapping
from dossier.registry.adam_response import ResponseMapper
from dossier.registry.adam_subjects import Dataset, Subject, SubjectMapper
from dossier.registry.cohorts import canonical_cohorts, check_cohorts, read_cohort_metadata
from dossier.registry.load import (
    DEMO_NAME,
    Registry,
    RegistryError,
    canonical_patients,
    load_demo,
    load_registry,
)
from dossier.registry.readers import RawTable, ReadError, SourceFile, read_table
from dossier.registry.validate import Issue, ValidationReport, check_patients

ADAM_SUFFIXES = (".xpt", ".csv", ".parquet", ".pq")
"""File types read as ADaM datasets: SAS transport v5/v8, CSV, Parquet."""


# ---------------------------------------------------------------------------------------------
# Datasets


def find_datasets(directory: Path, mapping: AdamMapping) -> tuple[dict[str, Path], list[Issue]]:
    """The file of each ADaM dataset in ``directory``: named in the mapping, or found by name.

    A file is taken for dataset ``adsl`` when its stem is ``adsl``, starts with ``adsl_`` (or
    ``-``/``.``), or has one letter before it (``cadsl``); two candidates are an error.
    """
    found: dict[str, Path] = {}
    issues: list[Issue] = []
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and p.suffix.lower() in ADAM_SUFFIXES)
    for name in DATASETS:
        role, required = name.upper(), name in ("adsl", "adtte")
        if name in mapping.files:
            path = directory / mapping.files[name]
            if path.is_file():
                found[name] = path
            else:
                issues.append(Issue("error", "file_not_found", f"{role} file {path} named in the "
                                    "mapping file does not exist", mapping.name,
                                    mapping.line(f"files.{name}"), f"files.{name}"))
            continue
        hits = [p for p in files if re.fullmatch(rf"[a-z]?{name}([_.\-].*)?", p.stem.lower())]
        if len(hits) == 1:
            found[name] = hits[0]
        elif hits:
            issues.append(Issue("error", "ambiguous_dataset", f"several files could be {role}: "
                                f"{', '.join(p.name for p in hits)}; name one under 'files:' in "
                                "the mapping file", directory.name))
        elif required:
            issues.append(Issue("error", "missing_dataset", f"no {role} dataset in {directory} "
                                f"(looked for {name}.xpt, .csv or .parquet, also {name}_*.*); "
                                "name it under 'files:' in the mapping file", directory.name))
    return found, issues


def read_dataset(path: Path, role: str) -> RawTable:
    """Read one ADaM dataset into raw cells by row: .xpt with pyreadstat, else as a table."""
    if path.suffix.lower() != ".xpt":
        return read_table(path, role)
    try:
        import pyreadstat
    except ImportError as exc:  # pragma: no cover - pyreadstat is a dependency
        raise ReadError(f"{path.name}: reading SAS transport files needs pyreadstat") from exc
    try:
        frame, _ = pyreadstat.read_xport(str(path))
    except Exception as exc:  # pyreadstat raises its own types for damaged files
        raise ReadError(f"{path.name}: cannot be read as SAS transport (XPT): {exc}") from exc
    frame = frame.astype(object).where(frame.notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return RawTable(frame, SourceFile(path.name, role, "record", path))


# ---------------------------------------------------------------------------------------------
# Loading


def load_adam(directory: Path | str, mapping_path: Path | str | None = None,
              cohorts_path: Path | str | None = None) -> Registry:
    """Read ADaM datasets from a folder as a validated registry (contract A).

    ``mapping_path`` is the YAML mapping file (docs/adam.md; defaults without one) and
    ``cohorts_path`` optional cohort metadata, as for ``load_registry``. Raises RegistryError
    with every issue (file, row, variable) when the data has errors; the report's
    ``decisions`` state how each column was mapped.
    """
    directory = Path(directory)
    try:
        mapping = read_mapping(mapping_path)
    except MappingError as exc:
        raise RegistryError(ValidationReport.of(exc.issues, [_mapping_source(mapping_path)])
                            ) from exc
    sources = [_mapping_source(mapping_path)] if mapping_path is not None else []
    if not directory.is_dir():
        issue = Issue("error", "file_not_found", f"{directory}: not a folder of ADaM datasets",
                      directory.name)
        raise RegistryError(ValidationReport.of([issue], sources))
    paths, issues = find_datasets(directory, mapping)
    data: dict[str, Dataset] = {}
    for name, path in paths.items():
        try:
            data[name] = Dataset(read_dataset(path, name.upper()), name.upper())
        except ReadError as exc:
            sources.append(SourceFile(path.name, name.upper(), "record", path))
            issues.append(Issue("error", exc.rule, str(exc), path.name))
    sources = [d.table.source for d in data.values()] + sources
    mapper = SubjectMapper(data, mapping)
    frame = None
    if "adsl" in data and "adtte" in data and not issues and mapper.adsl():
        tte = mapper.adtte()
        mapper.times(tte)
        ResponseMapper(mapper).run(tte.get("PFS", {}))
        mapper.adae()
        frame = _patient_frame(mapper)
    for role, count in sorted(mapper.ignored.items()):
        mapper.decide("population", f"{count:,} {role} records of subjects who are not "
                      "treated (not in the registry) are ignored", data[role.lower()].name)
    for dataset in data.values():
        issues += dataset.log.items
    issues += mapper.issues
    checked = None
    if frame is not None and len(frame):
        checked = check_patients(RawTable(frame, data["adsl"].table.source))
        by_row = {s.row: s for s in mapper.treated()}
        issues += [i for i in (_relocate(i, mapper, by_row) for i in checked.issues)
                   if i is not None]
    elif frame is not None:
        issues.append(Issue("error", "no_patients", "ADSL has no treated subject",
                            data["adsl"].name))
    meta = None
    if cohorts_path is not None:
        try:
            meta = read_cohort_metadata(cohorts_path)
            sources.append(meta.source)
        except ReadError as exc:
            issues.append(Issue("error", exc.rule, str(exc), Path(cohorts_path).name))
    cohort_ids = checked.cohort_ids if checked is not None else []
    cohort_frame = None
    if meta is not None:
        cohort_check = check_cohorts(meta, cohort_ids)
        issues += cohort_check.issues
        cohort_frame = cohort_check.frame
    report = ValidationReport.of(issues, sources, n_patients=len(frame) if frame is not None
                                 else 0, n_cohorts=len(cohort_ids), decisions=mapper.decisions)
    if not report.ok or checked is None:
        raise RegistryError(report)
    patients = canonical_patients(checked.frame)
    digest = _digest([*paths.values(), *([Path(mapping_path)] if mapping_path else [])])
    return Registry(patients, canonical_cohorts(patients, cohort_frame), report, directory,
                    digest)


def _mapping_source(path: Path | str | None) -> SourceFile:
    path = Path(path) if path is not None else None
    return SourceFile(path.name if path else "built-in defaults", "mapping", "line", path)


_PATIENT_COLUMNS = ("patient_id", "cohort_id", "drug", "tumour_type", "alteration",
                    "rare_cancer", "stage", "treatment_start", "response_evaluable",
                    "best_response", "response_confirmed", "response_days", "pfs_days",
                    "pfs_event", "os_days", "os_event", "worst_ae_grade", "prior_lines",
                    "prior_pfs_days", "age", "sex", "ecog", "tumour_subtype", "diagnosis_date")
_MAPPABLE = {"cohort_id", "prior_lines", "prior_pfs_days"}
_ALWAYS = {"treatment_start", "response_evaluable", "best_response", "response_confirmed",
           "response_days", "pfs_days", "pfs_event", "os_days", "os_event", "worst_ae_grade"}
"""Columns the patient table always has, so a missing source is reported once, at the source."""


def _patient_frame(mapper: SubjectMapper) -> pd.DataFrame:
    """The mapped cells as an input-schema patient table, indexed by ADSL row."""
    treated = mapper.treated()
    present = set().union(*(s.cells for s in treated)) if treated else set()
    columns = [c for c in _PATIENT_COLUMNS if c in present or c in _ALWAYS]
    rows = [[s.cells.get(c) for c in columns] for s in treated]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame.index = pd.Index([s.row for s in treated], dtype="int64", name="row")
    return frame.where(frame.notna(), None) if len(frame) else frame


def _relocate(issue: Issue, mapper: SubjectMapper, by_row: dict[int, Subject]) -> Issue | None:
    """Point a patient-table issue at the ADaM cell it came from; None if already reported."""
    parts = set((issue.column or "").split("/"))
    if parts & mapper.failed_columns:
        return None  # the ADaM variable or parameter it comes from is missing, reported as such
    if issue.row is None:
        if issue.rule == "optional_column_absent" and issue.column in _MAPPABLE:
            return replace(issue, file=mapper.m.name, column=f"columns.{issue.column}",
                           message=issue.message.replace("optional column", "column", 1)
                           + " (map it under columns: in the mapping file)")
        return issue
    if issue.rule == "missing_response_date" and mapper.m.response_date == "none":
        return None  # stated once as a decision: the mapping asks for no response dates
    subject = by_row.get(issue.row)
    if subject is None:
        return issue
    if parts & subject.failed:
        return None
    column = next((c for c in (issue.column or "").split("/") if c in subject.origins), None)
    if column is None:
        return issue
    origin = subject.origins[column]
    severity, message = issue.severity, issue.message
    if issue.rule == "pfs_longer_than_os":
        # both censored: the sponsor's times are kept (KM of each equals the sponsor's)
        severity = "warning"
        message += ("; ADaM times are kept as the sponsor derived them (OS is probably "
                    "censored at a last-known-alive date before the last tumour assessment)")
    if not origin.file:
        return replace(issue, severity=severity, message=message)
    return replace(issue, severity=severity, message=f"{message} [{column} = {origin.what}]",
                   file=origin.file, row=origin.row, column=origin.column or issue.column,
                   value=origin.value if origin.value is not None else issue.value)


def _digest(paths: list[Path]) -> str:
    """sha256 over the datasets read (and the mapping file), names and bytes, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Commands


class OptionsError(ConfigurationError, ValueError):
    """Command-line options that contradict each other (the message says which)."""


def with_adverse_events(registry: Registry, path: Path | None, data: Path | None,
                        adam: Path | None = None, mapping: Path | None = None) -> Registry:
    """The registry with its adverse events attached (registry/adverse_events): from ``path``,
    else from ``<stem>.adverse_events.*`` beside the patient file ``data``, else from the ADaM
    folder's ADAE, else for the bundled demo its own; unchanged when there are none."""
    from dossier.registry.adam_events import adae_events, adae_path
    from dossier.registry.adverse_events import demo_events_table, sidecar_events
    from dossier.registry.adverse_events import with_adverse_events as attach

    if path is None and data is not None:
        path = sidecar_events(Path(data))
    if path is None and adam is not None:
        m = read_mapping(mapping)
        found = adae_path(Path(adam), m)
        table = adae_events(read_dataset(found, "adae"), m) if found is not None else None
        if table is not None:
            return attach(registry, table)
    if path is None and data is None and registry.source.name == DEMO_NAME:
        return attach(registry, demo_events_table(registry.patients))
    return attach(registry, path)


def registry_from_options(file: Path | None, cohorts: Path | None, adam: Path | None,
                          adam_map: Path | None, settings: Settings) -> Registry:
    """The registry a command works on: ADaM (``--adam DIR``), a patient FILE, dossier.toml's
    data, or the demo registry, in that order. Raises RegistryError or OptionsError.
    """
    if adam is not None and file is not None:
        raise OptionsError(f"give a patient FILE ({file}) or --adam DIR ({adam}), not both")
    if adam_map is not None and adam is None and settings.adam is None:
        raise OptionsError("--adam-map needs --adam DIR (the mapping is for ADaM datasets)")
    if file is None and adam is None and settings.adam is not None:
        if settings.data is not None:
            raise OptionsError(f"{settings.source}: [study] names both data and adam; keep one")
        adam = settings.adam
    mapping = adam_map if adam_map is not None else settings.adam_map
    meta = cohorts if cohorts is not None else settings.cohorts
    data = None
    if adam is not None:
        registry = load_adam(adam, mapping, meta)
    else:
        data = file if file is not None else settings.data
        registry = load_demo(meta) if data is None else load_registry(data, meta,
                                                                       settings.sheet)
    return with_adverse_events(registry, settings.adverse_events,
                               None if adam is not None else data, adam, mapping)
