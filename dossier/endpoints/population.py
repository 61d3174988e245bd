"""Who was treated and what harm they came to: baseline characteristics and worst-grade safety.

Descriptive counts of the canonical patient frame (contract A), per group of patients: each
characteristic as counts (n of the treated, so the percentages of one characteristic add up with
its "not recorded" line to 100%) or as median and range. A characteristic the registry does not
carry for anyone is one line with status "not collected", never left out, so a reader can tell
"none" from "not asked". The renderers only format these lines; nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dossier.registry.schema import DAYS_PER_MONTH

NOT_COLLECTED = "not collected"
"""Status of a characteristic no patient of the registry has a value for."""

NOT_RECORDED = "not recorded"
"""Category of the patients of a group without a value for a characteristic others have."""

SEX_WORDS = {"F": "Female", "M": "Male"}
PRIOR_LINE_BANDS = (("0", 0, 0), ("1", 1, 1), ("2", 2, 2), (">= 3", 3, np.inf))
ECOG_BANDS = (("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3-4", 3, 4))
MAX_SUBTYPES = 8
"""Subtypes listed by name in one group; the rest are counted together as 'other subtypes'."""
GRADES = (0, 1, 2, 3, 4, 5)
SEVERE_GRADE = 3


@dataclass(frozen=True)
class Line:
    """One line of a descriptive table: a count (n of denominator) or a median with its range."""

    section: str  # "baseline" | "safety"
    characteristic: str  # "Age", "Sex", ...
    category: str = ""  # "Female", "0", ...; "" for a summary line (median, not collected)
    unit: str = ""
    n: int | None = None
    denominator: int | None = None
    median: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    status: str = ""  # "" or NOT_COLLECTED

    @property
    def share(self) -> float | None:
        """n / denominator (0-1); None when not a count or the denominator is 0."""
        if self.n is None or not self.denominator:
            return None
        return self.n / self.denominator


def _values(patients: pd.DataFrame, column: str) -> pd.Series:
    if column not in patients.columns:
        return pd.Series([], dtype=object)
    return patients[column]


def _continuous(section: str, name: str, unit: str, values: pd.Series, total: int,
                collected: bool) -> list[Line]:
    if not collected:
        return [Line(section, name, unit=unit, status=NOT_COLLECTED)]
    known = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    lines = [Line(section, name, unit=unit, n=len(known), denominator=total,
                  median=float(known.median()) if len(known) else None,
                  minimum=float(known.min()) if len(known) else None,
                  maximum=float(known.max()) if len(known) else None)]
    if len(known) < total:
        lines.append(Line(section, name, NOT_RECORDED, unit, total - len(known), total))
    return lines


def _banded(section: str, name: str, values: pd.Series, total: int, collected: bool,
            bands: Sequence[tuple[str, float, float]], keep_empty_from: int) -> list[Line]:
    """Counts per band; bands from index ``keep_empty_from`` on are listed only when used."""
    if not collected:
        return [Line(section, name, status=NOT_COLLECTED)]
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    lines = []
    for k, (label, low, high) in enumerate(bands):
        n = int(((numbers >= low) & (numbers <= high)).sum())
        if n or k < keep_empty_from:
            lines.append(Line(section, name, label, n=n, denominator=total))
    missing = int(numbers.isna().sum())
    if missing:
        lines.append(Line(section, name, NOT_RECORDED, n=missing, denominator=total))
    return lines


def _categories(section: str, name: str, values: pd.Series, total: int, collected: bool,
                words: dict[str, str] | None = None, top: int | None = None) -> list[Line]:
    if not collected:
        return [Line(section, name, status=NOT_COLLECTED)]
    known = values.dropna().astype(str)
    counts = known.value_counts()
    order = sorted(counts.index, key=lambda k: (-counts[k], k)) if words is None else \
        [k for k in words if k in counts.index] + sorted(set(counts.index) - set(words))
    shown = order if top is None else order[:top]
    lines = [Line(section, name, (words or {}).get(k, k), n=int(counts[k]), denominator=total)
             for k in shown]
    rest = int(sum(counts[k] for k in order[len(shown):]))
    if rest:
        lines.append(Line(section, name, f"other subtypes ({len(order) - len(shown)})", n=rest,
                          denominator=total))
    if len(known) < total:
        lines.append(Line(section, name, NOT_RECORDED, n=total - len(known), denominator=total))
    return lines


def collected_columns(patients: pd.DataFrame) -> frozenset[str]:
    """The columns that hold a value for at least one patient of the whole registry."""
    return frozenset(c for c in patients.columns if patients[c].notna().any())


def baseline_lines(group: pd.DataFrame, collected: frozenset[str]) -> list[Line]:
    """Baseline characteristics of one group of patients (``collected``: of the registry)."""
    total = len(group)
    section = "baseline"
    since = pd.Series([], dtype=float)
    if "diagnosis_date" in group.columns and len(group):
        since = (pd.to_datetime(group["treatment_start"]) - pd.to_datetime(
            group["diagnosis_date"])).dt.days / DAYS_PER_MONTH
    return [
        Line(section, "Patients treated", n=total, denominator=total),
        *_continuous(section, "Age", "years", _values(group, "age"), total,
                     "age" in collected),
        *_categories(section, "Sex", _values(group, "sex"), total, "sex" in collected,
                     SEX_WORDS),
        *_banded(section, "ECOG performance status", _values(group, "ecog"), total,
                 "ecog" in collected, ECOG_BANDS, 3),
        *_banded(section, "Prior systemic treatment lines", _values(group, "prior_lines"),
                 total, "prior_lines" in collected, PRIOR_LINE_BANDS, 4),
        *_categories(section, "Tumour subtype", _values(group, "tumour_subtype"), total,
                     "tumour_subtype" in collected, top=MAX_SUBTYPES),
        *_continuous(section, "Time since diagnosis", "months", since, total,
                     "diagnosis_date" in collected),
    ]


def worst_grade_lines(group: pd.DataFrame, collected: frozenset[str]) -> list[Line]:
    """Patients by worst treatment-related adverse-event grade (CTCAE 0-5) and grade >= 3."""
    total = len(group)
    name = "Worst treatment-related adverse event grade"
    if "worst_ae_grade" not in collected:
        return [Line("safety", name, status=NOT_COLLECTED)]
    grades = pd.to_numeric(_values(group, "worst_ae_grade"), errors="coerce").astype(float)
    lines = [Line("safety", name, f"grade {g}" if g else "none (grade 0)",
                  n=int((grades == g).sum()), denominator=total) for g in GRADES]
    lines.append(Line("safety", name, f"grade >= {SEVERE_GRADE}",
                      n=int((grades >= SEVERE_GRADE).sum()), denominator=total))
    if grades.isna().any():
        lines.append(Line("safety", name, NOT_RECORDED, n=int(grades.isna().sum()),
                          denominator=total))
    return lines


def records_of(lines: Sequence[Line]) -> list[dict[str, object]]:
    """Lines as plain records (numbers as numbers, share as 0-1) for the workbook and JSON."""
    return [{"characteristic": line.characteristic, "category": line.category,
             "unit": line.unit, "n": line.n, "denominator": line.denominator,
             "percent": line.share, "median": line.median, "minimum": line.minimum,
             "maximum": line.maximum, "status": line.status} for line in lines]


ALL_COHORTS = "all cohorts"
"""The name of the group of every patient of the registry."""

GroupRecords = dict[str, list[dict[str, object]]]
"""One group's "baseline", "safety" and "adverse_events" records (see :func:`group_records`)."""


