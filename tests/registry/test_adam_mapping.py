"""The ADaM mapping file and mapping rules: defaults, constants, evaluable rules, adverse-event
grades, OS from ADSL dates, dataset discovery, and how commands get an ADaM registry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _adam_factories import MAPPING, csv_row, found, report_of, study, write_study
from typer.testing import CliRunner

from dossier.cli import app
from dossier.config import Settings
from dossier.registry.adam import OptionsError, load_adam, registry_from_options
from dossier.registry.adam_mapping import MappingError, read_mapping
from dossier.registry.load import load_demo
from dossier.registry.validate import ValidationReport


def _load(tmp_path: Path, frames: dict[str, pd.DataFrame] | None = None,
          mapping: str | None = MAPPING):
    path = write_study(study() if frames is None else frames, tmp_path / "study", "csv",
                       mapping)
    return load_adam(tmp_path / "study", path)


def _patients(registry) -> pd.DataFrame:
    return registry.patients.set_index("patient_id")


# --------------------------------------------------------------------------- the mapping file


def test_unknown_key_is_an_error_naming_its_line(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("adtte:\n  pfs: PFS\n  censor_code: positive\ncolumn:\n  drug: ARM\n")
    with pytest.raises(MappingError) as caught:
        read_mapping(path)
    issues = {(i.rule, i.row, i.column) for i in caught.value.issues}
    assert issues == {("unknown_key", 3, "adtte.censor_code"), ("unknown_key", 4, "column")}
    assert "did you mean 'censor_codes'?" in str(caught.value)


@pytest.mark.parametrize(("text", "fragment"), [
    ("adrs:\n  evaluable: everyone\n", "expected assessed, treated or {flag: VARIABLE}"),
    ("adrs:\n  confirmation_days: -1\n", "expected a number >= 0"),
    ("columns:\n  drug: {value: [1, 2]}\n", "a constant must be a single value"),
    ("adtte:\n  unit: fortnights\n", "must be one of days, weeks, months, years"),
    ("adsl:\n  subject: 'USUBJID X'\n", "expected an ADaM variable or parameter name"),
])
def test_invalid_values_are_errors_saying_what_is_expected(tmp_path, text, fragment):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=fragment.replace("[", r"\[").replace("{", r"\{")):
        read_mapping(path)


def test_mapping_errors_stop_load_adam_with_a_report(tmp_path):
    path = write_study(study(), tmp_path / "study", "csv", "adrs:\n  sorce: visits\n")
    report = report_of(tmp_path / "study", path)
    assert found(report) == {("error", "unknown_key", "study-mapping.yaml", 2, "adrs.sorce")}


def test_without_a_mapping_cdisc_defaults_apply_and_unmapped_keys_are_warned(tmp_path):
    registry = _load(tmp_path, mapping=None)
    s01 = _patients(registry).loc["S01"]
    assert (s01["drug"], s01["tumour_type"], s01["alteration"]) == (
        "Drug A", "not specified", "not specified")  # drug from TRT01A
    assert (s01["rare_cancer"], s01["stage"]) == (False, "1")
    warned = {i.column for i in registry.report.warnings if i.rule == "column_not_mapped"}
    assert warned == {"tumour_type", "alteration"}
    drug = next(d for d in registry.report.decisions if d.text.startswith("drug ="))
    assert drug.text == "drug = ADSL TRT01A (built-in default)"


def test_column_sources_may_be_variables_or_constants(tmp_path):
    registry = _load(tmp_path, mapping=(
        "columns:\n  drug: {variable: ARMCD}\n  tumour_type: {value: melanoma}\n"
        "  alteration: {value: 'BRAF V600E'}\n  rare_cancer: {value: true}\n"
        "  stage: {value: expansion}\n  cohort_id: STUDYID\n"))
    s06 = _patients(registry).loc["S06"]
    assert (s06["drug"], s06["rare_cancer"], s06["stage"], s06["cohort_id"]) == (
        "B", True, "expansion", "X1")


def test_mapped_variable_missing_from_adsl_is_one_error(tmp_path):
    path = write_study(study(), tmp_path / "study", "csv",
                       MAPPING.replace("TUMTYPE", "TUMOUR"))
    report = report_of(tmp_path / "study", path)
    assert found(report) & {i for i in found(report) if i[0] == "error"} == {
        ("error", "missing_required_column", "adsl.csv", None, "TUMOUR")}


# --------------------------------------------------------------------------- population


def test_population_flag_limits_the_patients(tmp_path):
    frames = study()
    frames["adsl"]["SAFFL"] = ["Y"] * 9 + ["N"] + [None, None]
    registry = _load(tmp_path, frames, MAPPING + "adsl:\n  population_flag: SAFFL\n")
    assert list(_patients(registry).index) == [f"S{i:02d}" for i in range(1, 10)]
    population = next(d for d in registry.report.decisions if d.topic == "population")
    assert "9 of 12 ADSL subjects are treated (TRTSDT given and SAFFL = Y)" in population.text


def test_records_of_screen_failures_are_ignored_and_counted(tmp_path):
    registry = _load(tmp_path)
    ignored = [d.text for d in registry.report.decisions if "records of" in d.text]
    assert ignored == ["2 ADRS records of subjects who are not treated (not in the registry) "
                       "are ignored"]


# --------------------------------------------------------------------------- response


def test_evaluable_rule_treated_makes_missing_ne(tmp_path):
    patients = _patients(_load(tmp_path, mapping=MAPPING + "adrs:\n  evaluable: treated\n"))
    assert bool(patients.loc["S07", "response_evaluable"])
    assert patients.loc["S07", "best_response"] == "NE"


def test_evaluable_rule_flag_follows_adsl(tmp_path):
    frames = study()
    frames["adsl"]["EVALFL"] = ["Y", "N"] * 5 + [None, None]
    patients = _patients(_load(tmp_path, frames,
                               MAPPING + "adrs:\n  evaluable: {flag: EVALFL}\n"))
    assert patients["response_evaluable"].tolist() == [True, False] * 5
    assert patients.loc["S07", "best_response"] == "NE"  # evaluable, never assessed


def test_no_adrs_means_no_evaluable_patient_and_a_warning(tmp_path):
    frames = study()
    del frames["adrs"]
    registry = _load(tmp_path, frames)
    assert not registry.patients["response_evaluable"].any()
    assert "no_adrs" in {i.rule for i in registry.report.warnings}


def test_reference_date_for_visits_must_exist_in_adsl(tmp_path):
    frames = study()
    frames["adrs"] = frames["adrs"][frames["adrs"]["PARAMCD"] == "OVR"]
    path = write_study(frames, tmp_path / "study", "csv",
                       MAPPING + "adrs:\n  reference_date: RANDDT\n")
    assert {i for i in found(report_of(tmp_path / "study", path)) if i[0] == "error"} == {
        ("error", "missing_required_column", "adsl.csv", None, "RANDDT")}
    frames["adsl"]["RANDDT"] = frames["adsl"]["TRTSDT"]
    path = write_study(frames, tmp_path / "study", "csv",
                       MAPPING + "adrs:\n  reference_date: RANDDT\n")
    assert _patients(load_adam(tmp_path / "study", path)).loc["S05", "best_response"] == "PR"


def test_response_dates_can_be_left_unmapped(tmp_path):
    registry = _load(tmp_path, mapping=MAPPING + "adrs:\n  response_date: none\n")
    assert registry.patients["response_days"].isna().all()
    assert "missing_response_date" not in {i.rule for i in registry.report.issues}
    assert any("duration of response is not computed" in d.text
               for d in registry.report.decisions)


# --------------------------------------------------------------------------- adverse events


def test_no_ctcae_grade_leaves_the_grade_blank_and_says_so(tmp_path):
    frames = study()
    frames["adae"] = frames["adae"].drop(columns="ATOXGRN").assign(AESEV="SEVERE")
    registry = _load(tmp_path, frames)
    assert registry.patients["worst_ae_grade"].isna().all()
    warning = next(i for i in registry.report.warnings if i.rule == "no_ae_grade")
    assert warning.file == "adae.csv"
    assert "no CTCAE grade variable (ATOXGRN, ATOXGR, AETOXGR)" in warning.message
    assert "not derived from severity" in warning.message


def test_text_grades_are_read_and_bad_ones_are_errors(tmp_path):
    frames = study()
    frames["adae"] = frames["adae"].drop(columns="ATOXGRN").assign(
        AETOXGR=["Grade 4", "1", "2", None, "3", None])
    assert _patients(_load(tmp_path / "ok", frames)).loc["S01", "worst_ae_grade"] == 4
    frames["adae"].loc[2, "AETOXGR"] = "Grade 7"
    frames["adae"].loc[4, "AREL"] = "MAYBE"
    issues = {i for i in found(report_of(tmp_path / "ok" / "study",
                                         write_study(frames, tmp_path / "ok" / "study")))
              if i[0] == "error"}
    assert issues == {("error", "invalid_grade", "adae.csv", csv_row(2), "AETOXGR"),
                      ("error", "unknown_causality", "adae.csv", csv_row(4), "AREL")}


def test_without_treatment_emergent_flag_every_event_counts(tmp_path):
    frames = study()
    frames["adae"] = frames["adae"].drop(columns="TRTEMFL")
    registry = _load(tmp_path, frames)
    assert _patients(registry).loc["S02", "worst_ae_grade"] == 5  # the non-TE grade 5 counts
    ae = next(d for d in registry.report.decisions if d.topic == "adverse events")
    assert "all (no treatment-emergent flag in ADAE)" in ae.text


def test_subject_in_adae_absent_from_adsl_is_an_error(tmp_path):
    frames = study()
    frames["adae"].loc[len(frames["adae"])] = ["S77", "X", "Y", "RELATED", 1]
    issues = found(report_of(tmp_path / "study", write_study(frames, tmp_path / "study")))
    assert ("error", "subject_not_in_adsl", "adae.csv", csv_row(6), "USUBJID") in issues


# --------------------------------------------------------------------------- OS from ADSL


def test_os_from_adsl_dates_when_adtte_has_no_os(tmp_path):
    frames = study()
    frames["adtte"] = frames["adtte"][frames["adtte"]["PARAMCD"] == "PFS"]
    registry = _load(tmp_path, frames)
    patients = _patients(registry)
    assert patients.loc["S03", ["os_days", "os_event"]].tolist() == [300.0, 1]  # DTHDT
    assert patients.loc["S01", ["os_days", "os_event"]].tolist() == [400.0, 0]  # LSTALVDT
    assert any(d.topic == "OS" and "ADSL DTHDT (event) or LSTALVDT" in d.text
               for d in registry.report.decisions)


def test_os_event_and_adsl_death_date_disagreeing_is_a_warning(tmp_path):
    frames = study()
    frames["adsl"].loc[0, "DTHDT"] = "2022-01-01"  # S01 is censored in ADTTE
    report = report_of(tmp_path / "study", write_study(frames, tmp_path / "study"))
    adtte = frames["adtte"]
    row = csv_row(int(adtte.index[(adtte["USUBJID"] == "S01") & (adtte["PARAMCD"] == "OS")][0]))
    assert ("warning", "death_mismatch", "adtte.csv", row, "CNSR") in found(report)


# --------------------------------------------------------------------------- datasets


def test_two_candidate_files_are_an_error_until_the_mapping_names_one(tmp_path):
    folder = tmp_path / "study"
    write_study(study(), folder, "csv")
    (folder / "adsl_old.csv").write_text((folder / "adsl.csv").read_text())
    report = report_of(folder)
    assert {(i.rule, i.file) for i in report.errors} == {("ambiguous_dataset", "study")}
    assert "adsl.csv, adsl_old.csv" in report.errors[0].message
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING + "files:\n  adsl: adsl.csv\n")
    assert len(load_adam(folder, mapping).patients) == 10


def test_missing_adsl_and_missing_folder_are_errors(tmp_path):
    folder = tmp_path / "study"
    write_study(study(), folder, "csv")
    (folder / "adsl.csv").unlink()
    assert {i.rule for i in report_of(folder).errors} == {"missing_dataset"}
    assert {i.rule for i in report_of(tmp_path / "nowhere").errors} == {"file_not_found"}


def test_dataset_names_with_suffixes_and_prefixes_are_found(tmp_path):
    folder = tmp_path / "study"
    mapping = write_study(study(), folder, "csv")
    (folder / "adtte.csv").rename(folder / "adtte_onco.csv")
    (folder / "adsl.csv").rename(folder / "cadsl.csv")
    registry = load_adam(folder, mapping)
    assert [s.name for s in registry.report.sources][:2] == ["cadsl.csv", "adtte_onco.csv"]


# --------------------------------------------------------------------------- report, commands


def test_report_json_lists_decisions_only_for_adam(tmp_path):
    report = _load(tmp_path).report
    assert report.decisions_table().row_count == len(report.decisions)
    data = json.loads(json.dumps(report.to_dict()))
    topics = {d["topic"] for d in data["decisions"]}
    assert {"population", "columns", "PFS", "OS", "response", "adverse events"} <= topics
    assert "decisions" not in load_demo().report.to_dict()
    assert ValidationReport().decisions == ()


def test_registry_from_options_picks_adam_file_or_demo(tmp_path):
    folder, settings = tmp_path / "study", Settings()
    mapping = write_study(study(), folder, "csv")
    assert len(registry_from_options(None, None, folder, mapping, settings).patients) == 10
    assert registry_from_options(None, None, None, None, settings).source.name == (
        load_demo().source.name)
    with pytest.raises(OptionsError, match="not both"):
        registry_from_options(folder / "adsl.csv", None, folder, None, settings)
    with pytest.raises(OptionsError, match="--adam-map needs --adam"):
        registry_from_options(None, None, None, mapping, settings)


def test_adam_options_on_a_command(tmp_path):
    folder = tmp_path / "study"
    mapping = write_study(study(), folder, "csv")
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", "--adam", str(folder), "--adam-map", str(mapping),
                             "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["n_patients"] == 10
    bad = study()
    bad["adtte"].loc[0, "CNSR"] = 3
    write_study(bad, folder, "csv")
    failed = runner.invoke(app, ["validate", "--adam", str(folder), "--adam-map", str(mapping),
                                 "--format", "json"])
    assert failed.exit_code == 1
    assert json.loads(failed.output)["issues"][0]["rule"] == "invalid_censor_code"
    both = runner.invoke(app, ["validate", str(folder / "adsl.csv"), "--adam", str(folder)])
    assert both.exit_code == 2
    assert "not both" in both.output
