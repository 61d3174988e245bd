"""A gate marked ``indicative`` (PASKWIL's EMA registration): an off-label cohort stays "not
applicable" and also carries the verdict the rules would give if the gate held.

The hand-made cohort of test_external_control (pancreatic cancer, 21 evaluable patients, PFS
median 213 days against an external control of 3 months) is scored with ``ema_status:
not_approved``: PASKWIL 2016 would be met (PFS gain 4.00 months > 12 weeks, HR 0.43 < 0.70), so
the verdict reads "not applicable" with the EMA reason and the indicative verdict "met".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _scoring_helpers import builtin_book
from openpyxl import load_workbook
from pypdf import PdfReader
from test_external_control import HR, MEDIAN, write_inputs

from dossier.build import build_dossier
from dossier.config import Settings
from dossier.registry.comparators import UNANCHORED_LABEL
from dossier.scoring.engine import score, score_cohorts
from dossier.scoring.rulefile import RuleFileError, load_rule_file

EMA_REASON = ("a standard PASKWIL assessment needs EMA registration of the drug for this "
              "indication")
PASKWIL = ("paskwil-2016", "paskwil-2023", "paskwil-2024")


@pytest.fixture(scope="module")
def dossier_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("indicative")
    data, controls = write_inputs(folder)
    meta = folder / "hand.cohorts.yaml"
    text = meta.read_text(encoding="utf-8")
    assert "ema_status: approved" in text
    meta.write_text(text.replace("ema_status: approved", "ema_status: not_approved"),
                    encoding="utf-8")
    out, _ = build_dossier(Settings(comparators=controls), data=data,
                           destination=folder / "dossier", formats=("pdf", "xlsx", "json"))
    return out


@pytest.fixture(scope="module")
def verdicts(dossier_folder) -> dict[str, dict]:
    payload = json.loads((dossier_folder / "results.json").read_text(encoding="utf-8"))
    return {v["criteria"]: v for v in payload["verdicts"]}


def test_off_label_cohort_is_not_applicable_with_the_indicative_verdict_in_json(verdicts):
    verdict = verdicts["paskwil-2016"]
    assert (verdict["verdict"], verdict["reasons"]) == ("not applicable", [EMA_REASON])
    [gate] = [c for c in verdict["clauses"] if c["op"] == "gate" and c["state"] != "applies"]
    assert (gate["rule"], gate["state"]) == ("ema-registration", "does not apply")
    assert verdict["indicative_verdict"] == "met"
    assert verdict["indicative_outcome"] == "palliative efficacy criterion met (positive)"
    gain = [c for c in verdict["indicative_clauses"]
            if c["metric"] == "pfs_gain_months" and c["rule"] == "pfs-gain"]
    assert gain and gain[0]["observed"] == pytest.approx(MEDIAN - 3.0, abs=1e-9)
    assert gain[0]["held"] is True
    hr = [c for c in verdict["indicative_clauses"] if c["metric"] == "hr_pfs"]
    assert hr and hr[0]["observed"] == pytest.approx(HR, rel=1e-9)
    assert verdict["comparator"].startswith(UNANCHORED_LABEL)


def test_every_paskwil_file_with_the_ema_gate_carries_an_indicative_verdict(verdicts):
    for criteria in PASKWIL:
        assert verdicts[criteria]["verdict"] == "not applicable", criteria
        assert verdicts[criteria]["indicative_verdict"], criteria
    for criteria in ("drup-two-stage", "esmo-mcbs-v1.1-form2b"):
        assert verdicts[criteria]["indicative_verdict"] == ""
    # PASKWIL 2021 (non-randomised) also needs a rare indication, a gate not marked indicative
    rare = verdicts["paskwil-2021-nonrandomised"]
    assert (rare["verdict"], rare["indicative_verdict"]) == ("not applicable", "")
    assert any(c["rule"] == "rare-indication" and c["state"] == "does not apply"
               for c in rare["clauses"])


def test_pdf_shows_the_indicative_verdict_beside_not_applicable(dossier_folder):
    text = " ".join(" ".join((p.extract_text() or "").split())
                    for p in PdfReader(dossier_folder / "dossier.pdf").pages)
    assert ("Indicative verdict if assessed met (palliative efficacy criterion met (positive)) "
            "(shown for information only; the verdict stays not applicable)") in text
    assert EMA_REASON in text


def test_workbook_verdicts_sheet_has_the_indicative_verdict(dossier_folder):
    sheet = load_workbook(dossier_folder / "dossier.xlsx", read_only=True)["Verdicts"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and "cohort_id" in r)
    names = list(rows[header])
    records = [dict(zip(names, r, strict=False)) for r in rows[header + 1:] if r and any(r)]
    paskwil = [r for r in records if r["criteria"] == "paskwil-2016"]
    assert paskwil and {(r["verdict"], r["indicative_verdict"]) for r in paskwil} == {
        ("not applicable", "met")}
    drup = [r for r in records if r["criteria"] == "drup-two-stage"]
    assert drup and all(not r["indicative_verdict"] for r in drup)


def test_a_failing_non_indicative_gate_gives_no_indicative_verdict():
    paskwil = builtin_book().get("paskwil-2016")
    # no comparator data: the "comparative" gate (not indicative) fails as well as EMA's
    verdict = score(paskwil, {"ema_approved": False, "pfs_median_months": 7.0}, "c")
    assert verdict.verdict == "not applicable"
    assert verdict.indicative_verdict == "" and verdict.indicative_clauses == ()
    assert verdict.to_dict()["indicative_verdict"] == ""
    curative = score(paskwil, {"setting": "curative", "ema_approved": False,
                               "control_pfs_median_months": 3.0, "pfs_median_months": 7.0}, "c")
    assert (curative.verdict, curative.indicative_verdict) == ("not applicable", "")


def test_the_indicative_verdict_is_the_verdict_with_the_gate_held():
    paskwil = builtin_book().get("paskwil-2016")
    metrics = {"control_pfs_median_months": 3.0, "hr_pfs": 0.5, "pfs_gain_months": 4.0,
               "pfs_median_months": 7.0}
    registered = score(paskwil, {**metrics, "ema_approved": True}, "c")
    off_label = score(paskwil, {**metrics, "ema_approved": False}, "c")
    assert registered.verdict == "met"
    assert (off_label.verdict, off_label.indicative_verdict) == ("not applicable", "met")
    assert off_label.indicative_outcome == registered.outcome
    assert off_label.indicative_clauses == tuple(
        c for c in registered.clauses if c.rule != "ema-registration")


def test_off_label_verdicts_are_counted_as_not_applicable():
    book = builtin_book()
    metrics = {"c": {"control_pfs_median_months": 3.0, "hr_pfs": 0.5, "pfs_gain_months": 4.0,
                     "ema_approved": False}}
    verdicts = score_cohorts([book.get(i) for i in PASKWIL], metrics)
    assert {v.verdict for v in verdicts} == {"not applicable"}
    assert all(v.indicative_verdict for v in verdicts)


@pytest.mark.parametrize(("new", "message"), [
    ("    indicative: yes please\n", "indicative must be true or false, not 'yes please'"),
    ("    indicative: true\n    on_fail: pending\n",
     "indicative goes with on_fail: not applicable only"),
])
def test_a_bad_indicative_key_names_the_file_and_line(tmp_path: Path, new, message):
    source = builtin_book().get("paskwil-2016").path.read_text(encoding="utf-8")
    old = "    indicative: true"
    start = source.index(old)
    end = source.index("\n", start) + 1
    line = source[:start].count("\n") + 1
    path = tmp_path / "paskwil-copy.yaml"
    path.write_text(source[:start] + new + source[end:], encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    assert f"{path}, line {line}: {message}" in str(caught.value), str(caught.value)


def test_the_gate_row_that_does_not_apply_gives_the_rule_files_reason_in_the_pdf(
        dossier_folder):
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(dossier_folder / "dossier.pdf").pages)
    # the row's criterion is the reason in the rule file, capitalised, not the engine's logic
    reason = EMA_REASON[0].upper() + EMA_REASON[1:]
    assert "applicability " + reason.removesuffix(" indication") in text  # (hyphenated)
