"""dossier build --since: the "Changes since" section read back from the PDF, the Changes sheet's
cells and changes.json in the bundle."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dossier.build import build_dossier
from dossier.changes.compare import compare
from dossier.changes.snapshot import SnapshotError, from_folder
from dossier.changes.text import COLUMNS
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.demo_cut import cut_registry
from dossier.registry.load import registry_from_frames

CUT = dt.date(2022, 1, 1)


@pytest.fixture(scope="module")
def since_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("since")
    full = demo_registry(n_patients=160, seed=11)
    earlier = cut_registry(*full, CUT)
    old, _ = build_dossier(Settings(), registry=registry_from_frames(*earlier, name="old.csv"),
                           destination=root / "old", formats=("json",))
    registry = registry_from_frames(*full, name="new.csv")
    first = str(full[1]["cohort_id"].iloc[0])
    new, _ = build_dossier(Settings(), registry=registry, destination=root / "new",
                           formats=("pdf", "xlsx", "json", "docx"), only=[first], since=old)
    return old, new, earlier, full


def test_bundle_holds_changes_json_and_the_manifest_lists_it(since_build) -> None:
    old, new, earlier, full = since_build
    document = json.loads((new / "changes.json").read_text(encoding="utf-8"))
    only = [str(full[1]["cohort_id"].iloc[0])]
    read = compare(from_folder(old), from_folder(new), only)  # the same, read from the JSON
    assert {g["cohort_id"] for g in document["groups"]} <= {None, *only}
    assert document["groups"] == read["groups"] and document["old"] == read["old"]
    assert document["summary"] == read["summary"]
    assert document["old"]["data_cutoff"] == CUT.isoformat()
    pooled = document["groups"][0]["patients"]
    assert pooled == {"old": len(earlier[0]), "new": len(full[0]),
                      "added": len(full[0]) - len(earlier[0])}
    listed = [o["path"] for o in json.loads((new / "manifest.json").read_text())["outputs"]]
    assert "changes.json" in listed


def test_changes_sheet_cells(since_build) -> None:
    _, new, earlier, full = since_build
    book = load_workbook(new / "dossier.xlsx")
    assert book.sheetnames[:3] == ["Cover", "Summary", "Changes"]
    rows = list(book["Changes"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[:len(COLUMNS)] == COLUMNS)
    assert rows[0][0] == f"Changes since {CUT.isoformat()}"
    table = [dict(zip(COLUMNS, r, strict=False)) for r in rows[header + 1:]]
    treated = next(r for r in table if r["Cohort"] == "All cohorts (pooled)"
                   and r["What changed"] == "Patients treated")
    assert (treated["Before"], treated["Now"]) == (f"{len(earlier[0]):,}", f"{len(full[0]):,}")
    assert treated["Why"] == f"+{len(full[0]) - len(earlier[0])}"
    document = json.loads((new / "changes.json").read_text(encoding="utf-8"))
    verdicts = sum(len(g["verdicts"]) for g in document["groups"])
    assert sum(1 for r in table if str(r["What changed"]).startswith("Verdict: ")) == verdicts


def test_changes_section_opens_the_pdf(since_build) -> None:
    _, new, earlier, full = since_build
    reader = PdfReader(new / "dossier.pdf")
    texts = [page.extract_text() for page in reader.pages]
    contents = next(i for i, t in enumerate(texts) if "Contents" in t)
    assert f"Changes since {CUT.isoformat()}" in texts[contents]
    first = next(i for i, t in enumerate(texts)
                 if i > contents and f"Changes since {CUT.isoformat()}" in t
                 and "All cohorts (pooled)" in t)
    summary = next(i for i, t in enumerate(texts) if "Executive summary" in t and i > contents)
    assert first < summary  # at the front, before the executive summary
    page = " ".join(texts[first].split())
    assert f"Patients treated {len(earlier[0]):,} {len(full[0]):,} " \
           f"+{len(full[0]) - len(earlier[0])}" in page
    assert "data cut-off 2022-01-01" in page
    titles = [getattr(o, "title", None) for o in reader.outline]
    assert f"Changes since {CUT.isoformat()}" in titles


def test_since_a_folder_that_is_not_a_dossier_fails_before_anything_is_written(tmp_path) -> None:
    stranger = tmp_path / "notes"
    stranger.mkdir()
    (stranger / "mine.txt").write_text("mine")
    registry = registry_from_frames(*demo_registry(n_patients=40, seed=3), name="new.csv")
    with pytest.raises(SnapshotError, match="not a dossier folder"):
        build_dossier(Settings(), registry=registry, destination=tmp_path / "out",
                      formats=("json",), since=stranger)
    assert not (tmp_path / "out").exists()
    assert (stranger / "mine.txt").read_text() == "mine"


def test_word_dossier_opens_with_the_same_changes_table(since_build) -> None:
    from docx import Document

    _, new, _, _ = since_build
    document = Document(str(new / "dossier.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    changes = json.loads((new / "changes.json").read_text(encoding="utf-8"))
    assert headings[0].startswith("Changes since")
    sheet = list(load_workbook(new / "dossier.xlsx")["Changes"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(sheet) if r[:len(COLUMNS)] == COLUMNS)
    wanted = [tuple("" if v is None else str(v) for v in r[1:5])
              for r in sheet[header + 1:] if r[0] is not None]
    table = next(t for t in document.tables
                 if [c.text for c in t.rows[0].cells] == ["What changed", "Before", "Now", "Why"])
    rows = [tuple(c.text for c in row.cells) for row in table.rows[1:]]
    assert wanted and [r for r in wanted if r not in rows] == []
    assert changes["groups"]
