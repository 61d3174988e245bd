"""--patient-ids: no registry id reaches any output file under pseudonymise (the default) or omit,
every one does under keep, the numbers never depend on the choice, and the key written on
request maps each code to its registry id exactly, from a file outside the dossier folder."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from dossier.cli import app
from dossier.registry.demo import demo_registry
from dossier.registry.pseudonyms import read_key

FORMATS = "pdf,xlsx,json,docx,qmd"
CODE = re.compile(r"\bP\d{4}\b")


@pytest.fixture(scope="module")
def registry_file(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """Three cohorts of the demo with hospital-like ids in no particular order, two patients of
    one cohort starting on the same day (the id breaks the tie), and a PR without its response
    time (a validation warning that names the patient's row)."""
    patients, _ = demo_registry(n_patients=60, seed=5)
    kept = patients["cohort_id"].value_counts().index[:3]
    patients = patients[patients["cohort_id"].isin(kept)].reset_index(drop=True)
    numbers = [(7919 * (i + 3)) % 90000 + 10000 for i in range(len(patients))]
    patients["patient_id"] = [f"NKI-{n}" for n in numbers]
    first = patients.index[patients["cohort_id"] == kept[0]]
    patients.loc[first[1], "treatment_start"] = patients.loc[first[0], "treatment_start"]
    patients.loc[first[1], "diagnosis_date"] = patients.loc[first[0], "diagnosis_date"]
    responders = patients.index[patients["best_response"] == "PR"]
    if len(responders):
        patients.loc[responders[0], "response_days"] = None
    path = tmp_path_factory.mktemp("registry") / "hospital.csv"
    patients.to_csv(path, index=False)
    return path, patients


def _build(registry: Path, out: Path, *options: str) -> None:
    result = CliRunner().invoke(app, ["build", str(registry), "--out", str(out), "--format",
                                      FORMATS, *options])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def builds(registry_file, tmp_path_factory) -> dict[str, Path]:
    """One dossier per choice; keep is chosen in dossier.toml, the others on the command line."""
    registry, _ = registry_file
    root = tmp_path_factory.mktemp("builds")
    config = root / "dossier.toml"
    config.write_text('[study]\npatient_ids = "keep"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(config), "build", str(registry), "--out",
                                      str(root / "keep"), "--format", FORMATS])
    assert result.exit_code == 0, result.output
    _build(registry, root / "pseudonymise", "--patient-key", str(root / "key.csv"))
    _build(registry, root / "omit", "--patient-ids", "omit")
    return {"keep": root / "keep", "pseudonymise": root / "pseudonymise",
            "omit": root / "omit", "key": root / "key.csv"}


