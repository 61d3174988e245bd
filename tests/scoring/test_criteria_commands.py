"""``dossier criteria list/show``, ``dossier score`` and ``dossier compare`` through the CLI.

The commands run on dossier's own command line (dossier.cli.app), as a user types them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.commands import common
from dossier.registry import demo, load
from dossier.scoring.verdicts import VERDICTS

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print tables 240 columns wide, so that ids and URLs are not folded across lines."""
    monkeypatch.setattr(common.console, "width", 240)

STUDIES = """\
studies:
  - id: durable
    metrics: {n_evaluable: 30, cb_n: 12, cb_durable_n: 9, orr: 0.34, pfs_median_months: 6.3,
              g34_tox_wellbeing_rate: 0.12}
  - id: brief
    metrics: {n_evaluable: 24, cb_n: 6, cb_durable_n: 3, orr: 0.125, dor_median_months: 4.0,
              pfs_median_months: 3.2, g34_tox_wellbeing_rate: 0.05}
  - id: rct
    metrics: {control_os_median_months: 9.0, os_median_months: 13.5, hr_os: 0.65,
              hr_os_lower95: 0.52, ema_approved: true}
"""


@pytest.fixture()
def studies(tmp_path: Path) -> Path:
    path = tmp_path / "studies.yaml"
    path.write_text(STUDIES, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_criteria_list_names_every_rule_file_and_marks_ours():
    code, out = run("criteria", "list")
    assert code == 0, out
    for ident in ("drup-two-stage", "paskwil-2024", "esmo-mcbs-v1.1-form3"):
        assert ident in out
    assert "(ours)" in out


def test_criteria_show_prints_rules_with_status_and_source_urls():
    code, out = run("criteria", "show", "esmo-mcbs-v1.1-form3")
    assert code == 0, out
    assert "g3-orr-dor" in out and "verified" in out
    assert "PMC10158123" in out
    code, out = run("criteria", "show", "paskwil-2021-nonrandomised")
    assert code == 0 and "needs an override" in out
    code, out = run("criteria", "show", "paskwil-2016")
    assert code == 0
    assert "- HR OS < 0.7: unverified; HR read as the point estimate" in out


def test_criteria_show_of_an_unknown_id_fails_with_a_suggestion():
    code, out = run("criteria", "show", "paskwil-2025")
    assert code == 2
    assert "unknown criteria id 'paskwil-2025'" in out


def test_score_json_carries_every_verdict_field_for_a_summary_file(studies: Path):
    code, out = run("score", "--summary", str(studies), "--format", "json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["source"] == str(studies)
    verdicts = {(v["id"], v["criteria"]): v for v in payload["verdicts"]}
    assert len(verdicts) == 3 * len(payload["criteria"])
    form3 = verdicts["durable", "esmo-mcbs-v1.1-form3"]
    assert (form3["verdict"], form3["grade"], form3["preliminary_grade"]) == ("met", 3, 3)
    for key in ("framework", "version", "adjustments", "clauses", "distance"):
        assert key in form3
    assert verdicts["rct", "paskwil-2024"]["verdict"] == "met"
    flags = {r["id"]: r["flag"] for r in payload["readiness"]}
    assert flags == {"durable": "meets dossier's payer screen",
                     "brief": "trial success, below dossier's payer screen",
                     "rct": "trial outcome not assessable"}


def test_score_table_flags_trial_success_that_is_below_the_payer_screen(studies: Path):
    code, out = run("score", "--summary", str(studies), "--criteria", "drup-two-stage",
                    "--criteria", "dossier-durability-screen", "--criteria",
                    "esmo-mcbs-v1.1-form3")
    assert code == 0, out
    assert "brief: trial success, below dossier's payer screen" in out
    assert "durable: trial success" not in out


def test_score_reports_a_malformed_user_rule_file_with_its_line(studies: Path, tmp_path: Path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("id: mine\ntitle: t\nframework: f\nversion: '1'\neffective: '2026'\n"
                   "sources: [{id: s, url: 'https://example.org', status: verified}]\n"
                   "inputs: {orr: fraction}\noutcome: {scale: binary}\n"
                   "rules:\n  - {id: r, when: {metric: orr, op: gte, value: 0.3}, "
                   "status: verified, source: s}\n", encoding="utf-8")
    code, out = run("score", "--summary", str(studies), "--criteria", str(bad))
    assert code == 2
    assert f"{bad}, line 10: unknown operator 'gte'" in out


def test_score_refuses_both_data_and_a_summary(studies: Path):
    code, out = run("score", str(studies), "--summary", str(studies))
    assert code == 2 and "not both" in out


def test_score_reports_a_bad_summary_value_with_its_line(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("- id: x\n  metrics:\n    orr: 35\n", encoding="utf-8")
    code, out = run("score", "--summary", str(path))
    assert code == 2
    assert "line 3: entry 'x': orr must be a fraction" in out


def test_compare_ranks_cohorts_by_distance_to_the_payer_screen(studies: Path):
    code, out = run("compare", "--summary", str(studies), "--format", "json")
    assert code == 0, out
    payload = json.loads(out)
    ranked = [c["id"] for c in payload["cohorts"]]
    assert ranked[0] == "durable"
    assert payload["cohorts"][0]["flag"] == "meets dossier's payer screen"
    brief = next(c for c in payload["cohorts"] if c["id"] == "brief")
    assert brief["flag"] == "trial success, below dossier's payer screen"
    assert set(brief["all"]) == set(payload["criteria"])


def test_compare_table_shows_the_flag_and_a_legend(studies: Path):
    code, out = run("compare", "--summary", str(studies))
    assert code == 0, out
    flat = " ".join(re.sub(r"[│┃|]", " ", out).split())
    assert "meets dossier's" in flat and "n/a = not applicable" in out


def test_score_on_a_patient_file_scores_every_cohort_it_holds(tmp_path: Path):
    patients, _ = demo.write_demo(tmp_path / "drup.csv", n_patients=120, seed=7)
    code, out = run("score", str(patients), "--criteria", "drup-two-stage", "--format", "json")
    assert code == 0, out
    payload = json.loads(out)
    expected = set(load.load_registry(patients).patients["cohort_id"])
    assert {v["id"] for v in payload["verdicts"]} == expected
    assert len(payload["verdicts"]) == len(expected)
    assert all(v["verdict"] in VERDICTS for v in payload["verdicts"])
    assert all(v["criteria"] == "drup-two-stage" for v in payload["verdicts"])
