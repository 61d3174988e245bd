"""Summary files of published results: reading YAML and CSV, errors, and scoring hand-made cases.

The studies below are hand-made (not real trials); their expected verdicts follow from the rule
files' thresholds by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _scoring_helpers import builtin_book

from dossier.scoring.engine import score_cohorts
from dossier.scoring.readiness import BELOW_SCREEN, MEETS_SCREEN, readiness
from dossier.scoring.summary import SummaryFileError, read_summary

STUDIES = """\
studies:
  - id: single-arm-durable
    title: hand-made single-arm study, durable responses
    source: https://example.org/single-arm
    metrics:
      n_evaluable: 30
      cb_n: 12
      cb_durable_n: 9
      orr: 0.34
      dor_median_months: NR
      dor_followup_months: 14.0
      pfs_median_months: 6.3
      g34_tox_wellbeing_rate: 0.12
  - id: single-arm-brief
    metrics:
      n_evaluable: 24
      cb_n: 6
      cb_durable_n: 3
      orr: 0.125
      dor_median_months: 4.0
      pfs_median_months: 3.2
      g34_tox_wellbeing_rate: 0.05
  - id: rct-os
    metrics:
      control_os_median_months: 9.0
      os_median_months: 13.5
      hr_os: 0.65
      hr_os_lower95: 0.52
      ema_approved: yes
