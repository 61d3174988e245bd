"""Wide, per-group views of the long results table, for renderers that show one row per cohort.

These are look-ups, not statistics: every number is copied from a results-table row. The column
names say which row (endpoint, statistic, denominator) a value came from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

RATE_ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("cbr", "evaluable"),
    ("cbr_durable", "evaluable"),
    ("orr", "evaluable"),
    ("dcr", "evaluable"),
    ("durable_sd", "evaluable"),
    ("sd_lasting", "sd_benefit_window"),
    ("pfs_rate", "evaluable"),
    ("severe_trae", "treated"),
    ("exceptional", "evaluable"),
    ("pfs_ratio", "with_prior_pfs"),
)
"""The rates shown per cohort, each with the denominator it is reported on."""

TIME_TO_EVENT: tuple[str, ...] = ("pfs", "os", "dor")
COUNTS: tuple[str, ...] = ("treated", "evaluable", "rare")


def _lookup(results: pd.DataFrame) -> dict[tuple[str, ...], object]:
    """Index the rows without a time by (group_by, group, endpoint, statistic, denominator),
    and by the same key without the denominator (first row wins)."""
    keyed = results[results["time"].isna() & (results["statistic"] != "curve")]
    index: dict[tuple[str, ...], object] = {}
    for record in keyed.itertuples(index=False):
        key = (record.group_by, record.group, record.endpoint, record.statistic)
        index[(*key, record.denominator)] = record
        index.setdefault(key, record)
    return index


def group_summary(results: pd.DataFrame, group_by: str = "cohort_id",
                  groups: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per group: counts, every rate with its CI, and PFS/OS/DoR medians with CIs.

    Rates are proportions (0-1) and medians months, as in the results table; a median that is
    not reached is NaN with ``<endpoint>_median_status`` = "not_reached".
    """
    index = _lookup(results)
    present = results.loc[results["group_by"] == group_by, "group"].drop_duplicates().tolist()
    wanted = present if groups is None else [g for g in groups if g in set(present)]
    records: list[dict[str, object]] = []
    for group in wanted:
        record: dict[str, object] = {group_by: group}
        for count in COUNTS:
            denominator = "" if count == "treated" else "treated"
            row = index.get((group_by, group, "patients", count, denominator))
            record[f"n_{count}"] = row.estimate if row is not None else np.nan
        row = index.get((group_by, group, "patients", "rare", "evaluable"))
        record["n_rare_evaluable"] = row.estimate if row is not None else np.nan
        for endpoint, denominator in RATE_ENDPOINTS:
            row = index.get((group_by, group, endpoint, "rate", denominator))
            for field in ("x", "n", "estimate", "lower", "upper"):
                name = endpoint if field == "estimate" else f"{endpoint}_{field}"
                record[name] = getattr(row, field) if row is not None else np.nan
        for endpoint in TIME_TO_EVENT:
            n_row = index.get((group_by, group, endpoint, "n"))
            record[f"{endpoint}_n"] = n_row.n if n_row is not None else np.nan
            record[f"{endpoint}_events"] = n_row.x if n_row is not None else np.nan
            for stat in ("median", "followup"):
                row = index.get((group_by, group, endpoint, stat))
                prefix = f"{endpoint}_{stat}"
                record[prefix] = row.estimate if row is not None else np.nan
                if stat == "median":
                    record[f"{prefix}_lower"] = row.lower if row is not None else np.nan
                    record[f"{prefix}_upper"] = row.upper if row is not None else np.nan
                    record[f"{prefix}_status"] = row.status if row is not None else "no_patients"
        records.append(record)
    return pd.DataFrame.from_records(records)
