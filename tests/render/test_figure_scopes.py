"""Figures that say what they show: the DRUP stage-2 bar only across the cohorts it applies to,
and a swimmer plot of a large cohort that says how its lanes were chosen."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from dossier.render.figures import ForestRow, forest_svg, swimmer_svg
from dossier.render.report_figures import forest_figures
from dossier.render.results_index import ResultsIndex

SVG_NS = "{http://www.w3.org/2000/svg}"


def _classed(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [el for el in root.iter() if el.get("class") == css_class]


def _row_centres(root: ET.Element) -> dict[str, float]:
    """Row label -> the vertical centre of its row (from the drawn estimate text)."""
    out = {}
    for group in _classed(root, "forest-row"):
        label = next(el for el in group if el.get("class") == "forest-label")
        title = label.find(f"{SVG_NS}title")
        text = title.text if title is not None else label.text
        estimate = next(el for el in group if el.get("class") == "forest-estimate")
        out[text] = float(estimate.get("y"))
    return out


def test_a_scoped_threshold_is_drawn_across_its_rows_only():
    rows = [ForestRow(name, 0.3, 0.1, 0.5, "3/10") for name in "ABCD"]
    svg = forest_svg(rows, title="t", thresholds=[(0.2083, "DRUP"), (0.2, "ESMO")],
                     threshold_rows=[{"B", "C"}, None])
    root = ET.fromstring(svg)
    centres = _row_centres(root)
    lines = _classed(root, "threshold-line")
    drup = [el for el in lines if el.get("stroke-dasharray") == "4 2"]
    esmo = [el for el in lines if el.get("stroke-dasharray") == "1.5 1.5"]
    assert len(drup) == 1 and len(esmo) == 1  # B and C are adjacent: one segment
    y1, y2 = float(drup[0].get("y1")), float(drup[0].get("y2"))
    inside = {name for name, y in centres.items() if y1 < y < y2}
    assert inside == {"B", "C"}
    assert float(esmo[0].get("y2")) > max(centres.values())  # unscoped: down to the axis


def test_a_threshold_that_applies_to_no_row_is_not_drawn():
    rows = [ForestRow("A", 0.3, 0.1, 0.5, "3/8")]
    root = ET.fromstring(forest_svg(rows, title="t", thresholds=[(0.2083, "DRUP")],
                                    threshold_rows=[set()]))
    assert _classed(root, "threshold-line") == [] and _classed(root, "threshold-label") == []


def _rate_rows() -> pd.DataFrame:
    base = {"group_by": "cohort_id", "endpoint": "cbr", "statistic": "rate", "time": math.nan,
            "denominator": "evaluable", "status": "ok", "method": "", "parameters": "{}",
            "unit": "proportion"}
    return pd.DataFrame([{**base, "group": g, "estimate": x / n, "lower": 0.05, "upper": 0.6,
                          "x": float(x), "n": float(n)}
                         for g, x, n in (("small", 1, 8), ("big", 6, 24), ("bigger", 9, 40))])


def test_the_drup_bar_applies_to_cohorts_with_24_evaluable_and_says_so():
    index = ResultsIndex(_rate_rows())
    labels = {"small": "1. small", "big": "2. big", "bigger": "3. bigger"}
    (svg,) = forest_figures(index, "cbr", labels, "CBR", [(5 / 24, "DRUP stage 2: 5/24")],
                            min_patients=(24,))
    root = ET.fromstring(svg)
    centres = _row_centres(root)
    (line,) = _classed(root, "threshold-line")
    y1, y2 = float(line.get("y1")), float(line.get("y2"))
    assert {n for n, y in centres.items() if y1 < y < y2} == {"2. big", "3. bigger"}
    labels_drawn = ["".join(el.itertext()) for el in _classed(root, "threshold-label")]
    assert labels_drawn == ["DRUP stage 2: 5/24, drawn for cohorts with >= 24 evaluable"]


def _patients(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    pfs = rng.integers(10, 900, n).astype(float)
    return pd.DataFrame({"patient_id": [f"P{i:03d}" for i in range(n)],
                         "best_response": ["SD"] * n, "response_days": [np.nan] * n,
                         "pfs_days": pfs, "pfs_event": [1] * n, "os_days": pfs + 30,
                         "os_event": [0] * n})


def test_a_large_swimmer_plot_says_which_patients_it_shows():
    root = ET.fromstring(swimmer_svg(_patients(75), title="t"))
    note = " ".join("".join(el.itertext()) for el in _classed(root, "swimmer-note"))
    assert note == ("showing 60 of 75 patients: the 60 with the longest progression-free time; "
                    "the other 15 progressed or were censored earlier")
    assert len(_classed(root, "swimmer-lane")) == 60


def test_threshold_labels_stay_inside_the_figure_however_long():
    from dossier.render.svg import FIGURE_WIDTH_PT, text_width

    rows = [ForestRow(name, 0.3, 0.1, 0.5, "3/10") for name in "AB"]
    long = "DRUP stage 2: 5/24 = 20.8%, drawn for cohorts with >= 24 evaluable patients"
    for value in (0.02, 0.2083, 0.5, 0.97):
        root = ET.fromstring(forest_svg(rows, title="t", thresholds=[(value, long)]))
        (label,) = _classed(root, "threshold-label")
        x, width = float(label.get("x")), text_width(long, 7.5)
        left = x - width if label.get("text-anchor") == "end" else x
        assert left >= 0 and left + width <= FIGURE_WIDTH_PT, value
