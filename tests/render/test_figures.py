"""Tests of the dossier figures (Kaplan-Meier, swimmer, forest) drawn as inline SVG.

The figures are parsed with xml.etree and checked on geometry: where a count, a vertex or a
threshold line lands, relative to the axis ticks the figure itself draws.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from dossier.registry.schema import DAYS_PER_MONTH
from dossier.render.figures import (
    MAX_LANES,
    ForestRow,
    KMCurveData,
    forest_rows_from_results,
    forest_svg,
    km_curve_data_from_results,
    km_plot_svg,
    readable_x_max,
    swimmer_svg,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & Co\'s'

# Ten patients (months, event): the product-limit steps below are written from this list.
PATIENTS = [(1, 1), (2, 1), (3, 0), (4, 1), (4, 1), (5, 0), (5, 0), (7, 1), (9, 0), (10, 0)]


def _steps() -> list[dict]:
    """Curve rows (contract D) of PATIENTS: one per distinct observed time."""
    rows, surv = [], 1.0
    for t in sorted({t for t, _ in PATIENTS}):
        at_risk = sum(1 for s, _ in PATIENTS if s >= t)
        events = sum(1 for s, e in PATIENTS if s == t and e)
        surv *= 1 - events / at_risk
        rows.append({"time": float(t), "estimate": surv, "n": float(at_risk),
                     "x": float(events)})
    return rows


def _results(group: str = "A", endpoint: str = "pfs", n_risk_times=(3.0, 6.0)) -> pd.DataFrame:
    base = {"group_by": "cohort_id", "group": group, "endpoint": endpoint, "unit": "",
            "denominator": "", "status": "ok", "method": "", "parameters": "{}"}
    rows = []
    for i, step in enumerate(_steps()):
        # CI limits are inputs here; the step at 7 months has no lower limit (R's NA)
        lower = math.nan if step["time"] == 7 else max(step["estimate"] - 0.2, 0.0)
        rows.append({**base, "statistic": "curve", **step, "lower": lower,
                     "upper": min(step["estimate"] + 0.1 + 0.01 * i, 1.0)})
    for t in n_risk_times:
        rows.append({**base, "statistic": "n_risk", "time": t, "lower": math.nan,
                     "upper": math.nan, "x": math.nan,
                     "estimate": float(sum(1 for s, _ in PATIENTS if s >= t)), "n": math.nan})
    rows.append({**base, "statistic": "median", "time": math.nan, "estimate": 7.0,
                 "lower": 4.0, "upper": math.nan, "x": math.nan, "n": math.nan})
    return pd.DataFrame(rows)


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return root


def _classed(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [el for el in root.iter() if el.get("class") == css_class]


def _texts(root: ET.Element, css_class: str) -> list[str]:
    return ["".join(el.itertext()) if el.find(f"{SVG_NS}title") is None
            else (el.find(f"{SVG_NS}title").tail or "") for el in _classed(root, css_class)]


def _tick_x(root: ET.Element) -> dict[str, float]:
    return {el.text: float(el.get("x")) for el in _classed(root, "x-tick-label")}


def _tick_y(root: ET.Element) -> dict[str, float]:
    return {el.text: float(el.get("y")) for el in _classed(root, "y-tick-label")}


def _path_commands(d: str) -> list[tuple[str, list[float]]]:
    return [(cmd, [float(v) for v in args.split()])
            for cmd, args in re.findall(r"([MHVLZ])([^MHVLZ]*)", d)]


def _scales(root: ET.Element, x_max: float):
    """The figure's own x and y maps, recovered from where it drew its tick labels."""
    ticks = _tick_x(root)
    x0 = ticks["0"]
    x_end = ticks[f"{x_max:g}"]
    y_ticks = _tick_y(root)
    # y tick labels sit 0.35 em (8 pt font) below their tick; undo that offset
    y0, y100 = y_ticks["0"] - 2.8, y_ticks["100"] - 2.8
    return (lambda t: x0 + t / x_max * (x_end - x0)), (lambda s: y0 + s * (y100 - y0))


def _curve() -> KMCurveData:
    return km_curve_data_from_results(_results(), "cohort_id", "A", "pfs")


