"""Small registries for the registry tests: a clean patient table and writers for each format.

The clean table has no issue at all (every optional column present, one cohort of 10 evaluable
patients), so a test that changes one cell can assert that exactly that cell is reported.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dossier.registry.load import RegistryError, load_registry
from dossier.registry.validate import ValidationReport

FORMATS = ("csv", "xlsx", "parquet")
START = dt.date(2020, 1, 1)


def clean_patients(n: int = 10) -> pd.DataFrame:
    """n patients of cohort C1 as text cells, as a user would type them; P01 CR, P02 PR."""
    rows = []
    for i in range(n):
        start = START + dt.timedelta(days=7 * i)
        bor = {0: "CR", 1: "PR"}.get(i, "SD" if i % 2 else "PD")
        responder = bor in ("CR", "PR")
        rows.append({
            "patient_id": f"P{i + 1:02d}",
            "cohort_id": "C1",
            "drug": "nivolumab",
            "tumour_type": "colorectal",
            "alteration": "MSI-high",
            "rare_cancer": "0",
            "stage": "1" if i < 8 else "2",
            "treatment_start": start.isoformat(),
            "response_evaluable": "1",
            "best_response": bor,
            "response_confirmed": "1" if responder else "",
            "response_date": (start + dt.timedelta(days=56)).isoformat() if responder else "",
            # PD is the response at the first assessment (within 84 days): PFS no later
            "pfs_days": str(56 + i) if bor == "PD" else str(200 + 10 * i),
            "pfs_event": "1",
            "os_days": str(400 + 10 * i),
            "os_event": "1" if i % 3 else "0",
            "worst_ae_grade": str(i % 4),
            "prior_lines": str(1 + i % 3),
            "prior_pfs_days": str(150 + i),
        })
    return pd.DataFrame(rows, dtype=object)


def write(frame: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write text cells as CSV, .xlsx or Parquet; an empty string becomes an empty cell."""
    path = path.with_suffix(f".{fmt}")
    cells = frame.astype(object).where(frame.ne("") & frame.notna(), None)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "xlsx":
        cells.to_excel(path, index=False)
    else:
        cells.to_parquet(path, index=False)
    return path


def row_of(index: int, fmt: str) -> int:
    """The row the user sees for the patient at 0-based position ``index``."""
    return index + 1 if fmt == "parquet" else index + 2


def report_of(path: Path, cohorts: Path | None = None) -> ValidationReport:
    """The validation report of a file, whether or not it has errors."""
    try:
        return load_registry(path, cohorts).report
    except RegistryError as exc:
        return exc.report


def found(report: ValidationReport) -> set[tuple[str, str, int | None, str | None]]:
    """Every issue as (severity, rule, row, column)."""
    return {(i.severity, i.rule, i.row, i.column) for i in report.issues}
