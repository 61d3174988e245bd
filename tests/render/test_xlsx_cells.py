"""The fast cell writer gives the very bytes openpyxl's own writer gives, for awkward values
too; a value it does not know (a time of day) falls back to openpyxl's way."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from dossier.render import xlsx
from dossier.render.xlsx import SheetSpec, write_workbook

CREATED = dt.datetime(2026, 12, 5, 12, 0, 0)


def _sheets() -> list[SheetSpec]:
    awkward = pd.DataFrame({
        "text": ["plain", "é & <x> \"q\" 'a' ü€😀", " lead", "trail ", "a\r\nb\tc", "",
                 "=SUM(1)", "-1", "@x", None],
        "share": [0.5, np.nan, np.inf, -np.inf, 0.123456789, 1.0, 0.0, None, 1e-20, 2.5],
        "months": [1.0, 2.25, None, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        "count": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10**12],
        "flag": [True, False, True, None, False, True, True, False, None, True],
        "verdict": ["met", "not met", "pending", "Met ", "", None, "x", "y", "z", "w"],
        "when": [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-02 10:30:00"),
                 dt.date(2020, 2, 29), pd.NaT, None, dt.datetime(1999, 12, 31, 23, 59, 59),
                 pd.Timestamp("2024-03-01", tz="Europe/Amsterdam"), None, None, None],
        "mixed": [1, "one", 2.5, None, True, "=1+1", 3, "", " ", "z"],
    })
    return [
        SheetSpec("Awkward: one/two", awkward, percent_columns=["share"],
                  month_columns=["months"], integer_columns=["count"],
                  verdict_columns=["verdict"], notes=["=not a formula", "Note é"],
                  units={"count": "patients"}),
        SheetSpec("Empty", pd.DataFrame({"a": [], "b": []})),
        SheetSpec("No columns", pd.DataFrame(), notes=["only a note"]),
        SheetSpec("Plain", pd.DataFrame({"x": range(30), "y": [f"row {i}" for i in range(30)]})),
    ]


def _bytes(sheets: list[SheetSpec]) -> bytes:
    out = io.BytesIO()
    write_workbook(sheets, out, title="Test & title", created=CREATED)
    return out.getvalue()


def test_fast_cells_are_openpyxl_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _bytes(_sheets())
    filled = xlsx._filled_workbook
    monkeypatch.setattr(xlsx, "_filled_workbook", lambda sheets, fast: filled(sheets, False))
    assert fast == _bytes(_sheets())
    book = load_workbook(io.BytesIO(fast))
    sheet = book["Awkward_ one_two"]
    assert sheet["A1"].value == "=not a formula" and sheet["A1"].quotePrefix
    assert sheet["A6"].value == "é & <x> \"q\" 'a' ü€😀"
    assert sheet["A7"].value == " lead"
    assert sheet["A11"].value == "=SUM(1)" and sheet["A11"].data_type == "s"
    assert sheet["A11"].quotePrefix
    assert sheet["B4"].value == "share (proportion)" and sheet["B4"].font.bold
    assert sheet["B5"].number_format == "0.0%" and sheet["B7"].value == "inf"
    assert sheet["D14"].value == 10**12
    assert sheet["G6"].value == dt.datetime(2024, 1, 2, 10, 30)
    assert sheet["G6"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet.freeze_panes == "A5"


def test_time_of_day_falls_back_to_openpyxl() -> None:
    sheets = [SheetSpec("Times", pd.DataFrame({"t": [dt.time(10, 30), None], "n": [1, 2]}))]
    book = load_workbook(io.BytesIO(_bytes(sheets)))
    assert book["Times"]["A2"].value == dt.time(10, 30)
    assert book["Times"]["B3"].value == 2
