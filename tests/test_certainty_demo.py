"""The demo dossier shows every certainty state, read back from JSON, PDF text and workbook.

Clause states: met, met uncertain, not met uncertain, not met, not estimable; verdict states:
robust, uncertain, insufficient evidence. The cohorts built are the fewest demo cohorts that
show them all (chosen from the analysis, so that the test follows the demo, not a list).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dossier.build import analyse, build_dossier
from dossier.config import Settings
from dossier.registry.adam import registry_from_options
from dossier.scoring.verdicts import CERTAINTY_STATES, VERDICT_CERTAINTY

STATES = {f"clause: {s}" for s in CERTAINTY_STATES} | {f"verdict: {s}"
                                                      for s in VERDICT_CERTAINTY}


def _states(verdicts) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for v in verdicts:
        seen = found.setdefault(v.cohort_id, set())
        if v.certainty:
            seen.add(f"verdict: {v.certainty}")
        seen |= {f"clause: {c.certainty}" for c in v.clauses if c.certainty}
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    settings = Settings()
    registry = registry_from_options(None, None, None, None, settings)
    analysis = analyse(settings, registry)
    by_cohort = _states(analysis.verdicts)
    assert set().union(*by_cohort.values()) == STATES  # the whole demo shows every state
    chosen: list[str] = []
    covered: set[str] = set()
    while covered != STATES:
        best = max(by_cohort, key=lambda k: len(by_cohort[k] - covered))
        chosen.append(best)
        covered |= by_cohort[best]
    out = tmp_path_factory.mktemp("certainty") / "dossier"
    folder, _ = build_dossier(settings, registry=registry, destination=out, only=chosen,
                              formats=("json", "xlsx", "pdf"))
    return folder, chosen


def test_json_holds_every_state_with_its_numbers(demo):
    folder, _ = demo
    verdicts = json.loads((folder / "results.json").read_text(encoding="utf-8"))["verdicts"]
    seen = {f"verdict: {v['certainty']}" for v in verdicts if v["certainty"]}
    seen |= {f"clause: {c['certainty']}" for v in verdicts for c in v["clauses"]
             if c["certainty"]}
    assert seen == STATES
    for v in verdicts:
        if v["certainty"] == "uncertain":
            assert ", uncertain: " in v["outcome"]  # a CI spanning, or an approximation
            assert v["certainty_reason"] in v["outcome"]
        if v["certainty"] == "insufficient evidence":
            assert v["verdict"] == "insufficient evidence" and v["grade"] is None
        for c in v["clauses"]:
            if c["certainty"] in ("met", "met, uncertain", "not met, uncertain", "not met") \
                    and c["ci_lower"] is not None and c["ci_upper"] is not None:
                assert c["ci_lower"] <= c["ci_upper"]
            if c["probability"] is not None:
                assert 0.0 <= c["probability"] <= 1.0 and c["probability_method"]


def test_pdf_shows_the_certainty_table_every_state_and_the_method(demo):
    folder, _ = demo
    text = " ".join(" ".join((page.extract_text() or "").split())
                    for page in PdfReader(folder / "dossier.pdf").pages)
    assert "Cohorts by certainty of the verdict" in text
    assert "fewer than the" in text or "graded only on request" in text  # insufficient: why
    for words in ("Certainty robust", "Certainty uncertain", "insufficient evidence",
                  "met, uncertain", "not met, uncertain", "probability met",
                  "Criteria decided with their uncertainty", "Jeffreys prior Beta(0.5, 0.5)",
                  "log-log"):
        assert words in text, words


def test_workbook_verdicts_sheet_stores_ci_and_probability_as_numbers(demo):
    folder, _ = demo
    verdicts = json.loads((folder / "results.json").read_text(encoding="utf-8"))["verdicts"]
    expected = [c for v in verdicts for c in v["clauses"] if c["probability"] is not None]
    sheet = load_workbook(folder / "dossier.xlsx", read_only=True)["Verdicts"]
    rows = list(sheet.iter_rows(values_only=True))
    # headers carry their unit ("probability (proportion)"): compare on the name
    names = [[str(h).split(" (")[0] if h else h for h in r] for r in rows]
    header_at = next(i for i, r in enumerate(names) if r and "probability" in r)
    header = names[header_at]
    records = [dict(zip(header, r, strict=False)) for r in rows[header_at + 1:]]
    with_probability = [r for r in records if r["probability"] is not None]
    assert len(with_probability) == len(expected)
    for row, clause in zip(with_probability, expected, strict=True):
        assert isinstance(row["probability"], float)
        assert math.isclose(row["probability"], clause["probability"], rel_tol=1e-12)
        assert row["clause_certainty"] == clause["certainty"]
        if clause["ci_lower"] is not None:
            assert math.isclose(row["ci_lower"], clause["ci_lower"], rel_tol=1e-12)
    assert {r["certainty"] for r in records} >= set(VERDICT_CERTAINTY)


def test_every_state_is_in_the_cohorts_built(demo):
    folder, chosen = demo
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert {v["id"] for v in doc["verdicts"]} == set(chosen)
    assert Path(folder / "dossier.pdf").stat().st_size > 0
