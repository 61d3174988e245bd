"""Cohort metadata: what patient rows cannot carry (ESCAT tier, EMA status, comparators, QoL).

The file is optional. It may be YAML -- a list of mappings, a mapping ``cohorts:`` holding such
a list, or a mapping keyed by cohort id -- or a table (CSV, .xlsx, Parquet) with one row per
cohort. Keys are checked against ``schema.COHORT_COLUMNS``: an unknown key is an error naming it
(a typo such as ``ema_statu`` would otherwise drop evidence silently), a cohort id that is not in
the patient file is a warning. YAML rows are reported as the line where the entry starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dossier.registry.readers import (
    RawTable,
    ReadError,
    SourceFile,
    closest_name,
    is_blank,
    match_columns,
    read_table,
)
from dossier.registry.schema import COHORT_COLUMNS
from dossier.registry.validate import Issue, IssueLog, check_cells, normalise_key
from dossier.yamlfile import FileCheckError, line_of, load_yaml

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, eq=False)  # holds DataFrames: compare by identity
class CohortCheck:
    """Typed cohort metadata (index = user row, invalid cells missing) and the issues found."""

    frame: pd.DataFrame
    issues: tuple[Issue, ...]


def read_cohort_metadata(path: Path | str) -> RawTable:
    """Read a cohort metadata file (YAML, CSV, .xlsx or Parquet) into raw cells by user row."""
    path = Path(path)
    if path.suffix.lower() not in YAML_SUFFIXES:
        return read_table(path, role="cohorts")
    if not path.is_file():
        raise ReadError(f"{path}: file not found", "file_not_found")
    try:
        data = load_yaml(path)
    except FileCheckError as exc:  # bad YAML, a repeated key, an alias bomb: file and line
        rule = "duplicate_key" if "duplicate key" in str(exc) else "unreadable_file"
        raise ReadError(str(exc).replace(str(path), path.name, 1), rule) from exc
    entries = _entries(data, path.name)
    frame = pd.DataFrame([values for _, values in entries], dtype=object)
    frame = frame.where(frame.notna(), None) if len(frame) else frame
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.Index([line for line, _ in entries], dtype="int64", name="row")
    return RawTable(frame, SourceFile(path.name, "cohorts", "line", path))


def _entries(data: Any, name: str) -> list[tuple[int, dict[str, Any]]]:
    """(line, mapping) per cohort entry, for the three accepted YAML shapes."""
    if data is None:
        return []
    if isinstance(data, dict) and list(data) == ["cohorts"]:
        return _entries(data["cohorts"], name)
    if isinstance(data, list):
        out = []
        for index, item in enumerate(data):
            line = line_of(data, index)
            if not isinstance(item, dict):
                raise ReadError(f"{name}: line {line}: each cohort must be a mapping of keys "
                                f"to values, not {type(item).__name__}")
            out.append((line, {str(k): v for k, v in item.items()}))
        return out
    if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
        out = []
        for key, item in data.items():
            line = line_of(data, key)
            values = {str(k): v for k, v in item.items()}
            given = next((v for k, v in values.items() if k.strip().lower() == "cohort_id"), None)
            if given is not None and str(given) != str(key):
                raise ReadError(f"{name}: line {line}: entry {key!r} has cohort_id {given!r}; "
                                "they must be the same")
            out.append((line, {"cohort_id": str(key)} | {k: v for k, v in values.items()
                                                          if k.strip().lower() != "cohort_id"}))
        return out
    raise ReadError(f"{name}: expected a list of cohorts (mappings), a mapping 'cohorts:' of "
                    "such, or a mapping from cohort id to its keys")


def check_cohorts(raw: RawTable, patient_cohorts: Sequence[str] | None = None) -> CohortCheck:
    """Check cohort metadata against COHORT_COLUMNS and, if given, the patient file's cohorts."""
    log = IssueLog(raw.source)
    match = match_columns(raw.frame.columns, COHORT_COLUMNS)
    known = [c.name for c in COHORT_COLUMNS]
    for canonical, pos in match.duplicates:
        log.error("duplicate_column", f"keys {match.source_name(canonical)!r} and "
                  f"{match.names[pos]!r} both supply {canonical}; keep one", None, canonical)
    for pos in match.unknown:
        name = match.names[pos]
        hint = closest_name(name, known)
        filled = [r for r, v in raw.frame.iloc[:, pos].items() if not is_blank(v)]
        row = filled[0] if filled and raw.source.numbering == "line" else None
        text = f"unknown key {name!r}" + (f"; did you mean {hint!r}?" if hint else
                                           f"; known keys: {', '.join(known)}")
        log.error("unknown_key", text, row, name)
    if "cohort_id" not in match.mapping and len(raw.frame):
        log.error("missing_required_column", "every cohort needs a cohort_id", None, "cohort_id")
    cells = {canon: raw.frame.iloc[:, pos] for canon, pos in match.mapping.items()}
    frame = check_cells(cells, COHORT_COLUMNS, raw.frame.index, log)
    frame["cohort_id"] = frame["cohort_id"].map(normalise_key).astype(object)  # as patients'
    first: dict[str, int] = {}
    patients = set(patient_cohorts) if patient_cohorts is not None else None
    for row, cid in frame["cohort_id"].items():
        if cid is None:
            continue
        if cid in first:
            log.error("duplicate_cohort_id", f"cohort_id {cid!r} duplicates row {first[cid]}",
                      row, "cohort_id", cid)
            continue
        first[cid] = int(row)
        if patients is not None and cid not in patients:
            hint = closest_name(cid, patients)
            log.warning("unknown_cohort", f"cohort {cid!r} is not in the patient file; its "
                        "metadata is not used" + (f" (did you mean {hint!r}?)" if hint else ""),
                        row, "cohort_id", cid)
    _check_hazard_ratios(frame, log)
    return CohortCheck(frame, tuple(log.items))


