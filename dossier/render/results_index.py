"""The results table indexed for the renderers: rows by (group_by, group, endpoint, statistic).

Every figure a report shows is looked up here; nothing is estimated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from dossier.render.formatting import (
    Row,
    is_missing,
)

POOLED = ("all", "all")
COHORT = "cohort_id"
_nan = is_missing


# --------------------------------------------------------------------------- lookups


class ResultsIndex:
    """The results table indexed by (group_by, group, endpoint, statistic): rows as dicts.

    Built in one pass over the columns (no per-row pandas work); curve and number-at-risk rows
    are kept apart, per cohort, for the figures.
    """

    def __init__(self, results: pd.DataFrame) -> None:
        missing = [c for c in ("group_by", "group", "endpoint", "statistic", "time", "estimate",
                               "lower", "upper", "x", "n", "denominator", "status", "method",
                               "parameters") if c not in results.columns]
        if missing:
            raise ValueError(f"results table lacks column(s) {', '.join(missing)}")
        self.frame = results
        self._rows: dict[tuple[str, str, str, str], list[dict[str, object]]] = {}
        statistic = results["statistic"].astype(str).to_numpy()
        keep = (statistic != "curve") & (statistic != "n_risk")
        small = results.loc[keep]
        names = list(small.columns)
        for values in zip(*(small[c].tolist() for c in names), strict=True):
            row = dict(zip(names, values, strict=True))
            key = (str(row["group_by"]), str(row["group"]), str(row["endpoint"]),
                   str(row["statistic"]))
            self._rows.setdefault(key, []).append(row)
        cohort_rows = results.loc[results["group_by"].astype(str) == COHORT]
        self.groups: list[str] = list(dict.fromkeys(cohort_rows["group"].astype(str)))
        self._by_group = {str(g): f for g, f in cohort_rows.groupby("group", sort=False)}

    def get(self, group: tuple[str, str], endpoint: str, statistic: str,
            denominator: str | None = None, time: float | None = None
            ) -> dict[str, object] | None:
        """The one row that matches, or None; ``denominator``/``time`` narrow the choice."""
        for row in self._rows.get((*group, endpoint, statistic), ()):
            if denominator is not None and row["denominator"] != denominator:
                continue
            if time is not None and (_nan(row["time"]) or abs(float(row["time"]) - time) > 1e-9):
                continue
            return row
        return None

    def cohort_frame(self, cohort_id: str) -> pd.DataFrame:
        """Every results row of one cohort (figures read their curve rows from it)."""
        return self._by_group[cohort_id]


def row_parameters(row: Row | None) -> dict[str, object]:
    if row is None or not row.get("parameters"):
        return {}
    try:
        found = json.loads(str(row["parameters"]))
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}




def cohort_numbers(results: pd.DataFrame, only: Sequence[str] | None = None) -> dict[str, int]:
    """Cohort id -> the number the PDF gives it (1, 2, ...): the order of the results table,
    kept to ``only`` when given. The workbook and the PDF both number cohorts this way."""
    groups = results.loc[results["group_by"].astype(str) == COHORT, "group"].astype(str)
    ordered = list(dict.fromkeys(groups))
    if only is not None:
        chosen = set(only)
        ordered = [g for g in ordered if g in chosen]
    return {cid: k for k, cid in enumerate(ordered, start=1)}
