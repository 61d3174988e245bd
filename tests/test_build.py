"""dossier build: the folder's JSON and workbook hold the results table's numbers, and a build
is deterministic, atomic and safe against malicious strings in the data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from dossier.build import BuildError, analyse, build_dossier
from dossier.cli import app
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.bundle import sha256_file

INJECTED_DRUG = '=HYPERLINK("http://evil.example","click")'
INJECTED_TUMOUR = "<script>alert(1)</script> & <b>bold</b>"


@pytest.fixture(scope="module")
def small_registry():
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    first = patients["cohort_id"].iloc[0]
    rows = patients["cohort_id"] == first
    patients.loc[rows, "drug"] = INJECTED_DRUG
    patients.loc[rows, "tumour_type"] = INJECTED_TUMOUR
    new_id = f"{INJECTED_DRUG} | ../../{INJECTED_TUMOUR}"
    patients.loc[rows, "cohort_id"] = new_id
    cohorts.loc[cohorts["cohort_id"] == first, "cohort_id"] = new_id
    return registry_from_frames(patients, cohorts, name="small.csv"), new_id


@pytest.fixture(scope="module")
def built(small_registry, tmp_path_factory):
    registry, _ = small_registry
    out = tmp_path_factory.mktemp("build") / "dossier"
    folder, _ = build_dossier(Settings(), registry=registry, destination=out,
                              formats=("json", "xlsx"))
    return folder, registry


def test_results_json_holds_the_results_table_and_every_verdict(built, small_registry) -> None:
    folder, registry = built
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    analysis = analyse(Settings(), registry)
    table = doc["results"]
    assert table["columns"] == list(analysis.results.columns)
    assert len(table["rows"]) == len(analysis.results)
    records = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
    pooled_cbr = next(r for r in records if r["group_by"] == "all"
                      and r["endpoint"] == "cbr" and r["denominator"] == "evaluable")
    expected = analysis.results.query(
        "group_by == 'all' and endpoint == 'cbr' and denominator == 'evaluable'").iloc[0]
    assert pooled_cbr["estimate"] == pytest.approx(expected["estimate"], abs=0)
    assert pooled_cbr["x"] == expected["x"] and pooled_cbr["n"] == expected["n"]
    assert len(doc["verdicts"]) == len(analysis.verdicts)
    first = doc["verdicts"][0]
    for key in ("id", "framework", "version", "verdict", "grade", "clauses", "distance"):
        assert key in first
    assert {r["id"] for r in doc["criteria"]} >= {"drup-two-stage", "esmo-mcbs-v1.1-form3"}


def test_workbook_cohort_cells_equal_the_results_table(built) -> None:
    folder, registry = built
    results = analyse(Settings(), registry).results
    wb = load_workbook(folder / "dossier.xlsx")
    assert wb.sheetnames == ["Cover", "Summary", "Cohorts", "Verdicts", "Scorecards", "Criteria",
                             "Outlook", "Endpoints", "Patients", "Baseline", "Safety",
                             "Adverse events", "Validation", "Data dictionary"]
    ws = wb["Cohorts"]
    header_row = next(i for i, row in enumerate(ws.iter_rows(values_only=True), start=1)
                      if row[1] == "cohort_id")
    header = [c.value for c in ws[header_row]]
    assert ws.freeze_panes == f"A{header_row + 1}"
    checked = 0
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        record = dict(zip(header, row, strict=False))
        cohort = record["cohort_id"]
        cbr = results[(results["group_by"] == "cohort_id") & (results["group"] == cohort)
                      & (results["endpoint"] == "cbr") & (results["denominator"] == "evaluable")]
        assert record["cbr (proportion)"] == pytest.approx(cbr["estimate"].iloc[0], abs=1e-15)
        assert record["cbr_x (patients)"] == cbr["x"].iloc[0]
        median = results[(results["group_by"] == "cohort_id") & (results["group"] == cohort)
                         & (results["endpoint"] == "pfs") & (results["statistic"] == "median")]
        if pd.notna(median["estimate"].iloc[0]):
            assert record["pfs_median (months)"] == pytest.approx(median["estimate"].iloc[0],
                                                                  abs=1e-12)
        else:
            assert record["pfs_median (months)"] in ("not reached", "no patients")
        checked += 1
    assert checked == results.query("group_by == 'cohort_id'")["group"].nunique()
    cbr_column = header.index("cbr (proportion)") + 1
    assert ws.cell(header_row + 1, cbr_column).number_format == "0.0%"


def test_malicious_strings_stay_plain_text_in_the_workbook_and_json(built, small_registry):
    folder, _ = built
    _, bad_id = small_registry
    wb = load_workbook(folder / "dossier.xlsx")
    values = {c.value for row in wb["Cohorts"].iter_rows() for c in row}
    assert bad_id in values and INJECTED_DRUG in values
    with zipfile.ZipFile(folder / "dossier.xlsx") as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in z.read(n).decode("utf-8") for n in sheets)
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert any(v["id"] == bad_id for v in doc["verdicts"])


def test_manifest_records_the_hash_of_every_output(built) -> None:
    folder, registry = built
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    outputs = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert set(outputs) == {"results.json", "dossier.xlsx", ".dossier-cache.zip"}
    for name, digest in outputs.items():
        assert sha256_file(folder / name) == digest
    assert manifest["parameters"]["data_sha256"] == registry.sha256
    assert manifest["parameters"]["sd_weeks"] == 16.0
    assert len(manifest["criteria"]) >= 9


def test_the_same_input_gives_byte_identical_json_and_workbook(small_registry, tmp_path) -> None:
    registry, _ = small_registry
    folders = [build_dossier(Settings(), registry=registry, destination=tmp_path / f"d{i}",
                             formats=("json", "xlsx"))[0] for i in range(2)]
    for name in ("results.json", "dossier.xlsx", "manifest.json"):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_a_failed_build_leaves_the_earlier_dossier_untouched(small_registry, tmp_path,
                                                             monkeypatch) -> None:
    registry, _ = small_registry
    target = tmp_path / "dossier"
    build_dossier(Settings(), registry=registry, destination=target, formats=("json",))
    before = (target / "results.json").read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("dossier.render.workbook.write_dossier_workbook", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_dossier(Settings(), registry=registry, destination=target,
                      formats=("json", "xlsx"))
    assert (target / "results.json").read_bytes() == before
    assert not (target / "dossier.xlsx").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["dossier"], "a temporary folder was left"


def test_only_builds_the_named_cohorts_and_refuses_unknown_ones(small_registry, tmp_path):
    registry, _bad_id = small_registry
    other = registry.cohorts["cohort_id"].iloc[1]
    folder, _ = build_dossier(Settings(), registry=registry, destination=tmp_path / "one",
                              formats=("json",), only=[other])
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert {v["id"] for v in doc["verdicts"]} == {other}
    with pytest.raises(BuildError, match="did you mean"):
        build_dossier(Settings(), registry=registry, destination=tmp_path / "two",
                      formats=("json",), only=[other[:-1]])
    assert not (tmp_path / "two").exists()


def test_build_command_reports_bad_data_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    patients, _ = demo_registry(n_patients=40, seed=3)
    patients.loc[0, "pfs_event"] = 2
    patients.to_csv(bad, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(bad), "--out", str(out), "--format", "json"])
    assert result.exit_code == 1
    assert "pfs_event" in result.output
    assert not out.exists()


def test_build_command_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "o"), "--format", "docs"])
    assert result.exit_code == 2
    assert "unknown format" in result.output


def test_word_and_quarto_outputs_come_from_the_same_build_and_keep_narrative(
        small_registry, tmp_path):
    import docx

    registry, new_id = small_registry
    out = tmp_path / "dossier"
    folder, timings = build_dossier(Settings(), registry=registry, destination=out,
                                    formats=("docx", "qmd"))
    assert {"docx", "qmd"} <= set(timings)
    document = docx.Document(str(folder / "dossier.docx"))
    assert any(p.text.endswith(new_id) for p in document.paragraphs
               if p.style.name == "Heading 2")
    qmd = folder / "quarto" / "dossier.qmd"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    outputs = {o["path"] for o in manifest["outputs"]}
    assert {"dossier.docx", "quarto/dossier.qmd", "quarto/_quarto.yml",
            "quarto/data/results.csv"} <= outputs
    text = qmd.read_text(encoding="utf-8")
    prompt = text[text.index("\n::: {#narrative-unmet-need .narrative}\n"):].split("\n")[2]
    qmd.write_text(text.replace(prompt, "Written by regulatory affairs."), encoding="utf-8")
    build_dossier(Settings(), registry=registry, destination=out, formats=("docx", "qmd"))
    assert "Written by regulatory affairs." in qmd.read_text(encoding="utf-8")
    rebuilt = docx.Document(str(out / "dossier.docx"))
    assert "Written by regulatory affairs." in [p.text for p in rebuilt.paragraphs]


def test_engine_quarto_without_quarto_stops_before_reading_with_the_install_hint(
        small_registry, tmp_path, monkeypatch):
    registry, _ = small_registry
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BuildError, match=r"quarto\.org.*--format docx"):
        build_dossier(Settings(), registry=registry, destination=tmp_path / "d",
                      formats=("pdf",), engine="quarto")
    assert not (tmp_path / "d").exists()
    result = CliRunner().invoke(app, ["build", "--engine", "quarto", "--out",
                                      str(tmp_path / "d")])
    assert result.exit_code != 0
    assert "Quarto is not installed" in result.output
    assert not (tmp_path / "d").exists()


def test_a_docx_reference_that_is_not_word_is_refused_before_building(small_registry, tmp_path):
    registry, _ = small_registry
    bad = tmp_path / "company.docx"
    bad.write_text("plain text", encoding="utf-8")
    with pytest.raises(BuildError, match=r"company\.docx: not a Word document"):
        build_dossier(Settings(), registry=registry, destination=tmp_path / "d",
                      formats=("docx",), docx_reference=bad)
    assert not (tmp_path / "d").exists()


def test_workbook_verdicts_sheet_lists_every_clause_and_patients_have_no_calendar_dates(built):
    folder, registry = built
    analysis = analyse(Settings(), registry)
    wb = load_workbook(folder / "dossier.xlsx")
    rows = list(wb["Verdicts"].iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r[1] == "cohort_id")
    header, body = rows[header_at], rows[header_at + 1:]
    records = [dict(zip(header, r, strict=False)) for r in body]
    drup = next(v for v in analysis.verdicts if v.criteria_id == "drup-two-stage")
    mine = [r for r in records if r["cohort_id"] == drup.cohort_id
            and r["criteria"] == "drup-two-stage"]
    assert {r["verdict"] for r in mine} == {drup.verdict}
    assert [r["observed"] for r in mine] == [c.observed_text for c in drup.clauses]
    patients = list(wb["Patients"].iter_rows(values_only=True))
    columns = next(r for r in patients if r[1] == "patient_id")
    assert "treatment_start" not in columns and "start_study_day (days)" in columns


def test_progress_counts_every_output_file_and_each_cohort_pdf(small_registry, tmp_path) -> None:
    registry, _ = small_registry
    chosen = list(registry.cohorts["cohort_id"].iloc[1:3])
    calls: list[tuple[str, int, int]] = []
    folder, _ = build_dossier(Settings(), registry=registry, destination=tmp_path / "d",
                              formats=("pdf", "json"), only=chosen,
                              progress=lambda stage, done, total: calls.append(
                                  (stage, done, total)))
    written = {f"cohorts/{p.name}" for p in (folder / "cohorts").glob("*.pdf")}
    assert len(written) == 2
    stages = [stage for stage, _, _ in calls]
    assert written | {"dossier.pdf", "results.json"} <= set(stages)
    after_read = [done for _, done, _ in calls][2:]
    assert after_read == list(range(after_read[0], after_read[0] + len(after_read)))
    assert calls[-1][1] == calls[-1][2] == 3 + 2 + 2  # read, endpoints, scoring; 2 formats; 2 PDFs


def test_a_failure_beside_the_pdfs_waits_for_them_and_leaves_nothing(small_registry, tmp_path,
                                                                     monkeypatch) -> None:
    registry, _ = small_registry

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("dossier.render.workbook.write_dossier_workbook", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_dossier(Settings(), registry=registry, destination=tmp_path / "dossier",
                      formats=("pdf", "xlsx"), only=[registry.cohorts["cohort_id"].iloc[1]])
    assert list(tmp_path.iterdir()) == [], "a (temporary) dossier folder was left"
