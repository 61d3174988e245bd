"""Readers: every format gives the row the user sees, column names match loosely, bad files
fail with the file's name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from _factories import clean_patients, found, report_of, write

from dossier.registry import demo
from dossier.registry.load import RegistryError, load_registry, registry_from_frames
from dossier.registry.readers import (
    INVALID,
    ReadError,
    match_columns,
    normalise_name,
    parse_boolean,
    parse_category,
    parse_date,
    parse_event,
    parse_number,
    patient_columns,
    read_table,
)


def test_csv_rows_count_blank_lines_like_a_spreadsheet(tmp_path: Path) -> None:
    lines = clean_patients(10).to_csv(index=False).splitlines()
    lines[3] = lines[3].replace(",1,2020", ",9,2020", 1)  # P03's stage
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([*lines[:3], "", *lines[3:]]) + "\n", encoding="utf-8")
    raw = read_table(path)
    assert list(raw.frame.index) == [2, 3, *range(5, 13)]
    assert found(report_of(path)) == {("error", "invalid_stage", 5, "stage")}


def test_csv_with_semicolons_and_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(clean_patients().to_csv(index=False, sep=";"), encoding="utf-8-sig")
    registry = load_registry(path)
    assert registry.patients["patient_id"].iloc[0] == "P01"
    assert registry.report.issues == ()


def test_xlsx_reads_the_first_sheet_and_counts_leading_blank_rows(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[4, "worst_ae_grade"] = "9"
    book = openpyxl.Workbook()
    first = book.active
    first.append([])
    first.append([])
    first.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        first.append([v or None for v in values])
    other = book.create_sheet("notes")
    other.append(["not", "patients"])
    book.active = 1  # the user last looked at the notes sheet
    path = tmp_path / "registry.xlsx"
    book.save(path)
    assert found(report_of(path)) == {("error", "out_of_range", 8, "worst_ae_grade")}


def test_xlsx_with_date_number_and_boolean_cells_loads(tmp_path: Path) -> None:
    frame = clean_patients()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for record in frame.to_dict("records"):
        cells = []
        for column, value in record.items():
            if value == "":
                cells.append(None)
            elif column.endswith(("_date", "_start")):
                cells.append(dt.datetime.fromisoformat(value))
            elif column in ("rare_cancer", "response_evaluable", "response_confirmed"):
                cells.append(value == "1")
            elif column.endswith(("_days", "_event", "_grade", "_lines")) or column == "stage":
                cells.append(int(value))
            else:
                cells.append(value)
        sheet.append(cells)
    path = tmp_path / "registry.xlsx"
    book.save(path)
    registry = load_registry(path)
    assert registry.report.issues == ()
    p = registry.patients
    assert list(p["stage"].unique()) == ["1", "2"]
    assert p.loc[0, "response_days"] == 56.0
    assert p.loc[0, "treatment_start"] == pd.Timestamp("2020-01-01")
    assert bool(p.loc[0, "response_confirmed"]) is True


def test_parquet_with_native_types_and_a_stored_index_loads(tmp_path: Path) -> None:
    frame = clean_patients()
    typed = pd.DataFrame({
        "patient_id": frame["patient_id"],
        "cohort": frame["cohort_id"],
        "drug": frame["drug"],
        "tumour_type": frame["tumour_type"],
        "alteration": frame["alteration"],
        "rare_cancer": frame["rare_cancer"] == "1",
        "stage": frame["stage"].astype(int),
        "treatment_start": pd.to_datetime(frame["treatment_start"]),
        "response_evaluable": np.ones(10, dtype=bool),
        "best_response": frame["best_response"],
        "response_confirmed": frame["response_confirmed"].map({"1": 1.0, "": np.nan}),
        "response_date": pd.to_datetime(frame["response_date"].replace("", None)).dt.date,
        "pfs_days": frame["pfs_days"].astype(float),
        "pfs_event": frame["pfs_event"].astype(int),
        "os_days": frame["os_days"].astype(int),
        "os_event": frame["os_event"].astype(int),
        "worst_ae_grade": frame["worst_ae_grade"].astype(float),
        "prior_lines": frame["prior_lines"].astype("Int64"),
        "prior_pfs_days": frame["prior_pfs_days"].astype(float),
    }).set_index("patient_id")
    path = tmp_path / "registry.parquet"
    typed.to_parquet(path)
    registry = load_registry(path)
    assert registry.report.issues == ()
    assert list(registry.patients["patient_id"][:2]) == ["P01", "P02"]
    assert list(registry.patients["row"][:2]) == [1, 2]
    assert registry.patients.loc[1, "response_days"] == 56.0


def test_column_names_match_ignoring_case_spaces_hyphens_and_aliases(tmp_path: Path) -> None:
    frame = clean_patients().rename(columns={
        "patient_id": "Patient ID", "tumour_type": "TUMOR-TYPE", "alteration": "Biomarker",
        "rare_cancer": "RARE", "treatment_start": "Start Date", "best_response": "BOR",
        "response_confirmed": "Confirmed", "response_evaluable": "evaluable",
        "worst_ae_grade": "AE grade", "pfs_days": "PFS.days", "cohort_id": "Cohort",
        "prior_lines": "Lines-Prior"})
    registry = load_registry(write(frame, tmp_path / "registry", "csv"))
    assert registry.report.issues == ()
    p = registry.patients
    assert p.loc[0, ["patient_id", "tumour_type", "best_response"]].tolist() == [
        "P01", "colorectal", "CR"]
    assert p.loc[3, "worst_ae_grade"] == 3
    assert p.loc[2, "pfs_days"] == 58.0  # P03 has PD: progression at the first assessment


def test_match_columns_reports_unknown_and_duplicate_names() -> None:
    match = match_columns(["PATIENT_ID", "subject id", "colour", "pfs days"], patient_columns())
    assert match.mapping == {"patient_id": 0, "pfs_days": 3}
    assert match.duplicates == (("patient_id", 1),)
    assert [match.names[i] for i in match.unknown] == ["colour"]
    assert normalise_name("  Tumour - Type ") == "tumour_type"


@pytest.mark.parametrize(("name", "rule"), [("registry.xls", "unsupported_format"),
                                            ("registry.json", "unsupported_format"),
                                            ("registry", "unsupported_format"),
                                            ("absent.csv", "file_not_found")])
def test_unreadable_files_are_errors_naming_the_file(tmp_path: Path, name: str,
                                                      rule: str) -> None:
    path = tmp_path / name
    if rule != "file_not_found":
        path.write_text("patient_id\nP1\n", encoding="utf-8")
    with pytest.raises(ReadError, match=name):
        read_table(path)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert [(i.rule, i.file) for i in caught.value.report.issues] == [(rule, name)]


@pytest.mark.parametrize(("name", "content", "phrase"), [
    ("broken.xlsx", b"this is not a workbook", "cannot be read as XLSX"),
    ("broken.parquet", b"PAR1 nonsense", "cannot be read as PARQUET"),
    ("latin.csv", "patient_id,drug\nP1,caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("ragged.csv", b"patient_id,drug\nP1,a,b,c\n", "cannot be read as CSV"),
])
def test_corrupt_files_fail_with_the_file_name_and_reason(tmp_path: Path, name: str,
                                                          content: bytes, phrase: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    issue = caught.value.report.issues[0]
    assert (issue.rule, issue.file) == ("unreadable_file", name)
    assert issue.message.startswith(name) and phrase in issue.message


def test_a_header_only_file_has_no_patients(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(",".join(clean_patients().columns) + "\n", encoding="utf-8")
    assert found(report_of(path)) == {("error", "no_patients", None, None)}


def test_cell_parsers_accept_documented_forms_and_refuse_guesses() -> None:
    assert parse_date("2020-03-05") == pd.Timestamp("2020-03-05")
    assert parse_date("2020-03-05 00:00:00") == pd.Timestamp("2020-03-05")
    assert parse_date(dt.date(2020, 3, 5)) == pd.Timestamp("2020-03-05")
    assert parse_date("05/03/2020") is INVALID
    assert parse_date(43895) is INVALID
    assert [parse_boolean(w) for w in ("Yes", "n", "TRUE", "0", 1.0, True, " ")] == [
        True, False, True, False, True, True, None]
    assert parse_boolean("ja") is INVALID and parse_boolean(2) is INVALID
    assert parse_number("1e3") == 1000.0 and parse_number("1,5") is INVALID
    assert parse_number("inf") is INVALID and parse_number(True) is INVALID
    assert parse_event(True) == 1.0 and parse_event("0") == 0.0
    assert parse_category("expansion".upper(), ("1", "2", "expansion")) == "expansion"
    assert parse_category(2.0, ("1", "2", "expansion")) == "2"
    assert parse_category("cr", ("CR", "PR")) == "CR"
    assert parse_category("MR", ("CR", "PR")) == "MR"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_demo_written_to_a_file_reads_back_to_the_same_registry(tmp_path: Path,
                                                                fmt: str) -> None:
    in_memory = registry_from_frames(*demo.demo_registry(200, 7))
    patients_path, _ = demo.write_demo(tmp_path / f"demo.{fmt}", n_patients=200, seed=7)
    from_file = load_registry(patients_path)  # finds demo.cohorts.yaml beside it
    assert [s.name for s in from_file.report.sources] == [f"demo.{fmt}", "demo.cohorts.yaml"]
    pd.testing.assert_frame_equal(from_file.patients.drop(columns="row"),
                                  in_memory.patients.drop(columns="row"))
    pd.testing.assert_frame_equal(from_file.cohorts.drop(columns="row"),
                                  in_memory.cohorts.drop(columns="row"))
    first = 1 if fmt == "parquet" else 2
    assert list(from_file.patients["row"][:3]) == [first, first + 1, first + 2]
