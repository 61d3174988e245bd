"""Baseline, safety, quality of life and the waterfall plot, read back from the built PDF, the
workbook and results.json of a two-cohort registry, against counts made here by hand."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dossier.build import build_dossier
from dossier.config import Settings
from dossier.registry.adverse_events import with_adverse_events
from dossier.registry.demo import demo_registry
from dossier.registry.demo_adverse_events import demo_adverse_events
from dossier.registry.load import registry_from_frames
from dossier.registry.readers import frame_table
from dossier.render.figures_waterfall import waterfall_svg


@pytest.fixture(scope="module")
def two_cohorts():
    patients, cohorts = demo_registry(n_patients=60, seed=11)
    first, second = list(dict.fromkeys(patients["cohort_id"]))[:2]
    patients = patients[patients["cohort_id"].isin([first, second])].reset_index(drop=True)
    patients["tumour_subtype"] = None  # a characteristic nobody has: "not collected"
    cohorts = cohorts[cohorts["cohort_id"].isin([first, second])].reset_index(drop=True)
    cohorts["qol_improved"] = [True if c == first else None for c in cohorts["cohort_id"]]
    registry = registry_from_frames(patients, cohorts, name="two.csv")
    events = frame_table(demo_adverse_events(patients, 11), "two AE", "adverse events")
    return with_adverse_events(registry, events), first, second


@pytest.fixture(scope="module")
def built(two_cohorts, tmp_path_factory):
    registry, _, _ = two_cohorts
    out = tmp_path_factory.mktemp("population") / "dossier"
    folder, _ = build_dossier(Settings(), registry=registry, destination=out,
                              formats=("pdf", "xlsx", "json"))
    return folder


def pdf_text(path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(path).pages))


def by_hand(patients: pd.DataFrame) -> dict[str, str]:
    age = patients["age"]
    n = len(patients)
    female = int((patients["sex"] == "F").sum())
    severe = int((patients["worst_ae_grade"] >= 3).sum())
    return {"n": str(n), "age": f"{age.median():.0f} ({age.min():.0f}-{age.max():.0f})",
            "female": f"{female} ({100 * female / n:.1f}%)",
            "severe": f"{severe} ({100 * severe / n:.1f}%)"}


def test_pdf_shows_each_cohorts_baseline_and_safety_as_counted_by_hand(built, two_cohorts):
    registry, first, _ = two_cohorts
    text = pdf_text(built / "dossier.pdf")
    cohort = registry.patients[registry.patients["cohort_id"] == first]
    expected = by_hand(cohort)
    section = text[text.index("1. " + first.split(" | ")[0]):]
    section = section[section.index("Baseline characteristics"):]
    assert f"Cohort 1 (n = {expected['n']})" in section
    assert f"Age, years: median (range) {expected['age']}" in section
    assert f"Female {expected['female']}" in section
    assert "Tumour subtype not collected" in section
    safety = section[section.index("Safety"):]
    assert f"grade >= 3 {expected['severe']}" in safety
    ev = registry.adverse_events
    mine = ev[ev["cohort_id"] == first]
    n = len(cohort)
    any_ae = mine["patient"].nunique()
    serious = mine.loc[mine["serious"].fillna(False).astype(bool), "patient"].nunique()
    assert f"Any adverse event {any_ae} ({100 * any_ae / n:.1f}%)" in safety
    assert f"Serious adverse events {serious} ({100 * serious / n:.1f}%)" in safety
    k = mine.loc[mine["pt"] == "Fatigue", "patient"].nunique()
    assert k > 0
    assert f"Fatigue {k} ({100 * k / n:.1f}%)" in safety
    assert "Quality of life: improved" in section
    pooled = by_hand(registry.patients)
    assert f"Age, years: median (range) {pooled['age']}" in text
    assert f"All cohorts (n = {pooled['n']})" in text


def test_quality_of_life_not_in_the_metadata_is_not_collected(built, two_cohorts):
    text = pdf_text(built / "dossier.pdf")
    second = text[text.index("2. "):]
    assert "Quality of life: not collected" in second


def test_workbook_baseline_and_safety_cells_are_numbers(built, two_cohorts):
    registry, first, _ = two_cohorts
    wb = load_workbook(built / "dossier.xlsx")
    rows = list(wb["Baseline"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if str(r[0]).startswith("cohort_no"))
    records = [dict(zip(rows[head], r, strict=True)) for r in rows[head + 1:]]
    cohort = registry.patients[registry.patients["cohort_id"] == first]
    age = next(r for r in records
               if r["cohort_no (as in the PDF)"] == 1 and r["characteristic"] == "Age")
    assert (age["median"], age["minimum"], age["maximum"]) == (
        cohort["age"].median(), cohort["age"].min(), cohort["age"].max())
    subtype = next(r for r in records if r["cohort_no (as in the PDF)"] == 1
                   and r["characteristic"] == "Tumour subtype")
    assert subtype["status"] == "not collected"
    safety = list(wb["Safety"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(safety) if str(r[0]).startswith("cohort_no"))
    names = [str(h).split(" (")[0] if h else h for h in safety[head]]  # "percent (unit)"
    grades = [dict(zip(names, r, strict=True)) for r in safety[head + 1:]]
    g3 = next(r for r in grades if r["cohort_id"] == "all cohorts"
              and r["category"] == "grade 3")
    assert g3["n"] == int((registry.patients["worst_ae_grade"] == 3).sum())
    assert isinstance(g3["percent"], float)


def test_results_json_holds_the_population_lines(built, two_cohorts):
    registry, first, second = two_cohorts
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))
    assert set(doc["population"]) == {"all cohorts", first, second}
    treated = doc["population"][second]["baseline"][0]
    assert treated["n"] == int((registry.patients["cohort_id"] == second).sum())


def test_waterfall_has_one_bar_per_measured_patient_and_the_recist_lines(two_cohorts):
    registry, first, _ = two_cohorts
    cohort = registry.patients[registry.patients["cohort_id"] == first]
    svg = waterfall_svg(cohort, title="Cohort 1")
    measured = int(cohort["best_pct_change"].notna().sum())
    assert svg.count('class="waterfall-bar"') == measured
    assert "+20% (PD)" in svg and "-30% (PR)" in svg
    assert f"{measured} of {len(cohort)} treated patients" in svg
    grown = cohort.assign(best_pct_change=cohort["best_pct_change"].fillna(150.0))
    assert "cut at the top of the axis" in waterfall_svg(grown, title="Cohort 1")


def test_workbook_adverse_events_sheet_counts_patients_by_worst_grade(built, two_cohorts):
    registry, first, _ = two_cohorts
    rows = list(load_workbook(built / "dossier.xlsx")["Adverse events"].iter_rows(
        values_only=True))
    head = next(i for i, r in enumerate(rows) if str(r[0]).startswith("cohort_no"))
    records = [dict(zip(rows[head], r, strict=True)) for r in rows[head + 1:]]
    ev = registry.adverse_events
    mine = ev[ev["cohort_id"] == first]
    worst = mine[mine["pt"] == "Fatigue"].groupby("patient")["grade"].max()
    [row] = [r for r in records if r["cohort_no (as in the PDF)"] == 1 and r["pt"] == "Fatigue"]
    assert row["patients_any_grade"] == len(worst)
    assert row["patients_grade_1-2"] == int((worst <= 2).sum())
    assert row["treated"] == int((registry.patients["cohort_id"] == first).sum())
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))
    fatigue = [r for r in doc["population"][first]["adverse_events"] if r["pt"] == "Fatigue"]
    assert fatigue[0]["any"] == len(worst)