# --- Kaplan-Meier -------------------------------------------------------------------------


def test_km_figure_is_well_formed_svg_with_size_in_mm_and_a_viewbox():
    root = _parse(km_plot_svg([_curve()], title="PFS"))
    assert root.get("width").endswith("mm") and root.get("height").endswith("mm")
    width_pt = float(root.get("viewBox").split()[2])
    assert float(root.get("width")[:-2]) == pytest.approx(width_pt * 25.4 / 72, abs=0.01)
    assert 165 <= float(root.get("width")[:-2]) <= 172  # fits an A4 text width
    assert "sans-serif" in root.get("font-family")


def test_km_text_is_never_smaller_than_7pt():
    root = _parse(km_plot_svg([_curve()], title="PFS"))
    sizes = [float(el.get("font-size")) for el in root.iter(f"{SVG_NS}text")]
    assert sizes and min(sizes) >= 7.0


def test_numbers_at_risk_are_centred_exactly_under_their_tick_labels():
    curve = _curve()
    root = _parse(km_plot_svg([curve, _curve()], title="PFS"))
    ticks = _tick_x(root)
    counts = _classed(root, "km-at-risk")
    assert len(counts) == 2 * len(ticks)  # two rows, one count under every tick 0..12
    for el, tick in zip(counts, [*ticks, *ticks], strict=True):
        assert el.get("x") == f"{ticks[tick]:.2f}"
        assert el.get("text-anchor") == "middle"
        expected = sum(1 for s, _ in PATIENTS if s >= float(tick))
        assert el.text == str(expected)


def test_at_risk_row_labels_end_before_the_first_count():
    long_label = "Nivolumab | Colorectal cancer | MSI-high / dMMR"
    curve = KMCurveData(long_label, [1.0], [0.5], [None], [None], at_risk={0.0: 1000})
    root = _parse(km_plot_svg([curve], title="PFS"))
    (label,) = _classed(root, "at-risk-label")
    shown = label.find(f"{SVG_NS}title").tail
    assert shown.endswith("…")
    first = _classed(root, "km-at-risk")[0]
    label_end = float(label.get("x")) + len(shown) * 7.5 * 0.6
    count_start = float(first.get("x")) - len(first.text) * 7.5 * 0.6 / 2
    assert label_end < count_start


def test_at_risk_times_not_on_a_tick_still_use_the_axis_x_function():
    times = [0.0, 4.5, 9.0]
    curve = km_curve_data_from_results(_results(), "cohort_id", "A", "pfs", at_risk_times=times)
    root = _parse(km_plot_svg([curve], title="PFS", at_risk_times=times))
    x, _ = _scales(root, 12.0)
    xs = [float(el.get("x")) for el in _classed(root, "km-at-risk")]
    assert xs == pytest.approx([x(0.0), x(4.5), x(9.0)], abs=0.011)
    assert [el.text for el in _classed(root, "km-at-risk")] == ["10", "5", "2"]


def test_step_path_vertices_are_the_curve_points_through_the_axis_scales():
    curve = _curve()
    root = _parse(km_plot_svg([curve], title="PFS", ci_band=False))
    x, y = _scales(root, 12.0)
    (path,) = _classed(root, "km-curve")
    commands = _path_commands(path.get("d"))
    assert commands[0][0] == "M"
    assert commands[0][1] == pytest.approx([x(0), y(1.0)], abs=0.011)
    assert {cmd for cmd, _ in commands[1:]} == {"H", "V"}  # a true step function
    # vertices: (x at a drop, y before) then (same x, y after); only times with events drop
    drops = [(float(t), s) for t, s, ev in zip(curve.time, curve.surv,
                                              [r["x"] for r in _steps()], strict=True) if ev]
    hv = commands[1:]
    for i, (t, s) in enumerate(drops):
        assert hv[2 * i][0] == "H" and hv[2 * i][1][0] == pytest.approx(x(t), abs=0.011)
        assert hv[2 * i + 1][0] == "V" and hv[2 * i + 1][1][0] == pytest.approx(y(s), abs=0.011)
    # and the curve runs on to the last observation (10 months), not to the axis end
    assert hv[-1] == ("H", [pytest.approx(x(10.0), abs=0.011)])
    assert len(hv) == 2 * len(drops) + 1


