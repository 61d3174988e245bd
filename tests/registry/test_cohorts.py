"""Cohort metadata: YAML or a table, checked key by key, joined onto the patient file's cohorts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _factories import clean_patients, found, report_of, write

from dossier.registry.cohorts import read_cohort_metadata
from dossier.registry.load import RegistryError, load_registry
from dossier.registry.readers import ReadError

LIST_YAML = """\
# cohort metadata
- cohort_id: C1
  title: Nivolumab in MSI-high colorectal cancer
  escat_tier: I-A
  ema_status: approved
  qol_improved: yes
  g34_tox_wellbeing_rate: 0.12
  hr_os: 0.7
  hr_os_lower95: 0.5
  hr_os_upper95: 0.9
"""


def _patients(tmp_path: Path) -> Path:
    frame = clean_patients()
    frame.loc[8:, "cohort_id"] = "C2"
    frame = pd.concat([frame, clean_patients().assign(
        patient_id=lambda f: "Q" + f["patient_id"], cohort_id="C2")], ignore_index=True)
    return write(frame, tmp_path / "registry", "csv")


def test_yaml_list_is_joined_onto_the_cohorts_with_defaults(tmp_path: Path) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text(LIST_YAML, encoding="utf-8")
    registry = load_registry(_patients(tmp_path), meta)
    assert registry.report.issues == ()
    c = registry.cohorts.set_index("cohort_id")
    assert list(c.index) == ["C1", "C2"]
    assert c.loc["C1", "title"] == "Nivolumab in MSI-high colorectal cancer"
    assert c.loc["C2", "title"] == "C2"
    assert list(c["setting"]) == ["palliative", "palliative"]
    assert bool(c.loc["C1", "qol_improved"]) is True and pd.isna(c.loc["C2", "qol_improved"])
    assert c.loc["C1", "g34_tox_wellbeing_rate"] == 0.12
    assert c.loc["C1", "row"] == 2 and pd.isna(c.loc["C2", "row"])
    assert list(c["n_treated"]) == [8, 12]
    assert c.loc["C1", "drug"] == "nivolumab"


def test_yaml_cohorts_mapping_and_keyed_forms_give_the_same_entries(tmp_path: Path) -> None:
    nested = tmp_path / "nested.yaml"
    nested.write_text("cohorts:\n" + "".join(f"  {line}\n" for line in
                                             LIST_YAML.splitlines()[1:]), encoding="utf-8")
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text("C1:\n  title: Nivolumab in MSI-high colorectal cancer\n"
                     "  escat_tier: I-A\nC2:\n  ema_status: conditional\n", encoding="utf-8")
    a = read_cohort_metadata(nested).frame
    b = read_cohort_metadata(keyed).frame
    assert list(a.index) == [2] and a.loc[2, "escat_tier"] == "I-A"
    assert list(b.index) == [1, 4] and list(b["cohort_id"]) == ["C1", "C2"]
    assert b.loc[4, "ema_status"] == "conditional"


def test_unknown_key_is_an_error_naming_it_at_its_line(tmp_path: Path) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text(LIST_YAML + "- cohort_id: C2\n  ema_statu: approved\n", encoding="utf-8")
    report = report_of(_patients(tmp_path), meta)
    assert found(report) == {("error", "unknown_key", 11, "ema_statu")}
    assert "did you mean 'ema_status'?" in report.errors[0].message
    assert report.errors[0].file == "cohorts.yaml"


def test_cohort_missing_from_patient_file_is_a_warning(tmp_path: Path) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text(LIST_YAML + "- cohort_id: C3\n", encoding="utf-8")
    registry = load_registry(_patients(tmp_path), meta)
    assert found(registry.report) == {("warning", "unknown_cohort", 11, "cohort_id")}
    assert list(registry.cohorts["cohort_id"]) == ["C1", "C2"]


@pytest.mark.parametrize(("line", "rule", "column"), [
    ("  escat_tier: I-Z", "value_not_allowed", "escat_tier"),
    ("  g34_tox_wellbeing_rate: 1.5", "out_of_range", "g34_tox_wellbeing_rate"),
    ("  qol_improved: maybe", "invalid_boolean", "qol_improved"),
    ("  control_os_median_months: -2", "out_of_range", "control_os_median_months"),
])
def test_bad_metadata_values_are_errors_at_their_entry(tmp_path: Path, line: str, rule: str,
                                                       column: str) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text(LIST_YAML + "- cohort_id: C2\n" + line + "\n", encoding="utf-8")
    report = report_of(_patients(tmp_path), meta)
    entry_line = LIST_YAML.count("\n") + 1
    assert found(report) == {("error", rule, entry_line, column)}


def test_hazard_ratio_outside_its_interval_is_reported_at_the_entry(tmp_path: Path) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text(LIST_YAML.replace("hr_os: 0.7", "hr_os: 0.4"), encoding="utf-8")
    report = report_of(_patients(tmp_path), meta)
    assert found(report) == {("error", "hazard_ratio_outside_ci", 2, "hr_os")}


def test_csv_metadata_uses_spreadsheet_rows_and_rejects_unknown_columns(tmp_path: Path) -> None:
    meta = tmp_path / "cohorts.csv"
    meta.write_text("Cohort_ID,ESCAT tier,setting,colour\nC1,I-A,palliative,red\n"
                    "C2,II-B,adjuvant,blue\nC1,I-A,curative,\n", encoding="utf-8")
    report = report_of(_patients(tmp_path), meta)
    assert found(report) == {
        ("error", "unknown_key", None, "colour"),
        ("error", "value_not_allowed", 3, "setting"),
        ("error", "duplicate_cohort_id", 4, "cohort_id"),
    }
    assert "known keys: cohort_id, title" in next(
        i for i in report.errors if i.rule == "unknown_key").message


def test_metadata_beside_the_patient_file_is_found_and_named(tmp_path: Path) -> None:
    patients = _patients(tmp_path)
    patients.with_name("registry.cohorts.yaml").write_text(LIST_YAML, encoding="utf-8")
    registry = load_registry(patients)
    assert [s.name for s in registry.report.sources] == ["registry.csv", "registry.cohorts.yaml"]
    assert registry.report.legend()[1] == ("registry.cohorts.yaml (cohorts): row = line in the "
                                           "file where the entry starts")
    assert registry.cohorts.set_index("cohort_id").loc["C1", "escat_tier"] == "I-A"


def test_unreadable_metadata_is_listed_with_the_patient_errors(tmp_path: Path) -> None:
    frame = clean_patients()
    frame.loc[0, "stage"] = "4"
    meta = tmp_path / "cohorts.yaml"
    meta.write_text("- cohort_id: C1\n  title: [unclosed\n", encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        load_registry(write(frame, tmp_path / "registry", "csv"), meta)
    assert {(i.rule, i.file, i.row) for i in caught.value.report.errors} == {
        ("invalid_stage", "registry.csv", 2), ("unreadable_file", "cohorts.yaml", None)}


@pytest.mark.parametrize(("text", "phrase"), [
    ("just a sentence\n", "expected a list of cohorts"),
    ("- cohort_id: C1\n- 42\n", "line 2: each cohort must be a mapping"),
    ("C1:\n  cohort_id: C9\n", "entry 'C1' has cohort_id 'C9'"),
])
def test_yaml_of_the_wrong_shape_is_refused_with_the_reason(tmp_path: Path, text: str,
                                                            phrase: str) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text(text, encoding="utf-8")
    with pytest.raises(ReadError, match=phrase):
        read_cohort_metadata(meta)


def test_metadata_without_cohort_id_is_an_error(tmp_path: Path) -> None:
    meta = tmp_path / "cohorts.yaml"
    meta.write_text("- title: a cohort without id\n", encoding="utf-8")
    assert found(report_of(_patients(tmp_path), meta)) == {
        ("error", "missing_required_column", None, "cohort_id")}
