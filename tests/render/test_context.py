"""Tests of the dossier's template data (dossier.render.context) and its HTML (render_html).

What a reader of the PDF would notice: a number that differs from the results table, a CI
printed as "nan", a cohort missing or shown twice, a verdict filed under the wrong framework,
HTML from the data running as markup, or a user's template ignored.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import pandas as pd
import pytest

from dossier.endpoints.compute import compute_endpoints
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.registry.schema import DAYS_PER_MONTH
from dossier.render.context import build_context, months_text, patient_listing
from dossier.render.formatting import rate_text, survival_text
from dossier.render.methods_text import method_sentence, parameters_text
from dossier.render.pdf import render_html
from dossier.render.verdict_views import METRIC_LABELS, plain_words
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.readiness import BELOW_SCREEN, SCREEN_RULES, TRIAL_RULE, readiness
from dossier.scoring.rulebook import load_rulebook
from dossier.scoring.verdicts import MET, NOT_APPLICABLE, NOT_MET, Verdict

HOSTILE_ID = "<script>alert(1)</script> | <b>bold</b>"
HOSTILE_TUMOUR = "<b>bold</b> tumour"
BUILD_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def small_registry():
    """An 8-cohort DRUP-like registry whose first cohort has HTML in its id and tumour type."""
    patients, cohorts = demo_registry(n_patients=60, seed=11)
    first = patients["cohort_id"].iloc[0]
    rows = patients["cohort_id"] == first
    patients.loc[rows, "cohort_id"] = HOSTILE_ID
    patients.loc[rows, "tumour_type"] = HOSTILE_TUMOUR
    cohorts.loc[cohorts["cohort_id"] == first, "cohort_id"] = HOSTILE_ID
    return registry_from_frames(patients, cohorts, name="small.csv")


@pytest.fixture(scope="module")
def analysis():
    registry = small_registry()
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    return registry, results, book, verdicts


def make_context(analysis, **overrides):
    registry, results, book, verdicts = analysis
    arguments = dict(results=results, verdicts=verdicts, registry=registry,
                     rule_files=book.rule_sets,
                     parameters={"sd_weeks": 16, "durable_weeks": 24, "ci": "log-log"},
                     title="Small dossier", build_time=BUILD_TIME, software_version="9.9.9",
                     data_sha256=registry.sha256, data_name="small.csv")
    arguments.update(overrides)
    return build_context(**arguments)


@pytest.fixture(scope="module")
def context(analysis):
    return make_context(analysis)


def row_of(results, group_by, group, endpoint, statistic, denominator=None):
    rows = results[(results["group_by"] == group_by) & (results["group"] == group)
                   & (results["endpoint"] == endpoint) & (results["statistic"] == statistic)]
    if denominator is not None:
        rows = rows[rows["denominator"] == denominator]
    assert len(rows) == 1
    return rows.iloc[0]


def ci_text(row, scale, missing="NR"):
    def one(v):
        return missing if pd.isna(v) else f"{v * scale:.1f}"
    return f"({one(row['lower'])}-{one(row['upper'])})"


# --------------------------------------------------------------------------- number formats


def test_rate_is_a_percentage_with_its_exact_ci_and_one_decimal() -> None:
    row = {"estimate": 0.349230, "lower": 0.323902, "upper": 0.375209, "status": "ok"}
    assert rate_text(row) == "34.9% (32.4-37.5)"


def test_rate_without_patients_says_so_instead_of_nan() -> None:
    row = {"estimate": math.nan, "lower": math.nan, "upper": math.nan, "status": "no_patients"}
    assert rate_text(row) == "no patients"


def test_median_not_reached_prints_nr_for_estimate_and_open_limit() -> None:
    reached = {"estimate": 3.351, "lower": 2.957, "upper": 3.384, "status": "ok"}
    open_upper = {"estimate": 8.21, "lower": 7.69, "upper": math.nan, "status": "ok"}
    not_reached = {"estimate": math.nan, "lower": 12.4, "upper": math.nan,
                   "status": "not_reached"}
    assert months_text(reached) == "3.35 (2.96-3.38) months"
    assert months_text(open_upper) == "8.21 (7.69-NR) months"
    assert months_text(not_reached) == "NR (12.40-NR) months"


def test_missing_lower_limit_prints_ne_never_not_reached() -> None:
    row = {"estimate": math.nan, "lower": math.nan, "upper": math.nan, "x": 2.0, "n": 9.0,
           "statistic": "median", "status": "not_reached"}
    assert months_text(row) == "NR (NE-NR) months"


def test_median_from_one_responder_prints_value_with_ne_limits() -> None:
    row = {"estimate": 10.907, "lower": math.nan, "upper": math.nan, "x": 1.0, "n": 1.0,
           "statistic": "median", "status": "ok"}
    assert months_text(row) == "10.91 (NE-NE) months"


def test_upper_limit_of_curve_that_fell_to_zero_is_ne_not_nr() -> None:
    row = {"estimate": 2.037, "lower": 1.873, "upper": math.nan, "x": 3.0, "n": 3.0,
           "statistic": "median", "status": "ok"}
    assert months_text(row) == "2.04 (1.87-NE) months"


def test_followup_without_censored_patient_is_ne_not_nr() -> None:
    row = {"estimate": math.nan, "lower": math.nan, "upper": math.nan, "x": 0.0, "n": 9.0,
           "statistic": "followup", "status": "not_reached"}
    assert months_text(row) == "NE (NE-NE) months"


def test_followup_with_open_upper_limit_is_nr() -> None:
    row = {"estimate": 52.205, "lower": 40.838, "upper": math.nan, "x": 40.0, "n": 1610.0,
           "statistic": "followup", "status": "ok"}
    assert months_text(row) == "52.20 (40.84-NR) months"


def test_landmark_survival_of_zero_has_not_estimable_limits_not_not_reached() -> None:
    zero = {"estimate": 0.0, "lower": math.nan, "upper": math.nan, "status": "ok"}
    beyond = {"estimate": math.nan, "lower": math.nan, "upper": math.nan,
              "status": "not_estimable"}
    assert survival_text(zero) == "0.0% (NE-NE)"
    assert survival_text(beyond).startswith("not estimable")


def test_listing_converts_days_to_months_and_marks_non_evaluable_patients() -> None:
    patients = pd.DataFrame({
        "patient_id": ["P1", "P2"], "stage": ["1", "2"],
        "best_response": pd.Series(["PR", pd.NA], dtype=object),
        "response_confirmed": pd.array([True, pd.NA], dtype="boolean"),
        "pfs_days": [DAYS_PER_MONTH * 6, 45.0], "pfs_event": [0, 1],
        "os_days": [DAYS_PER_MONTH * 12, 91.3125], "os_event": [0, 1],
        "worst_ae_grade": pd.array([3, pd.NA], dtype="Int64")})
    listing = patient_listing(patients)
    first, second = (line.split() for line in listing["lines"])
    assert first == ["P1", "1", "PR", "yes", "6.0", "no", "12.0", "no", "3"]
    assert second == ["P2", "2", "NE*", "1.5", "yes", "3.0", "yes"]
    assert listing["header"].split()[:3] == ["Patient", "Stage", "BOR"]


# --------------------------------------------------------------------------- lookups


def test_context_is_plain_data_that_templates_can_only_print(context) -> None:
    def walk(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str), where
                walk(item, f"{where}.{key}")
        elif isinstance(value, list | tuple):
            for k, item in enumerate(value):
                walk(item, f"{where}[{k}]")
        else:
            assert value is None or isinstance(value, str | bool | int), (where, type(value))
            assert not (isinstance(value, float) and math.isnan(value)), where

    walk(context, "context")


def test_every_cohort_appears_once_numbered_in_results_table_order(context, analysis) -> None:
    _, results, _, _ = analysis
    expected = list(dict.fromkeys(results.loc[results["group_by"] == "cohort_id", "group"]))
    assert [c["id"] for c in context["cohorts"]] == expected
    assert [c["number"] for c in context["cohorts"]] == list(range(1, len(expected) + 1))


def test_cohort_endpoints_are_the_results_table_rows_formatted(context, analysis) -> None:
    _, results, _, _ = analysis
    for cohort in context["cohorts"]:
        cbr = row_of(results, "cohort_id", cohort["id"], "cbr", "rate", "evaluable")
        pfs = row_of(results, "cohort_id", cohort["id"], "pfs", "median")
        by_label = {e["label"]: e for e in cohort["endpoints"]}
        clinical = by_label["Clinical benefit rate (CR/PR or SD >= 16 weeks)"]
        assert clinical["value"] == f"{cbr['estimate'] * 100:.1f}% {ci_text(cbr, 100)}"
        assert clinical["count"] == f"{int(cbr['x'])}/{int(cbr['n'])}"
        median = by_label["Median progression-free survival"]["value"]
        assert median == months_text(pfs)
        assert median.startswith("NR" if pd.isna(pfs["estimate"]) else f"{pfs['estimate']:.2f}")
        assert cohort["flow"]["cb"] == str(int(cbr["x"]))
        assert cohort["flow"]["treated"] == str(int(row_of(
            results, "cohort_id", cohort["id"], "patients", "treated")["estimate"]))


def test_headline_table_leads_with_pooled_counts_rates_and_medians(context, analysis) -> None:
    _, results, _, _ = analysis
    rows = {r["label"]: r for r in context["summary"]["headline"]}
    treated = row_of(results, "all", "all", "patients", "treated")
    assert rows["Patients who started treatment"]["value"] == f"{int(treated['estimate']):,}"
    orr = row_of(results, "all", "all", "orr", "rate", "evaluable")
    orr_label = "Objective response rate (confirmed CR/PR)"
    assert rows[orr_label]["value"] == f"{orr['estimate'] * 100:.1f}%"
    assert rows["Objective response rate (confirmed CR/PR)"]["ci"] == ci_text(orr, 100)[1:-1]
    assert rows["Objective response rate (confirmed CR/PR)"]["denominator"] == \
        f"{int(orr['x'])}/{int(orr['n'])} evaluable"
    g3 = row_of(results, "all", "all", "severe_trae", "rate", "treated")
    assert rows["Grade >= 3 treatment-related adverse events"]["denominator"].endswith(
        f"/{int(g3['n'])} treated")
    os_median = row_of(results, "all", "all", "os", "median")
    assert rows["Median overall survival"]["value"] == f"{os_median['estimate']:.2f} months"
    followup = row_of(results, "all", "all", "os", "followup")
    assert rows["Median follow-up (OS, reverse Kaplan-Meier)"]["value"] == \
        f"{followup['estimate']:.2f} months"
    assert len(rows) == 10


def test_synthetic_demo_is_flagged_and_set_against_the_published_figures(analysis) -> None:
    demo = make_context(analysis, data_name="demo")
    assert demo["meta"]["notice"] == "SYNTHETIC DEMO DATA \u2014 not for submission"
    published = {r["label"]: r for r in demo["summary"]["published"]}
    assert published["Patients who started treatment"]["published"] == "1,610"
    assert published["Median progression-free survival"]["published"] == "3.4 months (2.8-3.5)"
    real = make_context(analysis, data_name="registry.csv")
    assert real["meta"]["notice"] == "" and real["summary"]["published"] == []


def test_methods_quote_each_estimator_from_the_results_table(context, analysis) -> None:
    _, results, _, _ = analysis
    pooled = results[results["group_by"] == "all"]
    shown = {m["method"] for m in context["methods"]["endpoints"]}
    assert shown == {method_sentence(m) for m in pooled["method"]}
    assert all(m.endswith(".") and "NaN" not in m and "not_estimable" not in m for m in shown)
    names = {m["endpoint"] for m in context["methods"]["endpoints"]}
    assert "Clinical benefit rate (CR/PR or SD >= 16 weeks)" in names and "cbr" not in names
    params = " ".join(m["parameters"] for m in context["methods"]["endpoints"])
    assert "{" not in params and "Settings used: SD >= 16 weeks." in params
    assert context["methods"]["days_per_month"] == "30.4375"


def test_parameters_read_as_words_not_json() -> None:
    assert parameters_text({"sd_weeks": 16}) == "SD >= 16 weeks"
    assert parameters_text({"ci": "log-log", "level": 0.95}) == "log-log CI, 95%"
    assert parameters_text({"odd_key": 2}) == "odd key = 2"


def test_methods_define_cutoff_response_censoring_pooling_and_exceptional(context) -> None:
    terms = {d["term"]: d for d in context["methods"]["definitions"]}
    assert context["methods"]["data_cutoff"] in terms["Data cut-off"]["text"]
    assert "latest date in the data" in terms["Data cut-off"]["text"]
    assert "RECIST 1.1" in terms["Response criteria"]["text"]
    assert ">= 4 weeks" in terms["Response criteria"]["text"]
    assert "last known progression-free date" in terms["PFS censoring"]["text"]
    assert "first 8" in terms["Pooling of stages"]["text"]
    assert "67 patients" in terms["Exceptional responders"]["footnote"]


def test_only_keeps_the_chosen_cohorts_and_rejects_unknown_ones(analysis) -> None:
    _, results, _, _ = analysis
    ids = list(dict.fromkeys(results.loc[results["group_by"] == "cohort_id", "group"]))
    chosen = make_context(analysis, only=[ids[2], ids[0]])
    assert [c["id"] for c in chosen["cohorts"]] == [ids[0], ids[2]]
    assert [r["id"] for r in chosen["comparison"]["matrix"]["rows"]] == [ids[0], ids[2]]
    with pytest.raises(ValueError, match="no such cohort"):
        make_context(analysis, only=["no such cohort"])


# --------------------------------------------------------------------------- verdicts


def test_each_cohort_shows_its_own_applicable_verdicts_with_clauses(context, analysis) -> None:
    verdicts = analysis[3]
    for cohort in context["cohorts"]:
        mine = [v for v in verdicts if v.cohort_id == cohort["id"]]
        applicable = [v for v in mine if v.verdict != NOT_APPLICABLE]
        shown = cohort["verdicts"]
        assert [v["criteria_id"] for v in shown] == [v.criteria_id for v in applicable]
        for entry, verdict in zip(shown, applicable, strict=True):
            assert entry["verdict"] == verdict.verdict
            assert [c["observed"] for c in entry["clauses"]] == \
                [c.observed_text for c in verdict.clauses]
            assert [c["state"] for c in entry["clauses"]] == [c.state for c in verdict.clauses]
        assert len(cohort["not_applicable"]) == len(mine) - len(applicable)


def test_matrix_hides_rule_files_that_apply_to_no_cohort_and_says_which(context, analysis):
    _, _, book, verdicts = analysis
    never = {r.id for r in book.rule_sets
             if all(v.verdict == NOT_APPLICABLE for v in verdicts if v.criteria_id == r.id)}
    short = {r.id: r.short or r.id for r in book.rule_sets}
    matrix = context["comparison"]["matrix"]
    assert {h["short"] for h in matrix["hidden"]} == {short[i] for i in never}
    assert matrix["columns"] == [short[r.id] for r in book.rule_sets if r.id not in never]
    first = matrix["rows"][0]
    cell = dict(zip(matrix["columns"], first["cells"], strict=True))["DRUP two-stage"]
    drup = next(v for v in verdicts if v.cohort_id == first["id"]
                and v.criteria_id == "drup-two-stage")
    assert cell["text"].startswith(drup.verdict)


def test_verdict_counts_add_up_to_the_cohorts_per_rule_file(context) -> None:
    n = len(context["cohorts"])
    for row in context["summary"]["counts"]:
        assert sum(int(c) for c in row["counts"]) == int(row["total"]) == n


def _verdict(cohort_id: str, criteria_id: str, verdict: str, distance: tuple[str, ...] = ()):
    return Verdict(cohort_id=cohort_id, criteria_id=criteria_id, framework="x", version="1",
                   title=criteria_id, verdict=verdict, outcome=verdict, distance=distance,
                   distance_score=0.0 if verdict == MET else 0.5)


def test_trial_success_below_the_payer_screen_lists_the_cohort_and_its_payer_gaps(analysis) -> None:
    results = analysis[1]
    ids = list(dict.fromkeys(results.loc[results["group_by"] == "cohort_id", "group"]))
    gap = "median PFS 3.2 months vs >= 6 months"
    verdicts = [_verdict(ids[1], TRIAL_RULE, MET),
                _verdict(ids[1], SCREEN_RULES[0], NOT_MET, (gap,)),
                _verdict(ids[1], SCREEN_RULES[1], MET)]
    verdicts += [_verdict(c, r, NOT_MET) for c in ids if c != ids[1]
                 for r in (TRIAL_RULE, *SCREEN_RULES)]
    assert [r.flag for r in readiness(verdicts) if r.cohort_id == ids[1]] == [BELOW_SCREEN]
    context = make_context(analysis, verdicts=verdicts)
    line = context["summary"]["readiness"]
    assert [row["id"] for row in line["not_ready"]] == [ids[1]]
    assert gap in line["not_ready"][0]["gap"]
    assert line["ready"] == [] and line["unresolved"] == []


def test_rule_files_may_be_plain_mappings_with_source_urls(analysis) -> None:
    rule = {"id": "my-rule", "title": "My rule", "framework": "local", "version": "2",
            "effective": "2025-01", "source urls": ["https://example.org/rule"],
            "status": "unverified"}
    context = make_context(analysis, rule_files=[rule], verdicts=[])
    [info] = context["criteria"]
    assert info["sources"] == [{"id": "", "url": "https://example.org/rule", "status": ""}]
    assert (info["status"], info["effective"], info["short"]) == ("unverified", "2025-01",
                                                                 "my-rule")


def test_cover_facts_come_from_the_build(context, analysis) -> None:
    registry, _, book, _ = analysis
    meta = context["meta"]
    assert meta["data_sha256"] == registry.sha256
    assert meta["build_date"] == "2026-01-02 03:04 UTC"
    assert meta["build_epoch"] == str(int(BUILD_TIME.timestamp()))
    assert all(f"{r.short or r.id} ({r.version})" in meta["criteria_versions"]
               for r in book.rule_sets)


# --------------------------------------------------------------------------- HTML


def test_html_from_the_data_is_escaped_never_markup(context) -> None:
    html = render_html(context)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; tumour" in html
    assert "<script" not in html.lower()


def test_html_has_no_inline_svg_and_links_every_cohort_from_the_contents(context) -> None:
    html = render_html(context)
    assert "<svg" not in html  # figures are data: images, drawn by WeasyPrint's SVG parser
    for cohort in context["cohorts"]:
        assert f'href="#{cohort["anchor"]}"' in html
        assert f'id="{cohort["anchor"]}"' in html


def test_a_user_template_folder_overrides_the_bundled_templates(context, tmp_path) -> None:
    (tmp_path / "_cover.html.j2").write_text(
        '<section class="cover"><p class="cover-title">{{ meta.title }}</p>'
        "<p>Submitted by Example Pharma</p></section>", encoding="utf-8")
    (tmp_path / "dossier.css").write_text("html { font-family: 'DejaVu Sans'; color: #000 }",
                                          encoding="utf-8")
    html = render_html(context, templates_dir=tmp_path)
    assert "Submitted by Example Pharma" in html
    assert "color: #000" in html and "leader(" not in html  # the user's stylesheet only
    assert "cover-kicker" not in html


def test_cohort_html_is_one_cohort_with_cover_and_methods(context) -> None:
    cohort = context["cohorts"][1]
    html = render_html(context, part="cohort", cohort_id=cohort["id"])
    assert f'id="{cohort["anchor"]}"' in html
    # the cohort's own one-page methods, not the dossier's generic methods section
    assert f'id="methods-{cohort["anchor"]}"' in html and 'class="cover"' in html
    assert 'id="methods"' not in html
    others = [c for c in context["cohorts"] if c["id"] != cohort["id"]]
    assert not any(f'id="{c["anchor"]}"' in html for c in others)
    with pytest.raises(ValueError, match="not in the dossier context"):
        render_html(context, part="cohort", cohort_id="nope")


def test_metric_identifiers_in_verdict_texts_read_as_their_labels(context) -> None:
    assert plain_words("needs the control arm's median OS (control_os_median_months)",
                       METRIC_LABELS) == "needs the control arm's median OS (control median OS)"
    assert plain_words("cb_n counts them all", METRIC_LABELS) == \
        "patients with clinical benefit counts them all"
    shown = []
    for cohort in context["cohorts"]:
        shown += [n["reason"] for n in cohort["not_applicable"]]
        for verdict in cohort["verdicts"]:
            shown += verdict["reasons"] + verdict["notes"] + verdict["deciding"]
            shown += [c["condition"] for c in verdict["clauses"]]
    assert shown and not any(re.search(r"\b(cb_n|control_os_median_months)\b", t) for t in shown)


def test_esmo_form3_met_is_marked_as_dossiers_line_not_esmos(context) -> None:
    form3 = next(c for c in context["criteria"] if c["id"] == "esmo-mcbs-v1.1-form3")
    assert form3["met_note"].startswith(
        "met = grade >= 3, dossier's payer screen (ours, no payer decision)")
    assert any(m.startswith("ESMO Form 3: met = grade >= 3") for m in
               context["summary"]["met_legend"])
    matrix = context["comparison"]["matrix"]
    marked = [c for c, m in zip(matrix["columns"], matrix["column_marks"], strict=True) if m]
    assert "ESMO Form 3" in marked
    drup = next(c for c in context["criteria"] if c["id"] == "drup-two-stage")
    assert drup["met_note"] == ""
