"""Kaplan-Meier annotations a payer reads first: the median, events / patients, the criteria's
median-PFS threshold (read from the rule files), numbered titles and the full-follow-up option.
"""

from __future__ import annotations

import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from dossier.config import ConfigError, parse_settings
from dossier.render.figure_thresholds import median_thresholds
from dossier.render.figures import KMCurveData, km_curve_data_from_results, km_plot_svg
from dossier.render.report_figures import cohort_km_figures, km_axis
from dossier.resources import resource_dir
from dossier.scoring.rulebook import load_rule_file, load_rulebook

SVG_NS = "{http://www.w3.org/2000/svg}"

# Ten patients (months, event); Kaplan-Meier by hand: S(1) = 0.9, S(2) = 0.8,
# S(4) = 0.8 * 5/7 = 0.571, S(7) = 0.571 * 2/3 = 0.381 -> median 7 months; 5 events.
PATIENTS = [(1, 1), (2, 1), (3, 0), (4, 1), (4, 1), (5, 0), (5, 0), (7, 1), (9, 0), (10, 0)]


def _results(endpoint: str = "pfs", median: float = 7.0, status: str = "ok") -> pd.DataFrame:
    base = {"group_by": "cohort_id", "group": "A", "endpoint": endpoint, "unit": "",
            "denominator": "treated", "status": "ok", "method": "",
            "parameters": '{"ci":"log-log","level":0.9}'}
    rows, surv = [], 1.0
    for t in sorted({t for t, _ in PATIENTS}):
        at_risk = sum(1 for s, _ in PATIENTS if s >= t)
        events = sum(1 for s, e in PATIENTS if s == t and e)
        surv *= 1 - events / at_risk
        rows.append({**base, "statistic": "curve", "time": float(t), "estimate": surv,
                     "n": float(at_risk), "x": float(events), "lower": math.nan,
                     "upper": math.nan})
    rows.append({**base, "statistic": "n", "time": math.nan, "estimate": 10.0, "x": 5.0,
                 "n": 10.0, "lower": math.nan, "upper": math.nan})
    rows.append({**base, "statistic": "median", "time": math.nan, "status": status,
                 "estimate": median, "lower": 4.0, "upper": math.nan, "x": 5.0, "n": 10.0})
    return pd.DataFrame(rows)


