"""The median PFS ratio (within-patient comparator) as a row of a cohort's endpoint table."""

from __future__ import annotations

from dossier.endpoints.pfs_ratio import MEDIAN_RATIO_ENDPOINT
from dossier.render.formatting import count_text, is_missing
from dossier.render.results_index import ResultsIndex


def ratio_text(estimate: object, lower: object, upper: object) -> str:
    """``1.12 (0.85-1.40)``; ``1.12 (CI not available)`` when too few patients give one."""
    if is_missing(estimate):
        return "NE"
    if is_missing(lower) or is_missing(upper):
        return f"{float(estimate):.2f} (CI not available)"  # type: ignore[arg-type]
    return (f"{float(estimate):.2f} ({float(lower):.2f}-"  # type: ignore[arg-type]
            f"{float(upper):.2f})")  # type: ignore[arg-type]


def median_ratio_rows(index: ResultsIndex, group: tuple[str, str]) -> list[dict[str, str]]:
    """The ``pfs_ratio_median`` row of a group as the endpoint table shows it (or nothing)."""
    row = index.get(group, MEDIAN_RATIO_ENDPOINT, "median")
    if row is None or is_missing(row["n"]) or not float(row["n"]):
        return []
    return [{"label": str(row["label"]),
             "value": ratio_text(row["estimate"], row["lower"], row["upper"]),
             "count": f"n = {count_text(row['n'])}",
             "denominator": f"{count_text(row['n'])} {row['denominator_label']}".strip(),
             "kind": "median"}]
