"""The results table (contract D): columns, dtypes, builder, writers and reader."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from _endpoint_cohorts import hand_cohort, random_cohorts

from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.results import (
    COLUMNS,
    DTYPES,
    ResultsBuilder,
    check_results,
    empty_results,
    read_results,
    results_bytes,
    results_frame,
    write_results,
)

FORMATS = (".csv", ".parquet", ".json")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    frame = pd.concat([hand_cohort(), random_cohorts(80, 3)], ignore_index=True)
    return compute_endpoints(frame, by=["drug"])


def test_columns_come_in_contract_order_with_fixed_dtypes(table):
    assert list(table.columns) == [
        "group_by", "group", "endpoint", "statistic", "time", "estimate", "lower", "upper",
        "x", "n", "unit", "denominator", "status", "method", "parameters", "label",
        "denominator_label",
    ]
    assert {c: str(table[c].dtype) for c in table.columns} == DTYPES
    for column in ("group_by", "group", "unit", "denominator", "status", "method", "label",
                   "denominator_label"):
        assert all(isinstance(v, str) for v in table[column])


def test_table_uses_only_the_contract_vocabulary(table):
    assert set(table["status"]) <= {"ok", "not_reached", "no_patients", "not_estimable"}
    assert set(table["unit"]) == {"proportion", "months", "patients", "ratio"}
    assert set(table["denominator"]) == {
        "evaluable", "treated", "responders", "sd_benefit_window", "with_prior_pfs",
        "stage1_evaluable", "stage2_evaluable", ""}
    for text in table["parameters"].unique():
        parsed = json.loads(text)
        assert json.dumps(parsed, sort_keys=True, separators=(",", ":")) == text


@pytest.mark.parametrize("suffix", FORMATS)
def test_written_table_reads_back_identical(table, tmp_path, suffix):
    path = write_results(table, tmp_path / f"results{suffix}")
    pd.testing.assert_frame_equal(read_results(path), table, check_exact=True)


@pytest.mark.parametrize("suffix", FORMATS)
def test_same_input_gives_identical_bytes(suffix):
    frame = pd.concat([hand_cohort(), random_cohorts(80, 3)], ignore_index=True)
    first = results_bytes(compute_endpoints(frame, by=["drug"]), suffix)
    second = results_bytes(compute_endpoints(frame.copy(), by=["drug"]), suffix)
    assert first == second


def test_json_has_sorted_keys_null_for_missing_and_shortest_float_repr(table):
    text = results_bytes(table, ".json").decode("utf-8")
    document = json.loads(text)
    assert list(document) == sorted(document) == ["columns", "format", "rows", "version"]
    assert document["columns"] == list(COLUMNS)
    first = dict(zip(COLUMNS, document["rows"][0], strict=True))
    assert first["time"] is None and first["statistic"] == "treated"
    cbr = next(r for r in document["rows"] if r[2] == "cbr")
    assert repr(cbr[5]) in text  # floats as Python's shortest round-trip repr
    assert re.search(r"[\[,] ?(NaN|Infinity)[,\]]", text) is None  # strict JSON, no NaN token


def test_csv_writes_missing_numbers_as_empty_cells(table):
    lines = results_bytes(table, ".csv").decode("utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1].startswith("all,all,patients,treated,,")


def test_unknown_suffix_is_refused_before_anything_is_written(table, tmp_path):
    with pytest.raises(ValueError, match=r"results\.xlsx.*\.csv, \.parquet, \.json"):
        write_results(table, tmp_path / "results.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_writing_replaces_the_file_and_leaves_no_temporary_files(table, tmp_path):
    target = tmp_path / "out" / "results.csv"
    write_results(table.iloc[:3], target)
    write_results(table, target)
    assert [p.name for p in target.parent.iterdir()] == ["results.csv"]
    assert len(read_results(target)) == len(table)


def test_failed_write_keeps_the_previous_file(table, tmp_path):
    target = tmp_path / "results.json"
    write_results(table, target)
    before = target.read_bytes()
    with pytest.raises(ValueError, match="missing column"):
        write_results(table.drop(columns=["method"]), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_reader_names_a_missing_column(table, tmp_path):
    path = tmp_path / "results.csv"
    table.drop(columns=["status"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"results\.csv: missing column\(s\) status"):
        read_results(path)


def test_reader_refuses_json_that_is_not_a_results_table(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a dossier results file"):
        read_results(path)


def test_unknown_status_is_refused():
    frame = results_frame([("all", "all", "orr", "rate", None, 0.5, 0.1, 0.9, 1, 2,
                            "proportion", "evaluable", "fine", "m", "{}", "ORR", "evaluable")])
    with pytest.raises(ValueError, match=r"unknown status value.*fine"):
        check_results(frame)


@pytest.mark.parametrize("suffix", FORMATS)
def test_empty_table_round_trips(tmp_path, suffix):
    path = write_results(empty_results(), tmp_path / f"empty{suffix}")
    back = read_results(path)
    assert list(back.columns) == list(COLUMNS) and len(back) == 0
    assert {c: str(back[c].dtype) for c in back.columns} == DTYPES


def test_builder_keeps_rows_and_blocks_in_the_order_they_were_added():
    builder = ResultsBuilder()
    text = ("proportion", "treated", "ok", "m", "{}", "PFS", "treated")
    builder.rows.append(("all", "all", "pfs", "n", None, 3.0, None, None, 1.0, 3.0, *text))
    builder.add_block("all", "all", "pfs", "curve",
                      (np.array([1.0, 2.0]), np.array([0.9, 0.8]), None, None, 1.0, 3.0), *text)
    builder.rows.append(("all", "all", "pfs", "followup", None, 4.0, None, None, 2.0, 3.0,
                         *text))
    builder.add_block("all", "all", "os", "curve",
                      (np.array([5.0]), np.array([0.5]), 0.1, 0.9, 1.0, 2.0), *text)
    frame = builder.frame()
    assert frame["statistic"].tolist() == ["n", "curve", "curve", "followup", "curve"]
    assert frame["endpoint"].tolist() == ["pfs", "pfs", "pfs", "pfs", "os"]
    assert frame["time"].tolist()[1:3] == [1.0, 2.0]
    assert math.isnan(frame["time"].iloc[0]) and math.isnan(frame["lower"].iloc[1])
    assert frame["estimate"].tolist() == [3.0, 0.9, 0.8, 4.0, 0.5]
    assert frame["upper"].iloc[4] == 0.9
    assert {c: str(frame[c].dtype) for c in frame.columns} == DTYPES
