"""dossier never deletes or overwrites what the user owns: `build --out` replaces only a dossier it
wrote, never a folder holding its inputs, and the manifest lists every input that shaped it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.errors import OutputError
from dossier.render.bundle import DossierBundle
from dossier.render.ownership import check_destination, foreign_files, listed_outputs

runner = CliRunner()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def registry_file(tmp_path_factory) -> Path:
    """A small demo registry with its cohort metadata beside it (reg.cohorts.yaml)."""
    folder = tmp_path_factory.mktemp("data")
    out = folder / "reg.csv"
    written = runner.invoke(app, ["demo", "--out", str(out), "--patients", "60"])
    assert written.exit_code == 0, written.output
    return out


def _build(data: Path, out: Path, *extra: str):
    return runner.invoke(app, ["build", str(data), "--out", str(out), "--format", "json",
                               *extra])


def _copy_registry(registry_file: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for source in registry_file.parent.iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    return folder / registry_file.name


# ------------------------------------------------------------------ the folder holding the data
@pytest.mark.parametrize("force", [False, True])
def test_build_into_the_folder_of_its_own_registry_deletes_nothing_and_exits_1(
        registry_file, tmp_path, force):
    data = _copy_registry(registry_file, tmp_path / "study")
    (tmp_path / "study" / "protocol.docx").write_bytes(b"the user's protocol")
    before = _tree(tmp_path / "study")
    result = _build(data, tmp_path / "study", *(["--force"] if force else []))
    assert result.exit_code == 1, result.output
    assert "holds input(s) of this build" in result.output
    assert "reg.csv" in result.output and str(tmp_path / "study") in result.output
    assert _tree(tmp_path / "study") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]  # no temporary folder left


def test_build_into_a_folder_above_the_registry_is_refused_even_with_force(
        registry_file, tmp_path):
    data = _copy_registry(registry_file, tmp_path / "project" / "data")
    before = _tree(tmp_path / "project")
    result = _build(data, tmp_path / "project", "--force")
    assert result.exit_code == 1
    assert "holds input(s)" in result.output
    assert _tree(tmp_path / "project") == before


# ------------------------------------------------------------------ folders that are not dossiers
def test_build_refuses_a_non_empty_folder_it_did_not_write_and_says_what_to_do(
        registry_file, tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    result = _build(registry_file, out)
    assert result.exit_code == 1
    assert str(out) in result.output
    assert "holds no dossier written by dossier" in result.output
    assert "--force" in result.output and "--out" in result.output
    assert _tree(out) == {"notes.txt": b"my notes"}


def test_force_replaces_a_folder_dossier_did_not_write(registry_file, tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    result = _build(registry_file, out, "--force")
    assert result.exit_code == 0, result.output
    assert sorted(_tree(out)) == [".dossier-cache.zip", "manifest.json", "results.json"]


def test_build_writes_into_an_empty_or_new_folder(registry_file, tmp_path):
    (tmp_path / "empty").mkdir()
    assert _build(registry_file, tmp_path / "empty").exit_code == 0
    assert _build(registry_file, tmp_path / "new" / "dossier").exit_code == 0
    assert (tmp_path / "empty" / "results.json").is_file()
    assert (tmp_path / "new" / "dossier" / "results.json").is_file()


def test_rebuild_replaces_its_own_dossier(registry_file, tmp_path):
    out = tmp_path / "dossier"
    assert _build(registry_file, out).exit_code == 0
    first = _tree(out)
    assert _build(registry_file, out).exit_code == 0
    assert _tree(out) == first  # deterministic, and replaced without --force


def test_rebuild_refuses_a_dossier_the_user_added_a_file_to(registry_file, tmp_path):
    out = tmp_path / "dossier"
    assert _build(registry_file, out).exit_code == 0
    (out / "reviewer comments.docx").write_bytes(b"comments")
    before = _tree(out)
    result = _build(registry_file, out)
    assert result.exit_code == 1
    assert "reviewer comments.docx" in result.output and "did not write" in result.output
    assert _tree(out) == before


def test_a_file_at_out_is_never_replaced_even_with_force(registry_file, tmp_path):
    out = tmp_path / "dossier"
    out.write_text("not a folder")
    result = _build(registry_file, out, "--force")
    assert result.exit_code == 1 and "not a folder" in result.output
    assert out.read_text() == "not a folder"


def test_the_working_directory_is_never_replaced(registry_file, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "analysis.R").write_text("# mine")
    monkeypatch.chdir(work)
    result = _build(registry_file, Path("."), "--force")
    assert result.exit_code == 1 and "working directory" in result.output
    assert _tree(work) == {"analysis.R": b"# mine"}


# ------------------------------------------------------------------ recognising a dossier
def _write_dossier(dest: Path) -> None:
    with DossierBundle(dest) as bundle:
        bundle.write_text("results.json", "{}\n")
        bundle.finish_manifest(inputs={}, criteria_files=[], parameters={})


def test_a_dossier_is_recognised_by_its_signed_manifest(tmp_path):
    dest = tmp_path / "dossier"
    _write_dossier(dest)
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == "dossier"
    assert listed_outputs(dest) == {"results.json"}
    assert foreign_files(dest) == []
    check_destination(dest)  # may be replaced


@pytest.mark.parametrize("manifest", [
    "not json", "[]", '{"outputs": []}', '{"generator": "other", "outputs": []}',
    '{"generator": "dossier"}', '{"generator": "dossier", "outputs": [{"path": 1}]}',
])
def test_a_folder_with_a_manifest_not_written_by_dossier_is_not_replaced(tmp_path, manifest):
    dest = tmp_path / "folder"
    dest.mkdir()
    (dest / "manifest.json").write_text(manifest)
    assert listed_outputs(dest) is None
    with pytest.raises(OutputError, match="holds no dossier written by dossier"):
        check_destination(dest)
    with pytest.raises(OutputError), DossierBundle(dest):
        pass
    assert (dest / "manifest.json").read_text() == manifest


def test_a_dossier_of_an_earlier_dossier_version_is_still_recognised(tmp_path):
    dest = tmp_path / "dossier"
    dest.mkdir()
    (dest / "results.json").write_text("{}")
    (dest / "manifest.json").write_text(json.dumps({
        "manifest_version": 1, "software": {"dossier": "0.9.0"},
        "outputs": [{"path": "results.json", "sha256": "0" * 64, "size": 2}]}))
    assert foreign_files(dest) == []
    check_destination(dest)


def test_bundle_refuses_a_folder_holding_an_input_with_force(tmp_path):
    dest = tmp_path / "dossier"
    _write_dossier(dest)
    data = dest / "patients.csv"
    data.write_text("patient_id\n")
    with pytest.raises(OutputError, match="holds input"), \
            DossierBundle(dest, force=True, inputs=[data]):
        pass
    assert data.read_text() == "patient_id\n"


# ------------------------------------------------------------------ manifest inputs
def test_manifest_lists_the_cohort_metadata_found_beside_the_data(registry_file, tmp_path):
    out = tmp_path / "dossier"
    result = _build(registry_file, out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    by_role = {i["role"]: i for i in manifest["inputs"]}
    sidecar = registry_file.with_name("reg.cohorts.yaml")
    assert by_role["cohorts"]["name"] == "reg.cohorts.yaml"
    assert by_role["cohorts"]["sha256"] == hashlib.sha256(sidecar.read_bytes()).hexdigest()
    assert by_role["data"]["sha256"] == hashlib.sha256(registry_file.read_bytes()).hexdigest()
    assert not any(i["path"].startswith("/") for i in manifest["inputs"])


def test_manifest_lists_dossier_toml_and_every_template_file(registry_file, tmp_path,
                                                             monkeypatch):
    study = tmp_path / "study"
    data = _copy_registry(registry_file, study / "data")
    (study / "dossier.toml").write_text(
        '[study]\ntitle = "Manifest study"\ndata = "data/reg.csv"\n', encoding="utf-8")
    templates = study / "templates"
    templates.mkdir()
    (templates / "extra.css").write_text("p { color: black; }\n")
    monkeypatch.chdir(study)
    result = runner.invoke(app, ["build", "--out", "out/dossier", "--format", "json",
                                 "--templates", "templates"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((study / "out" / "dossier" / "manifest.json").read_text("utf-8"))
    listed = {(i["role"], i["path"]) for i in manifest["inputs"]}
    assert ("config", "dossier.toml") in listed
    assert ("template", "templates/extra.css") in listed
    assert ("data", "data/reg.csv") in listed
    assert ("cohorts", "data/reg.cohorts.yaml") in listed
    assert data.is_file()


# ------------------------------------------------------------------ demo and endpoints files
def test_demo_refuses_to_overwrite_an_existing_registry_and_writes_neither_file(tmp_path):
    out = tmp_path / "registry.csv"
    out.write_text("my real registry\n")
    result = runner.invoke(app, ["demo", "--out", str(out), "--patients", "40"])
    assert result.exit_code == 1
    assert str(out) in result.output and "--force" in result.output
    assert out.read_text() == "my real registry\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.csv"]


def test_demo_refuses_when_only_its_cohort_metadata_exists(tmp_path):
    meta = tmp_path / "registry.cohorts.yaml"
    meta.write_text("cohorts: []  # mine\n")
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "registry.csv"), "-n", "40"])
    assert result.exit_code == 1 and "registry.cohorts.yaml" in result.output
    assert meta.read_text() == "cohorts: []  # mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.cohorts.yaml"]


def test_demo_with_force_replaces_both_files(tmp_path):
    out = tmp_path / "registry.csv"
    out.write_text("old\n")
    (tmp_path / "registry.cohorts.yaml").write_text("old\n")
    result = runner.invoke(app, ["demo", "--out", str(out), "-n", "40", "--force"])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("patient_id,")
    assert (tmp_path / "registry.cohorts.yaml").read_text().startswith("# Cohort metadata")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "registry.adverse_events.csv", "registry.cohorts.yaml", "registry.csv"]


def test_endpoints_refuses_to_overwrite_a_results_file_without_force(registry_file, tmp_path):
    out = tmp_path / "results.csv"
    out.write_text("keep me\n")
    result = runner.invoke(app, ["endpoints", str(registry_file), "--out", str(out)])
    assert result.exit_code == 1
    assert str(out) in result.output and "--force" in result.output
    assert out.read_text() == "keep me\n"
    forced = runner.invoke(app, ["endpoints", str(registry_file), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert out.read_text().startswith("group_by,group,endpoint")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]  # no temporary file


def test_endpoints_never_writes_over_its_own_input_even_with_force(registry_file, tmp_path):
    data = _copy_registry(registry_file, tmp_path / "study")
    before = _tree(tmp_path / "study")
    result = runner.invoke(app, ["endpoints", str(data), "--out", str(data), "--force"])
    assert result.exit_code == 1, result.output
    assert "is an input of this command" in result.output
    assert _tree(tmp_path / "study") == before


def test_atomic_writes_sync_the_file_and_leave_no_temporary_file(tmp_path, monkeypatch):
    from dossier import atomic

    synced = []
    real_fsync = atomic.os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    written = atomic.write_files_atomic([(tmp_path / "a.csv", b"a\n"),
                                         (tmp_path / "b.yaml", b"b: 1\n")])
    assert [p.read_bytes() for p in written] == [b"a\n", b"b: 1\n"]
    assert len(synced) >= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.yaml"]


def test_atomic_write_failing_half_way_leaves_nothing_new_and_nothing_changed(tmp_path,
                                                                                monkeypatch):
    from dossier import atomic

    real_link = atomic.os.link
    calls = []

    def link_then_fail(src, dst):
        calls.append(dst)
        if len(calls) >= 2:
            raise OSError(28, "No space left on device")
        real_link(src, dst)

    monkeypatch.setattr(atomic.os, "link", link_then_fail)
    monkeypatch.setattr(atomic.os, "replace", link_then_fail)  # the fallback fails as well
    with pytest.raises(OSError, match="No space"):
        atomic.write_files_atomic([(tmp_path / "a.csv", b"a\n"), (tmp_path / "b.yaml", b"b\n")])
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_appears_during_the_write_is_not_overwritten(tmp_path):
    from dossier import atomic

    temporary = tmp_path / ".new.tmp"
    temporary.write_bytes(b"ours")
    target = tmp_path / "results.csv"
    target.write_bytes(b"someone else's")
    with pytest.raises(OutputError, match="appeared"):
        atomic._move_into_place(temporary, target, overwrite=False)
    assert target.read_bytes() == b"someone else's"
