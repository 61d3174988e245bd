"""metrics_from_results: the results table (contract D) and cohort metadata -> scoring metrics."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dossier.endpoints.compute import compute_endpoints
from dossier.registry.load import load_demo
from dossier.scoring.inputs import metrics_from_results

COLUMNS = ["group_by", "group", "endpoint", "statistic", "time", "estimate", "lower", "upper",
           "x", "n", "unit", "denominator", "status", "method", "parameters"]
NAN = math.nan


def row(group: str, endpoint: str, statistic: str, estimate: float, *, x: float = NAN,
        n: float = NAN, time: float = NAN, denominator: str = "", status: str = "ok",
        group_by: str = "cohort_id", unit: str = "") -> list[object]:
    return [group_by, group, endpoint, statistic, time, estimate, NAN, NAN, x, n, unit,
            denominator, status, "", "{}"]


def frame(rows: list[list[object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


COHORT_A = [
    row("A", "patients", "treated", 26, n=26),
    row("A", "patients", "evaluable", 24, x=24, n=26, denominator="treated"),
    row("A", "cbr", "rate", 7 / 24, x=7, n=24, denominator="evaluable"),
    row("A", "cbr", "rate", 7 / 26, x=7, n=26, denominator="treated"),
    row("A", "cbr_durable", "rate", 5 / 24, x=5, n=24, denominator="evaluable"),
    row("A", "orr", "rate", 3 / 24, x=3, n=24, denominator="evaluable"),
    row("A", "orr", "rate", 3 / 26, x=3, n=26, denominator="treated"),
    row("A", "severe_trae", "rate", 8 / 26, x=8, n=26, denominator="treated"),
    row("A", "pfs", "median", 4.2, x=20, n=26, denominator="treated"),
    row("A", "pfs", "followup", 11.0, denominator="treated"),
    row("A", "os", "median", NAN, denominator="treated", status="not_reached"),
    row("A", "os", "followup", 15.5, denominator="treated"),
    row("A", "os", "survival", 0.61, time=24.0, denominator="treated"),
    row("A", "dor", "median", NAN, denominator="responders", status="no_patients"),
    row("all", "patients", "evaluable", 99, group_by="all"),
]


def test_counts_rates_and_medians_are_taken_over_evaluable_patients():
    metrics = metrics_from_results(frame(COHORT_A))
    assert list(metrics) == ["A"]
    got = metrics["A"]
    assert got == {
        "n_evaluable": 24, "cbr": pytest.approx(7 / 24), "cb_n": 7, "cb_durable_n": 5,
        "orr": pytest.approx(3 / 24), "g3_trae_rate": pytest.approx(8 / 26),
        "pfs_median_months": 4.2, "pfs_followup_months": 11.0, "os_median_months": "NR",
        "os_followup_months": 15.5, "os_landmark_2y": 0.61,
    }
    assert isinstance(got["cb_n"], int) and isinstance(got["n_evaluable"], int)


def test_cohort_metadata_adds_comparator_evidence_and_ema_status():
    meta = pd.DataFrame({
        "cohort_id": ["A", "B"], "ema_status": ["conditional", "not_approved"],
        "qol_improved": pd.array([True, pd.NA], dtype="boolean"),
        "g34_tox_wellbeing_rate": [0.12, math.nan], "setting": ["palliative", "curative"],
        "control_os_median_months": [math.nan, 9.0],
    })
    rows = [*COHORT_A, row("B", "patients", "evaluable", 3, denominator="treated")]
    metrics = metrics_from_results(frame(rows), meta)
    assert metrics["A"]["ema_approved"] is True
    assert metrics["A"]["qol_improved"] is True
    assert metrics["A"]["g34_tox_wellbeing_rate"] == 0.12
    assert "control_os_median_months" not in metrics["A"]
    assert metrics["B"] == {"n_evaluable": 3, "ema_approved": False, "setting": "curative",
                            "control_os_median_months": 9.0}


def test_a_results_table_without_contract_columns_is_refused_by_name():
    with pytest.raises(ValueError, match="lacks column\\(s\\) statistic, time"):
        metrics_from_results(pd.DataFrame({"group_by": [], "group": [], "endpoint": [],
                                           "estimate": [], "x": [], "n": [],
                                           "denominator": [], "status": []}))


def test_the_demo_registry_yields_one_metrics_entry_per_cohort_with_its_evaluable_count():
    registry = load_demo()
    results = compute_endpoints(registry.patients)
    metrics = metrics_from_results(results, registry.cohorts)
    patients = registry.patients
    evaluable = patients[patients["response_evaluable"]].groupby("cohort_id").size()
    assert set(metrics) == set(patients["cohort_id"])
    for cohort_id, count in evaluable.items():
        assert metrics[cohort_id]["n_evaluable"] == count
        assert 0 <= metrics[cohort_id]["cb_durable_n"] <= metrics[cohort_id]["cb_n"] <= count
