"""Workbook sheets 'Baseline' and 'Safety': the population tables as numbers, one line a row.

Each row is one line of ``dossier.endpoints.population`` for all cohorts or one cohort (numbered
as in the PDF: the order of the results table), with counts, shares, medians and ranges stored
as numbers and "not collected" spelled out in the status column, never left blank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from dossier.endpoints.adverse_events import GRADE_BANDS
from dossier.endpoints.population import (
    ALL_COHORTS,
    GroupRecords,
    collected_columns,
    group_records,
    population_records,
)
from dossier.render.xlsx import SheetSpec

COLUMNS = ("cohort_no", "cohort_id", "characteristic", "category", "unit", "n",
           "denominator", "percent", "median", "minimum", "maximum", "status")


def cohort_numbers(results: pd.DataFrame) -> dict[str, int]:
    """Cohort id -> the number the PDF gives it (order of first appearance in the results)."""
    rows = results[results["group_by"] == "cohort_id"]
    return {cid: k + 1 for k, cid in enumerate(dict.fromkeys(rows["group"].astype(str)))}


PDF_NUMBER = {"cohort_no": "as in the PDF"}
"""The cohort number column carries the number the PDF gives the cohort, as on other sheets."""

def population_frame(records: Mapping[str, GroupRecords], numbers: dict[str, int],
                     section: str) -> pd.DataFrame:
    """All cohorts first, then each numbered cohort, one row per line of ``section`` of their
    records ("baseline" or "safety")."""
    rows = [{"cohort_no": number, "cohort_id": cid, **record}
            for number, cid in _blocks(numbers) for record in records[cid][section]]
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS)).astype(
        {"cohort_no": object})


def _blocks(numbers: dict[str, int]) -> list[tuple[int | None, str]]:
    return [(None, ALL_COHORTS), *((n, cid) for cid, n in
                                   sorted(numbers.items(), key=lambda item: item[1]))]


def events_frame(records: Mapping[str, GroupRecords], numbers: dict[str, int]) -> pd.DataFrame:
    """Adverse events by organ class and term: all cohorts, then each numbered cohort."""
    rows = [{"cohort_no": n, "cohort_id": cid, **record}
            for n, cid in _blocks(numbers) for record in records[cid]["adverse_events"]]
    columns = ["cohort_no", "cohort_id", "soc", "pt", "treated", "any",
               *(label for label, _, _ in GRADE_BANDS), "status"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return frame.rename(columns={"any": "patients_any_grade",
                                 **{label: f"patients_grade_{label}"
                                    for label, _, _ in GRADE_BANDS}}).astype(
        {"cohort_no": object})


def population_sheets(patients: pd.DataFrame, results: pd.DataFrame,
                      only: Sequence[str] | None = None,
                      events: pd.DataFrame | None = None,
                      records: Mapping[str, GroupRecords] | None = None) -> list[SheetSpec]:
    """The Baseline, Safety and Adverse events sheets (cohorts limited to ``only``);
    ``records``: the groups' lines when already counted (as :func:`population_records`)."""
    numbers = cohort_numbers(results)
    if only is not None:
        numbers = {c: n for c, n in numbers.items() if c in set(only)}
    if records is None:
        records = population_records(patients, list(numbers), events)
    missing = [cid for cid in numbers if cid not in records]  # a cohort none was treated in
    if missing:
        none = group_records(patients.iloc[0:0], collected_columns(patients), events)
        records = {**records, **dict.fromkeys(missing, none)}
    integers = ("cohort_no", "n", "denominator")
    note = ("n of the denominator (the treated patients of the cohort); percent = n / "
            "denominator. Median, minimum and maximum in the unit given; time since diagnosis "
            "in months of 30.4375 days. Status 'not collected': no patient of the registry "
            "has a value.")
    return [
        SheetSpec("Baseline", population_frame(records, numbers, "baseline"),
                  units=PDF_NUMBER,
                  percent_columns=("percent",), integer_columns=integers, notes=(note,)),
        SheetSpec("Safety", population_frame(records, numbers, "safety"),
                  units=PDF_NUMBER,
                  percent_columns=("percent",), integer_columns=integers,
                  notes=("Patients by the worst grade (CTCAE 0-5) of a treatment-related "
                         "adverse event; " + note,)),
        SheetSpec("Adverse events", events_frame(records, numbers),
                  units=PDF_NUMBER,
                  integer_columns=("cohort_no", "treated", "patients_any_grade",
                                   *(f"patients_grade_{label}" for label, _, _ in GRADE_BANDS)),
                  notes=("Patients with an adverse event (any relation to the drug) by system "
                         "organ class (pt blank) and preferred term, counted once per term and "
                         "class at their worst grade (CTCAE); of the treated patients. Status "
                         "'not collected': no adverse-event file was given.",)),
    ]
