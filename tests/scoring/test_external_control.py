"""A hand-made cohort scored against an external control, read back from JSON, workbook and PDF.

The cohort: 21 evaluable patients of pancreatic cancer in second line (one prior line each),
every PFS an event, so the Kaplan-Meier median is the 11th time (213 days); 4 confirmed partial
responses. The control (a comparators file): median PFS 3 months, median OS 6 months, ORR 10%.
Expected by hand:

- PFS gain = 213 / 30.4375 - 3 = 4.00 months > 12 weeks (2.76 months); HR (exponential
  approximation) = 3 / 6.998 = 0.429 < 0.7: PASKWIL 2016 met;
- ESMO Form 2b, control median PFS <= 6 months: HR lower limit 0.429 exp(-1.96 / sqrt(21)) =
  0.28 <= 0.65 and gain >= 1.5 months: preliminary grade 3; toxicity and QoL adjustments are
  not reported, so the final grade lies between 1 and 3: below ESMO's line of 4, not met.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from scipy.stats import norm
from typer.testing import CliRunner

from dossier.build import build_dossier
from dossier.cli import app
from dossier.config import Settings
from dossier.registry.comparators import UNANCHORED_CAVEAT, UNANCHORED_LABEL

PFS_DAYS = [40, 55, 70, 90, 110, 130, 150, 170, 190, 205, 213, 230, 250, 270, 300, 330, 360,
            400, 450, 500, 560]
RESPONDERS = (12, 15, 18, 20)
DAYS_PER_MONTH = 30.4375
CONTROLS = """\
comparators:
  - tumour_type: Pancreatic cancer
    line: 2
    median_pfs_months: 3.0
    median_os_months: 6.0
    orr_percent: 10
    evidence: published_trial
    treatment: liposomal irinotecan + 5-FU/leucovorin
    source:
      citation: Hand-made test control
      url: https://example.org/control