def _text_of(path: Path) -> str:
    """What a reader of the file sees (PDF text, cells, document XML) plus its raw text."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        reader = PdfReader(path)
        return "\n".join([page.extract_text() for page in reader.pages]
                         + [str(v) for v in (reader.metadata or {}).values()])
    if suffix == ".xlsx":
        book = load_workbook(path)
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    if suffix == ".docx":
        with zipfile.ZipFile(path) as archive:
            return "\n".join(re.sub(r"<[^>]+>", "", archive.read(n).decode("utf-8"))
                             for n in archive.namelist() if n.endswith(".xml"))
    if suffix == ".png":
        return ""
    if suffix == ".zip":  # the build's cache: laid-out PDF parts, read like the PDFs
        with zipfile.ZipFile(path) as archive:
            return "\n".join(
                page.extract_text() for n in archive.namelist() if n.endswith(".pdf")
                for page in PdfReader(io.BytesIO(archive.read(n))).pages)
    return path.read_text(encoding="utf-8")


def _texts(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert files
    return {p.relative_to(folder).as_posix(): _text_of(p) for p in files}


def _found(texts: dict[str, str], ids: list[str]) -> dict[str, list[str]]:
    return {name: [i for i in ids if i in text] for name, text in texts.items()
            if any(i in text for i in ids)}


@pytest.mark.parametrize("choice", ["pseudonymise", "omit"])
def test_no_registry_id_reaches_any_output_file(choice, builds, registry_file) -> None:
    _, patients = registry_file
    texts = _texts(builds[choice])
    kinds = {Path(name).suffix for name in texts}
    assert {".pdf", ".xlsx", ".json", ".docx", ".qmd", ".svg", ".csv"} <= kinds
    assert _found(texts, patients["patient_id"].tolist()) == {}


def test_keep_shows_every_registry_id_in_pdf_workbook_word_and_quarto(builds,
                                                                      registry_file) -> None:
    _, patients = registry_file
    texts = _texts(builds["keep"])
    ids = patients["patient_id"].tolist()
    for name in ("dossier.pdf", "dossier.xlsx", "dossier.docx", "quarto/dossier.qmd"):
        assert [i for i in ids if i not in texts[name]] == [], name
    swimmers = " ".join(t for n, t in texts.items() if n.endswith("swimmer.svg"))
    assert any(i in swimmers for i in ids)
    assert not any(CODE.search(t) for n, t in texts.items() if n.endswith(".svg"))


def _patients_sheet(folder: Path) -> pd.DataFrame:
    sheet = load_workbook(folder / "dossier.xlsx")["Patients"]
    rows = [r for r in sheet.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "cohort_no (as in the PDF)")
    return pd.DataFrame(rows[header + 1:], columns=rows[header])


def test_codes_follow_cohort_then_start_then_id_and_the_key_maps_them_exactly(
        builds, registry_file) -> None:
    _, patients = registry_file
    ordered = patients.assign(start=pd.to_datetime(patients["treatment_start"])).sort_values(
        ["cohort_id", "start", "patient_id"])
    expected = {f"P{n:04d}": pid for n, pid in enumerate(ordered["patient_id"], start=1)}
    assert read_key(builds["key"]) == expected
    assert builds["key"].read_text(encoding="utf-8").splitlines()[:2] == [
        "code,patient_id", f"P0001,{expected['P0001']}"]
    # the workbooks of keep and pseudonymise list the same patients row by row
    kept, coded = _patients_sheet(builds["keep"]), _patients_sheet(builds["pseudonymise"])
    assert dict(zip(coded["patient_id"], kept["patient_id"], strict=True)) == expected
    assert kept.drop(columns="patient_id").equals(coded.drop(columns="patient_id"))
    pdf = _text_of(builds["pseudonymise"] / "dossier.pdf")
    assert all(code in pdf for code in expected)
    swimmers = " ".join(p.read_text(encoding="utf-8") for p in
                        (builds["pseudonymise"] / "quarto" / "figures").glob("*swimmer*.svg"))
    assert CODE.search(swimmers)


def test_omit_drops_the_id_column_and_the_figures_labels(builds) -> None:
    texts = _texts(builds["omit"])
    assert not any(CODE.search(t) for n, t in texts.items() if not n.endswith("manifest.json"))
    assert "patient_id" not in _patients_sheet(builds["omit"]).columns
    listing = texts["dossier.pdf"].split("Patient listing")[-1]
    assert "Stage" in listing and "Patient  Stage" not in listing
    assert "Patient identifiers: left out" in texts["dossier.pdf"]


def test_the_choice_is_stated_in_methods_and_manifest_and_no_number_depends_on_it(
        builds) -> None:
    statements = {"keep": "Patient identifiers: shown as they are in the registry.",
                  "pseudonymise": "Patient identifiers: replaced by sequential codes",
                  "omit": "Patient identifiers: left out"}
    results = {}
    for choice, words in statements.items():
        folder = builds[choice]
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        recorded = manifest["parameters"]["patient_ids"]
        assert recorded["choice"] == choice
        assert recorded["key_written"] is (choice == "pseudonymise")
        assert recorded["statement"].startswith(words)
        pdf = " ".join(_text_of(folder / "dossier.pdf").split())
        assert words in pdf
        start = pdf.index("Row numbering")  # the methods' data table, then the statement
        assert words in pdf[start:pdf.index("Definitions", start)]
        for name in ("dossier.docx", "quarto/dossier.qmd"):
            assert words.replace(".", "") in " ".join(_text_of(folder / name).split()).replace(
                "\\", "").replace(".", "")
        results[choice] = json.loads((folder / "results.json").read_text("utf-8"))["results"]
    assert results["keep"] == results["pseudonymise"] == results["omit"]
    assert "the key that maps them back" in " ".join(
        _text_of(builds["pseudonymise"] / "dossier.pdf").split())


# ---- the key file: only on request, never inside the dossier, never over a file unasked


def _key_build(registry: Path, out: Path, *options: str):
    return CliRunner().invoke(app, ["build", str(registry), "--out", str(out), "--format",
                                    "json", *options])


def test_a_key_inside_the_dossier_folder_is_refused_before_anything_is_written(
        registry_file, tmp_path) -> None:
    registry, _ = registry_file
    out = tmp_path / "out"
    for key in (out / "key.csv", out / "sub" / "key.csv", out):
        result = _key_build(registry, out, "--patient-key", str(key))
        assert result.exit_code == 1, result.output
        assert "inside the dossier folder" in result.output
        assert not out.exists()


def test_an_existing_key_file_is_replaced_only_with_force(registry_file, tmp_path) -> None:
    registry, patients = registry_file
    key = tmp_path / "key.csv"
    key.write_text("my own notes\n", encoding="utf-8")
    refused = _key_build(registry, tmp_path / "out", "--patient-key", str(key))
    assert refused.exit_code == 1 and "exists already" in refused.output
    assert "--force" in refused.output
    assert key.read_text(encoding="utf-8") == "my own notes\n"
    assert not (tmp_path / "out").exists()
    forced = _key_build(registry, tmp_path / "out", "--patient-key", str(key), "--force")
    assert forced.exit_code == 0, forced.output
    assert sorted(read_key(key).values()) == sorted(patients["patient_id"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_key_never_replaces_an_input_even_with_force(registry_file, tmp_path) -> None:
    registry, _ = registry_file
    before = registry.read_bytes()
    result = _key_build(registry, tmp_path / "out", "--patient-key", str(registry), "--force")
    assert result.exit_code == 1 and "input" in result.output
    assert registry.read_bytes() == before


def test_a_key_needs_codes_and_an_unknown_choice_is_refused(registry_file, tmp_path) -> None:
    registry, _ = registry_file
    keep = _key_build(registry, tmp_path / "a", "--patient-ids", "keep", "--patient-key",
                      str(tmp_path / "k.csv"))
    assert keep.exit_code == 2 and "--patient-key needs --patient-ids pseudonymise" in keep.output
    bad = _key_build(registry, tmp_path / "b", "--patient-ids", "hide")
    assert bad.exit_code == 2 and "pseudonymise, keep, omit" in bad.output
    assert not (tmp_path / "k.csv").exists() and not (tmp_path / "a").exists()


def test_without_patient_key_no_key_is_written_anywhere(registry_file, tmp_path) -> None:
    registry, _ = registry_file
    result = _key_build(registry, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".dossier-cache.zip", "manifest.json", "results.json"]