def test_curve_is_clipped_at_x_max_and_ticks_follow_the_range():
    root = _parse(km_plot_svg([_curve()], title="PFS", x_max=6.0))
    assert list(_tick_x(root)) == ["0", "3", "6"]
    x, _ = _scales(root, 6.0)
    (path,) = _classed(root, "km-curve")
    xs = [args[0] for cmd, args in _path_commands(path.get("d")) if cmd in "MH"]
    assert max(xs) == pytest.approx(x(6.0), abs=0.011)
    assert len(_classed(root, "km-censor")) == 2  # censored at 3 and 5; 9 and 10 are cut off
    long_root = _parse(km_plot_svg([_curve()], title="OS", x_max=36.0))
    assert list(_tick_x(long_root)) == ["0", "6", "12", "18", "24", "30", "36"]


def test_ci_band_is_a_light_step_polygon_broken_where_a_limit_is_missing():
    curve = _curve()
    root = _parse(km_plot_svg([curve], title="PFS"))
    bands = _classed(root, "km-ci")
    assert len(bands) == 2  # the 7-month step has no lower limit, splitting the band
    assert all(float(b.get("fill-opacity")) < 0.5 for b in bands)
    _, y = _scales(root, 12.0)
    first = _path_commands(bands[0].get("d"))
    assert first[0][0] == "M" and first[-1][0] == "Z"
    assert first[0][1][1] == pytest.approx(y(curve.upper[0]), abs=0.011)
    verticals = [args[0] for cmd, args in first if cmd == "V"]
    assert any(v == pytest.approx(y(curve.lower[0]), abs=0.011) for v in verticals)


def test_one_censor_mark_per_censored_time_on_the_curve():
    curve = _curve()
    censored = sorted({t for t, e in PATIENTS if not e})
    assert list(curve.censor_times) == censored
    root = _parse(km_plot_svg([curve], title="PFS"))
    marks = _classed(root, "km-censor")
    assert len(marks) == len(censored)
    x, y = _scales(root, 12.0)
    centres = [(args[0] + 2.5, args[1]) for args in
               (_path_commands(m.get("d"))[0][1] for m in marks)]
    surv_at = dict(zip(curve.time, curve.surv, strict=True))
    for (cx, cy), t in zip(centres, censored, strict=True):
        assert cx == pytest.approx(x(t), abs=0.011)
        assert cy == pytest.approx(y(surv_at[t]), abs=0.011)


def test_curve_data_reads_steps_limits_and_numbers_at_risk_from_results():
    curve = _curve()
    steps = _steps()
    assert list(curve.time) == [r["time"] for r in steps]
    assert list(curve.surv) == [r["estimate"] for r in steps]
    assert curve.lower[list(curve.time).index(7.0)] is None
    assert curve.label == "A"
    for t, count in curve.at_risk.items():
        assert count == sum(1 for s, _ in PATIENTS if s >= t)
    assert {0.0, 3.0, 6.0, 9.0, 12.0} <= set(curve.at_risk)


def test_curve_rows_that_skip_censored_times_are_refused():
    results = _results()  # drop the censoring-only step at 3 months
    results = results[~((results["statistic"] == "curve") & (results["time"] == 3.0))]
    with pytest.raises(ValueError, match="every distinct observed time"):
        km_curve_data_from_results(results, "cohort_id", "A", "pfs")


def test_unknown_group_is_named_in_the_error():
    with pytest.raises(ValueError, match="group='B'"):
        km_curve_data_from_results(_results(), "cohort_id", "B", "pfs")


def test_group_without_curve_rows_gives_an_empty_curve():
    results = _results()
    results = results[results["statistic"] != "curve"]
    curve = km_curve_data_from_results(results, "cohort_id", "A", "pfs")
    assert curve.is_empty


