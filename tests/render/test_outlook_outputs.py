"""The outlook and tissue context as the reader sees them: PDF text, the Outlook sheet and
results.json of a demo build, read back and compared with R's values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dossier.build import build_dossier
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.outlook import p_value_text, probability_text

EXPECTED = json.loads((Path(__file__).parents[1] / "reference" / "outlook_expected.json")
                      .read_text(encoding="utf-8"))
SOTORASIB = ("sotorasib | Solid tumours, non-lung | KRAS p.G12C",
             "sotorasib | Pancreatic cancer | KRAS p.G12C")
BRAF = ("dabrafenib + trametinib | Biliary tract cancer | BRAF p.V600E",
        "dabrafenib + trametinib | Colorectal cancer | BRAF p.V600E")


def _r(x: int, n: int, needed: int) -> float:
    return next(c["by_sum"] for c in EXPECTED["predictive"]
                if (c["x"], c["n"], c["needed"], c["prior_a"]) == (x, n, needed, 0.5))


def _r_p(label: str) -> float:
    return next(c["p_value"] for c in EXPECTED["heterogeneity"] if c["label"] == label)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    patients, cohorts = demo_registry()
    registry = registry_from_frames(patients, cohorts, name="demo.csv")
    out = tmp_path_factory.mktemp("outlook") / "dossier"
    folder, _ = build_dossier(Settings(), registry=registry, destination=out,
                              only=(*BRAF, *SOTORASIB), formats=("pdf", "xlsx", "json"))
    return folder


@pytest.fixture(scope="module")
def pdf_text(built):
    pages = PdfReader(built / "dossier.pdf").pages
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


def test_probability_and_p_value_wording():
    assert probability_text(0.31) == "0.31"
    assert probability_text(0.0026) == "< 0.01"
    assert probability_text(0.9971) == "> 0.99"
    assert probability_text(0.0) == "0" and probability_text(1.0) == "1"
    assert p_value_text(8.85e-05) == "p < 0.001"
    assert p_value_text(0.0039) == "p = 0.004"
    assert p_value_text(0.99999999) == "p = 1"


def test_pdf_shows_the_outlook_section_with_r_probabilities(pdf_text):
    assert "Outlook and tissue context" in pdf_text
    assert "Where the pending cohorts are heading" in pdf_text
    orr20 = probability_text(_r(1, 15, 5))
    assert (f"Probability to reach ORR >= 20% at n=24 (ESMO Form 3): {orr20} (1 of 15 so far; "
            "needs 5 of 24)") in pdf_text
    stage = probability_text(_r(3, 15, 5))
    assert (f"Probability to reach the DRUP stage 2 bar (5 of 24 with clinical benefit) at n=24: "
            f"{stage} (3 of the first 15 so far, 9 still to come)") in pdf_text


def test_pdf_shows_tissue_mattering_for_braf_and_not_for_kras(pdf_text):
    assert "dabrafenib + trametinib, BRAF p.V600E: outcome differs by tumour type" in pdf_text
    assert "sotorasib, KRAS p.G12C: no difference by tumour type detected" in pdf_text
    p = p_value_text(_r_p("demo BRAF p.V600E, objective response"))
    assert f"Objective response: differs by tumour type (exact test, {p})" in pdf_text
    assert "Beta(0.5, 0.5)" in pdf_text and "Gauss-Legendre" in pdf_text  # the methods


def test_outlook_sheet_holds_r_values(built):
    sheet = load_workbook(built / "dossier.xlsx")["Outlook"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "section")
    columns = [str(h).split(" (")[0] if h else h for h in rows[header]]  # "estimate (unit)"
    records = [dict(zip(columns, r, strict=False)) for r in rows[header + 1:] if r[0]]
    stage = next(r for r in records if r["cohort_id"] == SOTORASIB[0]
                 and str(r["bar_or_rate"]).startswith("DRUP stage 2"))
    assert (stage["x"], stage["n"], stage["planned"], stage["needed"]) == (3, 15, 24, 5)
    assert stage["probability"] == pytest.approx(_r(3, 15, 5), abs=1e-12)
    braf = [r for r in records if r["section"] == "basket" and r["cohort_id"] in BRAF
            and r["bar_or_rate"] == "Clinical benefit"]
    assert [(r["x"], r["n"]) for r in braf] == [(14, 24), (1, 24)]
    model = next(c for c in EXPECTED["hierarchical"]
                 if c["label"] == "demo BRAF p.V600E, clinical benefit")
    for row, want in zip(braf, model["types"], strict=True):
        assert row["estimate"] == pytest.approx(want["mean"], abs=2e-6)
        assert row["shrinkage"] == pytest.approx(want["shrinkage"], abs=2e-6)
        assert row["p_value"] == pytest.approx(_r_p("demo BRAF p.V600E, clinical benefit"),
                                               rel=1e-9)


def test_results_json_carries_the_outlook(built):
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))["outlook"]
    pending = {p["cohort_id"]: p for p in doc["pending_cohorts"]}
    assert set(pending) == set(SOTORASIB)
    targets = {t["target"]: t for t in pending[SOTORASIB[0]]["rate_targets"]}
    assert targets["ORR >= 20%"]["probability"] == pytest.approx(_r(1, 15, 5), abs=1e-12)
    assert [b["tissue_matters"] for b in doc["baskets"]] == [True, False]
