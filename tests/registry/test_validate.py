"""Validation: each kind of bad input is reported at its exact row and column, in every format."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import FORMATS, clean_patients, found, report_of, row_of, write
from rich.console import Console

from dossier.registry.load import RegistryError, load_registry, registry_from_frames
from dossier.registry.validate import Issue, ValidationReport


def test_clean_registry_has_no_issue_at_all(tmp_path: Path) -> None:
    report = load_registry(write(clean_patients(), tmp_path / "reg", "csv")).report
    assert report.issues == ()
    assert report.ok
    assert (report.n_patients, report.n_cohorts) == (10, 1)


Edit = Callable[[pd.DataFrame], None]


def _set(index: int, **cells: str) -> Edit:
    def edit(frame: pd.DataFrame) -> None:
        for column, value in cells.items():
            if column not in frame.columns:
                frame[column] = ""
            frame.loc[index, column] = value

    return edit


def _drop(*columns: str) -> Edit:
    def edit(frame: pd.DataFrame) -> None:
        frame.drop(columns=list(columns), inplace=True)

    return edit


def _rename(old: str, new: str) -> Edit:
    def edit(frame: pd.DataFrame) -> None:
        frame.rename(columns={old: new}, inplace=True)

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(frame: pd.DataFrame) -> None:
        for e in edits:
            e(frame)

    return edit


@dataclass(frozen=True)
class Case:
    """One bad edit of the clean table and the single issue it must produce."""

    id: str
    edit: Edit
    rule: str
    index: int | None  # 0-based patient position, None for a column-level issue
    column: str
    severity: str = "error"


CASES = [
    Case("unknown response code", _set(2, best_response="MR"), "unknown_response_code", 2,
         "best_response"),
    Case("negative pfs days", _set(3, pfs_days="-5"), "negative_days", 3, "pfs_days"),
    Case("os date before treatment start", _set(4, os_days="", os_date="2019-12-31"),
         "date_before_treatment_start", 4, "os_date"),
    Case("os over 20 years", _set(5, os_days="8000"), "implausible_duration", 5, "os_days"),
    Case("progression after death", _set(5, pfs_days="500", os_days="400", os_event="1"),
         "progression_after_death", 5, "pfs_days"),
    Case("pfs longer than os while alive", _set(3, pfs_days="450", os_days="430", os_event="0"),
         "pfs_longer_than_os", 3, "pfs_days"),
    Case("response date before start", _set(0, response_date="2019-12-20"),
         "response_before_treatment_start", 0, "response_date"),
    Case("negative response days", _set(1, response_date="", response_days="-3"),
         "response_before_treatment_start", 1, "response_days"),
    Case("response after progression", _set(1, response_date="2020-09-01"),
         "response_after_progression", 1, "response_date"),
    Case("response after pfs censoring", _set(0, response_date="2020-09-01", pfs_event="0"),
         "response_after_pfs_censoring", 0, "response_date"),
    Case("duplicate patient id", _set(6, patient_id="P03"), "duplicate_patient_id", 6,
         "patient_id"),
    Case("evaluable without response", _set(3, best_response=""), "evaluable_without_response",
         3, "best_response"),
    Case("event flag 2", _set(4, os_event="2"), "invalid_event_flag", 4, "os_event"),
    Case("event flag word", _set(5, pfs_event="yes"), "invalid_event_flag", 5, "pfs_event"),
    Case("day-first date", _set(6, treatment_start="03/01/2020"), "invalid_date", 6,
         "treatment_start"),
    Case("impossible date", _set(7, treatment_start="2020-02-30"), "invalid_date", 7,
         "treatment_start"),
    Case("boolean word", _set(8, rare_cancer="maybe"), "invalid_boolean", 8, "rare_cancer"),
    Case("stage 3", _set(9, stage="3"), "invalid_stage", 9, "stage"),
    Case("ae grade 6", _set(2, worst_ae_grade="6"), "out_of_range", 2, "worst_ae_grade"),
    Case("ae grade 2.5", _set(3, worst_ae_grade="2.5"), "not_integer", 3, "worst_ae_grade"),
    Case("pr without confirmation", _set(1, response_confirmed=""), "missing_confirmation", 1,
         "response_confirmed"),
    Case("date and days disagree", _set(5, pfs_date="2020-03-01"), "time_mismatch", 5,
         "pfs_days"),
    Case("neither pfs date nor days", _set(6, pfs_days=""), "missing_time", 6,
         "pfs_date/pfs_days"),
    Case("blank drug", _set(7, drug=""), "missing_value", 7, "drug"),
    Case("NA in a number column", _set(8, prior_lines="NA"), "invalid_number", 8, "prior_lines"),
    Case("required column absent", _drop("stage"), "missing_required_column", None, "stage"),
    Case("required time absent", _drop("os_days"), "missing_required_column", None,
         "os_date/os_days"),
    Case("small cohort", _both(_set(8, cohort_id="C2"), _set(9, cohort_id="C2")), "small_cohort",
         None, "cohort_id", "warning"),
    Case("responder without response date", _set(0, response_date=""), "missing_response_date",
         0, "response_date/response_days", "warning"),
    Case("optional column absent", _drop("worst_ae_grade"), "optional_column_absent", None,
         "worst_ae_grade", "warning"),
    Case("response for a non-evaluable patient", _set(4, response_evaluable="0"),
         "response_not_evaluable", 4, "best_response", "warning"),
    Case("response date for stable disease", _set(3, response_date="2020-03-01"),
         "response_time_ignored", 3, "response_date", "warning"),
    Case("year typed as 0202", _set(5, treatment_start="0202-02-05"), "invalid_date", 5,
         "treatment_start"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_problem_is_reported_at_its_row_and_column(case: Case, fmt: str,
                                                        tmp_path: Path) -> None:
    frame = clean_patients()
    case.edit(frame)
    report = report_of(write(frame, tmp_path / "registry", fmt))
    row = None if case.index is None else row_of(case.index, fmt)
    assert found(report) == {(case.severity, case.rule, row, case.column)}
    assert report.ok is (case.severity == "warning")
    issue = report.issues[0]
    assert issue.file == f"registry.{fmt}"
    if case.index is not None and case.column == "patient_id":
        assert issue.patient_id == "P03"


def test_ne_for_a_non_evaluable_patient_is_not_a_warning(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[4, ["response_evaluable", "best_response"]] = ["0", "NE"]
    registry = load_registry(write(frame, tmp_path / "registry", "csv"))
    assert registry.report.issues == ()
    assert registry.patients.loc[4, "best_response"] is pd.NA


def test_implausible_year_is_named_as_such(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[5, "treatment_start"] = "0202-02-05"
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    assert report.errors[0].message == ("treatment_start 0202-02-05 is not a calendar date in "
                                        "the years 1900-2199")


def test_duplicate_patient_id_names_the_row_it_duplicates(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[6, "patient_id"] = "P03"
    frame.loc[8, "patient_id"] = "P03"
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    dupes = [i for i in report.errors if i.rule == "duplicate_patient_id"]
    assert [(i.row, i.value) for i in dupes] == [(8, "P03"), (10, "P03")]
    assert all("duplicates row 4" in i.message for i in dupes)


def test_every_problem_in_a_file_is_listed_at_once(tmp_path: Path) -> None:
    frame = clean_patients()
    for edit in (_set(1, best_response="XX"), _set(2, pfs_days="-1"), _set(4, os_event="7"),
                 _set(6, patient_id="P01"), _set(7, stage="4"), _set(9, rare_cancer="ja"),
                 _set(5, pfs_days="900", os_days="800")):
        edit(frame)
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    assert {(i.rule, i.row, i.column) for i in report.errors} == {
        ("unknown_response_code", 3, "best_response"),
        ("negative_days", 4, "pfs_days"),
        ("invalid_event_flag", 6, "os_event"),
        ("duplicate_patient_id", 8, "patient_id"),
        ("invalid_stage", 9, "stage"),
        ("invalid_boolean", 11, "rare_cancer"),
        ("progression_after_death", 7, "pfs_days"),
    }


def test_misspelt_required_column_gets_did_you_mean(tmp_path: Path) -> None:
    frame = clean_patients()
    _rename("patient_id", "pateint_id")(frame)
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    missing = [i for i in report.errors if i.rule == "missing_required_column"]
    assert [(i.column, i.row) for i in missing] == [("patient_id", None)]
    assert "did you mean 'pateint_id'?" in missing[0].message
    unknown = [i for i in report.warnings if i.rule == "unknown_column"]
    assert [i.column for i in unknown] == ["pateint_id"]
    assert "did you mean 'patient_id'?" in unknown[0].message


def test_misspelt_time_column_gets_did_you_mean(tmp_path: Path) -> None:
    frame = clean_patients()
    _rename("pfs_days", "pfs_dyas")(frame)
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    missing = [i for i in report.errors if i.rule == "missing_required_column"]
    assert [i.column for i in missing] == ["pfs_date/pfs_days"]
    assert "did you mean 'pfs_dyas'?" in missing[0].message


def test_column_given_twice_under_name_and_alias_is_an_error(tmp_path: Path) -> None:
    frame = clean_patients()
    frame["tumor_type"] = frame["tumour_type"]
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    assert found(report) == {("error", "duplicate_column", None, "tumour_type")}
    assert "'tumour_type' and 'tumor_type'" in report.errors[0].message


def test_missing_best_response_column_is_one_error_not_one_per_patient(tmp_path: Path) -> None:
    frame = clean_patients().drop(columns="best_response")
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    assert ("error", "missing_required_column", None, "best_response") in found(report)
    assert not [i for i in report.issues if i.rule == "evaluable_without_response"]
    assert "10 patients are response-evaluable" in report.errors[0].message


def test_na_text_in_number_column_says_to_leave_the_cell_blank(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[2, "pfs_days"] = "NA"
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    assert found(report) == {("error", "invalid_number", 4, "pfs_days")}
    assert "leave the cell blank" in report.errors[0].message
    assert report.errors[0].value == "NA"


def test_na_text_as_best_response_is_an_unknown_code_with_the_same_hint(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[3, "best_response"] = "NA"
    report = report_of(write(frame, tmp_path / "registry", "csv"))
    assert found(report) == {("error", "unknown_response_code", 5, "best_response")}
    assert report.errors[0].message.endswith("leave the cell blank for a missing value")


def test_na_text_in_a_text_column_is_a_value(tmp_path: Path) -> None:
    frame = clean_patients()
    frame["tumour_type"] = "NA"
    registry = load_registry(write(frame, tmp_path / "registry", "csv"))
    assert set(registry.patients["tumour_type"]) == {"NA"}


def test_warnings_do_not_stop_the_registry(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[0, "response_date"] = ""
    registry = load_registry(write(frame, tmp_path / "registry", "csv"))
    assert [i.rule for i in registry.report.warnings] == ["missing_response_date"]
    assert np.isnan(registry.patients.loc[0, "response_days"])


def test_registry_error_carries_the_report_and_names_the_first_errors(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[2, "stage"] = "3"
    with pytest.raises(RegistryError) as caught:
        load_registry(write(frame, tmp_path / "registry", "csv"))
    assert caught.value.report.errors[0].rule == "invalid_stage"
    assert "registry.csv, row 4, column stage" in str(caught.value)


# --- the canonical frame (contract A) ------------------------------------------------------


def test_dates_become_days_since_treatment_start(tmp_path: Path) -> None:
    frame = clean_patients()
    frame["pfs_date"] = ""
    frame.loc[3, ["pfs_days", "pfs_date"]] = ["", "2020-04-01"]  # start 2020-01-22
    registry = load_registry(write(frame, tmp_path / "registry", "csv"))
    p = registry.patients
    assert p.loc[3, "pfs_days"] == (dt.date(2020, 4, 1) - dt.date(2020, 1, 22)).days == 70
    assert list(p.loc[:1, "response_days"]) == [56.0, 56.0]
    assert p["response_days"].iloc[2:].isna().all()
    assert list(p["row"]) == list(range(2, 12))


def test_canonical_frame_has_contract_columns_and_types(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[9, ["response_evaluable", "best_response"]] = ["0", ""]
    p = load_registry(write(frame, tmp_path / "registry", "parquet")).patients
    assert list(p.columns) == [
        "patient_id", "cohort_id", "drug", "tumour_type", "alteration", "rare_cancer", "stage",
        "treatment_start", "response_evaluable", "best_response", "response_confirmed",
        "response_days", "pfs_days", "os_days", "pfs_event", "os_event", "worst_ae_grade",
        "prior_lines", "prior_pfs_days", "age", "sex", "ecog", "tumour_subtype",
        "diagnosis_date", "best_pct_change", "row"]
    dtypes = {c: str(t) for c, t in p.dtypes.items()}
    assert dtypes["treatment_start"] == "datetime64[ns]"
    assert dtypes["response_confirmed"] == "boolean"
    assert (dtypes["pfs_event"], dtypes["worst_ae_grade"], dtypes["prior_lines"]) == (
        "int64", "Int64", "Int64")
    assert (dtypes["rare_cancer"], dtypes["response_evaluable"]) == ("bool", "bool")
    assert p.loc[9, "best_response"] is pd.NA
    assert list(p["row"]) == list(range(1, 11))
    assert bool(p.loc[1, "response_confirmed"]) is True
    assert pd.isna(p.loc[2, "response_confirmed"])


def test_cohort_id_defaults_to_drug_tumour_alteration(tmp_path: Path) -> None:
    frame = clean_patients().drop(columns="cohort_id")
    registry = load_registry(write(frame, tmp_path / "registry", "csv"))
    assert set(registry.patients["cohort_id"]) == {"nivolumab | colorectal | MSI-high"}
    assert [i.column for i in registry.report.warnings] == ["cohort_id"]


def test_blank_cohort_cell_is_filled_but_given_ids_are_kept() -> None:
    frame = clean_patients()
    frame.loc[0, "cohort_id"] = ""
    registry = registry_from_frames(frame)
    cohorts = registry.patients["cohort_id"]
    assert cohorts.iloc[0] == "nivolumab | colorectal | MSI-high"
    assert set(cohorts.iloc[1:]) == {"C1"}
    assert [(i.rule, i.value) for i in registry.report.warnings] == [
        ("small_cohort", "nivolumab | colorectal | MSI-high")]  # C1 keeps 9 evaluable


def test_sha256_fingerprints_the_patient_file(tmp_path: Path) -> None:
    import hashlib

    path = write(clean_patients(), tmp_path / "registry", "csv")
    assert load_registry(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --- the report -----------------------------------------------------------------------------


def test_report_to_dict_is_json_with_every_issue_field(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[2, "stage"] = "3"
    frame.loc[0, "response_date"] = ""
    report = report_of(write(frame, tmp_path / "registry", "xlsx"))
    data = json.loads(json.dumps(report.to_dict()))
    assert (data["ok"], data["n_errors"], data["n_warnings"], data["n_patients"]) == (
        False, 1, 1, 10)
    assert data["files"][0]["row_numbering"] == "spreadsheet"
    assert data["issues"][0] == {
        "severity": "error", "rule": "invalid_stage", "file": "registry.xlsx", "row": 4,
        "column": "stage", "value": "3", "patient_id": "P03",
        "message": "stage '3' is not allowed; use one of 1, 2, expansion"}
    assert data["issues"][1]["severity"] == "warning"


def test_report_orders_errors_before_warnings_and_by_row() -> None:
    issues = [Issue("warning", "w", "m", "f.csv", 2), Issue("error", "b", "m", "f.csv", 9),
              Issue("error", "a", "m", "f.csv", 3), Issue("error", "c", "m", "f.csv")]
    report = ValidationReport.of(issues, [])
    assert [i.rule for i in report.issues] == ["c", "a", "b", "w"]
    assert [i.rule for i in report.errors] == ["c", "a", "b"]
    assert [i.rule for i in report.warnings] == ["w"]


def test_report_table_shows_row_column_rule_and_legend(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[2, "best_response"] = "MR"
    report = report_of(write(frame, tmp_path / "registry", "parquet"))
    console = Console(width=200, record=True)
    console.print(report.to_table())
    text = console.export_text()
    assert "unknown_response_code" in text and "best_response" in text and " 3 " in text
    assert report.summary() == "registry.parquet: 10 patients, 1 cohort, 1 error, 0 warnings"
    assert report.legend() == ["registry.parquet (patients): row = record number "
                               "(first record = 1)"]
