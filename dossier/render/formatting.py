"""How every output writes a number: terminal, PDF, workbook notes, Word and Quarto alike.

One module so that a figure reads the same everywhere: "34.9% (32.2-37.6)", "3.4 (2.8-3.5)
months", "1,610". Missing parts are told apart: **NR** (not reached) only for a median, or the
upper limit of its CI, of a curve that stays above 0.5 within follow-up; **NE** (not estimable)
for every other missing estimate or limit (a lower limit, a rate's limit, a curve that fell to 0,
a follow-up with no censored patient, a landmark beyond the last observation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

NOT_REACHED = "NR"
"""A median (or the upper limit of its CI) the curve never came down to: only beyond follow-up."""
NOT_ESTIMABLE = "NE"
"""A missing estimate or limit that is not 'not reached' (see the module docstring)."""
NOT_AVAILABLE = "not available"
"""A figure the results table does not hold at all."""
NO_PATIENTS = "no patients"
"""A figure whose denominator is empty."""
NOT_ESTIMABLE_WORDS = "not estimable"
BEYOND_LAST = "not estimable (beyond the last observation)"

Row = Mapping[str, Any]
"""A results-table row as a mapping from column name to value."""


def is_missing(value: Any) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number_words(value: object) -> str:
    """A parameter as people write it: 16 not 16.0, 1.3 as is, text unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{float(value):g}"


def count_text(value: Any) -> str:
    """A count with thousands separators: ``1,610``; "" when not available."""
    return "" if is_missing(value) else f"{round(float(value)):,}"


def percent_text(value: Any, missing: str = NOT_ESTIMABLE) -> str:
    """A proportion 0-1 as a percentage with one decimal: ``34.9%``; NE when missing."""
    return missing if is_missing(value) else f"{float(value) * 100:.1f}%"


def months_value_text(value: Any, decimals: int = 1, missing: str = "") -> str:
    """Months with one decimal (``3.4``); ``missing`` ("" by default) when not recorded."""
    return missing if is_missing(value) else f"{float(value):.{decimals}f}"


def limit_text(value: Any, percent: bool, missing: str = NOT_ESTIMABLE) -> str:
    """One confidence limit: ``32.2`` (a percentage without its sign) or months."""
    if is_missing(value):
        return missing
    return f"{float(value) * 100:.1f}" if percent else f"{float(value):.1f}"


def ci_text(row: Row, percent: bool, missing: str = NOT_ESTIMABLE) -> str:
    """``(32.2-37.6)``: the CI limits of a row, ``missing`` for an absent limit."""
    return (f"({limit_text(row['lower'], percent, missing)}-"
            f"{limit_text(row['upper'], percent, missing)})")


def unavailable(row: Row | None, no_patients: str = NO_PATIENTS) -> str | None:
    """The text for a row that has no figure (absent, or no patients); None when it has one."""
    if row is None:
        return NOT_AVAILABLE
    return no_patients if row["status"] == "no_patients" else None


def rate_text(row: Row | None, no_patients: str = NO_PATIENTS) -> str:
    """``34.9% (32.2-37.6)``: a rate with its CI; "no patients" for an empty denominator."""
    if (absent := unavailable(row, no_patients)) is not None:
        return absent
    assert row is not None
    if is_missing(row["estimate"]):
        return NOT_ESTIMABLE_WORDS
    return f"{percent_text(row['estimate'])} {ci_text(row, True)}"


MEDIAN_DECIMALS = 2
"""Months of a median (and its CI, and the median follow-up) wherever dossier prints one: at 1
decimal an estimate can print equal to its confidence limit (3.4 (2.8-3.4)) although the two
differ, and a reader must find the same figure in the tables, the verdicts and the plots."""


def median_parts(row: Row, decimals: int = MEDIAN_DECIMALS) -> tuple[str, str, str]:
    """Estimate, lower and upper limit of a median (or median follow-up) row, as text.

    NR only for an estimate or upper limit of a curve that stays above 0.5 within follow-up;
    NE for everything else that is missing: a lower limit (it can never be "not reached"), an
    upper limit of a curve that fell to 0 (every patient had the event, e.g. a median from one
    responder), and a follow-up with no censored patient.
    """
    x, n = row.get("x"), row.get("n")
    reached_zero = not is_missing(x) and not is_missing(n) and float(n) > 0 \
        and float(x) >= float(n)
    if row.get("statistic") == "followup" and (is_missing(x) or float(x) == 0):
        return NOT_ESTIMABLE, NOT_ESTIMABLE, NOT_ESTIMABLE

    def text(value: Any, missing: str) -> str:
        return missing if is_missing(value) else f"{float(value):.{decimals}f}"

    above = NOT_ESTIMABLE if reached_zero else NOT_REACHED
    return (text(row["estimate"], above), text(row["lower"], NOT_ESTIMABLE),
            text(row["upper"], above))


def median_text(row: Row | None, decimals: int = MEDIAN_DECIMALS, unit: str = " months",
                no_patients: str = NO_PATIENTS) -> str:
    """``3.4 (2.8-3.5) months``; NR / NE for a missing part as :func:`median_parts` decides."""
    if (absent := unavailable(row, no_patients)) is not None:
        return absent
    assert row is not None
    estimate, lower, upper = median_parts(row, decimals)
    return f"{estimate} ({lower}-{upper}){unit}"


def survival_text(row: Row | None) -> str:
    """A landmark survival ``45.2% (40.1-50.3)``; NE for a limit that is not estimable."""
    if (absent := unavailable(row)) is not None:
        return absent
    assert row is not None
    if row["status"] == "not_estimable" or is_missing(row["estimate"]):
        return BEYOND_LAST
    return f"{percent_text(row['estimate'])} {ci_text(row, True)}"


def fraction_text(row: Row | None) -> str:
    """``476/1,363``: numerator over denominator of a rate row."""
    if row is None or is_missing(row["x"]) or is_missing(row["n"]):
        return ""
    return f"{count_text(row['x'])}/{count_text(row['n'])}"
