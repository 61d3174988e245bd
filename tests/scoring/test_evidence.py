"""The evidence behind the metrics, read from the results table the endpoints wrote."""

from __future__ import annotations

import math

import pytest

from dossier.build import endpoint_results
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.scoring.evidence import evidence_from_results
from dossier.scoring.inputs import median_threshold_times, needed_landmarks
from tests.scoring._scoring_helpers import builtin_book


def test_the_median_threshold_times_of_the_rule_files_are_requested_as_landmarks():
    form3 = builtin_book().get("esmo-mcbs-v1.1-form3")
    assert median_threshold_times([form3]) == (2.0, 3.0, 6.0, 9.0)
    assert set(needed_landmarks(builtin_book().rule_sets)) >= {2.0, 3.0, 6.0, 9.0, 36.0}


@pytest.fixture(scope="module")
def results():
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    return endpoint_results(Settings(), registry, builtin_book())


def test_every_cohort_has_s_at_each_threshold_time_and_x_of_n_for_its_rates(results):
    evidence = evidence_from_results(results)
    rows = results[results["group_by"] == "cohort_id"]
    assert set(evidence) == set(rows["group"])
    for group, found in evidence.items():
        for months in (2.0, 3.0, 6.0, 9.0):
            point = found.survival_at("pfs", months)
            assert point is not None and point.conf_type == "log-log" and point.level == 0.95
        orr = rows[(rows["group"] == group) & (rows["endpoint"] == "orr")
                   & (rows["denominator"] == "evaluable")].iloc[0]
        assert (found.rates["orr"].x, found.rates["orr"].n) == (int(orr["x"]), int(orr["n"]))


def test_the_se_recovered_from_the_rows_puts_the_log_log_limits_back(results):
    """exp(-exp(eta +/- z se_eta)) with the recovered SE gives the row's own limits."""
    z = 1.959963984540054
    checked = 0
    for found in evidence_from_results(results).values():
        for point in found.survival.values():
            if point.se is None or point.lower is None:
                continue
            s = point.estimate
            se_eta = point.se / (s * -math.log(s))
            eta = math.log(-math.log(s))
            assert math.exp(-math.exp(eta + z * se_eta)) == pytest.approx(point.lower, rel=1e-9)
            assert math.exp(-math.exp(eta - z * se_eta)) == pytest.approx(point.upper, rel=1e-9)
            checked += 1
    assert checked > 50