def test_empty_curve_draws_a_no_patients_figure_instead_of_crashing():
    empty = KMCurveData("Cohort X", [], [], [], [])
    root = _parse(km_plot_svg([empty], title="OS"))
    assert _texts(root, "km-no-patients") == ["no patients"]
    assert _classed(root, "km-curve") == []
    root_none = _parse(km_plot_svg([], title="OS"))
    assert _texts(root_none, "km-no-patients") == ["no patients"]


def test_an_empty_curve_beside_a_real_one_is_flagged_in_the_legend():
    root = _parse(km_plot_svg([_curve(), KMCurveData("Cohort X", [], [], [], [])],
                              title="PFS"))
    assert "Cohort X (no patients)" in _texts(root, "legend-label")
    assert len(_classed(root, "km-curve")) == 1
    second_row = _classed(root, "km-at-risk")[len(_tick_x(root)):]
    assert {el.text for el in second_row} == {"0"}


def test_hostile_labels_appear_as_plain_text_in_every_figure():
    curve = KMCurveData(HOSTILE, [1.0], [0.5], [0.2], [0.8], at_risk={0.0: 2})
    patients = _patients(3).assign(patient_id=[HOSTILE, "P2", "P3"])
    figures = [
        km_plot_svg([curve], title=HOSTILE),
        swimmer_svg(patients, title=HOSTILE),
        forest_svg([ForestRow(HOSTILE, 0.5, 0.2, 0.8, "1/2")], title=HOSTILE,
                   thresholds=[(0.2, HOSTILE)]),
    ]
    for svg in figures:
        root = _parse(svg)
        assert "<script" not in svg
        assert not any(el.tag == f"{SVG_NS}script" for el in root.iter())
        texts = ["".join(el.itertext()) for el in root.iter(f"{SVG_NS}text")]
        assert any(HOSTILE in t for t in texts)
        assert root.find(f"{SVG_NS}title").text == HOSTILE


def test_figures_carry_no_external_references_or_scripts():
    for svg in (km_plot_svg([_curve()], title="t"), swimmer_svg(_patients(5), title="t"),
                forest_svg([ForestRow("a", 0.1, 0.0, 0.3)], title="t")):
        assert "href" not in svg and "url(" not in svg and "javascript" not in svg.lower()
        assert " id=" not in svg  # two figures inlined in one page can never clash


def test_control_characters_in_labels_do_not_break_the_xml():
    curve = KMCurveData("bad\x00label\x1b", [1.0], [0.5], [None], [None])
    root = _parse(km_plot_svg([curve], title="t\x07"))
    assert "badlabel" in _texts(root, "legend-label")


def test_same_input_gives_the_same_bytes():
    assert km_plot_svg([_curve()], title="PFS") == km_plot_svg([_curve()], title="PFS")
    patients = _patients(30)
    assert swimmer_svg(patients, title="s") == swimmer_svg(patients.copy(), title="s")
    rows = [ForestRow("a", 0.25, 0.07, 0.52, "4/16")]
    assert forest_svg(rows, title="f") == forest_svg(list(rows), title="f")


def test_inconsistent_curve_input_is_refused_with_the_curve_named():
    with pytest.raises(ValueError, match=r"'C'.*lower"):
        km_plot_svg([KMCurveData("C", [1.0, 2.0], [0.9, 0.8], [0.5], [1.0, 1.0])], title="t")
    with pytest.raises(ValueError, match="sorted"):
        km_plot_svg([KMCurveData("C", [2.0, 1.0], [0.9, 0.8], [None] * 2, [None] * 2)],
                    title="t")
    with pytest.raises(ValueError, match=r"surv\[0\]"):
        km_plot_svg([KMCurveData("C", [1.0], [1.5], [None], [None])], title="t")


# --- swimmer -----------------------------------------------------------------------------


