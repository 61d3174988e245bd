"""Why a workbook cell holds no number: "not reached", "not estimable" or "no patients".

A blank cell beside status "ok" tells a reviewer nothing; a median that was not reached and a
limit that cannot be estimated mean different things. Every estimate or confidence limit the
results table leaves empty is written as the word that says why, decided as the PDF decides
it (:func:`dossier.render.formatting.median_parts`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dossier.render.formatting import NOT_ESTIMABLE, NOT_REACHED, is_missing, median_parts
from dossier.render.tables import RATE_ENDPOINTS, TIME_TO_EVENT

NOT_REACHED_WORDS = "not reached"
NOT_ESTIMABLE_WORDS = "not estimable"
NO_PATIENTS_WORDS = "no patients"
ESTIMATED_UNITS = ("proportion", "months")
"""Rows with these units are estimates: a missing estimate or limit always has a reason."""
FIELDS = ("estimate", "lower", "upper")
QUANTILES = ("median", "followup", "q25", "q75")
_WORDS = {NOT_REACHED: NOT_REACHED_WORDS, NOT_ESTIMABLE: NOT_ESTIMABLE_WORDS}


def missing_words(row: Mapping[str, object]) -> dict[str, str]:
    """Field ("estimate", "lower", "upper") -> the reason it is empty, for an estimate row.

    Rows that are counts (patients) get nothing: a count has no confidence limits.
    """
    if str(row.get("unit")) not in ESTIMATED_UNITS:
        return {}
    empty = [f for f in FIELDS if is_missing(row.get(f))]
    if not empty:
        return {}
    if str(row.get("status")) == "no_patients":
        return dict.fromkeys(empty, NO_PATIENTS_WORDS)
    if str(row.get("statistic")) in QUANTILES:
        parts = dict(zip(FIELDS, median_parts(dict(row)), strict=True))
        return {f: _WORDS.get(parts[f], NOT_ESTIMABLE_WORDS) for f in empty}
    return dict.fromkeys(empty, NOT_ESTIMABLE_WORDS)


def explain_long(results: pd.DataFrame) -> pd.DataFrame:
    """The long results table with every empty estimate or limit replaced by its reason."""
    out = results.astype({f: object for f in FIELDS})
    records = out.to_dict("records")
    for position, record in enumerate(records):
        for column, word in missing_words(record).items():
            out.iat[position, out.columns.get_loc(column)] = word
    return out


def _wide_columns() -> dict[str, tuple[str, str, str | None, str]]:
    """Cohorts-sheet column -> (endpoint, statistic, denominator, field) of its results row."""
    columns: dict[str, tuple[str, str, str | None, str]] = {}
    for endpoint, denominator in RATE_ENDPOINTS:
        for field, name in (("estimate", endpoint), ("lower", f"{endpoint}_lower"),
                            ("upper", f"{endpoint}_upper")):
            columns[name] = (endpoint, "rate", denominator, field)
    for endpoint in TIME_TO_EVENT:
        columns[f"{endpoint}_median"] = (endpoint, "median", None, "estimate")
        columns[f"{endpoint}_median_lower"] = (endpoint, "median", None, "lower")
        columns[f"{endpoint}_median_upper"] = (endpoint, "median", None, "upper")
        columns[f"{endpoint}_followup"] = (endpoint, "followup", None, "estimate")
    return columns


def explain_wide(wide: pd.DataFrame, results: pd.DataFrame, group_by: str = "cohort_id"
                 ) -> pd.DataFrame:
    """A one-row-per-group summary (:func:`dossier.render.tables.group_summary`) with every
    empty estimate or limit replaced by its reason, read from the group's results row."""
    keyed = results[(results["group_by"] == group_by) & results["time"].isna()]
    rows: dict[tuple[str, str, str, str], dict[str, object]] = {}
    for record in keyed.to_dict("records"):
        key = (str(record["group"]), str(record["endpoint"]), str(record["statistic"]))
        rows.setdefault((*key, str(record["denominator"])), record)
        rows.setdefault((*key, ""), record)
    columns = {c: v for c, v in _wide_columns().items() if c in wide.columns}
    out = wide.astype(dict.fromkeys(columns, object))
    for position, group in enumerate(out[group_by].astype(str).tolist()):
        for column, (endpoint, statistic, denominator, field) in columns.items():
            if not is_missing(out.iat[position, out.columns.get_loc(column)]):
                continue
            row = rows.get((group, endpoint, statistic, denominator or ""))
            word = NO_PATIENTS_WORDS if row is None else missing_words(row).get(field)
            if word:
                out.iat[position, out.columns.get_loc(column)] = word
    return out

