"""Which external control each cohort gets: its tumour type, its line of therapy, the entry.

A cohort's tumour type is its patients' ``tumour_type`` (one value, else no comparator applies:
a mixed cohort has no single standard of care). Its line of therapy is the cohort metadata's
``line_of_therapy`` when given, else the median of its patients' ``prior_lines`` plus one (the
lower middle value for an even count, so the line is one that patients were actually in). The
entry is then looked up in the comparators file by :meth:`Comparators.find`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dossier.registry.comparators import Comparator, Comparators

LINE_FROM_METADATA = "cohort metadata (line_of_therapy)"
LINE_FROM_PATIENTS = "median of the patients' prior lines + 1"


@dataclass(frozen=True)
class CohortLine:
    """A cohort's tumour type and line of therapy, with where the line came from."""

    cohort_id: str
    tumour_type: str | None
    line: int | None
    line_source: str
    comparator: Comparator | None = None


def _median_line(prior_lines: pd.Series) -> int | None:
    known = np.sort(pd.to_numeric(prior_lines, errors="coerce").dropna().to_numpy())
    if known.size == 0:
        return None
    return int(known[(known.size - 1) // 2]) + 1


def cohort_lines(patients: pd.DataFrame, cohorts: pd.DataFrame | None,
                 comparators: Comparators | None) -> dict[str, CohortLine]:
    """Tumour type, line of therapy and matching comparator entry of every cohort."""
    given: dict[str, object] = {}
    if cohorts is not None and "line_of_therapy" in cohorts.columns:
        given = dict(zip(cohorts["cohort_id"].astype(str), cohorts["line_of_therapy"],
                         strict=True))
    out: dict[str, CohortLine] = {}
    for cohort_id, rows in patients.groupby("cohort_id", sort=False):
        key = str(cohort_id)
        types = rows["tumour_type"].dropna().astype(str).unique() \
            if "tumour_type" in rows.columns else []
        tumour = str(types[0]) if len(types) == 1 else None
        value = given.get(key)
        if value is not None and not pd.isna(value):
            line, source = int(value), LINE_FROM_METADATA  # type: ignore[call-overload]
        else:
            prior = rows["prior_lines"] if "prior_lines" in rows.columns else pd.Series([])
            line, source = _median_line(prior), LINE_FROM_PATIENTS
        entry = None
        if comparators is not None and tumour is not None:
            entry = comparators.find(tumour, line)
        out[key] = CohortLine(key, tumour, line, source, entry)
    return out
