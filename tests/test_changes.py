"""dossier diff and build --since: what changed between two data cuts of the demo, checked
against counts made here from the patient rows, and read back from changes.json, the workbook
and the PDF."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pandas as pd
import pytest
from scipy.stats import beta
from typer.testing import CliRunner

from dossier.build import analyse, build_dossier
from dossier.changes.compare import FORMAT, VERSION, compare
from dossier.changes.snapshot import SnapshotError, from_analysis, from_folder
from dossier.cli import app
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.demo_cut import cut_registry
from dossier.registry.load import registry_from_frames

CUT = dt.date(2023, 1, 1)
SD_DAYS = 16 * 7
STAGED = "encorafenib + binimetinib | Solid tumours | BRAF class II/III mutation"


@pytest.fixture(scope="module")
def frames():
    full = demo_registry()
    return cut_registry(*full, CUT), full


@pytest.fixture(scope="module")
def folders(frames, tmp_path_factory):
    """Dossier folders (JSON only) of the cut and of the full demo."""
    root = tmp_path_factory.mktemp("cuts")
    built = []
    for name, (patients, cohorts) in zip(("old", "new"), frames, strict=True):
        registry = registry_from_frames(patients, cohorts, name=f"{name}.csv")
        folder, _ = build_dossier(Settings(), registry=registry, destination=root / name,
                                  formats=("json",))
        built.append(folder)
    return tuple(built)


@pytest.fixture(scope="module")
def document(folders):
    return compare(from_folder(folders[0]), from_folder(folders[1]))


def _group(document, cohort):
    return next(g for g in document["groups"] if g["cohort_id"] == cohort)


def _benefit(patients: pd.DataFrame) -> pd.Series:
    """Clinical benefit as DRUP counts it: confirmed CR/PR, or SD (an unconfirmed response is
    SD) lasting at least 16 weeks; only response-evaluable patients."""
    evaluable = patients["response_evaluable"] == 1
    response = patients["best_response"].isin(["CR", "PR"])
    confirmed = response & (patients["response_confirmed"] == 1).fillna(False)
    stable = patients["best_response"].isin(["SD", "CR", "PR"]) & ~confirmed
    return evaluable & (confirmed | (stable & (patients["pfs_days"] >= SD_DAYS)))


def _rate(x: int, n: int) -> str:
    lower = beta.ppf(0.025, x, n - x + 1) if x > 0 else 0.0
    upper = beta.ppf(0.975, x + 1, n - x) if x < n else 1.0
    return f"{100 * x / n:.1f}% ({100 * lower:.1f}-{100 * upper:.1f})"


def test_pooled_patients_events_and_rates_are_those_of_the_two_cuts(frames, document) -> None:
    (old, _), (new, _) = frames
    pooled = document["groups"][0]
    assert pooled["cohort_id"] is None and pooled["name"] == "All cohorts (pooled)"
    assert pooled["patients"] == {"old": len(old), "new": len(new),
                                  "added": len(new) - len(old)}
    for stem in ("pfs", "os"):
        events = pooled["events"][stem]
        assert (events["old"], events["new"]) == (old[f"{stem}_event"].sum(),
                                                  new[f"{stem}_event"].sum())
        assert events["added"] == events["new"] - events["old"] > 0
    cbr = next(e for e in pooled["endpoints"]
               if e["endpoint"] == "cbr" and e["denominator"] == "evaluable")
    assert cbr["old"] == _rate(int(_benefit(old).sum()), int(old["response_evaluable"].sum()))
    assert cbr["new"] == _rate(int(_benefit(new).sum()), int(new["response_evaluable"].sum()))
    assert cbr["name"].startswith("Clinical benefit rate") and "evaluable" in cbr["name"]


def test_a_cohort_that_passed_stage_1_and_its_deciding_clause(frames, document) -> None:
    counts = []
    for patients, _ in frames:
        rows = patients[patients["cohort_id"] == STAGED]
        rows = rows[rows["response_evaluable"] == 1].sort_values(
            ["treatment_start", "patient_id"], kind="stable").head(8)
        counts.append(int(_benefit(rows).sum()))
    assert counts[0] == 0 and counts[1] >= 1  # hand count: 0 of the first 8, then >= 1
    group = _group(document, STAGED)
    assert {"event": "passed", "stage": "Stage 1", "criteria": "drup-two-stage",
            "observed": f"{counts[1]} of 8"} in group["stages"]
    drup = next(v for v in group["verdicts"] if v["criteria"] == "drup-two-stage")
    assert (drup["old"]["verdict"], drup["new"]["verdict"]) == ("not met", "pending")
    clause = next(c for c in drup["clauses"] if c["label"] == "Stage 1")
    assert clause["old"] == {"state": "not held", "observed": "0 of 8", "certainty": ""}
    assert clause["new"]["state"] == "held" and clause["staged"]
    assert STAGED in [s["cohort_id"] for s in document["summary"]["stages_passed"]]


def test_cohorts_that_opened_and_patients_added_per_cohort(frames, document) -> None:
    (old, old_cohorts), (new, new_cohorts) = frames
    opened = sorted(set(new_cohorts["cohort_id"]) - set(old_cohorts["cohort_id"]))
    assert opened and document["summary"]["cohorts_opened"] == opened
    group = _group(document, opened[0])
    assert group["status"] == "opened"
    assert group["patients"] == {"old": None, "new": int((new["cohort_id"] == opened[0]).sum()),
                                 "added": None}
    grown = (new["cohort_id"].value_counts() - old["cohort_id"].value_counts()).dropna()
    cohort = grown[grown > 0].index[0]
    assert _group(document, cohort)["patients"]["added"] == grown[cohort]


def test_changes_document_schema(document) -> None:
    assert document["format"] == FORMAT and document["version"] == VERSION
    assert document["any_change"] is True and document["notes"] == []
    assert document["old"]["data_cutoff"] == CUT.isoformat()
    assert document["new"]["data_cutoff"] == "2025-01-01"
    for group in document["groups"]:
        assert set(group) >= {"group", "cohort_id", "name", "status", "endpoints", "verdicts",
                              "stages"}
        assert group["status"] in ("present", "opened", "no longer in the data")
        for endpoint in group["endpoints"]:
            assert set(endpoint) == {"endpoint", "statistic", "time", "denominator", "name",
                                     "old", "new"}
            assert endpoint["old"] != endpoint["new"]
        for verdict in group["verdicts"]:
            assert verdict["changed"] and set(verdict["changed"]) <= {"verdict", "grade",
                                                                      "certainty"}
    json.dumps(document)  # JSON-ready as it is


def test_no_change_against_itself_or_a_rebuild_on_another_date(frames, folders, tmp_path,
                                                               monkeypatch) -> None:
    same = compare(from_folder(folders[1]), from_folder(folders[1]))
    assert same["any_change"] is False and same["groups"] == []
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    registry = registry_from_frames(*frames[1], name="new.csv")
    again, _ = build_dossier(Settings(), registry=registry, destination=tmp_path / "again",
                             formats=("json",))
    manifests = [json.loads((f / "manifest.json").read_text()) for f in (folders[1], again)]
    assert manifests[0]["build_time"] != manifests[1]["build_time"]
    rebuilt = compare(from_folder(folders[1]), from_folder(again))
    assert rebuilt["any_change"] is False and rebuilt["groups"] == []
    # a registry analysed here is the same analysis as the dossier built from it
    analysed = from_analysis(analyse(Settings(), registry), "new.csv")
    assert compare(from_folder(folders[1]), analysed)["any_change"] is False


def test_a_folder_that_is_not_a_dossier_or_of_another_version_is_refused(folders,
                                                                         tmp_path) -> None:
    with pytest.raises(SnapshotError, match="not a dossier folder"):
        from_folder(tmp_path)
    other = tmp_path / "other"
    shutil.copytree(folders[0], other)
    results = json.loads((other / "results.json").read_text())
    results["software"]["dossier"] = "0.0.1"
    (other / "results.json").write_text(json.dumps(results))
    with pytest.raises(SnapshotError, match="not comparable"):
        compare(from_folder(other), from_folder(folders[1]))
    results["software"]["dossier"] = from_folder(folders[1]).dossier_version
    results["parameters"]["sd_weeks"] = 12
    (other / "results.json").write_text(json.dumps(results))
    with pytest.raises(SnapshotError, match="sd_weeks"):
        compare(from_folder(other), from_folder(folders[1]))
    results["results"]["version"] = 1
    (other / "results.json").write_text(json.dumps(results))
    with pytest.raises(SnapshotError, match="format version"):
        from_folder(other)


def test_diff_command_prints_writes_and_never_overwrites_a_foreign_file(folders,
                                                                         tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "changes.json"
    result = runner.invoke(app, ["diff", str(folders[0]), str(folders[1]), "--json", str(out),
                                 "--report", str(tmp_path / "changes.md")])
    assert result.exit_code == 0, result.output
    assert "Changes since 2023-01-01" in result.output
    assert "Passed stage 1" in result.output
    written = json.loads(out.read_text())
    assert written == compare(from_folder(folders[0]), from_folder(folders[1]))
    report = (tmp_path / "changes.md").read_text()
    assert "# Changes since 2023-01-01" in report and "| Patients treated |" in report
    again = runner.invoke(app, ["diff", str(folders[0]), str(folders[1]), "--json", str(out)])
    assert again.exit_code == 0, again.output  # its own file: replaced
    foreign = tmp_path / "notes.json"
    foreign.write_text('{"mine": true}')
    refused = runner.invoke(app, ["diff", str(folders[0]), str(folders[1]), "--json",
                                  str(foreign)])
    assert refused.exit_code == 1 and "already exists" in refused.output
    assert foreign.read_text() == '{"mine": true}'
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    unreadable = runner.invoke(app, ["diff", str(bad), str(folders[1])])
    assert unreadable.exit_code == 1 and "Traceback" not in unreadable.output
    assert "bad.csv" in unreadable.output
    missing = runner.invoke(app, ["diff", str(tmp_path / "nowhere"), str(folders[1])])
    assert missing.exit_code == 1 and "neither a dossier folder nor a patient file" in \
        missing.output