def _patients(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    best = rng.choice(["CR", "PR", "SD", "PD", "NE"], n)
    pfs = np.round(rng.uniform(10, 700, n), 0)
    response = np.where(np.isin(best, ["CR", "PR"]), np.minimum(pfs, 56.0), np.nan)
    pfs_event = rng.integers(0, 2, n)
    os_event = rng.integers(0, 2, n)
    os = np.where(rng.random(n) < 0.3, pfs, pfs + 30)
    confirmed = pd.array([bool(i % 2) if b in ("CR", "PR") else pd.NA
                          for i, b in enumerate(best)], dtype="boolean")
    return pd.DataFrame({
        "patient_id": [f"P{i:03d}" for i in range(n)],
        "best_response": pd.array(best, dtype="string"), "response_confirmed": confirmed,
        "response_days": response, "pfs_days": pfs, "pfs_event": pfs_event,
        "os_days": os, "os_event": os_event, "row": np.arange(2, n + 2),
    })


def test_swimmer_draws_one_lane_per_patient_longest_on_top():
    patients = _patients(12)
    root = _parse(swimmer_svg(patients, title="s"))
    lanes = _classed(root, "swimmer-lane")
    assert len(lanes) == 12
    labels = _texts(root, "lane-label")
    expected = patients.sort_values(["pfs_days", "patient_id"], ascending=[False, True])
    assert labels == list(expected["patient_id"])


def test_swimmer_bars_are_proportional_to_pfs_in_months():
    patients = _patients(8)
    root = _parse(swimmer_svg(patients, title="s"))
    x, _ = _scales_x_only(root)
    bars = _classed(root, "swimmer-bar")
    ordered = patients.sort_values(["pfs_days", "patient_id"], ascending=[False, True])
    for bar, days in zip(bars, ordered["pfs_days"], strict=True):
        right = float(bar.get("x")) + float(bar.get("width"))
        assert right == pytest.approx(x(days / DAYS_PER_MONTH), abs=0.02)


def _scales_x_only(root: ET.Element):
    ticks = _tick_x(root)
    last = max(ticks, key=float)
    x0, x_end = ticks["0"], ticks[last]
    return (lambda t: x0 + t / float(last) * (x_end - x0)), float(last)


def test_swimmer_markers_follow_events_responses_and_deaths():
    patients = _patients(40)
    root = _parse(swimmer_svg(patients, title="s"))
    died = (patients["os_event"] == 1) & (patients["os_days"] == patients["pfs_days"])
    ongoing = (patients["pfs_event"] == 0) & ~died
    assert len(_classed(root, "swimmer-death")) == died.sum() > 0
    assert len(_classed(root, "swimmer-ongoing")) == ongoing.sum() > 0
    responses = _classed(root, "swimmer-response")
    assert len(responses) == patients["response_days"].notna().sum() > 0
    unconfirmed = (patients["response_confirmed"] == False).fillna(False).sum()  # noqa: E712
    assert sum(el.get("fill") == "#FFFFFF" for el in responses) == unconfirmed > 0


def test_swimmer_beyond_60_patients_shows_the_60_longest_and_says_so():
    patients = _patients(75)
    root = _parse(swimmer_svg(patients, title="s"))
    assert len(_classed(root, "swimmer-lane")) == MAX_LANES == 60
    assert _texts(root, "swimmer-note")[0].startswith("showing 60 of 75 patients")
    shown = set(_texts(root, "lane-label"))
    hidden = patients[~patients["patient_id"].isin(shown)]
    assert len(hidden) == 15
    assert patients[patients["patient_id"].isin(shown)]["pfs_days"].min() >= \
        hidden["pfs_days"].max()
    height_mm = float(root.get("height")[:-2])
    assert height_mm < 257  # fits an A4 page inside 20 mm margins


def test_swimmer_lane_labels_stay_readable_at_60_lanes():
    root = _parse(swimmer_svg(_patients(60), title="s"))
    sizes = [float(el.get("font-size")) for el in _classed(root, "lane-label")]
    assert min(sizes) >= 7.0


def test_swimmer_without_patients_says_no_patients():
    root = _parse(swimmer_svg(_patients(0), title="s"))
    assert _texts(root, "swimmer-no-patients") == ["no patients"]


def test_swimmer_bad_input_names_the_patient_row_and_column():
    patients = _patients(4)
    patients.loc[2, "pfs_days"] = np.nan
    with pytest.raises(ValueError, match=r"patient P002, row 4: column 'pfs_days'"):
        swimmer_svg(patients, title="s")
    with pytest.raises(ValueError, match="os_event"):
        swimmer_svg(_patients(4).drop(columns="os_event"), title="s")
    patients = _patients(4)
    patients["best_response"] = patients["best_response"].astype(object)
    patients.loc[1, "best_response"] = "VGPR"
    with pytest.raises(ValueError, match=r"patient P001, row 3: column 'best_response' is 'VGPR'"):
        swimmer_svg(patients, title="s")


def test_swimmer_reference_line_sits_at_16_weeks():
    root = _parse(swimmer_svg(_patients(10), title="s",
                              reference_months=[(112 / DAYS_PER_MONTH, "16 weeks")]))
    x, _ = _scales_x_only(root)
    (line,) = _classed(root, "reference-line")
    assert float(line.get("x1")) == pytest.approx(x(112 / DAYS_PER_MONTH), abs=0.011)
    assert _texts(root, "reference-label") == ["16 weeks"]


# --- forest ------------------------------------------------------------------------------

DRUP_THRESHOLDS = [(0.20, "ESMO ORR 20%"), (5 / 24, "DRUP 5/24 = 20.8%")]


def test_forest_threshold_lines_sit_at_their_values_and_are_labelled():
    rows = [ForestRow("A", 0.45, 0.28, 0.63, "14/31"), ForestRow("B", 0.125, 0.003, 0.527)]
    root = _parse(forest_svg(rows, title="CBR", thresholds=DRUP_THRESHOLDS))
    x, last = _scales_x_only(root)
    assert last == 100.0
    lines = _classed(root, "threshold-line")
    assert [float(el.get("x1")) for el in lines] == pytest.approx([x(20.0), x(500 / 24)],
                                                                  abs=0.011)
    assert all(el.get("stroke-dasharray") for el in lines)
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    assert _texts(root, "threshold-label") == ["ESMO ORR 20%", "DRUP 5/24 = 20.8%"]
    labels = _classed(root, "threshold-label")
    assert labels[0].get("y") != labels[1].get("y")  # close thresholds never overprint


def test_forest_point_and_whisker_land_on_estimate_and_limits():
    root = _parse(forest_svg([ForestRow("A", 0.25, 0.073, 0.524, "4/16")], title="ORR"))
    x, _ = _scales_x_only(root)
    (point,) = _classed(root, "forest-point")
    assert float(point.get("x")) + 2.75 == pytest.approx(x(25.0), abs=0.011)
    (whisker,) = _classed(root, "forest-ci")
    assert float(whisker.get("x1")) == pytest.approx(x(7.3), abs=0.011)
    assert float(whisker.get("x2")) == pytest.approx(x(52.4), abs=0.011)
    assert _texts(root, "forest-estimate") == ["25.0 (7.3–52.4)"]
    assert _texts(root, "forest-n") == ["4/16"]


def test_forest_not_reached_limit_is_an_open_ended_arrow():
    rows = [ForestRow("A", 5.2, 3.1, None, "n=20"),
            ForestRow("B", None, 4.0, None, "n=12", note="not reached"),
            ForestRow("C", None, None, None, "0/0", note="no patients")]
    root = _parse(forest_svg(rows, title="median PFS", percent=False,
                             x_label="median PFS (months)"))
    assert len(_classed(root, "forest-open-limit")) == 2
    assert len(_classed(root, "forest-point")) == 1
    assert _texts(root, "forest-estimate") == ["5.2 (3.1–NR)", "not reached (4.0–NR)",
                                               "no patients"]
    x, last = _scales_x_only(root)
    arrow = _path_commands(_classed(root, "forest-open-limit")[0].get("d"))
    assert arrow[1][1][0] == pytest.approx(x(last), abs=0.011)  # tip at the axis end


def test_long_forest_labels_wrap_onto_two_lines_whole_and_left_of_the_axis():
    long_label = "Vemurafenib + cobimetinib | Non-small cell lung cancer | BRAF p.V600E mutation"
    root = _parse(forest_svg([ForestRow(long_label, 0.3, 0.1, 0.5)], title="ORR"))
    lines = _classed(root, "forest-label")
    assert len(lines) == 2
    shown = [(el.find(f"{SVG_NS}title").tail if el.find(f"{SVG_NS}title") is not None
              else el.text) for el in lines]
    assert " ".join(shown) == long_label
    assert lines[0].find(f"{SVG_NS}title").text == long_label
    axis = min(float(el.get("x")) for el in _classed(root, "x-tick-label"))
    for el, text in zip(lines, shown, strict=True):
        assert float(el.get("x")) + len(text) * float(el.get("font-size")) * 0.6 < axis


def test_two_cohorts_of_one_drug_and_alteration_keep_distinct_labels():
    first = "11. dabrafenib + trametinib | Solid tumours | BRAF V600 mutation, non-melanoma"
    second = "12. dabrafenib + trametinib | Solid tumours | BRAF V600 mutation, melanoma-free"
    root = _parse(forest_svg([ForestRow(first, 0.3, 0.1, 0.5),
                              ForestRow(second, 0.2, 0.1, 0.4)], title="CBR"))
    titles = [el.find(f"{SVG_NS}title") for el in _classed(root, "forest-label")]
    whole = [t.text for t in titles if t is not None]
    assert whole == [first, second]
    assert not any("…" in "".join(el.itertext()) for el in _classed(root, "forest-label"))


def test_forest_without_rows_says_so():
    root = _parse(forest_svg([], title="empty"))
    assert _texts(root, "forest-empty") == ["no cohorts"]


def test_forest_rows_are_read_from_rate_rows_with_counts_and_status():
    base = {"group_by": "cohort_id", "endpoint": "orr", "statistic": "rate", "time": math.nan,
            "unit": "proportion", "method": "", "parameters": "{}"}
    results = pd.DataFrame([
        {**base, "group": "A", "estimate": 0.25, "lower": 0.07, "upper": 0.52, "x": 4.0,
         "n": 16.0, "denominator": "evaluable", "status": "ok"},
        {**base, "group": "A", "estimate": 0.2, "lower": 0.06, "upper": 0.44, "x": 4.0,
         "n": 20.0, "denominator": "treated", "status": "ok"},
        {**base, "group": "B", "estimate": math.nan, "lower": math.nan, "upper": math.nan,
         "x": 0.0, "n": 0.0, "denominator": "evaluable", "status": "no_patients"},
    ])
    rows = forest_rows_from_results(results, "orr")
    assert rows == [ForestRow("A", 0.25, 0.07, 0.52, "4/16"),
                    ForestRow("B", None, None, None, "0/0", note="no patients")]
    with pytest.raises(ValueError, match="endpoint='cbr'"):
        forest_rows_from_results(results, "cbr")


def _long_tail_curve() -> KMCurveData:
    # 100 patients; by 12 months only 8 remain at risk, the last patient is seen at 60 months
    times = [1.0, 2.0, 4.0, 6.0, 9.0, 11.0, 20.0]
    surv = [0.8, 0.6, 0.45, 0.3, 0.2, 0.12, 0.1]
    at_risk = {0.0: 100, 3.0: 60, 6.0: 45, 9.0: 20, 12.0: 8, 15.0: 8, 18.0: 8, 21.0: 5}
    at_risk.update({float(t): 3 for t in range(24, 61, 3)})
    return KMCurveData("PFS", times, surv, [None] * 7, [None] * 7, censor_times=[60.0],
                       censor_surv=[0.1], at_risk=at_risk)


def test_long_km_axis_is_cut_where_fewer_than_10_percent_remain_at_risk():
    assert readable_x_max([_long_tail_curve()]) == 12.0
    short = KMCurveData("PFS", [1.0, 2.0], [0.5, 0.0], [None, None], [None, None],
                        at_risk={0.0: 10, 3.0: 0})
    assert readable_x_max([short]) is None


def test_truncated_km_axis_ticks_every_3_months_and_says_it_is_truncated():
    root = _parse(km_plot_svg([_long_tail_curve()], title="PFS", x_max=12.0, tick_step=3.0,
                              note="axis truncated at 12 months; curve continues"))
    ticks = [el.text for el in _classed(root, "x-tick-label")]
    assert ticks == ["0", "3", "6", "9", "12"]
    assert _texts(root, "axis-note") == ["axis truncated at 12 months; curve continues"]
