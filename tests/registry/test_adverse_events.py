"""The adverse-event file: cell errors with file/row/column, unknown patients, the sidecar, the
demo's events, and the organ class / term x grade counts against hand counts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _factories import FORMATS, clean_patients, row_of, write

from dossier.config import Settings
from dossier.endpoints.adverse_events import event_lines, group_events, term_rows
from dossier.registry.adam import registry_from_options
from dossier.registry.adverse_events import with_adverse_events
from dossier.registry.demo import DEMO_SEED, demo_registry, write_demo
from dossier.registry.demo_adverse_events import demo_adverse_events
from dossier.registry.load import RegistryError, load_registry


def events(rows: list[tuple[str, str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "soc", "pt", "grade", "serious",
                                       "onset_date"], dtype=object)


EVENTS = events([
    ("P01", "Gastrointestinal disorders", "Diarrhoea", "1", "0", "2020-01-10"),
    ("P01", "Gastrointestinal disorders", "Diarrhoea", "3", "1", "2020-02-10"),
    ("P01", "Gastrointestinal disorders", "Nausea", "2", "0", "2020-01-12"),
    ("P02", "Gastrointestinal disorders", "Diarrhoea", "2", "0", "2020-01-20"),
    ("P03", "Investigations", "Alanine aminotransferase increased", "4", "1", "2020-02-01"),
])


@pytest.fixture
def registry(tmp_path: Path):
    return load_registry(write(clean_patients(), tmp_path / "r", "csv"))


def test_counts_by_organ_class_and_term_equal_hand_counts(registry, tmp_path: Path) -> None:
    path = write(EVENTS, tmp_path / "ae", "csv")
    loaded = with_adverse_events(registry, path)
    ev = loaded.adverse_events
    rows = {(r["soc"], r["pt"]): r for r in term_rows(ev)}
    gi = rows[("Gastrointestinal disorders", "")]
    # P01 worst 3 in the class, P02 worst 2: two patients, one at 1-2 and one at 3
    assert (gi["any"], gi["1-2"], gi["3"], gi["4"]) == (2, 1, 1, 0)
    diarrhoea = rows[("Gastrointestinal disorders", "Diarrhoea")]
    assert (diarrhoea["any"], diarrhoea["1-2"], diarrhoea["3"]) == (2, 1, 1)
    assert rows[("Gastrointestinal disorders", "Nausea")]["any"] == 1
    assert [r["soc"] for r in term_rows(ev) if r["kind"] == "soc"] == [
        "Gastrointestinal disorders", "Investigations"]
    lines = {x.characteristic: x for x in event_lines(ev, ev, 10)}
    assert (lines["Any adverse event"].n, lines["Serious adverse events"].n) == (3, 2)
    assert lines["Discontinuations due to adverse events"].status == "not collected"
    first_two = group_events(ev, [0, 1])
    assert sorted(first_two["patient"].unique()) == [0, 1]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("column", "value", "rule"), [
    ("grade", "6", "out_of_range"),
    ("grade", "severe", "invalid_number"),
    ("serious", "maybe", "invalid_boolean"),
    ("onset_date", "10/02/2020", "invalid_date"),
    ("patient_id", "P99", "unknown_patient"),
])
def test_bad_cells_are_errors_with_file_row_and_column(registry, tmp_path: Path, fmt: str,
                                                       column: str, value: str,
                                                       rule: str) -> None:
    bad = EVENTS.copy()
    bad.loc[3, column] = value
    path = write(bad, tmp_path / "ae", fmt)
    with pytest.raises(RegistryError) as caught:
        with_adverse_events(registry, path)
    [error] = caught.value.report.errors
    assert (error.file, error.row, error.column, error.rule) == (f"ae.{fmt}", row_of(3, fmt),
                                                                 column, rule)


def test_missing_required_column_and_unreadable_file_are_errors(registry, tmp_path) -> None:
    path = write(EVENTS.drop(columns=["pt"]), tmp_path / "ae", "csv")
    with pytest.raises(RegistryError) as caught:
        with_adverse_events(registry, path)
    assert [e.column for e in caught.value.report.errors] == ["pt"]
    with pytest.raises(RegistryError) as missing:
        with_adverse_events(registry, tmp_path / "absent.csv")
    assert "absent.csv" in str(missing.value)


def test_onset_before_treatment_is_a_warning_in_the_registry_report(registry, tmp_path):
    early = EVENTS.copy()
    early.loc[0, "onset_date"] = "2019-12-01"  # P01 starts 2020-01-01
    loaded = with_adverse_events(registry, write(early, tmp_path / "ae", "csv"))
    [warning] = [w for w in loaded.report.warnings if w.rule == "event_before_treatment"]
    assert (warning.file, warning.row, warning.column) == ("ae.csv", 2, "onset_date")


def test_sidecar_and_settings_find_the_events(tmp_path: Path) -> None:
    data = write(clean_patients(), tmp_path / "reg", "csv")
    EVENTS.to_csv(tmp_path / "reg.adverse_events.csv", index=False)
    registry = registry_from_options(data, None, None, None, Settings())
    assert len(registry.adverse_events) == len(EVENTS)
    other = write(EVENTS.iloc[:2], tmp_path / "two", "csv")
    chosen = registry_from_options(data, None, None, None, Settings(adverse_events=other))
    assert len(chosen.adverse_events) == 2


def test_demo_events_match_each_patients_worst_related_grade(tmp_path: Path) -> None:
    patients, _ = demo_registry(n_patients=200)
    ev = demo_adverse_events(patients, DEMO_SEED)
    related = ev[ev["related"] == 1].groupby("patient_id")["grade"].max()
    worst = patients.set_index("patient_id")["worst_ae_grade"]
    assert (related == worst.loc[related.index]).all()
    assert set(worst[worst >= 1].index) == set(related.index)
    assert (ev.loc[ev["grade"] == 5, "serious"] == 1).all()
    path, _ = write_demo(tmp_path / "demo.csv", n_patients=200)
    registry = registry_from_options(path, None, None, None, Settings())
    assert len(registry.adverse_events) == len(ev)
    bundled = registry_from_options(None, None, None, None, Settings())
    assert bundled.adverse_events is not None and len(bundled.adverse_events) > 1000


PHARMAVERSE = Path(__file__).parents[1] / "reference" / "data" / "pharmaverseadam"


def test_adae_records_become_events_at_their_adae_rows(tmp_path: Path) -> None:
    folder = tmp_path / "adam"
    folder.mkdir()
    for name in ("adsl.csv", "adtte_onco.csv", "adrs_onco.csv"):
        (folder / name).write_bytes((PHARMAVERSE / name).read_bytes())
    adsl = pd.read_csv(folder / "adsl.csv", dtype=str)
    treated = adsl[adsl["TRTSDT"].notna()].iloc[:3]
    ids, starts = list(treated["USUBJID"]), list(treated["TRTSDT"])
    adae = pd.DataFrame({
        "USUBJID": [ids[0], ids[0], ids[1], ids[2], ids[2]],
        "AESOC": ["Gastrointestinal disorders"] * 3 + ["Investigations"] * 2,
        "AEDECOD": ["Diarrhoea", "Diarrhoea", "Nausea", "Blood creatinine increased",
                    "Blood creatinine increased"],
        "ATOXGR": ["1", "3", "2", "4", "2"],
        "AESER": ["N", "Y", "N", "Y", "N"],
        "AEREL": ["RELATED", "RELATED", "NOT RELATED", "POSSIBLE", "RELATED"],
        "AEACN": ["DOSE NOT CHANGED", "DRUG WITHDRAWN", "", "DOSE REDUCED", ""],
        "ASTDT": [starts[0], starts[0], starts[1], starts[2], starts[2]],
        "TRTEMFL": ["Y", "Y", "Y", "Y", "N"],  # the last is not treatment-emergent
    })
    adae.to_csv(folder / "adae.csv", index=False)
    registry = registry_from_options(None, None, folder, None, Settings())
    ev = registry.adverse_events
    assert len(ev) == 4
    rows = {(r["soc"], r["pt"]): r for r in term_rows(ev)}
    assert rows[("Gastrointestinal disorders", "Diarrhoea")]["3"] == 1
    assert rows[("Investigations", "Blood creatinine increased")]["4"] == 1
    lines = {x.characteristic: x.n for x in event_lines(ev, ev, len(registry.patients))}
    assert (lines["Serious adverse events"], lines["Discontinuations due to adverse events"]) \
        == (2, 1)
    assert list(ev["related"]) == [True, True, False, True]
    adae.loc[2, "ATOXGR"] = "9"
    adae.to_csv(folder / "adae.csv", index=False)
    with pytest.raises(RegistryError) as caught:
        registry_from_options(None, None, folder, None, Settings())
    errors = [(e.file, e.row, e.column) for e in caught.value.report.errors]
    assert ("adae.csv", 4, "grade") in errors or ("adae.csv", 4, "ATOXGR") in errors


def test_validate_command_reports_ae_errors_without_a_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dossier.cli import app

    data = write(clean_patients(), tmp_path / "reg", "csv")
    bad = EVENTS.copy()
    bad.loc[1, "grade"] = "7"
    ae = write(bad, tmp_path / "ae", "csv")
    result = CliRunner().invoke(app, ["validate", str(data), "--adverse-events", str(ae),
                                      "--format", "json"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    doc = json.loads(result.stdout)
    [error] = [i for i in doc["issues"] if i["severity"] == "error"]
    assert (error["file"], error["row"], error["column"]) == ("ae.csv", 3, "grade")


def test_an_ungraded_event_counts_under_any_grade_only(registry, tmp_path: Path) -> None:
    ungraded = EVENTS.copy()
    ungraded.loc[3, "grade"] = ""  # P02's only event
    ev = with_adverse_events(registry, write(ungraded, tmp_path / "ae", "csv")).adverse_events
    diarrhoea = next(r for r in term_rows(ev) if r["pt"] == "Diarrhoea")
    assert (diarrhoea["any"], diarrhoea["1-2"], diarrhoea["3"]) == (2, 0, 1)