"""


def write_inputs(folder: Path) -> tuple[Path, Path]:
    rows = []
    start = dt.date(2021, 1, 4)
    for i, days in enumerate(PFS_DAYS):
        begin = start + dt.timedelta(days=14 * i)
        best = "PR" if i in RESPONDERS else ("PD" if days <= 84 else "SD")
        rows.append({
            "patient_id": f"H{i + 1:02d}", "cohort_id": "H1", "drug": "sotorasib",
            "tumour_type": "Pancreatic cancer", "alteration": "KRAS p.G12C", "rare_cancer": "0",
            "stage": "1" if i < 8 else "2", "treatment_start": begin.isoformat(),
            "response_evaluable": "1", "best_response": best,
            "response_confirmed": "1" if best == "PR" else "",
            "response_date": (begin + dt.timedelta(days=56)).isoformat() if best == "PR" else "",
            "pfs_days": str(days), "pfs_event": "1", "os_days": str(days + 150),
            "os_event": "1", "worst_ae_grade": str(i % 3), "prior_lines": "1",
            "prior_pfs_days": str(150 + 5 * i)})
    data = folder / "hand.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    (folder / "hand.cohorts.yaml").write_text(
        "cohorts:\n  - cohort_id: H1\n    setting: palliative\n    ema_status: approved\n"
        "    rare_indication: false\n    no_effective_treatment: false\n", encoding="utf-8")
    controls = folder / "controls.yaml"
    controls.write_text(CONTROLS, encoding="utf-8")
    return data, controls


MEDIAN = 213 / DAYS_PER_MONTH
HR = 3.0 / MEDIAN
HR_LOWER = HR * math.exp(-norm.ppf(0.975) / math.sqrt(len(PFS_DAYS)))


@pytest.fixture(scope="module")
def dossier_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("external")
    data, controls = write_inputs(folder)
    out, _ = build_dossier(Settings(comparators=controls), data=data,
                           destination=folder / "dossier", formats=("pdf", "xlsx", "json"))
    return out


@pytest.fixture(scope="module")
def verdicts(dossier_folder) -> dict[str, dict]:
    payload = json.loads((dossier_folder / "results.json").read_text(encoding="utf-8"))
    return {v["criteria"]: v for v in payload["verdicts"]}


def clause(verdict: dict, metric: str, rule: str | None = None) -> dict:
    found = [c for c in verdict["clauses"] if c["metric"] == metric
             and (rule is None or c["rule"] == rule)]
    assert found, f"no clause on {metric} in {verdict['criteria']}"
    return found[0]


def test_paskwil_2016_is_met_against_the_control_and_labelled_unanchored(verdicts):
    verdict = verdicts["paskwil-2016"]
    assert verdict["verdict"] == "met"
    gain = clause(verdict, "pfs_gain_months", "pfs-gain")
    assert gain["observed"] == pytest.approx(MEDIAN - 3.0, abs=1e-9)
    assert clause(verdict, "hr_pfs", "pfs-gain")["observed"] == pytest.approx(HR, rel=1e-9)
    assert verdict["comparator"].startswith(UNANCHORED_LABEL)
    assert "liposomal irinotecan" in verdict["comparator"]
    assert verdict["comparator_caveat"] == UNANCHORED_CAVEAT


def test_esmo_form_2b_reaches_preliminary_grade_3_but_not_the_line_of_4(verdicts):
    verdict = verdicts["esmo-mcbs-v1.1-form2b"]
    assert verdict["stratum"] == "control median PFS <= 6 months"
    assert verdict["preliminary_grade"] == 3
    assert (verdict["verdict"], verdict["grade_range"]) == ("not met", [1, 3])
    lower = clause(verdict, "hr_pfs_lower95", "le6-g3")
    assert lower["observed"] == pytest.approx(HR_LOWER, rel=1e-9)
    assert verdict["comparator"].startswith(UNANCHORED_LABEL)
    notes = " ".join(verdict["notes"])
    assert f"HR for PFS {HR:.2f} (95% CI {HR_LOWER:.2f} to" in notes
    assert "median PFS 3 months (external-control file)" in notes
    assert "approximated under an exponential model" in notes


def test_single_arm_verdicts_carry_no_comparator_label(verdicts):
    for criteria in ("drup-two-stage", "esmo-mcbs-v1.1-form3"):
        assert verdicts[criteria]["comparator"] == ""
    assert verdicts["esmo-mcbs-v1.1-form3"]["verdict"] == "not applicable"


def test_workbook_verdicts_sheet_carries_the_label_and_the_caveat(dossier_folder):
    sheet = load_workbook(dossier_folder / "dossier.xlsx", read_only=True)["Verdicts"]
    rows = list(sheet.iter_rows(values_only=True))
    # headers carry their unit ("cohort_no (as in the PDF)"): compare on the name
    header = next(i for i, r in enumerate(rows) if r and "cohort_id" in r)
    names = [str(h).split(" (")[0] if h else h for h in rows[header]]
    records = [dict(zip(names, r, strict=False)) for r in rows[header + 1:] if r and r[0]]
    paskwil = [r for r in records if r["criteria"] == "paskwil-2016"]
    assert paskwil and all(r["comparator"].startswith(UNANCHORED_LABEL) for r in paskwil)
    assert {r["comparator_caveat"] for r in paskwil} == {UNANCHORED_CAVEAT}
    drup = [r for r in records if r["criteria"] == "drup-two-stage"]
    assert drup and all(not r["comparator"] for r in drup)


def test_pdf_shows_the_label_the_caveat_and_the_control_in_the_methods(dossier_folder):
    text = " ".join(" ".join((p.extract_text() or "").split())
                    for p in PdfReader(dossier_folder / "dossier.pdf").pages)
    assert f"Comparator {UNANCHORED_LABEL}" in text
    assert "The EU HTA methodological guidance restricts unanchored comparisons" in text
    assert "External controls" in text and "Hand-made test control" in text
    assert "1 cohorts are also compared with an external control" in text


def test_a_bad_comparators_file_stops_the_build_with_file_line_and_key(tmp_path):
    data, controls = write_inputs(tmp_path)
    controls.write_text(CONTROLS.replace("median_pfs_months: 3.0", "median_pfs_months: three"),
                        encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(data), "--comparators", str(controls),
                                      "--out", str(out), "--format", "json"])
    assert result.exit_code != 0
    assert "controls.yaml" in result.output and "line 4" in result.output
    assert "median_pfs_months must be a number, not 'three'" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_score_takes_the_comparators_from_dossier_toml(tmp_path):
    data, _ = write_inputs(tmp_path)
    (tmp_path / "dossier.toml").write_text('[study]\ncomparators = "controls.yaml"\n',
                                           encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "dossier.toml"), "score",
                                      str(data), "--format", "json"])
    assert result.exit_code == 0, result.output
    verdicts = {v["criteria"]: v for v in json.loads(result.output)["verdicts"]}
    assert verdicts["paskwil-2016"]["verdict"] == "met"
    assert verdicts["paskwil-2016"]["comparator"].startswith(UNANCHORED_LABEL)


def test_comparators_go_with_patient_data_not_with_a_summary_file(tmp_path):
    _, controls = write_inputs(tmp_path)
    summary = tmp_path / "studies.yaml"
    summary.write_text("studies:\n  - id: s\n    orr: 0.3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "--summary", str(summary), "--comparators",
                                      str(controls)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "--comparators goes with patient data, not with --summary" in result.output


def test_results_json_lists_each_cohorts_control_and_where_each_figure_came_from(
        dossier_folder):
    payload = json.loads((dossier_folder / "results.json").read_text(encoding="utf-8"))
    [control] = payload["external_controls"]
    assert control["cohort_id"] == "H1" and control["line"] == 2
    assert control["line_source"] == "median of the patients' prior lines + 1"
    assert control["figures"] == {"control_pfs_median_months": 3.0,
                                  "control_os_median_months": 6.0, "control_orr_percent": 10.0}
    assert control["sources"]["control_pfs_median_months"] == "external-control file"
    assert control["sources"]["hr_pfs"] == "approximation"
    assert control["entry"]["url"] == "https://example.org/control"
    assert control["label"] == UNANCHORED_LABEL


def test_cohort_metadata_figures_take_precedence_over_the_file_figure_by_figure(tmp_path):
    data, controls = write_inputs(tmp_path)
    meta = tmp_path / "hand.cohorts.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "    control_pfs_median_months: 4.5\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["score", str(data), "--comparators", str(controls),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    verdicts = {v["criteria"]: v for v in json.loads(result.output)["verdicts"]}
    form2b = verdicts["esmo-mcbs-v1.1-form2b"]
    notes = " ".join(form2b["notes"])
    assert "median PFS 4.5 months (cohort metadata), median OS 6 months (external-control file)" \
        in notes
    assert clause(form2b, "pfs_gain_months", "le6-g3")["observed"] == pytest.approx(
        MEDIAN - 4.5, abs=1e-9)
    assert clause(form2b, "hr_pfs_lower95", "le6-g3")["observed"] == pytest.approx(
        4.5 / MEDIAN * math.exp(-norm.ppf(0.975) / math.sqrt(len(PFS_DAYS))), rel=1e-9)
    assert "figures given in the cohort metadata" in form2b["comparator"]


def test_a_gain_is_decided_on_the_cohort_medians_ci_shifted_by_the_control(dossier_folder,
                                                                           verdicts):
    payload = json.loads((dossier_folder / "results.json").read_text(encoding="utf-8"))
    table = payload["results"]
    rows = [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]
    median = next(r for r in rows if r["group_by"] == "cohort_id" and r["endpoint"] == "pfs"
                  and r["statistic"] == "median")
    gain = clause(verdicts["paskwil-2016"], "pfs_gain_months", "pfs-gain")
    assert gain["ci_lower"] == pytest.approx(median["lower"] - 3.0, abs=1e-9)
    if median["upper"] is not None:
        assert gain["ci_upper"] == pytest.approx(median["upper"] - 3.0, abs=1e-9)
    threshold = gain["threshold"]
    state = ("met" if gain["ci_lower"] >= threshold else "met, uncertain") if gain["held"] \
        else "not met, uncertain"
    assert gain["certainty"] == state
    assert gain["probability"] is None and "control median is taken as known" in \
        gain["probability_method"]


def test_a_verdict_resting_on_an_approximated_hazard_ratio_is_never_robust(verdicts):
    verdict = verdicts["paskwil-2016"]
    assert verdict["verdict"] == "met"
    assert verdict["certainty"] == "uncertain"
    assert "approximated against an external control" in verdict["certainty_reason"]
    assert verdict["outcome"].endswith(verdict["certainty_reason"])
