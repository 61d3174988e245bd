"""dossier.xlsx as regulatory affairs receive it: a Cover that names data, build and rule-file
versions, units in every numeric header, numbers stored as numbers, the PDF's cohort numbers,
"not reached" and "not estimable" kept apart, print setup and the data dictionary.

Cells are read back with openpyxl from a real build of a small demo registry.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from openpyxl import load_workbook

from dossier.build import analyse, build_dossier
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.registry.schema import PATIENT_COLUMNS, TIME_FIELDS
from dossier.render.context import build_context
from dossier.render.methods_text import data_cutoff
from dossier.render.workbook_cover import cover_sheet

WORDS = ("not reached", "not estimable", "no patients")


@pytest.fixture(scope="module")
def demo():
    patients, cohorts = demo_registry(n_patients=200, seed=5)
    registry = registry_from_frames(patients, cohorts)
    return registry, analyse(Settings(), registry)


@pytest.fixture(scope="module")
def workbook(demo, tmp_path_factory):
    registry, _ = demo
    folder, _ = build_dossier(Settings(), registry=registry, formats=("xlsx",),
                              destination=tmp_path_factory.mktemp("wb") / "dossier")
    return load_workbook(folder / "dossier.xlsx")


def _table(ws) -> tuple[int, list[str], list[dict[str, object]]]:
    """Header row number, header texts and records of a sheet (the header is the row the
    print titles repeat)."""
    header_row = int(ws.print_title_rows.split(":")[0].strip("$"))
    header = [c.value for c in ws[header_row]]
    records = [dict(zip(header, row, strict=False))
               for row in ws.iter_rows(min_row=header_row + 1, values_only=True)]
    return header_row, header, records


def test_cover_names_data_build_and_every_rule_file_with_its_hash(demo, workbook):
    registry, analysis = demo
    assert workbook.sheetnames[0] == "Cover"
    _, header, records = _table(workbook["Cover"])
    assert header == ["item", "value"]
    items = {}
    for r in records:
        items.setdefault(r["item"], []).append(r["value"])
    assert workbook["Cover"]["A1"].value == "SYNTHETIC DEMO DATA, NOT FOR SUBMISSION"
    assert items["Data status"] == ["synthetic demo data, not for submission"]
    assert items["Data SHA-256"] == [registry.sha256]
    assert items["Data cut-off"] == [data_cutoff(registry)]
    assert items["Software version"][0].startswith("dossier ")
    dt.date.fromisoformat(items["Build date"][0])
    for rule_set in analysis.rules.rule_sets:
        (value,) = items[f"Criteria: {rule_set.short or rule_set.id}"]
        assert f"{rule_set.version} (effective" in value
        assert hashlib.sha256(rule_set.path.read_bytes()).hexdigest() in value
    assert items["Sheet"] == workbook.sheetnames[1:]


def test_cover_of_real_data_carries_no_synthetic_notice():
    spec = cover_sheet({"data source": "registry.csv", "data SHA-256": "ab"}, [], ["Summary"])
    assert "Data status" not in spec.frame["item"].tolist()
    assert not any("SYNTHETIC" in n for n in spec.notes)


def test_every_numeric_column_names_its_unit_in_the_header(workbook):
    checked = 0
    for name in ("Summary", "Cohorts", "Verdicts", "Endpoints", "Patients", "Validation"):
        _, header, records = _table(workbook[name])
        for column in header:
            numeric = any(isinstance(r[column], int | float) and not isinstance(r[column], bool)
                          for r in records)
            if numeric:
                assert column.endswith(")") and " (" in column, (name, column)
                checked += 1
    assert checked > 40


def test_observed_values_and_grades_are_stored_as_numbers(demo, workbook):
    _, analysis = demo
    _, _, records = _table(workbook["Verdicts"])
    clause_rows = [r for r in records if r["clause"]]
    numeric = [r for r in clause_rows if isinstance(r["observed_value (see unit)"], int | float)]
    assert len(numeric) > len(clause_rows) / 2
    verdict = next(v for v in analysis.verdicts if v.grade is not None and v.clauses)
    mine = [r for r in records if r["cohort_id"] == verdict.cohort_id
            and r["criteria"] == verdict.criteria_id]
    assert {r["grade (framework's grade)"] for r in mine} == {verdict.grade}
    clause = next(c for c in verdict.clauses
                  if isinstance(c.observed, int | float) and not isinstance(c.observed, bool))
    row = next(r for r in mine if r["observed"] == clause.observed_text)
    assert row["observed_value (see unit)"] == pytest.approx(clause.observed)
    assert row["unit"] == clause.unit
    _, _, cohorts = _table(workbook["Cohorts"])
    column = f"{verdict.criteria_id}: grade (framework's grade)"
    (shown,) = [r[column] for r in cohorts if r["cohort_id"] == verdict.cohort_id]
    assert shown == verdict.grade and isinstance(shown, int)
    _, _, patients = _table(workbook["Patients"])
    grades = [r["worst_ae_grade (CTCAE grade 0-5)"] for r in patients
              if r["worst_ae_grade (CTCAE grade 0-5)"] is not None]
    assert grades and all(isinstance(g, int) and 0 <= g <= 5 for g in grades)


def test_cohort_numbers_are_the_pdfs(demo, workbook):
    registry, analysis = demo
    context = build_context(
        results=analysis.results, verdicts=analysis.verdicts, registry=registry,
        rule_files=analysis.rules.rule_sets, parameters=analysis.parameters, title="t",
        build_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), software_version="0",
        data_sha256=registry.sha256, data_name="demo")
    pdf_numbers = {c["id"]: c["number"] for c in context["cohorts"]}
    for sheet in ("Cohorts", "Verdicts", "Patients"):
        _, _, records = _table(workbook[sheet])
        shown = {r["cohort_id"]: r["cohort_no (as in the PDF)"] for r in records}
        assert shown == {cid: pdf_numbers[cid] for cid in shown}, sheet
        assert all(isinstance(n, int) for n in shown.values())


def test_an_empty_estimate_or_limit_says_why_and_not_reached_is_not_not_estimable(workbook):
    _, header, records = _table(workbook["Endpoints"])
    fields = [h for h in header if h.split(" (")[0] in ("estimate", "lower", "upper")]
    seen: set[str] = set()
    for r in records:
        if r["unit"] not in ("proportion", "months"):
            continue
        for f in fields:
            value = r[f]
            assert value is not None, (r["group"], r["endpoint"], r["statistic"], f)
            if isinstance(value, str):
                assert value in WORDS
                seen.add(value)
        if r["statistic"] == "median" and r["status"] == "not_reached":
            assert r[fields[0]] == "not reached"
        if r["status"] == "no_patients":
            assert {r[f] for f in fields} == {"no patients"}
    assert {"not reached", "not estimable"} <= seen
    _, _, cohorts = _table(workbook["Cohorts"])
    median = "os_median (months)"
    for r in cohorts:
        status = r["os_median_status"]
        if status == "not_reached":
            assert r[median] == "not reached"
        elif status == "ok":
            assert isinstance(r[median], float)


def test_every_sheet_prints_landscape_fit_to_width_with_its_header_repeated(workbook):
    for ws in workbook:
        header_row, header, _ = _table(ws)
        assert header and header[0], ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.print_title_rows == f"${header_row}:${header_row}"
        assert ws.freeze_panes == f"A{header_row + 1}"


def test_data_dictionary_sheet_lists_every_input_column_with_its_unit(workbook):
    _, header, records = _table(workbook["Data dictionary"])
    assert header[:4] == ["file", "column", "type", "unit"]
    columns = {r["column"]: r for r in records if r["file"] == "patient file"}
    expected = [c.name for c in PATIENT_COLUMNS] + [
        name for f in TIME_FIELDS for name in (f.date_column, f.days_column)]
    assert sorted(columns) == sorted(expected)
    assert columns["prior_pfs_days"]["unit"] == "days"
    assert columns["pfs_days"]["unit"] == "days"
    assert any(r["file"] == "cohort metadata" and r["column"] == "escat_tier" for r in records)
