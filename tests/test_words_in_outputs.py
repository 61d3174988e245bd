"""Words of a built dossier, read back from the PDF, the Word file and the workbook.

Built once with stable disease counted from 20 weeks (not DRUP's 16): every label follows the
parameter; no internal id of any loaded rule file reaches the PDF or Word text; the ESMO-MCBS
scorecards equal their verdicts; the payer screen is named as dossier's, with no payer decision.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dossier.build import build_dossier
from dossier.config import Settings
from dossier.endpoints.parameters import EndpointParameters
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.scoring.rulebook import load_rulebook

SD_WEEKS = 20


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    settings = Settings(endpoints=EndpointParameters(sd_weeks=SD_WEEKS))
    out = tmp_path_factory.mktemp("words") / "dossier"
    folder, _ = build_dossier(settings, registry=registry, destination=out,
                              formats=("pdf", "xlsx", "json", "docx"))
    return folder


def _flat(text: str) -> str:
    return " ".join(text.replace("\u2010", "-").replace("\u00ad", "").split())


@pytest.fixture(scope="module")
def pdf_text(built) -> str:
    pages = PdfReader(built / "dossier.pdf").pages
    return _flat(" ".join(page.extract_text() or "" for page in pages))


@pytest.fixture(scope="module")
def docx_text(built) -> str:
    with zipfile.ZipFile(built / "dossier.docx") as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
    return _flat(re.sub(r"<[^>]+>", " ", xml).replace("&gt;", ">").replace("&lt;", "<")
                 .replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", '"'))


def _rule_ids() -> set[str]:
    """Every id of the loaded rule files, except those that are plain words of the frameworks'
    own wording (a gate named ``single-arm`` in a file whose title says "single-arm studies")."""
    ids: set[str] = set()
    prose: list[str] = []
    for rule_set in load_rulebook().rule_sets:
        ids.add(rule_set.id)
        ids |= {r.id for r in rule_set.all_rules} | {g.id for g in rule_set.gates}
        ids |= {s.id for s in rule_set.strata} | {s.id for s in rule_set.stages}
        ids |= {a.id for a in rule_set.adjustments}
        prose += [rule_set.title, rule_set.short, rule_set.outcome.met, rule_set.outcome.not_met]
        prose += [r.label for r in rule_set.all_rules] + [g.reason for g in rule_set.gates]
        prose += [a.label for a in rule_set.adjustments] + [s.label for s in rule_set.stages]
        prose += [s.label for s in rule_set.strata]
    words = " ".join(prose)
    plain = {i for i in ids if not re.search(r"\d", i)
             and re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", words)}
    # "mature" is also the word the follow-up table uses for an endpoint's maturity
    # (criteria/reference/maturity.yaml): a reader's word there, not a leaked rule id
    return ids - plain - {"mature"}


def _found_ids(text: str) -> list[str]:
    text = re.sub(r"https?://\S+", " ", text)
    return sorted(i for i in _rule_ids()
                  if re.search(rf"(?<![\w./-]){re.escape(i)}(?![\w-])", text))


def test_the_id_list_holds_the_ids_the_issue_names() -> None:
    ids = _rule_ids()
    assert {"g3-orr-dor", "durable-signal", "open-after-stage-1", "drup-two-stage",
            "esmo-mcbs-v1.1-form3"} <= ids


def test_no_internal_id_or_code_word_in_the_pdf(pdf_text: str) -> None:
    assert _found_ids(pdf_text) == []
    for word in ("Rule file", "Source status", "criteria.md", ".yaml", "payer-ready",
                 "not_estimable", "= NaN", "denominator landmark"):
        assert word not in pdf_text, word


def test_no_internal_id_or_code_word_in_the_word_file(docx_text: str) -> None:
    assert _found_ids(docx_text) == []
    for word in ("Rule file", "Source status", "criteria.md", ".yaml", "payer-ready"):
        assert word not in docx_text, word


def test_labels_follow_the_sd_weeks_used(pdf_text: str, docx_text: str, built) -> None:
    assert f"SD >= {SD_WEEKS} weeks" in pdf_text and f"SD >= {SD_WEEKS} weeks" in docx_text
    for text in (pdf_text, docx_text):  # PASKWIL's "gain > 16 weeks" is PASKWIL's own bar
        assert not re.findall(r">= 16 weeks|SD[^.;]{0,20} 16 weeks", text)
    book = load_workbook(built / "dossier.xlsx", read_only=True)
    cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
             for v in row if v is not None]
    assert any(f"SD >= {SD_WEEKS} weeks" in c for c in cells)
    assert not [c for c in cells if re.search(r">= 16 weeks|SD[^.;]{0,20} 16 weeks|"
                                              r"\"sd_weeks\":16", c)]
    assert not [c for c in cells if re.search(r">= (durable weeks|threshold|sd_weeks|"
                                              r"durable_weeks)\b", c)]


def test_methods_keep_settings_in_their_own_sentence(pdf_text: str) -> None:
    assert ("patients censored earlier are left out of the denominator. Settings used: "
            "landmark 6 months.") in pdf_text


def test_the_screen_is_named_as_dossiers_and_no_payer_decision_is_implied(
        pdf_text: str, docx_text: str, built) -> None:
    for text in (pdf_text, docx_text):
        assert "dossier's payer screen" in text
        assert "No payer decision is implied" in text
    first_page = _flat(PdfReader(built / "dossier.pdf").pages[0].extract_text())
    assert "No payer decision is implied" in first_page
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))
    assert all("meets_payer_screen" in r and "payer_ready" not in r for r in doc["readiness"])


def test_scorecards_sheet_equals_the_verdicts(built, pdf_text: str) -> None:
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))
    form3 = {v["id"]: v for v in doc["verdicts"] if v["criteria"] == "esmo-mcbs-v1.1-form3"
             and v["verdict"] != "not applicable"}
    ws = load_workbook(built / "dossier.xlsx", read_only=True)["Scorecards"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows)
                 if row and str(row[0]).startswith("cohort_no"))
    header = [str(h).split(" (")[0] if h else h for h in rows[start]]
    lines = [dict(zip(header, row, strict=True)) for row in rows[start + 1:]]
    assert {line["cohort_id"] for line in lines} == set(form3)
    for cohort_id, verdict in form3.items():
        mine = [line for line in lines if line["cohort_id"] == cohort_id]
        prelim = next(line for line in mine if line["step"] == "preliminary grade")
        final = next(line for line in mine if line["step"] == "final grade")
        assert prelim["grade"] == verdict["preliminary_grade"]
        assert final["grade"] == verdict["grade"]
        adjustments = [line for line in mine if line["step"] == "adjustment"]
        assert [(a["rule_id"], a["change"]) for a in adjustments] == [
            (a["id"], a["change"]) for a in verdict["adjustments"]]
        states = {True: "applied", False: "not applied", None: "unresolved"}
        assert [a["state"] for a in adjustments] == [
            states[a["applied"]] for a in verdict["adjustments"]]
        assert {line["evaluated"] for line in mine} == {doc_build_date(built)}
    cards = {c["cohort_id"]: c for c in doc["scorecards"]}
    assert set(cards) == set(form3)
    for cohort_id, verdict in form3.items():
        assert cards[cohort_id]["preliminary_grade"] == verdict["preliminary_grade"]
        assert cards[cohort_id]["final_grade"] == verdict["grade"]
        assert [a["id"] for a in cards[cohort_id]["adjustments"]] == [
            a["id"] for a in verdict["adjustments"]]
    assert pdf_text.count("ESMO-MCBS v1.1 Form 3 scorecard") == len(form3)
    assert pdf_text.count("Date of evaluation") == len(form3)


def doc_build_date(folder: Path) -> str:
    """The build date the manifest records (the scorecards' date of evaluation)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["build_time"])[:10]
