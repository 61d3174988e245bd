"""The submission sections (PICO, design and flow, follow-up and maturity, limitations,
references, glossary) checked against hand counts, R and the printed text.

A payer checks the flow against the listing, the follow-up against R, and every [n] against
the reference list; these tests do the same on a hand-made cohort and on demo cohorts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.km import median_followup
from dossier.registry.load import registry_from_frames
from dossier.registry.schema import DAYS_PER_MONTH
from dossier.render.bibliography import Bibliography, cited_numbers, methods_references
from dossier.render.context import build_context
from dossier.render.maturity import MaturityRule, followup_rows, immaturity
from dossier.render.results_index import ResultsIndex
from dossier.resources import drup_stages
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.rulebook import load_rulebook

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
BUILD_TIME = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
START = dt.date(2020, 1, 6)


def hand_patients() -> pd.DataFrame:
    """Cohort C1: 12 treated, 10 evaluable. Not evaluable: P11 died before any assessment
    (death is its PFS event), P12 progressed and is alive. Evaluable: P01 confirmed PR, P02 PR
    not confirmed (PFS 60 days), P03 and P04 SD for 140 days (clinical benefit), P05-P10 PD.
    Stage 1 = P01-P08, stage 2 = P09-P12. OS censored (alive) for P01, P03, P12."""
    rows = []
    for i in range(12):
        pid = f"P{i + 1:02d}"
        evaluable = i < 10
        bor = {0: "PR", 1: "PR", 2: "SD", 3: "SD"}.get(i, "PD") if evaluable else None
        pfs = {0: 300, 1: 60, 2: 140, 3: 140, 10: 20, 11: 40}.get(i, 50 + i)
        os_days, os_event = {0: (500, 0), 2: (450, 0), 10: (20, 1), 11: (200, 0)}.get(
            i, (250 + 10 * i, 1))
        rows.append({
            "patient_id": pid, "cohort_id": "C1", "drug": "nivolumab",
            "tumour_type": "colorectal", "alteration": "MSI-high", "rare_cancer": "0",
            "stage": "1" if i < 8 else "2",
            "treatment_start": (START + dt.timedelta(days=14 * i)).isoformat(),
            "response_evaluable": "1" if evaluable else "0",
            "best_response": bor or "",
            "response_confirmed": {0: "1", 1: "0"}.get(i, ""),
            "response_date": ((START + dt.timedelta(days=14 * i + 56)).isoformat()
                              if i in (0, 1) else ""),
            "pfs_days": str(pfs), "pfs_event": "1", "os_days": str(os_days),
            "os_event": str(os_event), "worst_ae_grade": str(i % 4),
            "prior_lines": str(1 + i % 3),
        })
    return pd.DataFrame(rows, dtype=object)


@pytest.fixture(scope="module")
def context():
    cohorts = pd.DataFrame([{"cohort_id": "C1", "title": "Nivolumab in MSI-high colorectal",
                             "dose": "240 mg every 2 weeks"}], dtype=object)
    registry = registry_from_frames(hand_patients(), cohorts, name="hand.csv")
    assert not registry.report.errors
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    return build_context(results=results, verdicts=verdicts, registry=registry,
                         rule_files=book.rule_sets, parameters={"sd_weeks": 16},
                         title="Hand dossier", build_time=BUILD_TIME, software_version="9.9.9",
                         data_sha256=registry.sha256, data_name="hand.csv")


def test_flow_counts_equal_hand_counts(context) -> None:
    flow = context["cohorts"][0]["submission"]["flow"]
    assert flow["treated"] == "12"
    assert flow["not_evaluable"] == "2"
    assert flow["evaluable"] == "10"
    assert flow["reasons"] == [
        {"reason": "died within 12 weeks, before the first response assessment", "n": "1"},
        {"reason": "progressed within 12 weeks, before the first response assessment",
         "n": "1"}]
    assert flow["by_stage"] == [{"stage": "stage 1", "n": "8"}, {"stage": "stage 2", "n": "4"}]
    # clinical benefit: P01 (confirmed PR), P03, P04 (SD 140 days >= 112); responders: P01
    assert flow["benefit"] == "3"
    assert flow["responders"] == "1"
    (k1, of1), (_k2, of2) = drup_stages()
    stage1, stage2 = flow["stages"]
    # the first 8 evaluable by treatment start are P01-P08: P01, P03, P04 have benefit
    assert (stage1["benefit"], stage1["evaluable"], stage1["bar"]) == (
        "3", "8", f"at least {k1} of {of1}")
    assert stage1["state"] == "bar met"
    assert (stage2["benefit"], stage2["evaluable"]) == ("3", "10")
    assert stage2["state"] == f"in progress: 10 of {of2} evaluable so far"
    assert flow["reached"].startswith("stage 2")


def test_analysis_sets_carry_their_counts(context) -> None:
    sets = {s["name"]: s["n"] for s in context["cohorts"][0]["submission"]["sets"]}
    assert sets == {"Treated": "12", "Response-evaluable": "10", "Responders": "1"}


def test_pico_uses_metadata_dose_and_derives_the_rest(context) -> None:
    pico = context["cohorts"][0]["submission"]["pico"]
    assert pico["population"] == "colorectal with MSI-high"
    assert pico["intervention"] == "nivolumab, 240 mg every 2 weeks"
    assert pico["comparator"] == "none: single-arm"
    # prior lines 1 + i % 3 for i = 0..11: four each of 1, 2, 3 -> median 2, range 1-3
    assert pico["line"].startswith("median 2 prior systemic lines (range 1-3")
    assert any(o.startswith("Clinical benefit rate") for o in pico["outcomes"])


def test_pico_takes_an_external_comparator_from_a_comparators_object(context) -> None:
    from dossier.render.pico import cohort_pico

    found = SimpleNamespace(treatment="FOLFIRI", median_pfs_months=4.0, median_os_months=None,
                            orr_percent=10.0, evidence=SimpleNamespace(label="registry"),
                            lines=SimpleNamespace(label="2+"), citation="Some trial",
                            url="https://example.org/trial")
    calls = []

    class Finder:
        def find(self, tumour_type, line=None):
            calls.append((tumour_type, line))
            return found

    patients = hand_patients().assign(prior_lines=1)
    pico = cohort_pico(ResultsIndex(compute_endpoints(registry_from_frames(
        hand_patients()).patients)), ("cohort_id", "C1"), patients,
        {"line_of_therapy": "2"}, Finder())
    assert calls == [("colorectal", 2)]
    assert pico["comparator"] == "external: FOLFIRI (median PFS 4 months, ORR 10%)"
    assert "registry" in pico["comparator_source"] and "Some trial" in pico["comparator_source"]


def test_unconfirmed_response_and_single_arm_are_limitations(context) -> None:
    lines = context["cohorts"][0]["submission"]["limitations"]
    assert lines[0].startswith("Single-arm design")
    assert any(line.startswith("Unconfirmed responses: 1 patient ") for line in lines)
    of = drup_stages()[-1][1]
    assert any(line.startswith(f"Small cohort: 10 response-evaluable patients, fewer than the "
                               f"{of}") for line in lines)


def test_followup_rows_say_why_median_followup_is_not_estimable(context) -> None:
    rows = {r["endpoint"]: r for r in context["cohorts"][0]["submission"]["followup"]}
    pfs = rows["Progression-free survival"]
    # every PFS is an event: follow-up complete, no reverse Kaplan-Meier median
    assert pfs["followup"] == "NE"
    assert "every patient had the event" in pfs["followup_note"]
    assert pfs["events"] == "12 (100.0%)"
    assert pfs["mature"] == "mature"
    os_row = rows["Overall survival"]
    assert os_row["events"] == "9 (75.0%)"
    assert os_row["followup"] != "NE"  # 3 censored of 12: the reverse curve reaches 50%


def test_immaturity_follows_the_rule_data() -> None:
    rule = MaturityRule(min_event_fraction=0.5, median_not_reached=True, source="", cite=())
    assert immaturity(rule, 4, 10, True).startswith("4 of 10 patients had the event")
    assert immaturity(rule, 6, 10, False) == "median not reached"
    assert immaturity(rule, 6, 10, True) == ""
    lenient = MaturityRule(min_event_fraction=0.3, median_not_reached=False, source="", cite=())
    assert immaturity(lenient, 4, 10, False) == ""


def _expected():
    return json.loads((REFERENCE / "followup_expected.json").read_text(encoding="utf-8"))


def test_reverse_km_median_followup_equals_r_on_demo_cohorts() -> None:
    expected = _expected()
    data = pd.read_csv(REFERENCE.parent / expected["dataset"])
    assert len(expected["followup"]) == 24
    for case in expected["followup"]:
        rows = data[data["cohort_id"] == case["cohort_id"]]
        time = rows[f"{case['endpoint']}_days"].to_numpy(float)
        event = rows[f"{case['endpoint']}_event"].to_numpy(float)
        assert len(rows) == case["n"] and int((event == 0).sum()) == case["censored"]
        got = median_followup(time, event, conf_type=case["conf_type"])
        for name, value in (("median_months", got.estimate), ("lower_months", got.lower),
                            ("upper_months", got.upper)):
            want = case[name]
            if want is None:
                assert value is None, (case, name)
            else:
                assert value is not None, (case, name)
                assert math.isclose(value / DAYS_PER_MONTH, want, rel_tol=1e-12), (case, name)


def test_results_table_followup_rows_equal_r_and_ne_has_a_reason() -> None:
    expected = [c for c in _expected()["followup"] if c["conf_type"] == "log-log"]
    data = pd.read_csv(REFERENCE.parent / _expected()["dataset"])
    rule = MaturityRule(min_event_fraction=0.5, median_not_reached=True, source="", cite=())
    seen_ne = 0
    for case in expected:
        rows = data[data["cohort_id"] == case["cohort_id"]]
        frame = pd.DataFrame({
            "group_by": "cohort_id", "group": "C", "endpoint": case["endpoint"],
            "statistic": ["n", "median", "followup"], "time": math.nan,
            "estimate": [len(rows), 1.0, case["median_months"] or math.nan],
            "lower": math.nan, "upper": math.nan,
            "x": [int((rows[f"{case['endpoint']}_event"] == 1).sum()), 0, case["censored"]],
            "n": len(rows), "denominator": "treated",
            "status": ["ok", "ok", "ok" if case["median_months"] is not None else "not_reached"],
            "method": "", "parameters": "{}", "label": "", "denominator_label": "treated"})
        row = next(r for r in followup_rows(ResultsIndex(frame), ("cohort_id", "C"), rule)
                   if r["endpoint"].lower().startswith({"pfs": "progression",
                                                        "os": "overall"}[case["endpoint"]]))
        if case["median_months"] is None:
            seen_ne += 1
            assert row["followup"] == "NE"
            assert row["followup_note"], case  # never NE without a reason
            if case["censored"] == 0:
                assert "every patient had the event" in row["followup_note"]
            else:
                assert f"only {case['censored']} of {case['n']}" in row["followup_note"]
        else:
            assert row["followup"].startswith(f"{case['median_months']:.2f}")
    assert seen_ne >= 2


def test_every_cited_number_is_listed_and_every_listed_entry_is_cited(context) -> None:
    entries = context["submission"]["references"]
    numbers = [int(e["number"]) for e in entries]
    assert numbers == list(range(1, len(numbers) + 1))
    texts = [json.dumps({k: v for k, v in context.items() if k != "submission"}),
             json.dumps({k: v for k, v in context["submission"].items()
                         if k != "references"})]
    assert cited_numbers(texts) == set(numbers)
    listed = " ".join(e["text"] for e in entries)
    for needle in ("Kaplan EL, Meier P", "Clopper CJ, Pearson ES", "Brookmeyer R, Crowley J",
                   "Eisenhauer EA", "Simon R", "Greenwood M"):
        assert needle in listed


def test_bibliography_numbers_in_order_of_first_citation() -> None:
    bib = Bibliography()
    keys = [r.key for r in methods_references()]
    assert bib.cite(keys[2]) == "[1]"
    assert bib.cite(keys[0], keys[2]) == "[1, 2]"
    assert [e["number"] for e in bib.entries()] == ["1", "2"]
    with pytest.raises(KeyError):
        bib.cite("no-such-reference")


def test_no_output_names_internal_files(context) -> None:
    text = json.dumps(context["submission"]) + json.dumps(
        [c["submission"] for c in context["cohorts"]])
    assert not re.search(r"\.(?:md|ya?ml|py)\b|criteria/|dossier/", text)
    assert "criteria.md" not in text  # the rule files' working notes are no references


def test_rule_file_sources_become_references_but_working_notes_do_not() -> None:
    from dossier.render.bibliography import rule_file_references

    rule = {"id": "r", "framework": "X", "title": "X rule", "version": "2024", "sources": [
        {"id": "a", "url": "https://example.org/x"},
        {"id": "b", "citation": "criteria.md 1.3: HR read as the point estimate"},
        {"id": "c", "citation": "Doe J. A paper. J Things. 2020;1:1-2."}]}
    refs = rule_file_references(rule)
    assert [r.text for r in refs] == ["X. X rule (2024). Web source.",
                                      "X. X rule (2024). Doe J. A paper. J Things. 2020;1:1-2."]
    assert refs[0].link == "https://example.org/x" and refs[1].link == ""


@pytest.fixture(scope="module")
def written_pdfs(context, tmp_path_factory) -> dict[str, Path]:
    from dossier.render.pdf import LocalOnlyFetcher, write_pdfs

    out = tmp_path_factory.mktemp("pdf")
    return write_pdfs(context, out, cohort_file_names={"C1": "C1"},
                      fetcher=LocalOnlyFetcher([]), workers=1)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(path).pages]
    return " ".join(" ".join(pages).split())


@pytest.fixture(scope="module")
def pdf_text(written_pdfs) -> str:
    return _pdf_text(written_pdfs["dossier"])


def test_cohort_pdf_lists_every_reference_its_section_cites(written_pdfs, context) -> None:
    text = _pdf_text(written_pdfs["C1"])
    body, _, listed = text.partition("References cited in this section:")
    assert listed, "the cohort PDF has no reference list"
    shown = {int(n) for n in re.findall(r"\[(\d+)\] \w", listed)}
    assert shown and cited_numbers([body]) == shown
    by_number = {e["number"]: e["text"] for e in context["submission"]["references"]}
    for number in shown:
        assert by_number[str(number)][:25] in listed


def test_pdf_prints_the_sections_with_the_hand_counted_numbers(pdf_text) -> None:
    for needle in ("Research question and study design", "Research question (PICO)",
                   "nivolumab, 240 mg every 2 weeks", "none: single-arm",
                   "Started treatment: 12", "Not response-evaluable: 2",
                   "died within 12 weeks", "Response-evaluable: 10",
                   "Follow-up and maturity", "every patient had the event (none censored)",
                   "Limitations and certainty", "Unconfirmed responses: 1 patient",
                   "References", "Glossary", "Reverse Kaplan-Meier"):
        assert needle in pdf_text, needle
    assert "NE (NE-NE)" not in pdf_text
    assert not re.search(r"\.ya?ml\b", pdf_text)


def test_pdf_citations_and_reference_list_agree(pdf_text, context) -> None:
    body, _, tail = pdf_text.partition("References [1]")
    assert tail, "no reference list starting at [1]"
    entries = context["submission"]["references"]
    for entry in entries:
        assert f"[{entry['number']}] {entry['text'][:30]}" in " ".join(
            ("References [1]" + tail).split()), entry
    cited = cited_numbers([body])
    assert cited == {int(e["number"]) for e in entries}


def test_results_json_carries_the_sections(context) -> None:
    from dossier.render.sections import submission_record

    registry = registry_from_frames(hand_patients(), name="hand.csv")
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    record = submission_record(results=results, registry=registry, verdicts=verdicts,
                               rule_files=book.rule_sets, cutoff="2021-06-30")
    json.dumps(record)  # JSON-ready
    (cohort,) = record["cohorts"]
    assert cohort["cohort_id"] == "C1"
    assert cohort["flow"]["treated"] == "12" and cohort["flow"]["evaluable"] == "10"
    assert [int(r["number"]) for r in record["references"]] == list(
        range(1, len(record["references"]) + 1))
    assert cited_numbers([json.dumps(record)]) == {int(r["number"])
                                                  for r in record["references"]}


def test_word_body_holds_the_sections_and_one_paragraph_per_reference(context) -> None:
    from dossier.render.docx import docx_markdown

    text, _ = docx_markdown(context)
    for needle in ("# Research question and study design", "### Research question (PICO)",
                   "### Patient flow and analysis sets", "| Started treatment | 12 |",
                   "| Not response-evaluable | 2 |", "### Follow-up and maturity",
                   "### Limitations and certainty", "## References", "## Glossary"):
        assert needle in text, needle
    references = context["submission"]["references"]
    for entry in references:  # each reference its own paragraph, never run together
        assert f"\n[{entry['number']}] " in text.replace("\\[", "[").replace("\\]", "]")
    listed = text.split("## References {#references}", 1)[1].split("## Glossary", 1)[0]
    paragraphs = [p for p in listed.split("\n\n") if p.strip()]
    assert len(paragraphs) == len(references)


def test_ci_spanning_a_threshold_and_insufficient_evidence_become_limitations() -> None:
    from dossier.render.limitations import cohort_limitations
    from dossier.scoring.verdicts import MET, ClauseResult, Verdict

    clause = ClauseResult(metric="pfs_median_months", label="median PFS", condition="",
                          observed=6.4, observed_text="6.4 months", op=">=", threshold=6.0,
                          threshold_text=">= 6 months", unit="months", held=True, state="held",
                          ci_lower=3.1, ci_upper=9.9, ci_text="95% CI 3.1 to 9.9",
                          certainty="met, uncertain")
    robust = ClauseResult(metric="orr", label="ORR", condition="", observed=0.5,
                          observed_text="50%", op=">=", threshold=0.2, threshold_text=">= 20%",
                          unit="", held=True, state="held", certainty="met")
    reason = "the 95% CI of median PFS (3.1 to 9.9) spans 6 months"
    verdict = Verdict(cohort_id="C1", criteria_id="esmo", framework="ESMO-MCBS", version="1.1",
                      title="ESMO Form 3", verdict=MET, outcome="grade 3",
                      clauses=(clause, robust), certainty="uncertain", certainty_reason=reason)
    scarce = Verdict(cohort_id="C1", criteria_id="paskwil", framework="PASKWIL", version="2024",
                     title="PASKWIL 2024", verdict="insufficient evidence", outcome="no grade",
                     certainty="insufficient evidence", certainty_reason="8 evaluable patients")
    plain = Verdict(cohort_id="C1", criteria_id="drup", framework="DRUP", version="protocol",
                    title="DRUP", verdict=MET, outcome="met")  # certainty left empty
    lines = cohort_limitations(
        evaluable=30, full_size=24, ci_width=0.3, patients=pd.DataFrame(), followup=(),
        verdicts=(verdict, scarce, plain),
        infos={"esmo": {"short": "ESMO Form 3"}, "paskwil": {"short": "PASKWIL 2024"}},
        pico={"comparator_kind": "none"}, bib=Bibliography())
    assert f"ESMO Form 3: the verdict (met) is uncertain: {reason}." in lines
    assert "PASKWIL 2024: insufficient evidence (8 evaluable patients)." in lines
    assert not any("ORR" in line for line in lines)
    assert not any(line.startswith("Small cohort") for line in lines)  # 30 >= 24
    assert not any(line.startswith("External comparator") for line in lines)


def test_time_from_last_enrolment_to_cutoff_is_counted_from_the_dates(context) -> None:
    enrolment = context["cohorts"][0]["submission"]["enrolment"]
    last = START + dt.timedelta(days=14 * 11)
    assert (enrolment["first"], enrolment["last"]) == (START.isoformat(), last.isoformat())
    cutoff = dt.date.fromisoformat(context["meta"]["data_cutoff"])
    # the cut-off is the latest date in the data: P12's start + 200 days is not it, P01's +500 is
    assert cutoff == max(START + dt.timedelta(days=14 * i + d) for i, d in
                         enumerate([500, 260, 450, 280, 290, 300, 310, 320, 330, 340, 20, 200]))
    assert enrolment["months"] == f"{(cutoff - last).days / DAYS_PER_MONTH:.1f}"


def test_a_failed_stage_ends_the_flow_and_is_named_as_reached() -> None:
    from dossier.render.design import stage_progress, stage_reached

    stages = ((1, 8), (5, 24))
    rows = pd.DataFrame({
        "group_by": "cohort_id", "group": "C", "endpoint": ["cbr_stage1", "cbr_stage2"],
        "statistic": "rate", "time": math.nan, "estimate": [0.0, 0.1], "lower": math.nan,
        "upper": math.nan, "x": [0, 1], "n": [8, 10], "denominator": "evaluable",
        "status": "ok", "method": "", "parameters": "{}"})
    progress = stage_progress(ResultsIndex(rows), ("cohort_id", "C"), stages)
    assert [p["stage"] for p in progress] == ["Stage 1"]
    assert progress[0]["state"] == "bar not met: the cohort closes"
    one = pd.DataFrame({"stage": ["1"] * 8})
    assert stage_reached(one, progress) == "stage 1 (bar not met: the cohort closes)"
    two = pd.DataFrame({"stage": ["1"] * 8 + ["2"] * 2})
    assert stage_reached(two, progress) == "stage 2 (stage 1: bar not met: the cohort closes)"
