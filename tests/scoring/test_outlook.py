"""Outlook of pending cohorts and baskets of the demo: targets come from the rule files, the
probabilities and tests equal R's (``tests/reference/outlook_expected.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dossier.build import analyse
from dossier.config import Settings
from dossier.endpoints.baskets import baskets
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.resources import drup_stages, resource_dir
from dossier.scoring.outlook import cohort_outlooks, outlook_json, rate_targets, stage_bars
from dossier.scoring.rulebook import load_rulebook

EXPECTED = json.loads((Path(__file__).parents[1] / "reference" / "outlook_expected.json")
                      .read_text(encoding="utf-8"))
SOTORASIB = "sotorasib | Solid tumours, non-lung | KRAS p.G12C"
BRAF = ("dabrafenib + trametinib | Biliary tract cancer | BRAF p.V600E",
        "dabrafenib + trametinib | Colorectal cancer | BRAF p.V600E")


@pytest.fixture(scope="module")
def demo():
    patients, cohorts = demo_registry()
    registry = registry_from_frames(patients, cohorts, name="demo.csv")
    return registry, analyse(Settings(), registry)


def _r_predictive(x: int, n: int, needed: int) -> float:
    case = next(c for c in EXPECTED["predictive"] if (c["x"], c["n"], c["needed"]) == (x, n, needed)
                and c["prior_a"] == 0.5)
    return case["by_sum"]


def test_rate_targets_are_the_lower_bars_of_esmo_form_3_orr_rows():
    book = load_rulebook()
    targets = rate_targets(book.rule_sets)
    assert [t.text for t in targets] == ["ORR >= 10%", "ORR >= 20%", "ORR >= 40%", "ORR >= 60%"]
    assert all(t.endpoint == "orr" and t.rule_files == ("ESMO Form 3",) for t in targets)


def test_a_changed_threshold_in_a_rule_file_changes_the_target(tmp_path):
    text = (resource_dir("criteria") / "esmo-mcbs-v1.1-form3.yaml").read_text(encoding="utf-8")
    changed = text.replace("id: esmo-mcbs-v1.1-form3", "id: esmo-form3-test").replace(
        "[0.20, ", "[0.25, ")
    path = tmp_path / "form3-test.yaml"
    path.write_text(changed, encoding="utf-8")
    book = load_rulebook([path], builtin=False)
    assert "ORR >= 25%" in [t.text for t in rate_targets(book.rule_sets)]
    assert "ORR >= 20%" not in [t.text for t in rate_targets(book.rule_sets)]


def test_stage_bars_come_from_the_drup_rule_file():
    book = load_rulebook()
    assert stage_bars(book.rule_sets) == drup_stages() == ((1, 8), (5, 24))
    assert stage_bars([]) == drup_stages()


def test_pending_cohort_probabilities_equal_r(demo):
    _, analysis = demo
    outlooks = cohort_outlooks(analysis.results, analysis.rules.rule_sets)
    sotorasib = outlooks[SOTORASIB]
    assert (sotorasib.stage.x, sotorasib.stage.n, sotorasib.planned) == (3, 15, 24)
    assert sotorasib.stage.probability == pytest.approx(_r_predictive(3, 15, 5), abs=1e-12)
    orr20 = next(p for t, p in sotorasib.targets if t.text == "ORR >= 20%")
    assert (orr20.x, orr20.n, orr20.needed) == (1, 15, 5)
    assert orr20.probability == pytest.approx(_r_predictive(1, 15, 5), abs=1e-12)


def test_only_cohorts_past_stage_1_and_short_of_24_are_pending(demo):
    registry, analysis = demo
    outlooks = cohort_outlooks(analysis.results, analysis.rules.rule_sets)
    assert outlooks, "the demo has cohorts in stage 2"
    for outlook in outlooks.values():
        assert outlook.stage.n < 24 and outlook.stage.x >= 0
    assert BRAF[0] not in outlooks  # complete at 24
    closed = "palbociclib | Solid tumours | CDKN2A loss"  # 0 of 8: closed at stage 1
    assert closed in set(registry.cohorts["cohort_id"]) and closed not in outlooks


def test_demo_baskets_show_tissue_mattering_in_one_of_four_with_r_p_values(demo):
    registry, analysis = demo
    found = baskets(analysis.results, registry.cohorts)
    assert [(b.drug, b.alteration, b.tissue_matters) for b in found] == [
        ("dabrafenib + trametinib", "BRAF p.V600E", True),
        ("erdafitinib", "FGFR1-3 alteration", False),
        ("sotorasib", "KRAS p.G12C", False),
        ("trastuzumab + pertuzumab", "ERBB2 amplification", False),
    ]
    by_counts = {(tuple(c["x"]), tuple(c["n"])): c["p_value"] for c in EXPECTED["heterogeneity"]}
    for basket in found:
        for rate in basket.rates:
            key = (rate.x, rate.n)
            flipped = (rate.x[::-1], rate.n[::-1])
            want = by_counts.get(key, by_counts.get(flipped))
            assert want is not None, f"no R value for {basket.drug} {rate.endpoint} {key}"
            assert rate.p_value == pytest.approx(want, rel=1e-9, abs=1e-14)


def test_outlook_json_names_the_prior_and_every_basket(demo):
    registry, analysis = demo
    doc = outlook_json(analysis.results, registry.cohorts, analysis.rules.rule_sets)
    assert doc["prior"].startswith("Jeffreys")
    assert len(doc["baskets"]) == 4
    pending = {p["cohort_id"]: p for p in doc["pending_cohorts"]}
    assert pending[SOTORASIB]["stage_bar"]["probability"] == pytest.approx(
        _r_predictive(3, 15, 5), abs=1e-12)
    json.dumps(doc)  # plain values only


SCREEN = """\
id: outlook-screen-test
title: "test screen: likely to pass stage 2"
short: Outlook test
framework: dossier
version: "1"
effective: "2026-12"
issuer: test
ours: true
applies_to:
  setting: palliative
  design: single-arm two-stage cohort
