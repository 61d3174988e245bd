"""Baseline columns (age, sex, ECOG, subtype, diagnosis date) and best % change in target lesions:
validation with file/row/column, ADSL mapping, and the demo's separate random stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import FORMATS, clean_patients, report_of, row_of, write

from dossier.registry import demo_baseline
from dossier.registry.adam import load_adam
from dossier.registry.demo import demo_registry
from dossier.registry.demo_baseline import BASELINE_COLUMNS
from dossier.registry.load import load_registry

PHARMAVERSE = Path(__file__).parents[1] / "reference" / "data" / "pharmaverseadam"


def with_baseline(n: int = 10) -> pd.DataFrame:
    frame = clean_patients(n)
    frame["age"] = [str(50 + i) for i in range(n)]
    frame["sex"] = ["F" if i % 2 else "M" for i in range(n)]
    frame["ecog"] = [str(i % 2) for i in range(n)]
    frame["tumour_subtype"] = ["left-sided colon"] * n
    frame["diagnosis_date"] = ["2019-01-15"] * n
    frame["best_pct_change"] = ["-100", "-45.5", *(["-10", "25"] * n)][:n]
    return frame


def test_clean_baseline_columns_reach_the_canonical_frame(tmp_path: Path) -> None:
    p = load_registry(write(with_baseline(), tmp_path / "r", "csv")).patients
    assert list(p["age"][:3]) == [50.0, 51.0, 52.0]
    assert list(p["sex"][:2]) == ["M", "F"]
    assert list(p["ecog"][:2]) == [0, 1]
    assert p["diagnosis_date"].iloc[0] == pd.Timestamp("2019-01-15")
    assert list(p["best_pct_change"][:3]) == [-100.0, -45.5, -10.0]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("column", "value", "rule"), [
    ("age", "130", "out_of_range"),
    ("age", "sixty", "invalid_number"),
    ("ecog", "5", "out_of_range"),
    ("sex", "X", "invalid_category"),
    ("best_pct_change", "-120", "out_of_range"),
    ("diagnosis_date", "2020-13-01", "invalid_date"),
    ("diagnosis_date", "2021-06-01", "diagnosis_after_start"),
])
def test_impossible_values_are_errors_at_their_cell(tmp_path: Path, fmt: str, column: str,
                                                    value: str, rule: str) -> None:
    frame = with_baseline()
    frame.loc[4, column] = value
    report = report_of(write(frame, tmp_path / "r", fmt))
    errors = [i for i in report.errors if i.column == column]
    assert len(errors) == 1, [i.message for i in report.errors]
    assert errors[0].row == row_of(4, fmt)
    assert errors[0].file == f"r.{fmt}"
    if rule != "invalid_category":
        assert errors[0].rule == rule
    assert value.split("-")[0] in errors[0].message or value in errors[0].message


@pytest.mark.parametrize(("column", "value"), [("age", "16"), ("age", "104"), ("ecog", "3"),
                                                ("best_pct_change", "650")])
def test_implausible_values_are_warnings(tmp_path: Path, column: str, value: str) -> None:
    frame = with_baseline()
    frame.loc[2, column] = value
    registry = load_registry(write(frame, tmp_path / "r", "csv"))
    warnings = [i for i in registry.report.warnings if i.column == column]
    assert [(w.rule, w.row) for w in warnings] == [("implausible_value", 4)]


def test_absent_baseline_columns_are_all_missing_not_errors(tmp_path: Path) -> None:
    registry = load_registry(write(clean_patients(), tmp_path / "r", "csv"))
    for column in ("age", "sex", "ecog", "tumour_subtype", "diagnosis_date", "best_pct_change"):
        assert registry.patients[column].isna().all()


def test_adsl_age_and_sex_are_mapped_for_every_treated_subject() -> None:
    registry = load_adam(PHARMAVERSE)
    adsl = pd.read_csv(PHARMAVERSE / "adsl.csv", dtype=str)
    by_id = adsl.set_index("USUBJID")
    p = registry.patients
    assert len(p) > 0
    assert (p["age"].to_numpy() == by_id.loc[p["patient_id"], "AGE"].astype(float)
            .to_numpy()).all()
    assert list(p["sex"]) == list(by_id.loc[p["patient_id"], "SEX"])
    assert p["ecog"].isna().all()  # pharmaverse ADSL has no ECOG variable
    decisions = [d.text for d in registry.report.decisions]
    assert any("age = ADSL AGE" in t for t in decisions)


def test_adsl_ecog_is_found_under_a_usual_sponsor_name(tmp_path: Path) -> None:
    folder = tmp_path / "adam"
    folder.mkdir()
    for name in ("adsl.csv", "adtte_onco.csv", "adrs_onco.csv"):
        (folder / name).write_bytes((PHARMAVERSE / name).read_bytes())
    adsl = pd.read_csv(folder / "adsl.csv", dtype=str)
    adsl["ECOGBL"] = [str(i % 3) for i in range(len(adsl))]
    adsl.to_csv(folder / "adsl.csv", index=False)
    registry = load_adam(folder)
    p = registry.patients
    expected = adsl.set_index("USUBJID").loc[p["patient_id"], "ECOGBL"].astype(int)
    assert list(p["ecog"].astype(int)) == list(expected)


def test_demo_baseline_comes_from_its_own_stream_and_looks_like_drup(monkeypatch) -> None:
    patients, _ = demo_registry()
    calibrated = [c for c in patients.columns if c not in BASELINE_COLUMNS]
    # another baseline stream changes the baseline columns and nothing else
    monkeypatch.setattr(demo_baseline, "BASELINE_STREAM", demo_baseline.BASELINE_STREAM + 1)
    other, _ = demo_registry()
    pd.testing.assert_frame_equal(patients[calibrated], other[calibrated])
    assert not patients["age"].equals(other["age"])
    assert 61 <= patients["age"].median() <= 65
    assert patients["age"].between(18, 90).all()
    assert patients["ecog"].isin([0, 1]).mean() >= 0.9
    assert patients["prior_lines"].between(1, 3).mean() >= 0.7
    change, bor = patients["best_pct_change"], patients["best_response"]
    assert (change[bor == "CR"].dropna() == -100).all()
    assert (change[bor == "PR"].dropna() <= -30).all()
    assert change[bor == "SD"].dropna().between(-30, 20, inclusive="neither").all()
    assert change[patients["response_evaluable"] == 0].isna().all()
    start = pd.to_datetime(patients["treatment_start"])
    assert (pd.to_datetime(patients["diagnosis_date"]) < start).all()
    assert np.isclose(change.notna().sum() / (bor.notna() & (bor != "NE")).sum(), 0.92,
                      atol=0.03)
