"""One formatting module: NR only for a median (or its upper limit) not reached, NE for every
other missing part; the terminal and the PDF write a figure alike."""

from __future__ import annotations

import math

from dossier.commands.endpoints import format_median, format_rate
from dossier.render.context import months_text
from dossier.render.formatting import (
    median_parts,
    percent_text,
    rate_text,
    survival_text,
)

NAN = math.nan


def median(estimate, lower, upper, x=3.0, n=10.0, statistic="median"):
    return {"estimate": estimate, "lower": lower, "upper": upper, "x": x, "n": n,
            "statistic": statistic, "status": "ok" if estimate == estimate else "not_reached"}


def test_not_reached_and_not_estimable_stay_distinct():
    assert median_parts(median(NAN, NAN, NAN)) == ("NR", "NE", "NR")
    assert median_parts(median(4.0, 2.5, NAN)) == ("4.00", "2.50", "NR")
    assert median_parts(median(4.0, NAN, NAN, x=1.0, n=1.0)) == ("4.00", "NE", "NE")  # fell to 0
    assert median_parts(median(NAN, NAN, NAN, x=0.0, statistic="followup")) == ("NE",) * 3
    assert percent_text(NAN) == "NE"  # a rate is never "not reached"
    rate = {"estimate": 0.5, "lower": NAN, "upper": 0.9, "status": "ok"}
    assert rate_text(rate) == "50.0% (NE-90.0)"
    assert survival_text({"estimate": NAN, "lower": NAN, "upper": NAN,
                          "status": "not_estimable"}) == \
        "not estimable (beyond the last observation)"


def test_the_terminal_and_the_pdf_agree():
    row = median(NAN, 3.1, NAN)
    assert format_median(row) == "NR (3.10-NR)"
    assert months_text(row) == "NR (3.10-NR) months"
    row = median(NAN, NAN, NAN)
    assert format_median(row) + " months" == months_text(row) == "NR (NE-NR) months"
    rate = {"estimate": 0.349, "lower": 0.322, "upper": 0.376, "status": "ok"}
    assert format_rate(rate) == rate_text(rate) == "34.9% (32.2-37.6)"
    empty = {"estimate": NAN, "lower": NAN, "upper": NAN, "status": "no_patients"}
    assert format_rate(empty) == format_median(empty) == "-"
    assert rate_text(empty) == months_text(empty) == "no patients"
