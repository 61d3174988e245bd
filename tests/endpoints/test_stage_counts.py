"""DRUP's per-stage counts: clinical benefit among the first evaluable of each cohort per stage.

A cohort's stage 1 is judged on its first 8 and stage 2 on its first 24 response-evaluable
patients (the ``of:`` of the bundled DRUP rule file), in order of treatment start (ties broken by
patient_id). The rows are cbr_stage1, cbr_stage2 and cbr_durable_stage2 (denominators
stage1_evaluable / stage2_evaluable); other stage sizes give the same rows with other counts.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from _endpoint_cohorts import canonical

from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.response import derive_outcomes
from dossier.scoring.inputs import metrics_from_results

START = pd.Timestamp("2020-01-01")
BENEFIT = {"best_response": "PR", "response_confirmed": True, "response_days": 56.0,
           "pfs_days": 300.0}
SD_20_WEEKS = {"best_response": "SD", "pfs_days": 140.0}  # benefit at 16 weeks, not at 24
NO_BENEFIT = {"best_response": "PD", "pfs_days": 40.0}


def patient(pid: str, day: int, outcome: dict, cohort: str = "C1",
            evaluable: bool = True) -> dict:
    row = {"patient_id": pid, "cohort_id": cohort, "response_evaluable": evaluable,
           "treatment_start": START + pd.Timedelta(days=day), "pfs_event": 1, **outcome}
    if not evaluable:
        row.update(best_response=pd.NA, response_confirmed=pd.NA)
    return row


def cohort(outcomes: list[dict], cohort_id: str = "C1") -> list[dict]:
    """Patients enrolled one day apart in list order (patient ids sort the other way)."""
    return [patient(f"{cohort_id}-{999 - i:03d}", i, o, cohort_id) for i, o in enumerate(outcomes)]


def rate_row(table: pd.DataFrame, endpoint: str, group: str = "C1") -> pd.Series:
    rows = table[(table["endpoint"] == endpoint) & (table["group_by"] == "cohort_id")
                 & (table["group"] == group)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# (patients in enrolment order, (x, n) of cbr_stage1, of cbr_stage2, of cbr_durable_stage2,
#  (x, n) of cbr over all evaluable)
CASES = [
    ("5 enrolled, 1 benefit", [BENEFIT] + [NO_BENEFIT] * 4, (1, 5), (1, 5), (1, 5), (1, 5)),
    ("exactly 8, benefit 8th", [NO_BENEFIT] * 7 + [BENEFIT], (1, 8), (1, 8), (1, 8), (1, 8)),
    ("benefit 9th: not in stage 1", [NO_BENEFIT] * 8 + [BENEFIT], (0, 8), (1, 9), (1, 9),
     (1, 9)),
    ("24 with 5 SD>=16w", [SD_20_WEEKS] * 5 + [NO_BENEFIT] * 19, (5, 8), (5, 24), (0, 24),
     (5, 24)),
    ("benefit 25th onward: expansion only", [NO_BENEFIT] * 24 + [BENEFIT] * 10, (0, 8),
     (0, 24), (0, 24), (10, 34)),
    ("4 in first 24, 1 more at 25", [BENEFIT] * 4 + [NO_BENEFIT] * 20 + [BENEFIT], (4, 8),
     (4, 24), (4, 24), (5, 25)),
]


@pytest.mark.parametrize(("outcomes", "first8", "first24", "durable24", "overall"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_stage_counts_take_only_the_first_8_and_24_evaluable_patients(outcomes, first8, first24,
                                                                      durable24, overall):
    table = compute_endpoints(canonical(cohort(outcomes)))
    for endpoint, (x, n) in (("cbr_stage1", first8), ("cbr_stage2", first24),
                             ("cbr_durable_stage2", durable24)):
        row = rate_row(table, endpoint)
        assert (row["x"], row["n"]) == (x, n), endpoint
        assert row["estimate"] == pytest.approx(x / n)
        assert row["status"] == "ok" and row["unit"] == "proportion"
    cbr = table[(table["endpoint"] == "cbr") & (table["group"] == "C1")
                & (table["denominator"] == "evaluable")].iloc[0]
    assert (cbr["x"], cbr["n"]) == overall


def test_order_is_treatment_start_not_row_order_nor_patient_id():
    # rows listed latest first: the 9 earliest starts are the last 9 rows
    rows = [patient(f"A{i:02d}", 100 - i, BENEFIT if i >= 91 else NO_BENEFIT)
            for i in range(100)]
    outcomes = derive_outcomes(canonical(rows), stage_sizes=(8, 24))
    first8 = {r["patient_id"] for r, flag in zip(rows, outcomes.flags("evaluable_stage1"),
                                                  strict=True) if flag}
    assert first8 == {f"A{i:02d}" for i in range(92, 100)}
    table = compute_endpoints(canonical(rows))
    assert (rate_row(table, "cbr_stage1")["x"], rate_row(table, "cbr_stage1")["n"]) == (8, 8)


def test_ties_on_treatment_start_are_broken_by_patient_id():
    rows = [patient(pid, 0, BENEFIT if pid == "P09" else NO_BENEFIT)
            for pid in ("P09", "P05", "P01", "P03", "P02", "P08", "P04", "P06", "P07")]
    # P01..P08 sort before P09, so the one benefit is outside the first 8
    assert rate_row(compute_endpoints(canonical(rows)), "cbr_stage1")["x"] == 0
    rows[0]["treatment_start"] = START - pd.Timedelta(days=1)  # P09 now starts first
    assert rate_row(compute_endpoints(canonical(rows)), "cbr_stage1")["x"] == 1


def test_non_evaluable_patients_do_not_take_a_place_among_the_first_8():
    rows = [patient(f"N{i}", i, NO_BENEFIT, evaluable=False) for i in range(3)]
    rows += [patient(f"E{i}", 10 + i, BENEFIT if i == 7 else NO_BENEFIT) for i in range(9)]
    row = rate_row(compute_endpoints(canonical(rows)), "cbr_stage1")
    assert (row["x"], row["n"]) == (1, 8)


def test_each_cohort_has_its_own_first_8():
    rows = cohort([NO_BENEFIT] * 8, "C1") + cohort([BENEFIT] * 2 + [NO_BENEFIT] * 8, "C2")
    table = compute_endpoints(canonical(rows), by=["drug"])
    assert rate_row(table, "cbr_stage1", "C1")["x"] == 0
    assert rate_row(table, "cbr_stage1", "C2")["x"] == 2
    # the first patients of a pooled group or a drug mean nothing: no such rows there
    other = table[table["group_by"] != "cohort_id"]
    assert not other["endpoint"].str.contains("stage").any()


def test_a_missing_treatment_start_makes_the_stage_counts_not_estimable():
    rows = cohort([BENEFIT] * 10)
    rows[4]["treatment_start"] = pd.NaT
    table = compute_endpoints(canonical(rows))
    row = rate_row(table, "cbr_stage1")
    assert row["status"] == "not_estimable" and math.isnan(row["x"])
    assert "no treatment_start" in row["method"]
    cbr = table[(table["endpoint"] == "cbr") & (table["denominator"] == "evaluable")
                & (table["group_by"] == "cohort_id")].iloc[0]
    assert cbr["x"] == 10  # the totals do not depend on the order


def test_method_states_the_order_of_enrolment():
    row = rate_row(compute_endpoints(canonical(cohort([BENEFIT] * 3))), "cbr_stage2")
    assert "first 24 response-evaluable" in row["method"]
    assert "treatment_start, ties broken by patient_id" in row["method"]
    assert row["denominator"] == "stage2_evaluable"
    assert row["parameters"] == '{"first":24,"sd_weeks":16,"stage":2}'


def test_scoring_metrics_carry_the_stage_counts_beside_the_totals():
    outcomes = [NO_BENEFIT] * 7 + [BENEFIT] + [SD_20_WEEKS] * 4 + [NO_BENEFIT] * 12 \
        + [BENEFIT] * 6
    metrics = metrics_from_results(compute_endpoints(canonical(cohort(outcomes))))["C1"]
    assert {k: metrics[k] for k in ("cb_n_stage1", "n_evaluable_stage1", "cb_n_stage2",
                                    "n_evaluable_stage2", "cb_durable_n_stage2", "cb_n",
                                    "n_evaluable", "cb_durable_n")} == {
        "cb_n_stage1": 1, "n_evaluable_stage1": 8, "cb_n_stage2": 5, "n_evaluable_stage2": 24,
        "cb_durable_n_stage2": 1, "cb_n": 11, "n_evaluable": 30, "cb_durable_n": 7}
    assert all(isinstance(metrics[k], int) for k in ("cb_n_stage1", "n_evaluable_stage2"))


def test_stage_sizes_are_a_parameter_not_a_constant():
    # 30 patients, one benefit as the 10th: stage 1 of 10 sees it, a stage 1 of 8 does not
    outcomes = [NO_BENEFIT] * 9 + [BENEFIT] + [NO_BENEFIT] * 20
    ten = compute_endpoints(canonical(cohort(outcomes)), stage_sizes=(10, 30))
    assert (rate_row(ten, "cbr_stage1")["x"], rate_row(ten, "cbr_stage1")["n"]) == (1, 10)
    assert (rate_row(ten, "cbr_stage2")["x"], rate_row(ten, "cbr_stage2")["n"]) == (1, 30)
    assert "among the first 10 response-evaluable" in rate_row(ten, "cbr_stage1")["method"]
    eight = compute_endpoints(canonical(cohort(outcomes)), stage_sizes=(8, 24))
    assert rate_row(eight, "cbr_stage1")["x"] == 0
    none = compute_endpoints(canonical(cohort(outcomes)), stage_sizes=())
    assert not none["endpoint"].str.contains("stage").any()


def test_the_default_stage_sizes_are_the_bundled_drup_rule_files():
    from dossier.resources import drup_stage_sizes

    assert drup_stage_sizes() == (8, 24)  # criteria/drup-two-stage.yaml, stages' of:
    table = compute_endpoints(canonical(cohort([BENEFIT] * 3)))
    assert '"first":8' in rate_row(table, "cbr_stage1")["parameters"]
