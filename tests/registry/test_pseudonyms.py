"""The registry the renderers see: codes (or nothing) in place of ids, in the patients and in the
validation report's issues, and a key file that round-trips exactly."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dossier.errors import ConfigurationError
from dossier.registry.load import registry_from_frames
from dossier.registry.pseudonyms import (
    key_csv,
    patient_codes,
    read_key,
    shown_registry,
    write_key,
)
from dossier.registry.validate import Issue
from tests.registry._factories import clean_patients


@pytest.fixture
def registry():
    patients = clean_patients(12)
    patients["patient_id"] = [f"H{n}" for n in (7, 3, 11, 1, 10, 2, 5, 12, 4, 9, 6, 8)]
    patients.loc[1, "treatment_start"] = patients.loc[0, "treatment_start"]  # a tie: id decides
    registry = registry_from_frames(patients, name="h.csv")
    issue = Issue("warning", "custom", "patient H1 looks odd; H10 and row 1 do not", "h.csv",
                  row=5, column="patient_id", value="H1", patient_id="H1")
    return replace(registry, report=replace(registry.report, issues=(issue,)))


def test_codes_are_numbered_by_cohort_then_start_then_id(registry) -> None:
    codes = patient_codes(registry.patients)
    assert codes["H3"] == "P0001" and codes["H7"] == "P0002"  # same start: "H3" < "H7"
    assert sorted(codes.values()) == [f"P{n:04d}" for n in range(1, 13)]


def test_pseudonymised_registry_names_each_patient_by_code_only(registry) -> None:
    codes = patient_codes(registry.patients)
    shown = shown_registry(registry, "pseudonymise")
    assert shown.patients["patient_id"].tolist() == [codes[p] for p in
                                                     registry.patients["patient_id"]]
    issue = shown.report.issues[0]
    assert issue.patient_id == issue.value == codes["H1"]
    assert issue.message == f"patient {codes['H1']} looks odd; H10 and row 1 do not"
    assert registry.patients["patient_id"].iloc[0] == "H7"  # the registry itself is untouched


def test_omitted_ids_are_blank_and_keep_is_the_registry_itself(registry) -> None:
    omitted = shown_registry(registry, "omit")
    assert set(omitted.patients["patient_id"]) == {""}
    assert omitted.report.issues[0].patient_id is None
    assert "H1 " not in omitted.report.issues[0].message
    assert shown_registry(registry, "keep") is registry
    with pytest.raises(ConfigurationError, match="pseudonymise, keep, omit"):
        shown_registry(registry, "hide")


def test_the_key_round_trips_awkward_ids_exactly(tmp_path) -> None:
    codes = {'=HYPERLINK("x")': "P0001", "a,b": "P0002", 'quote"d': "P0003", " space ": "P0004"}
    key = write_key(tmp_path / "key.csv", codes)
    assert read_key(key) == {code: pid for pid, code in codes.items()}
    assert key.read_text(encoding="utf-8") == key_csv(codes)
    assert (key.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.csv"]
