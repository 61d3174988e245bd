"""Tests of the dossier workbook, read back with openpyxl and, for formulas, as raw sheet XML.

What a reviewer opening dossier.xlsx would notice: wrong numbers or formats, a header that
scrolls away, no filter, uncoloured verdicts, a cell that runs a formula, or a file that
changes between two identical builds.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from dossier.render.xlsx import (
    INTEGER_FORMAT,
    MONTH_FORMAT,
    PERCENT_FORMAT,
    SheetSpec,
    sheet_title,
    write_workbook,
)

CREATED = dt.datetime(2024, 5, 1, 12, 30, 0)
INJECTIONS = [
    '=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx",
    "<script>alert(1)</script>", "=1+1", "#N/A", "1.5", "TRUE",
]


def _results() -> pd.DataFrame:
    """A slice of the results table (contract D) with a verdict column, as the lead builds it."""
    return pd.DataFrame({
        "group": ["A", "B", "C", "D", "E"],
        "endpoint": ["cbr", "cbr", "pfs", "pfs", "os"],
        "estimate": [0.25, np.float64(0.5), np.nan, 1.0, 0.0],
        "median_months": [4.07, np.nan, 12.0, 3.3333, 0.5],
        "n": pd.array([12, 8, None, 3, 40], dtype="Int64"),
        "x": [3.0, 4.0, np.nan, 1.0, 0.0],
        "verdict": ["met", "not met", "pending", "not assessable",
                    "trial success, below dossier's payer screen"],
        "rare": [True, False, None, np.bool_(True), False],
        "first_patient": pd.to_datetime(["2019-03-01", None, "2020-12-31", "2021-01-15",
                                         "2018-07-04"]),
    })


def _spec(frame: pd.DataFrame | None = None, **overrides) -> SheetSpec:
    options = {
        "percent_columns": ["estimate"], "month_columns": ["median_months"],
        "integer_columns": ["n", "x"], "verdict_columns": ["verdict"],
        "notes": ["Months = days / 30.4375; CIs Clopper-Pearson exact", "=not a formula"],
    }
    options.update(overrides)
    return SheetSpec(name="Results", frame=_results() if frame is None else frame, **options)


def _write(sheets, **kwargs) -> bytes:
    buffer = io.BytesIO()
    write_workbook(sheets, buffer, title=kwargs.get("title", "DRUP dossier"),
                   created=kwargs.get("created", CREATED))
    return buffer.getvalue()


def _read(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _sheet_xml(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n).decode("utf-8") for n in archive.namelist()
                if n.startswith("xl/worksheets/")}


# --------------------------------------------------------------------------- values, formats
def test_cells_hold_the_real_values_with_percent_month_and_count_formats():
    ws = _read(_write([_spec()]))["Results"]
    header = 4  # two note lines, a blank line, then the header
    # percent and month columns carry their unit in the header
    assert [c.value for c in ws[header]] == [
        {"estimate": "estimate (proportion)", "median_months": "median_months (months)"}.get(
            c, c) for c in _results().columns]
    a = {c.value.split(" (")[0]: ws.cell(header + 1, i + 1) for i, c in enumerate(ws[header])}
    assert a["estimate"].value == 0.25 and a["estimate"].number_format == PERCENT_FORMAT
    assert a["median_months"].value == 4.07
    assert a["median_months"].number_format == MONTH_FORMAT
    assert a["n"].value == 12 and a["n"].number_format == INTEGER_FORMAT
    assert a["x"].value == 3 and a["x"].number_format == INTEGER_FORMAT
    assert a["group"].value == "A" and a["group"].number_format == "General"
    assert a["rare"].value is True and a["rare"].data_type == "b"
    assert a["first_patient"].value == dt.datetime(2019, 3, 1)
    assert a["first_patient"].number_format == "yyyy-mm-dd"
    # the fourth row: 3.3333 months kept in full (only shown as 3.3), 100% stored as 1
    assert ws.cell(header + 4, 4).value == pytest.approx(3.3333)
    assert ws.cell(header + 4, 3).value == 1


def test_missing_values_are_empty_cells_not_nan_or_zero():
    ws = _read(_write([_spec()]))["Results"]
    row_c = [c.value for c in ws[7]]  # group C: estimate NaN, n <NA>, x NaN, rare None
    assert row_c[0] == "C"
    assert row_c[2] is None and row_c[4] is None and row_c[5] is None and row_c[7] is None
    row_b = [c.value for c in ws[6]]
    assert row_b[3] is None and row_b[8] is None  # median NaN, NaT


def test_notes_are_written_above_the_table_as_text():
    ws = _read(_write([_spec()]))["Results"]
    assert ws["A1"].value == "Months = days / 30.4375; CIs Clopper-Pearson exact"
    assert ws["A2"].value == "=not a formula" and ws["A2"].data_type == "s"
    assert ws["A3"].value is None


def test_header_is_frozen_filtered_bold_and_filled():
    ws = _read(_write([_spec()]))["Results"]
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == "A4:I9"
    for cell in ws[4]:
        assert cell.font.bold
        assert cell.fill.fill_type == "solid"


def test_sheet_without_notes_has_its_header_in_the_first_row():
    ws = _read(_write([_spec(notes=())]))["Results"]
    assert ws["A1"].value == "group"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:I6"


def test_empty_table_keeps_its_header_and_filter():
    frame = _results().iloc[0:0]
    ws = _read(_write([_spec(frame, verdict_columns=())]))["Results"]
    assert [c.value.split(" (")[0] for c in ws[4]] == list(frame.columns)
    assert ws.auto_filter.ref == "A4:I4"
    assert ws.max_row == 4


def test_column_widths_follow_content_and_are_capped():
    frame = pd.DataFrame({"id": ["A", "B"], "method": ["x" * 300, "Clopper-Pearson"],
                          "cohort_description": ["short", "s"]})
    ws = _read(_write([SheetSpec("Methods", frame)]))["Methods"]
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] == 8  # a one-letter column still gets the minimum width
    assert widths["B"] == 60  # 300 characters are capped
    assert len("cohort_description") < widths["C"] < 30  # the header sets the width


def test_verdict_column_is_coloured_by_conditional_formatting():
    ws = _read(_write([_spec()]))["Results"]
    rules = {}
    for block in ws.conditional_formatting:
        for rule in block.rules:
            rules[rule.formula[0]] = (str(block.sqref), rule.dxf.fill.bgColor.rgb)
    assert rules == {
        'LOWER(TRIM(G5))="met"': ("G5:G9", "FFC6EFCE"),
        'LOWER(TRIM(G5))="not met"': ("G5:G9", "FFFFC7CE"),
        'OR(LOWER(TRIM(G5))="pending",LOWER(TRIM(G5))="immature")': ("G5:G9", "FFFFEB9C"),
        'OR(LOWER(TRIM(G5))="not assessable",LOWER(TRIM(G5))="not applicable")':
            ("G5:G9", "FFE7E6E6"),
        "LOWER(TRIM(G5))=\"trial success, below dossier's payer screen\"":
            ("G5:G9", "FFF8CBAD"),
    }
    assert [c.value for c in ws["G"][4:]] == list(_results()["verdict"])


# ------------------------------------------------------------------------------ injection
def test_text_that_looks_like_a_formula_stays_exact_text():
    frame = pd.DataFrame({INJECTIONS[0]: INJECTIONS, "n": range(len(INJECTIONS))})
    data = _write([SheetSpec("=cmd|' /C calc'!A0", frame, notes=["+SUM(A1)"])])
    workbook = _read(data)
    ws = workbook.worksheets[0]
    assert ws.title == "=cmd|' _C calc'!A0"
    assert ws["A1"].value == "+SUM(A1)"
    assert ws["A3"].value == INJECTIONS[0] and ws["A3"].data_type == "s"
    for i, text in enumerate(INJECTIONS):
        cell = ws.cell(4 + i, 1)
        assert cell.value == text, text
        assert cell.data_type == "s", text
    for name, xml in _sheet_xml(data).items():
        assert not re.search(r"<f[\s>/]", xml), name
    # read without openpyxl's help too: the raw XML holds the text, not a formula
    xml = _sheet_xml(data)["xl/worksheets/sheet1.xml"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    assert "<t>=HYPERLINK(&quot;" in xml or '<t>=HYPERLINK("http://x","y")</t>' in xml


def test_characters_excel_cannot_store_are_dropped_not_fatal():
    frame = pd.DataFrame({"label": ["bell\x07 and\x00 nul", "ok"]})
    ws = _read(_write([SheetSpec("S", frame)]))["S"]
    assert ws["A2"].value == "bell and nul"


def test_infinite_values_are_written_as_text_not_a_broken_number():
    frame = pd.DataFrame({"upper": [np.inf, -np.inf, 2.5]})
    ws = _read(_write([SheetSpec("S", frame)]))["S"]
    assert [ws["A2"].value, ws["A3"].value, ws["A4"].value] == ["inf", "-inf", 2.5]


# ----------------------------------------------------------------------- guard clauses
def test_unknown_formatted_column_is_an_error_naming_sheet_and_column():
    with pytest.raises(ValueError, match=r"'Results'.*'estimat'"):
        _write([_spec(percent_columns=["estimat"])])


def test_fractional_value_in_an_integer_column_is_an_error_naming_row_and_column():
    frame = pd.DataFrame({"n": [3.0, 2.5]})
    with pytest.raises(ValueError, match=r"'S', row 3, column 'n': 2.5"):
        _write([SheetSpec("S", frame, integer_columns=["n"])])


def test_workbook_without_sheets_is_an_error():
    with pytest.raises(ValueError, match="at least one sheet"):
        _write([])


# ----------------------------------------------------------------------------- sheet names
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Results [all]: 1/2", "Results _all__ 1_2"),
        ("What?*\\", "What___"),
        ("A" * 40, "A" * 31),
        ("'quoted'", "quoted"),
        ("", "Sheet"),
        ("history", "History_"),
    ],
)
def test_sheet_names_are_made_valid_for_excel(name, expected):
    assert sheet_title(name) == expected


def test_duplicate_sheet_names_are_numbered_in_order():
    frame = pd.DataFrame({"a": [1]})
    names = ["cohort " + "x" * 30, "Cohort " + "x" * 30, "cohort " + "x" * 40]
    workbook = _read(_write([SheetSpec(n, frame) for n in names]))
    assert workbook.sheetnames == ["cohort " + "x" * 24, "Cohort " + "x" * 20 + " (2)",
                                   "cohort " + "x" * 20 + " (3)"]


# ---------------------------------------------------------------------------- determinism
def test_same_input_gives_byte_identical_workbooks(tmp_path: Path):
    sheets = [_spec(), SheetSpec("Methods", pd.DataFrame({"note": ["Kaplan-Meier"]}))]
    write_workbook(sheets, tmp_path / "one.xlsx", title="DRUP dossier", created=CREATED)
    second = _write(sheets)
    assert (tmp_path / "one.xlsx").read_bytes() == second


def test_workbook_properties_and_zip_dates_are_the_given_time_not_the_clock():
    data = _write([_spec()], created=dt.datetime(2021, 2, 3, 4, 5, 6))
    properties = _read(data).properties
    assert properties.creator == "dossier"
    assert properties.title == "DRUP dossier"
    assert properties.created == dt.datetime(2021, 2, 3, 4, 5, 6)
    assert properties.modified == dt.datetime(2021, 2, 3, 4, 5, 6)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert {i.date_time for i in infos} == {(2021, 2, 3, 4, 5, 6)}
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)


def test_timezone_aware_created_time_is_stored_in_utc():
    cet = dt.timezone(dt.timedelta(hours=1))
    data = _write([_spec()], created=dt.datetime(2021, 2, 3, 5, 5, 6, tzinfo=cet))
    assert _read(data).properties.created == dt.datetime(2021, 2, 3, 4, 5, 6)