def patient_groups(patients: pd.DataFrame, only: Sequence[str] | None = None
                   ) -> dict[str, pd.DataFrame]:
    """All patients, then each cohort's (or those in ``only``), in order of appearance."""
    groups = {ALL_COHORTS: patients}
    ids = patients["cohort_id"].astype(str)
    groups.update({cid: patients[ids == cid] for cid in dict.fromkeys(ids)
                   if only is None or cid in only})
    return groups


def group_records(group: pd.DataFrame, collected: frozenset[str],
                  events: pd.DataFrame | None = None) -> GroupRecords:
    """Baseline and safety lines, and adverse events by organ class and term, of one group of
    patients as plain records (``collected``: of the registry; ``events``: all of it)."""
    from dossier.endpoints.adverse_events import term_records

    return {"baseline": records_of(baseline_lines(group, collected)),
            "safety": records_of(worst_grade_lines(group, collected)),
            "adverse_events": term_records(events, group)}


def population_records(patients: pd.DataFrame, only: Sequence[str] | None = None,
                       events: pd.DataFrame | None = None) -> dict[str, GroupRecords]:
    """:func:`group_records` of all patients and of each cohort (or those in ``only``)."""
    collected = collected_columns(patients)
    return {name: group_records(group, collected, events)
            for name, group in patient_groups(patients, only).items()}
