"""Baseline and worst-grade safety lines against hand counts on a registry of eight patients."""

from __future__ import annotations

import pandas as pd
import pytest

from dossier.endpoints.population import (
    NOT_COLLECTED,
    NOT_RECORDED,
    baseline_lines,
    collected_columns,
    population_records,
    worst_grade_lines,
)


@pytest.fixture
def patients() -> pd.DataFrame:
    """Eight treated patients in two cohorts; one without age, one without a grade."""
    return pd.DataFrame({
        "cohort_id": ["A"] * 5 + ["B"] * 3,
        "treatment_start": pd.to_datetime(["2020-01-01"] * 8),
        "age": [40.0, 55.0, 61.0, None, 70.0, 30.0, 80.0, 65.0],
        "sex": ["F", "M", "F", "F", "M", "M", "M", "F"],
        "ecog": pd.array([0, 1, 1, 2, 3, 0, 0, 1], dtype="Int64"),
        "prior_lines": pd.array([0, 1, 2, 3, 5, 1, 1, 2], dtype="Int64"),
        "tumour_subtype": [None] * 8,
        "diagnosis_date": pd.to_datetime(["2019-01-01", "2018-01-01", "2019-07-01",
                                          "2017-01-01", "2019-12-01", "2019-01-01",
                                          "2019-01-01", "2019-01-01"]),
        "worst_ae_grade": pd.array([0, 1, 3, 3, 5, None, 2, 4], dtype="Int64"),
        "best_pct_change": [None] * 8,
    })


def find(lines, characteristic: str, category: str = ""):
    [line] = [x for x in lines if x.characteristic == characteristic and x.category == category]
    return line


def test_cohort_a_by_hand(patients: pd.DataFrame) -> None:
    collected = collected_columns(patients)
    a = patients[patients["cohort_id"] == "A"]
    lines = baseline_lines(a, collected)
    age = find(lines, "Age")
    assert (age.n, age.median, age.minimum, age.maximum) == (4, 58.0, 40.0, 70.0)
    assert find(lines, "Age", NOT_RECORDED).n == 1
    assert (find(lines, "Sex", "Female").n, find(lines, "Sex", "Male").n) == (3, 2)
    assert find(lines, "Sex", "Female").share == pytest.approx(0.6)
    ecog = {x.category: x.n for x in lines if x.characteristic == "ECOG performance status"}
    assert ecog == {"0": 1, "1": 2, "2": 1, "3-4": 1}
    prior = {x.category: x.n for x in lines
             if x.characteristic == "Prior systemic treatment lines"}
    assert prior == {"0": 1, "1": 1, "2": 1, ">= 3": 2}
    since = find(lines, "Time since diagnosis")
    days = [365, 730, 184, 1095, 31]  # 2019-01-01, 2018-01-01, ... to 2020-01-01
    assert since.median == pytest.approx(365 / 30.4375)
    assert since.minimum == pytest.approx(min(days) / 30.4375)
    assert since.maximum == pytest.approx(max(days) / 30.4375)


def test_a_column_nobody_has_is_not_collected_not_left_out(patients: pd.DataFrame) -> None:
    lines = baseline_lines(patients, collected_columns(patients))
    assert find(lines, "Tumour subtype").status == NOT_COLLECTED
    without = patients.drop(columns=["age"])
    assert find(baseline_lines(without, collected_columns(without)), "Age").status == \
        NOT_COLLECTED


def test_ecog_3_4_band_only_when_used(patients: pd.DataFrame) -> None:
    b = patients[patients["cohort_id"] == "B"]
    cats = [x.category for x in baseline_lines(b, collected_columns(patients))
            if x.characteristic == "ECOG performance status"]
    assert cats == ["0", "1", "2"]


def test_worst_grade_distribution_by_hand(patients: pd.DataFrame) -> None:
    lines = worst_grade_lines(patients, collected_columns(patients))
    counts = {x.category: x.n for x in lines}
    assert counts == {"none (grade 0)": 1, "grade 1": 1, "grade 2": 1, "grade 3": 2,
                      "grade 4": 1, "grade 5": 1, "grade >= 3": 4, NOT_RECORDED: 1}
    assert all(x.denominator == 8 for x in lines)
    no_grades = patients.assign(worst_ae_grade=pd.array([None] * 8, dtype="Int64"))
    [line] = worst_grade_lines(no_grades, collected_columns(no_grades))
    assert line.status == NOT_COLLECTED


def test_records_hold_numbers_per_cohort_and_pooled(patients: pd.DataFrame) -> None:
    records = population_records(patients, only=["B"])
    assert list(records) == ["all cohorts", "B"]
    b_sex = [r for r in records["B"]["baseline"] if r["characteristic"] == "Sex"]
    assert [(r["category"], r["n"], r["denominator"]) for r in b_sex] == [
        ("Female", 1, 3), ("Male", 2, 3)]
    severe = [r for r in records["all cohorts"]["safety"] if r["category"] == "grade >= 3"]
    assert severe[0]["percent"] == pytest.approx(0.5)
