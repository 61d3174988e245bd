"""Workbook sheets 'Baseline' and 'Safety': the population tables as numbers, one line a row.

Each row is one line of ``dossier.endpoints.population`` for all cohorts or one cohort (numbered
as in the PDF: the order of the results table), with counts, shares, medians and ranges stored
as numbers and "not collected" spelled out in the status column, never left blank.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from dossier.endpoints.adverse_events import GRADE_BANDS, term_records
from dossier.endpoints.population import (
    Line,
    baseline_lines,
    collected_columns,
    records_of,
    worst_grade_lines,
)
from dossier.render.xlsx import SheetSpec

ALL_COHORTS = "all cohorts"
COLUMNS = ("cohort_no", "cohort_id", "characteristic", "category", "unit", "n",
           "denominator", "percent", "median", "minimum", "maximum", "status")


def cohort_numbers(results: pd.DataFrame) -> dict[str, int]:
    """Cohort id -> the number the PDF gives it (order of first appearance in the results)."""
    rows = results[results["group_by"] == "cohort_id"]
    return {cid: k + 1 for k, cid in enumerate(dict.fromkeys(rows["group"].astype(str)))}


PDF_NUMBER = {"cohort_no": "as in the PDF"}
"""The cohort number column carries the number the PDF gives the cohort, as on other sheets."""

LinesOf = Callable[[pd.DataFrame, frozenset[str]], list[Line]]


def population_frame(patients: pd.DataFrame, numbers: dict[str, int],
                     lines_of: LinesOf) -> pd.DataFrame:
    """All cohorts first, then each numbered cohort, one row per line."""
    collected = collected_columns(patients)
    blocks: list[tuple[int | None, str, pd.DataFrame]] = [(None, ALL_COHORTS, patients)]
    cohort_ids = patients["cohort_id"].astype(str)
    for cid, number in sorted(numbers.items(), key=lambda item: item[1]):
        blocks.append((number, cid, patients[cohort_ids == cid]))
    rows = [{"cohort_no": number, "cohort_id": cid, **record}
            for number, cid, group in blocks
            for record in records_of(lines_of(group, collected))]
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS)).astype(
        {"cohort_no": object})


def events_frame(patients: pd.DataFrame, numbers: dict[str, int],
                 events: pd.DataFrame | None) -> pd.DataFrame:
    """Adverse events by organ class and term: all cohorts, then each numbered cohort."""
    cohort_ids = patients["cohort_id"].astype(str)
    blocks: list[tuple[int | None, str, pd.DataFrame]] = [(None, ALL_COHORTS, patients)]
    blocks += [(n, cid, patients[cohort_ids == cid])
               for cid, n in sorted(numbers.items(), key=lambda item: item[1])]
    rows = [{"cohort_no": n, "cohort_id": cid, **record}
            for n, cid, group in blocks for record in term_records(events, group)]
    columns = ["cohort_no", "cohort_id", "soc", "pt", "treated", "any",
               *(label for label, _, _ in GRADE_BANDS), "status"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return frame.rename(columns={"any": "patients_any_grade",
                                 **{label: f"patients_grade_{label}"
                                    for label, _, _ in GRADE_BANDS}}).astype(
        {"cohort_no": object})


def population_sheets(patients: pd.DataFrame, results: pd.DataFrame,
                      only: Sequence[str] | None = None,
                      events: pd.DataFrame | None = None) -> list[SheetSpec]:
    """The Baseline, Safety and Adverse events sheets (cohorts limited to ``only``)."""
    numbers = cohort_numbers(results)
    if only is not None:
        numbers = {c: n for c, n in numbers.items() if c in set(only)}
    integers = ("cohort_no", "n", "denominator")
    note = ("n of the denominator (the treated patients of the cohort); percent = n / "
            "denominator. Median, minimum and maximum in the unit given; time since diagnosis "
            "in months of 30.4375 days. Status 'not collected': no patient of the registry "
            "has a value.")
    return [
        SheetSpec("Baseline", population_frame(patients, numbers, baseline_lines),
                  units=PDF_NUMBER,
                  percent_columns=("percent",), integer_columns=integers, notes=(note,)),
        SheetSpec("Safety", population_frame(patients, numbers, worst_grade_lines),
                  units=PDF_NUMBER,
                  percent_columns=("percent",), integer_columns=integers,
                  notes=("Patients by the worst grade (CTCAE 0-5) of a treatment-related "
                         "adverse event; " + note,)),
        SheetSpec("Adverse events", events_frame(patients, numbers, events),
                  units=PDF_NUMBER,
                  integer_columns=("cohort_no", "treated", "patients_any_grade",
                                   *(f"patients_grade_{label}" for label, _, _ in GRADE_BANDS)),
                  notes=("Patients with an adverse event (any relation to the drug) by system "
                         "organ class (pt blank) and preferred term, counted once per term and "
                         "class at their worst grade (CTCAE); of the treated patients. Status "
                         "'not collected': no adverse-event file was given.",)),
    ]