def _check_hazard_ratios(frame: pd.DataFrame, log: IssueLog) -> None:
    """A hazard ratio must lie inside its own 95% confidence interval."""
    for hr in ("hr_os", "hr_pfs"):
        lower, upper = frame[f"{hr}_lower95"], frame[hr + "_upper95"]
        for row in frame.index[(lower > frame[hr]) | (frame[hr] > upper) | (lower > upper)]:
            log.error("hazard_ratio_outside_ci", f"{hr} {frame.at[row, hr]:g} with 95% CI "
                      f"{lower[row]:g} to {upper[row]:g}: the estimate must lie within its "
                      "interval", row, hr, frame.at[row, hr])


COHORT_DEFAULTS = {"setting": "palliative"}


def canonical_cohorts(patients: pd.DataFrame, metadata: pd.DataFrame | None) -> pd.DataFrame:
    """One row per cohort of the patient file, metadata joined, title and setting defaulted.

    Columns: every COHORT_COLUMNS column (booleans "boolean", numbers float64, text object),
    then drug, tumour_type and alteration as the cohort's patients give them (distinct values
    joined by "; "), n_treated, and row: the cohort's row in the metadata file (NA if none).
    """
    ids = list(dict.fromkeys(patients["cohort_id"]))
    meta = metadata if metadata is not None else pd.DataFrame(columns=["cohort_id"])
    by_id = {cid: row for row, cid in meta["cohort_id"].items() if cid is not None}
    out: dict[str, Any] = {"cohort_id": pd.Series(ids, dtype=object)}
    for col in COHORT_COLUMNS[1:]:
        if col.name in meta.columns:
            values = [meta.at[by_id[c], col.name] if c in by_id else None for c in ids]
        else:
            values = [None] * len(ids)
        if col.name == "title":
            values = [c if v is None else v for v, c in zip(values, ids, strict=True)]
        if col.name in COHORT_DEFAULTS:
            values = [COHORT_DEFAULTS[col.name] if v is None else v for v in values]
        if col.kind == "boolean":
            out[col.name] = pd.Series(values, dtype="boolean")
        elif col.kind == "number":
            out[col.name] = pd.Series([float("nan") if v is None or pd.isna(v) else v
                                       for v in values], dtype="float64")
        else:
            out[col.name] = pd.Series(values, dtype=object)
    grouped = patients.groupby("cohort_id", sort=False)
    for name in ("drug", "tumour_type", "alteration"):
        joined = grouped[name].agg(lambda s: "; ".join(dict.fromkeys(s)))
        out[name] = pd.Series([joined[c] for c in ids], dtype=object)
    out["n_treated"] = pd.Series([int(grouped.size()[c]) for c in ids], dtype="int64")
    out["row"] = pd.Series([by_id.get(c) for c in ids], dtype="Int64")
    return pd.DataFrame(out)