sources:
  - id: test
    url: https://example.org/test
    status: ours
    note: a test source
inputs:
  stage_bar_probability:
    kind: fraction
    label: probability to pass stage 2
    meaning: Predictive probability of passing DRUP's stage-2 bar at the planned size.
outcome:
  scale: binary
  met: "likely to pass stage 2"
  not_met: "unlikely to pass stage 2"
rules:
  - id: likely
    when: {metric: stage_bar_probability, op: ">=", value: 0.5}
    status: ours
    source: test
"""


def test_a_rule_file_may_read_the_stage_bar_probability_and_only_then_gets_it(demo, tmp_path):
    registry, analysis = demo
    from dossier.scoring.inputs import metrics_from_results
    from dossier.scoring.outlook import STAGE_BAR_PROBABILITY, with_outlook_metrics

    plain = metrics_from_results(analysis.results, registry.cohorts)
    assert with_outlook_metrics(plain, analysis.results, analysis.rules.rule_sets) is plain
    path = tmp_path / "screen.yaml"
    path.write_text(SCREEN, encoding="utf-8")
    screened = analyse(Settings(), registry, criteria=["drup-two-stage", str(path)])
    verdicts = {v.cohort_id: v for v in screened.verdicts if v.criteria_id == "outlook-screen-test"}
    assert verdicts[SOTORASIB].verdict == "met"  # 0.567 >= 0.5
    lorlatinib = "lorlatinib | Solid tumours, non-lung | ALK fusion"  # 3 of 19: 0.22
    assert verdicts[lorlatinib].verdict == "not met"
    added = with_outlook_metrics(plain, analysis.results, screened.rules.rule_sets)
    assert added[SOTORASIB][STAGE_BAR_PROBABILITY] == pytest.approx(_r_predictive(3, 15, 5))
    assert STAGE_BAR_PROBABILITY not in added[BRAF[0]]