def _classed(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [el for el in root.iter() if el.get("class") == css_class]


def _texts(root: ET.Element, css_class: str) -> list[str]:
    """Text of the elements, without the tooltip <title> a truncatable label carries."""
    out = []
    for el in _classed(root, css_class):
        title = el.find(f"{SVG_NS}title")
        out.append("".join(el.itertext()) if title is None else (title.tail or ""))
    return out


def _axis_x(root: ET.Element):
    """The figure's own x map, from where it drew its tick labels 0 and the last one."""
    ticks = {el.text: float(el.get("x")) for el in _classed(root, "x-tick-label")}
    values = sorted(float(k) for k in ticks)
    x0, last = ticks["0"], values[-1]
    return lambda t: x0 + t / last * (ticks[f"{last:g}"] - x0)


def test_legend_gives_events_patients_and_median_with_its_ci_level():
    curve = km_curve_data_from_results(_results(), "cohort_id", "A", "pfs", label="PFS")
    assert (curve.events, curve.patients, curve.median) == (5, 10, 7.0)
    root = ET.fromstring(km_plot_svg([curve], title="t"))
    legend = _texts(root, "legend-label")
    assert legend == ["PFS: 5 events / 10 patients; median 7.00 months (90% CI 4.00-NR)"]


def test_median_is_marked_across_at_50_percent_and_down_at_the_median():
    curve = km_curve_data_from_results(_results(), "cohort_id", "A", "pfs", label="PFS")
    root = ET.fromstring(km_plot_svg([curve], title="t", x_max=12.0, tick_step=3.0))
    x = _axis_x(root)
    (group,) = _classed(root, "km-median")
    assert group.get("data-months") == "7"
    (line,) = _classed(root, "km-median-line")
    d = line.get("d")
    across = float(re.search(r"H([-\d.]+)", d).group(1))
    assert across == pytest.approx(x(7.0), abs=0.01)
    assert [el.text for el in _classed(root, "km-median-label")] == ["median 7.0"]


def test_a_median_not_reached_is_said_in_the_legend_and_not_marked():
    curve = km_curve_data_from_results(_results(median=math.nan, status="not_reached"),
                                       "cohort_id", "A", "pfs", label="PFS")
    root = ET.fromstring(km_plot_svg([curve], title="t"))
    assert _classed(root, "km-median") == []
    assert _texts(root, "legend-label") == [
        "PFS: 5 events / 10 patients; median not reached (90% CI 4.00-NR)"]


def _threshold_x(svg: str) -> dict[str, float]:
    root = ET.fromstring(svg)
    out = {}
    for group in _classed(root, "km-threshold"):
        (line,) = [el for el in group if el.get("class") == "km-threshold-line"]
        out[group.get("data-months")] = float(line.get("x1"))
    return out, _axis_x(root)


def test_the_pfs_threshold_comes_from_the_rule_file_and_moves_when_it_changes(tmp_path: Path):
    bundled = resource_dir("criteria") / "esmo-mcbs-v1.1-form3.yaml"
    assert median_thresholds([load_rule_file(bundled)]) == [
        (6.0, "median PFS >= 6 months (ESMO Form 3)")]
    changed = tmp_path / "esmo-mcbs-v1.1-form3.yaml"
    shutil.copy(bundled, changed)
    text = changed.read_text(encoding="utf-8")
    old = "when: {metric: pfs_median_months, op: \">=\", value: 6}"
    assert text.count(old) == 1
    changed.write_text(text.replace(old, old.replace("value: 6", "value: 9")), encoding="utf-8")
    lines = median_thresholds([load_rule_file(changed)])
    assert lines == [(9.0, "median PFS >= 9 months (ESMO Form 3)")]

    curve = km_curve_data_from_results(_results(), "cohort_id", "A", "pfs", label="PFS")
    svg = km_plot_svg([curve], title="t", x_max=12.0, tick_step=3.0, thresholds=lines)
    drawn, x = _threshold_x(svg)
    assert list(drawn) == ["9"]
    assert drawn["9"] == pytest.approx(x(9.0), abs=0.01)
    assert "median PFS &gt;= 9 months (ESMO Form 3)" in svg


def test_every_loaded_rule_file_with_a_median_pfs_bar_is_named_once():
    lines = median_thresholds(load_rulebook().rule_sets)
    assert [value for value, _ in lines] == [6.0]
    assert "ESMO Form 3" in lines[0][1] and "Durability (ours)" in lines[0][1]


def test_a_threshold_beyond_the_follow_up_widens_the_axis_instead_of_vanishing():
    curve = km_curve_data_from_results(_results(), "cohort_id", "A", "pfs", label="PFS")
    axis = km_axis([curve], thresholds=[(15.0, "median PFS >= 15 months")])
    assert axis["x_max"] == 15.0
    drawn, _ = _threshold_x(km_plot_svg([curve], title="t", thresholds=[(15.0, "x")], **axis))
    assert list(drawn) == ["15"]


def _long_tail() -> KMCurveData:
    times = [1.0, 2.0, 4.0, 6.0, 9.0, 11.0, 20.0]
    surv = [0.8, 0.6, 0.45, 0.3, 0.2, 0.12, 0.1]
    at_risk = {0.0: 100, 3.0: 60, 6.0: 45, 9.0: 20, 12.0: 8, 15.0: 8, 18.0: 8, 21.0: 5}
    at_risk.update({float(t): 3 for t in range(24, 61, 3)})
    return KMCurveData("OS", times, surv, [None] * 7, [None] * 7, censor_times=[60.0],
                       censor_surv=[0.1], at_risk=at_risk)


def test_the_tail_is_cut_only_with_a_note_and_full_follow_up_shows_all_of_it():
    cut = km_axis([_long_tail()])
    assert cut["x_max"] == 12.0
    assert "curve continues to 60.0 months" in cut["note"]
    full = km_axis([_long_tail()], full_followup=True)
    assert "x_max" not in full and "note" not in full
    root = ET.fromstring(km_plot_svg([_long_tail()], title="t", **full))
    assert max(float(el.text) for el in _classed(root, "x-tick-label")) >= 60.0


def test_cohort_figures_are_numbered_and_titled_with_drug_and_cohort():
    results = pd.concat([_results("pfs"), _results("os")], ignore_index=True)
    svgs = cohort_km_figures(results, "A", 7, "olaparib", "Solid tumours, BRCA1/2",
                             pfs_thresholds=[(6.0, "median PFS >= 6 months (ESMO Form 3)")])
    titles = [ET.fromstring(s).find(f"{SVG_NS}title").text for s in svgs]
    assert titles == [
        "Figure 7.1. Progression-free survival, Kaplan-Meier estimate: olaparib, cohort 7 "
        "(Solid tumours, BRCA1/2)",
        "Figure 7.2. Overall survival, Kaplan-Meier estimate: olaparib, cohort 7 "
        "(Solid tumours, BRCA1/2)"]
    assert 'class="km-threshold"' in svgs[0] and 'class="km-threshold"' not in svgs[1]


def test_full_follow_up_is_a_setting_checked_like_the_others():
    assert parse_settings("[figures]\nkm_full_followup = true\n").km_full_followup is True
    assert parse_settings("").km_full_followup is False
    with pytest.raises(ConfigError, match="km_full_followup must be true or false"):
        parse_settings('[figures]\nkm_full_followup = "yes"\n')


def test_the_command_line_option_overrides_the_file_and_reaches_every_km_plot():
    from datetime import UTC, datetime

    from dossier.config import Settings
    from dossier.endpoints.compute import compute_endpoints
    from dossier.registry.demo import demo_registry
    from dossier.registry.load import registry_from_frames
    from dossier.render.context import build_context

    settings = parse_settings("[figures]\nkm_full_followup = false\n")
    assert settings.with_overrides(km_full_followup=True).km_full_followup is True
    assert Settings().with_overrides(km_full_followup=None).km_full_followup is False
    patients, cohorts = demo_registry(n_patients=300, seed=2)
    registry = registry_from_frames(patients, cohorts)
    results = compute_endpoints(registry.patients)

    def svgs(full: bool) -> list[str]:
        context = build_context(
            results=results, verdicts=[], registry=registry, rule_files=[], parameters={},
            title="t", build_time=datetime(2025, 1, 1, tzinfo=UTC), software_version="0",
            data_sha256="x", data_name="demo", km_full_followup=full)
        return [svg for c in context["cohorts"] for svg in c["km_svgs"]]

    cut = svgs(False)
    assert any("axis truncated" in svg for svg in cut)
    assert not any("axis truncated" in svg for svg in svgs(True))


def test_word_and_quarto_get_the_figure_without_the_pdfs_number():
    from dossier.render.markdown import FigureSink, svg_title, without_own_number

    results = pd.concat([_results("pfs"), _results("os")], ignore_index=True)
    svg = cohort_km_figures(results, "A", 4, "olaparib", "Solid tumours")[0]
    assert ET.fromstring(svg).find(f"{SVG_NS}title").text.startswith("Figure 4.1. ")
    assert svg_title(svg).startswith("Progression-free survival, Kaplan-Meier estimate")
    plain = ET.fromstring(without_own_number(svg))
    assert plain.find(f"{SVG_NS}title").text.startswith("Progression-free survival")
    assert _texts(plain, "figure-title")[0].startswith("Progression-free survival")
    sink = FigureSink()
    line = sink.figure(svg, "km", svg_title(svg))
    assert str(line).startswith("![Figure 1. Progression-free survival")
    assert "Figure 4.1" not in sink.figures[0].svg
