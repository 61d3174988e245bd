"""ADaM input: a clean study maps to the hand-worked values in every format, and each kind of
bad input is reported at its file, row and variable (as any other input is)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _adam_factories import (
    EXPECTED,
    FORMATS,
    MAPPING,
    csv_row,
    found,
    report_of,
    study,
    write_dataset,
    write_study,
)

from dossier.registry.adam import load_adam
from dossier.registry.load import RegistryError


def _na(value: object) -> object:
    return None if value is pd.NA or (isinstance(value, float) and pd.isna(value)) else value


@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_study_maps_to_hand_worked_values(tmp_path, fmt):
    mapping = write_study(study(), tmp_path / "study", fmt)
    registry = load_adam(tmp_path / "study", mapping)
    assert registry.report.errors == ()
    patients = registry.patients.set_index("patient_id")
    assert list(patients.index) == list(EXPECTED)  # screen failures F01, F02 left out
    for pid, (evaluable, bor, confirmed, grade) in EXPECTED.items():
        row = patients.loc[pid]
        got = (bool(row["response_evaluable"]), _na(row["best_response"]),
               _na(row["response_confirmed"]), _na(row["worst_ae_grade"]))
        assert got == (evaluable, bor, confirmed, grade), pid
    s01 = patients.loc["S01"]
    assert (s01["drug"], s01["tumour_type"], s01["alteration"]) == (
        "Drug A", "melanoma", "BRAF V600E")
    assert s01["cohort_id"] == "Drug A | melanoma | BRAF V600E"
    assert (s01["pfs_days"], s01["pfs_event"], s01["os_days"], s01["os_event"]) == (
        200.0, 1, 400.0, 0)
    assert s01["response_days"] == 42.0  # first PR, on the PFS scale
    first_row = 2 if fmt == "csv" else 1
    assert patients["row"].tolist() == list(range(first_row, first_row + 10))


def _issues_of(tmp_path: Path, frames: dict[str, pd.DataFrame],
               mapping: str = MAPPING) -> set[tuple[str, str, str, int | None, str | None]]:
    path = write_study(frames, tmp_path / "study", "csv", mapping)
    return found(report_of(tmp_path / "study", path))


def _adtte_index(frames: dict[str, pd.DataFrame], pid: str, code: str) -> int:
    adtte = frames["adtte"]
    return int(adtte.index[(adtte["USUBJID"] == pid) & (adtte["PARAMCD"] == code)][0])


def test_adtte_without_paramcd_is_an_error_naming_the_variable(tmp_path):
    frames = study()
    frames["adtte"] = frames["adtte"].drop(columns="PARAMCD")
    issues = _issues_of(tmp_path, frames)
    assert ("error", "missing_required_column", "adtte.csv", None, "PARAMCD") in issues
    assert not [i for i in issues if i[2] == "adsl.csv" and i[0] == "error"]


def test_blank_paramcd_is_an_error_at_its_row(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S03", "OS")
    frames["adtte"].loc[index, "PARAMCD"] = None
    issues = _issues_of(tmp_path, frames)
    assert ("error", "missing_value", "adtte.csv", csv_row(index), "PARAMCD") in issues
    # the subject then has no OS: said once, at its ADSL row, not again for os_days
    assert ("error", "missing_time", "adsl.csv", 4, "USUBJID") in issues
    assert not [i for i in issues if i[1] == "missing_value" and i[4] == "os_days"]


def test_cnsr_outside_0_1_is_an_error_at_its_row(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S02", "PFS")
    frames["adtte"].loc[index, "CNSR"] = 2
    path = write_study(frames, tmp_path / "study", "csv")
    report = report_of(tmp_path / "study", path)
    issue = next(i for i in report.errors if i.rule == "invalid_censor_code")
    assert (issue.file, issue.row, issue.column, issue.value, issue.patient_id) == (
        "adtte.csv", csv_row(index), "CNSR", "2", "S02")
    assert len(report.errors) == 1  # not repeated as a blank pfs_event


def test_positive_censor_codes_are_censored_when_the_mapping_allows_them(tmp_path):
    frames = study()
    frames["adtte"].loc[_adtte_index(frames, "S02", "PFS"), "CNSR"] = 2
    path = write_study(frames, tmp_path / "study", "csv",
                       MAPPING + "adtte:\n  censor_codes: positive\n")
    patients = load_adam(tmp_path / "study", path).patients.set_index("patient_id")
    assert patients.loc["S02", "pfs_event"] == 0


def test_subject_in_adtte_absent_from_adsl_is_an_error_at_its_row(tmp_path):
    frames = study()
    extra = frames["adtte"].iloc[[0]].assign(USUBJID="S99")
    frames["adtte"] = pd.concat([frames["adtte"], extra], ignore_index=True)
    issues = _issues_of(tmp_path, frames)
    assert ("error", "subject_not_in_adsl", "adtte.csv", csv_row(len(frames["adtte"]) - 1),
            "USUBJID") in issues


def test_conflicting_units_are_errors_on_the_odd_rows(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S04", "PFS")
    frames["adtte"].loc[index, "AVALU"] = "MONTHS"
    issues = _issues_of(tmp_path, frames)
    assert {i for i in issues if i[0] == "error"} == {
        ("error", "conflicting_units", "adtte.csv", csv_row(index), "AVALU")}


def test_months_are_converted_to_days(tmp_path):
    frames = study()
    pfs = frames["adtte"]["PARAMCD"] == "PFS"
    frames["adtte"].loc[pfs, "AVALU"] = "MONTHS"
    frames["adtte"]["AVAL"] = frames["adtte"]["AVAL"].astype(float)
    frames["adtte"].loc[pfs, "AVAL"] = frames["adtte"].loc[pfs, "AVAL"] / 30.4375
    path = write_study(frames, tmp_path / "study", "csv")
    registry = load_adam(tmp_path / "study", path)
    s01 = registry.patients.set_index("patient_id").loc["S01"]
    assert s01["pfs_days"] == pytest.approx(200.0, rel=1e-12)
    assert s01["os_days"] == 400.0  # OS stays in days
    pfs_decision = next(d for d in registry.report.decisions if d.topic == "PFS")
    assert "in months (from AVALU) x 30.4375 = days" in pfs_decision.text


def test_unknown_unit_is_an_error(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S01", "OS")
    frames["adtte"].loc[index, "AVALU"] = "COUNT"
    issues = _issues_of(tmp_path, frames)
    assert ("error", "unknown_time_unit", "adtte.csv", csv_row(index), "AVALU") in issues


def test_missing_pfs_parameter_lists_the_codes_present(tmp_path):
    frames = study()
    frames["adtte"]["PARAMCD"] = frames["adtte"]["PARAMCD"].replace("PFS", "PFSINV")
    path = write_study(frames, tmp_path / "study", "csv")
    report = report_of(tmp_path / "study", path)
    issue = next(i for i in report.errors if i.rule == "no_parameter")
    assert "PARAMCD values present: OS, PFSINV" in issue.message
    assert len(report.errors) == 1
    path.write_text(MAPPING + "adtte:\n  pfs: PFSINV\n", encoding="utf-8")
    assert load_adam(tmp_path / "study", path).patients["pfs_days"].notna().all()


def test_treated_subject_without_os_and_duplicate_pfs_are_errors(tmp_path):
    frames = study()
    os_index = _adtte_index(frames, "S05", "OS")
    duplicate = frames["adtte"].loc[[_adtte_index(frames, "S06", "PFS")]]
    frames["adtte"] = pd.concat([frames["adtte"].drop(index=os_index), duplicate],
                                ignore_index=True)
    issues = _issues_of(tmp_path, frames)
    assert {i for i in issues if i[0] == "error"} == {
        ("error", "missing_time", "adsl.csv", 6, "USUBJID"),
        ("error", "duplicate_record", "adtte.csv", csv_row(len(frames["adtte"]) - 1),
         "PARAMCD"),
    }


def test_progression_after_death_is_an_error_at_the_adtte_pfs_row(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S04", "PFS")
    frames["adtte"].loc[index, "AVAL"] = 250  # S04 died on day 200
    path = write_study(frames, tmp_path / "study", "csv")
    report = report_of(tmp_path / "study", path)
    issue = next(i for i in report.errors)
    assert (issue.rule, issue.file, issue.row, issue.column, issue.value) == (
        "progression_after_death", "adtte.csv", csv_row(index), "AVAL", "250")
    assert issue.message.endswith("[pfs_days = ADTTE AVAL of PARAMCD PFS]")


def test_negative_aval_is_an_error(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S08", "OS")
    frames["adtte"].loc[index, "AVAL"] = -3
    issues = _issues_of(tmp_path, frames)
    assert {i for i in issues if i[0] == "error"} == {
        ("error", "negative_days", "adtte.csv", csv_row(index), "AVAL")}


def test_response_after_progression_is_an_error_at_the_adrs_visit(tmp_path):
    frames = study()
    frames["adtte"].loc[_adtte_index(frames, "S01", "PFS"), ["AVAL", "ADT"]] = [30, "2021-02-03"]
    adrs = frames["adrs"]
    first_pr = int(adrs.index[(adrs["USUBJID"] == "S01") & (adrs["PARAMCD"] == "OVR")][0])
    issues = _issues_of(tmp_path, frames)
    assert {i for i in issues if i[0] == "error"} == {
        ("error", "response_after_progression", "adrs.csv", csv_row(first_pr), "ADT")}


def test_unknown_response_code_is_an_error_at_its_row(tmp_path):
    frames = study()
    adrs = frames["adrs"]
    index = int(adrs.index[(adrs["USUBJID"] == "S03") & (adrs["PARAMCD"] == "BOR")][0])
    adrs.loc[index, "AVALC"] = "Stable"
    issues = _issues_of(tmp_path, frames)
    assert {i for i in issues if i[0] == "error"} == {
        ("error", "unknown_response_code", "adrs.csv", csv_row(index), "AVALC")}


def test_cr_without_any_way_to_know_its_confirmation_is_an_error(tmp_path):
    frames = study()
    frames["adrs"] = frames["adrs"][frames["adrs"]["PARAMCD"] == "BOR"].reset_index(drop=True)
    report = report_of(tmp_path / "study", write_study(frames, tmp_path / "study", "csv"))
    assert sorted(i.patient_id for i in report.errors) == ["S01", "S02", "S05"]
    assert {i.rule for i in report.errors} == {"missing_confirmation"}


def test_bor_without_cbor_takes_confirmation_from_the_visits(tmp_path):
    frames = study()
    frames["adrs"] = frames["adrs"][frames["adrs"]["PARAMCD"] != "CBOR"]
    path = write_study(frames, tmp_path / "study", "csv")
    patients = load_adam(tmp_path / "study", path).patients.set_index("patient_id")
    assert patients.loc[["S01", "S02", "S05"], "response_confirmed"].tolist() == [
        True, True, False]


@pytest.mark.parametrize("kept", [["OVR"], ["CBOR"]], ids=["visits only", "cbor only"])
def test_one_response_source_is_enough(tmp_path, kept):
    frames = study()
    frames["adrs"] = frames["adrs"][frames["adrs"]["PARAMCD"].isin(kept)]
    path = write_study(frames, tmp_path / "study", "csv")
    patients = load_adam(tmp_path / "study", path).patients.set_index("patient_id")
    expected = {pid: (ev, bor, conf) for pid, (ev, bor, conf, _) in EXPECTED.items()}
    if kept == ["CBOR"]:  # without BOR the unconfirmed PR of S05 is CBOR's SD
        expected["S05"] = (True, "SD", None)
    got = {pid: (bool(r["response_evaluable"]), _na(r["best_response"]),
                 _na(r["response_confirmed"])) for pid, r in patients.iterrows()}
    assert got == expected


def test_visit_without_date_is_an_error(tmp_path):
    frames = study()
    adrs = frames["adrs"][frames["adrs"]["PARAMCD"] == "OVR"].reset_index(drop=True)
    index = int(adrs.index[adrs["USUBJID"] == "S08"][0])
    adrs.loc[index, "ADT"] = None
    frames["adrs"] = adrs
    issues = _issues_of(tmp_path, frames)
    assert {i for i in issues if i[0] == "error"} == {
        ("error", "invalid_date", "adrs.csv", csv_row(index), "ADT")}


def test_errors_in_xpt_input_are_numbered_by_record(tmp_path):
    frames = study()
    index = _adtte_index(frames, "S02", "OS")
    frames["adtte"].loc[index, "CNSR"] = 5
    path = write_study(frames, tmp_path / "study", "xpt")
    issues = found(report_of(tmp_path / "study", path))
    assert ("error", "invalid_censor_code", "adtte.xpt", index + 1, "CNSR") in issues


def test_sas_dates_without_a_date_format_are_read_as_days_since_1960(tmp_path):
    folder = tmp_path / "study"
    mapping = write_study(study(), folder, "xpt")
    write_dataset(study()["adsl"], folder / "adsl.xpt", date_format=None)
    patients = load_adam(folder, mapping).patients
    assert patients["treatment_start"].iloc[0] == pd.Timestamp("2021-01-04")


def test_registry_error_lists_every_problem_at_once(tmp_path):
    frames = study()
    frames["adtte"].loc[_adtte_index(frames, "S02", "PFS"), "CNSR"] = 2
    frames["adtte"].loc[_adtte_index(frames, "S03", "OS"), "AVALU"] = "FORTNIGHTS"
    path = write_study(frames, tmp_path / "study", "csv")
    with pytest.raises(RegistryError) as caught:
        load_adam(tmp_path / "study", path)
    assert {i.rule for i in caught.value.report.errors} == {"invalid_censor_code",
                                                           "unknown_time_unit"}
    assert "adtte.csv, row" in str(caught.value)