"""


@pytest.fixture()
def studies(tmp_path: Path) -> Path:
    path = tmp_path / "studies.yaml"
    path.write_text(STUDIES, encoding="utf-8")
    return path


def test_a_yaml_summary_reads_into_checked_entries(studies: Path):
    entries = read_summary(studies)
    assert [e.id for e in entries] == ["single-arm-durable", "single-arm-brief", "rct-os"]
    first = entries[0]
    assert first.metrics["dor_median_months"] == "NR"
    assert first.metrics["cb_n"] == 12 and isinstance(first.metrics["cb_n"], int)
    assert first.source == "https://example.org/single-arm"
    assert entries[2].metrics["ema_approved"] is True


def test_hand_made_published_studies_score_as_worked_out_by_hand(studies: Path):
    entries = read_summary(studies, builtin_book().metric_specs())
    verdicts = score_cohorts(builtin_book(), {e.id: e.metrics for e in entries})
    got = {(v.cohort_id, v.criteria_id): (v.verdict, v.grade) for v in verdicts}
    # 12 of 30 with benefit; 9 with benefit beyond 24 weeks and PFS 6.3 >= 6
    assert got["single-arm-durable", "drup-two-stage"] == ("met", None)
    assert got["single-arm-durable", "dossier-durability-screen"] == ("met", None)
    # PFS 6.3 >= 6 -> grade 3 (also ORR 34% with DoR not reached beyond 9 months of follow-up)
    assert got["single-arm-durable", "esmo-mcbs-v1.1-form3"] == ("met", 3)
    # ORR 12.5% with DoR 4 earns nothing; PFS 3.2 in [3, 6) -> grade 2
    assert got["single-arm-brief", "esmo-mcbs-v1.1-form3"] == ("not met", 2)
    assert got["single-arm-brief", "dossier-durability-screen"] == ("not met", None)
    # gain 13.5 - 9 = 4.5 months > 12 weeks with HR 0.65 < 0.70; HRL 0.52 <= 0.65 and gain >= 3
    assert got["rct-os", "paskwil-2024"] == ("met", None)
    assert got["rct-os", "paskwil-2016"] == ("met", None)
    assert got["rct-os", "esmo-mcbs-v1.1-form2a"] == ("met", 4)
    assert got["rct-os", "esmo-mcbs-v1.1-form3"][0] == "not applicable"
    assert got["rct-os", "drup-two-stage"][0] == "not assessable"
    flags = {r.cohort_id: r.flag for r in readiness(verdicts)}
    assert flags["single-arm-durable"] == MEETS_SCREEN
    assert flags["single-arm-brief"] == BELOW_SCREEN


WIDE_CSV = """\
id,title,orr,dor_median_months,dor_followup_months,pfs_median_months,n_evaluable,cb_n
a,Study A,0.34,NR,14,6.3,30,12
b,,0.125,4,,3.2,24,6
"""

LONG_CSV = """\
id,metric,value
a,orr,0.34
a,dor_median_months,NR
a,dor_followup_months,14
a,pfs_median_months,6.3
a,n_evaluable,30
a,cb_n,12
b,orr,0.125
b,dor_median_months,4
b,pfs_median_months,3.2
b,n_evaluable,24
b,cb_n,6
"""


def test_wide_and_long_csv_summaries_give_the_same_metrics(tmp_path: Path):
    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    wide.write_text(WIDE_CSV, encoding="utf-8")
    long.write_text(LONG_CSV, encoding="utf-8")
    from_wide = {e.id: e.metrics for e in read_summary(wide)}
    from_long = {e.id: e.metrics for e in read_summary(long)}
    assert from_wide == from_long
    assert from_wide["a"]["dor_median_months"] == "NR"
    assert "dor_followup_months" not in from_wide["b"]
    assert read_summary(wide)[0].title == "Study A"


@pytest.mark.parametrize(("name", "text", "line", "message"), [
    ("s.yaml", "- id: x\n  metrics:\n    orr: 45\n", 3,
     "entry 'x': orr must be a fraction from 0 to 1, not 45; write 0.45 for 45%"),
    ("s.yaml", "- id: x\n  metrics:\n    pfs_median: 4\n", 3,
     "entry 'x': unknown metric 'pfs_median' (did you mean 'pfs_median_months'?)"),
    ("s.yaml", "- id: x\n  metrics:\n    orr: NR\n", 3,
     "entry 'x': orr must be a number, not 'NR'"),
    ("s.yaml", "- id: x\n  metrics: {orr: 0.1}\n- id: x\n  metrics: {orr: 0.2}\n", 3,
     "id 'x' is used twice (first on line 1)"),
    ("s.yaml", "- id: x\n  orr: 0.1\n", 2, "unknown key 'orr' in an entry (put metrics under "
                                            "'metrics:')"),
    ("s.yaml", "- id: x\n", 1, "entry 'x' needs a metrics mapping"),
    ("s.yaml", "- metrics: {orr: 0.1}\n", 1, "each entry needs an id"),
    ("s.yaml", "studies:\n  - id: x\n    metrics: {cb_n: 2.5}\n", 3,
     "entry 'x': cb_n must be a whole number >= 0, not 2.5"),
    ("s.csv", "id,orr,pfs\nx,0.1,3\n", 1, "unknown column 'pfs'"),
    ("s.csv", "id,orr\nx,0.1\ny,high\n", 3, "entry 'y', column orr must be a number"),
    ("s.csv", "name,orr\nx,0.1\n", 1, "the header needs an 'id' column"),
    ("s.yaml", "- id: x\n  metrics:\n    cb_n_first8: 1\n", 3,
     "entry 'x': metric 'cb_n_first8' is now called 'cb_n_stage1'"),
    ("s.csv", "id,n_evaluable_first24\nx,24\n", 1,
     "column 'n_evaluable_first24' is now called 'n_evaluable_stage2'"),
])
def test_a_bad_summary_file_names_the_file_the_line_and_the_problem(tmp_path: Path, name, text,
                                                                    line, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SummaryFileError) as caught:
        read_summary(path)
    assert f"{path}, line {line}: {message}" in str(caught.value), str(caught.value)


def test_a_summary_must_be_yaml_or_csv(tmp_path: Path):
    path = tmp_path / "studies.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(SummaryFileError, match=r"must be \.yaml, \.yml or \.csv"):
        read_summary(path)


def test_inputs_declared_by_a_rule_file_are_accepted_only_with_the_rule_books_names(
        tmp_path: Path):
    path = tmp_path / "rct.yaml"
    path.write_text("- id: x\n  metrics: {g34_tox_reduced: yes, control_os_median_months: 9}\n",
                    encoding="utf-8")
    with pytest.raises(SummaryFileError, match="unknown metric 'g34_tox_reduced'"):
        read_summary(path)
    entry = read_summary(path, builtin_book().metric_specs())[0]
    assert entry.metrics["g34_tox_reduced"] is True
