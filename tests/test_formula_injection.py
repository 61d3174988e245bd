"""Names that a spreadsheet would run as formulas are inert in every CSV and workbook dossier
writes (OWASP: a leading single quote on such text cells), numbers stay numbers, and JSON and
Parquet keep the text exactly."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from dossier.build import build_dossier
from dossier.cli import app
from dossier.config import Settings
from dossier.endpoints.results import (
    FLOAT_COLUMNS,
    STRING_COLUMNS,
    read_results,
    results_bytes,
    results_frame,
    write_results,
)
from dossier.formula_cells import FORMULA_TRIGGERS, neutralise, restore
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3+cmd|x",
           "@SUM(1+1)*cmd|x", "\t=1+1", "\r=1+1"]


# ------------------------------------------------------------------------- the rule itself
@pytest.mark.parametrize("text", HOSTILE)
def test_text_starting_like_a_formula_gets_a_leading_single_quote(text):
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("text", ["DRUP", "BRAF V600E", "", "'quoted'", "a=b", "x-1", "'"])
def test_ordinary_text_is_written_as_it_is(text):
    assert neutralise(text) == text
    assert restore(text) == text


def test_text_already_starting_with_a_quote_stays_distinguishable():
    assert neutralise("'=x") == "''=x"
    assert restore("''=x") == "'=x"


@given(st.text(alphabet=st.sampled_from(["'", "=", "-", "+", "@", "\t", "a", "1", " "]),
               max_size=6))
def test_restore_undoes_neutralise_exactly_and_the_result_is_never_a_formula(text):
    written = neutralise(text)
    assert restore(written) == text
    assert not written.startswith(FORMULA_TRIGGERS)


# ------------------------------------------------------------------------- the results table
def _table() -> pd.DataFrame:
    rows = [("cohort_id", name, "orr", "rate", None, 0.25, -0.5, 1.0, 1.0, 4.0, "proportion",
             "evaluable", "ok", "clopper-pearson", "conf=0.95", "ORR", "evaluable patients")
            for name in HOSTILE]
    rows.append(("cohort_id", "'=already quoted", "orr", "rate", None, -0.5, None, None, None,
                 None, "proportion", "evaluable", "ok", "-method", "@param", "=label",
                 "+denominator"))
    return results_frame(rows)


def test_results_csv_quotes_formula_text_and_keeps_numbers_numeric():
    table = _table()
    rows = list(csv.DictReader(io.StringIO(results_bytes(table, ".csv").decode("utf-8"),
                                           newline="")))
    assert [r["group"] for r in rows[:-1]] == ["'" + name for name in HOSTILE]
    assert rows[-1]["group"] == "''=already quoted"
    assert rows[-1]["method"] == "'-method" and rows[-1]["parameters"] == "'@param"
    for row in rows:
        assert not any(row[c].startswith(FORMULA_TRIGGERS) for c in STRING_COLUMNS)
    assert rows[0]["lower"] == "-0.5" and float(rows[0]["lower"]) == -0.5  # a number
    assert rows[-1]["estimate"] == "-0.5"


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_results_files_read_back_exactly(tmp_path, suffix):
    table = _table()
    back = read_results(write_results(table, tmp_path / f"results{suffix}"))
    assert back["group"].tolist() == table["group"].tolist()
    assert back["method"].tolist() == table["method"].tolist()
    pd.testing.assert_frame_equal(back[list(FLOAT_COLUMNS)], table[list(FLOAT_COLUMNS)])


def test_results_json_and_parquet_hold_the_text_unchanged(tmp_path):
    table = _table()
    document = json.loads(results_bytes(table, ".json"))
    assert [r[1] for r in document["rows"]][:len(HOSTILE)] == HOSTILE
    parquet = pd.read_parquet(io.BytesIO(results_bytes(table, ".parquet")))
    assert parquet["group"].tolist()[:len(HOSTILE)] == HOSTILE


# ------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def hostile_registry():
    patients, cohorts = demo_registry(n_patients=120, seed=5)
    ids = list(dict.fromkeys(patients["cohort_id"]))[:4]
    names = {old: new for old, new in zip(ids, ["=1+1", "+2", "-3+cmd|x", "@SUM(A1)"],
                                          strict=True)}
    patients["cohort_id"] = patients["cohort_id"].replace(names)
    cohorts["cohort_id"] = cohorts["cohort_id"].replace(names)
    patients.loc[patients["cohort_id"] == "=1+1", "drug"] = "=HYPERLINK(\"x\")"
    return registry_from_frames(patients, cohorts, name="hostile.csv"), list(names.values())


def test_endpoints_command_csv_has_no_cell_a_spreadsheet_would_run(hostile_registry,
                                                                    tmp_path):
    registry, names = hostile_registry
    data = tmp_path / "hostile.csv"
    frame = registry.patients.drop(columns=["row"])
    frame.to_csv(data, index=False)
    out = tmp_path / "results.csv"
    result = CliRunner().invoke(app, ["endpoints", str(data), "--by", "drug", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)
                and not _is_number(c)]
    assert {"'" + n for n in names} <= set(cells)
    assert "'=HYPERLINK(\"x\")" in cells
    assert read_results(out)["group"].isin(names).any()  # read back exactly


def _is_number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


def test_build_quarto_csv_workbook_and_json_are_safe_and_exact(hostile_registry, tmp_path):
    registry, names = hostile_registry
    folder, _ = build_dossier(Settings(), registry=registry, destination=tmp_path / "d",
                              formats=("json", "xlsx", "qmd"))
    with open(folder / "quarto" / "data" / "results.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    groups = {r["group"] for r in rows if r["group_by"] == "cohort_id"}
    assert {"'" + n for n in names} <= groups
    assert not any(r[c].startswith(FORMULA_TRIGGERS) for r in rows for c in STRING_COLUMNS)

    workbook = load_workbook(folder / "dossier.xlsx")
    hostile_cells = [c for ws in workbook for row in ws.iter_rows() for c in row
                     if isinstance(c.value, str) and c.value in names]
    assert {c.value for c in hostile_cells} == set(names)  # exact text, no quote added
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile_cells)
    ordinary = workbook["Cohorts"]["A1"]
    assert not ordinary.quotePrefix
    with zipfile.ZipFile(folder / "dossier.xlsx") as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in z.read(n) for n in sheets)

    document = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    columns = document["results"]["columns"]
    json_groups = {dict(zip(columns, r, strict=True))["group"]
                   for r in document["results"]["rows"]}
    assert set(names) <= json_groups
