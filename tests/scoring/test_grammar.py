"""The condition grammar: parsing, three-valued evaluation, tolerances and text."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

import dossier.scoring
from dossier.scoring.evaluation import EvalContext, compare_bounds, compare_exact, evaluate
from dossier.scoring.grammar import ParseContext, condition_text, parse_condition
from dossier.scoring.metrics import METRICS, observe
from dossier.yamlfile import ProblemLog, load_yaml


def parse(text: str, tmp_path: Path):
    path = tmp_path / "condition.yaml"
    path.write_text(text, encoding="utf-8")
    log = ProblemLog(path)
    node = parse_condition(load_yaml(path), ParseContext(log, METRICS, frozenset({"src"})))
    return node, log


def truth(text: str, tmp_path: Path, **metrics: object) -> bool | None:
    node, log = parse(text, tmp_path)
    assert not log.problems, log.problems
    values = observe(metrics, [*list(metrics), "orr", "pfs_median_months", "qol_improved"])
    return evaluate(node, values, EvalContext(METRICS, {})).truth


@pytest.mark.parametrize(("x", "op", "t", "expected"), [
    (18 / 30, ">=", 0.60, True),
    (0.6 - 1e-12, ">=", 0.60, True),
    (0.6 + 1e-12, ">", 0.60, False),
    (0.6 - 1e-12, "<", 0.60, False),
    (0.6 + 1e-6, ">", 0.60, True),
    (0.7, "<", 0.70, False),
    (0.699, "<", 0.70, True),
    (0.65, "<=", 0.65, True),
])
def test_comparisons_treat_values_within_a_billionth_of_the_threshold_as_equal(x, op, t,
                                                                              expected):
    assert compare_exact(x, op, t) is expected


@pytest.mark.parametrize(("lower", "upper", "op", "t", "expected"), [
    (6.0, math.inf, ">=", 6.0, None),     # not reached at exactly 6 months: not yet exceeded
    (6.01, math.inf, ">=", 6.0, True),    # follow-up exceeds the threshold
    (6.01, math.inf, "<", 6.0, False),
    (0.0, 0.29, ">=", 0.30, False),       # bounded above by another metric
    (0.0, 0.30, ">=", 0.30, None),
])
def test_a_value_known_only_by_its_bounds_decides_only_beyond_the_threshold(lower, upper, op, t,
                                                                            expected):
    assert compare_bounds(lower, upper, op, t) is expected


@pytest.mark.parametrize(("text", "metrics", "expected"), [
    ("{all: [{metric: orr, op: '>=', value: 0.2}, {metric: pfs_median_months, op: '>=', "
     "value: 6}]}", {"orr": 0.1}, False),                        # false and unknown -> false
    ("{any: [{metric: orr, op: '>=', value: 0.2}, {metric: pfs_median_months, op: '>=', "
     "value: 6}]}", {"orr": 0.3}, True),                         # true or unknown -> true
    ("{any: [{metric: orr, op: '>=', value: 0.2}, {metric: pfs_median_months, op: '>=', "
     "value: 6}]}", {"orr": 0.1}, None),                         # false or unknown -> unknown
    ("{not: {metric: qol_improved, is: true}}", {"qol_improved": False}, True),
    ("{not: {metric: qol_improved, is: true}}", {}, None),
    ("{present: orr}", {}, False),
    ("{metric: orr, in: '(0.65, 0.70]'}", {"orr": 0.65}, False),
    ("{metric: orr, in: '(0.65, 0.70]'}", {"orr": 0.70}, True),
    ("{metric: orr, in: '[0.20, 0.60)'}", {"orr": 0.60}, False),
    ("{metric: orr, in: '[0.20, 0.60)'}", {"orr": 0.20}, True),
    ("{metric: orr, op: '>=', value: 60, unit: percent}", {"orr": 0.6}, True),
])
def test_conditions_follow_three_valued_logic(tmp_path: Path, text, metrics, expected):
    assert truth(text, tmp_path, **metrics) is expected


def test_week_thresholds_become_months_at_7_over_30_4375(tmp_path: Path):
    node, _ = parse("{metric: os_gain_months, op: '>', value: 12, unit: weeks}", tmp_path)
    assert node.threshold.value == pytest.approx(84 / 30.4375, abs=1e-15)
    assert condition_text(node, METRICS) == "median OS gain > 12 weeks (2.76 months)"


def test_conditions_read_as_the_form_words_them(tmp_path: Path):
    node, _ = parse("{all: [{metric: orr, in: '[0.20, 0.60)'}, {metric: dor_median_months, "
                    "op: '>=', value: 9}]}", tmp_path)
    assert condition_text(node, METRICS) == "ORR >= 20% and < 60% and median DoR >= 9 months"


@pytest.mark.parametrize(("text", "message"), [
    ("{all: [{metric: orr, op: '>', value: 1}], any: []}", "'all' must stand alone"),
    ("{metric: qol_improved, is: 'yes'}", "write 'is: true' or 'is: false'"),
    ("{metric: qol_improved, op: '>', value: 1}", "metric 'qol_improved' is boolean"),
    ("{metric: pfs_median_months, op: '>', value: 1, unit: percent}",
     "unit 'percent' does not fit pfs_median_months"),
    ("{bar: {successes: cb_n, patients: n_evaluable, at_least: 9, of: 8}}",
     "1 <= at_least <= of"),
    ("{bar: {successes: orr, patients: n_evaluable, at_least: 1, of: 8}}",
     "metric 'orr' is fraction; this condition needs count"),
    ("{metric: orr, in: '[0.6, 0.2)'}", "is empty"),
    ("{metric: orr, op: '>'}", "a comparison needs 'value'"),
    ("{metirc: orr}", "a condition needs 'metric'"),
    ("[1, 2]", "a condition must be a mapping"),
])
def test_a_malformed_condition_is_reported_with_what_is_wrong(tmp_path: Path, text, message):
    node, log = parse(text, tmp_path)
    assert node is None
    assert any(message in p.message for p in log.problems), log.problems


def test_the_scoring_package_never_calls_eval_or_exec():
    package = Path(dossier.scoring.__file__).parent
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        calls = {n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"eval", "exec", "compile"}, module
