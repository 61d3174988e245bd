"""Rebuilds from the cache a dossier folder keeps (dossier/build_cache.py, render/pdf_cache.py).

A rebuild must write the same bytes as a clean build, lay out only the PDF parts whose content
changed, copy the outputs when nothing changed, and never trust an entry or output whose bytes
are not what was recorded.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from dossier.build import build_dossier
from dossier.build_cache import CACHE_NAME
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.demo_adverse_events import demo_adverse_events
from dossier.render import pdf_cache
from dossier.render.ownership import MANIFEST_NAME

SEED = 23
FORMATS = ("pdf", "xlsx", "json")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def assert_same_folders(one: Path, other: Path) -> None:
    assert _files(one) == _files(other)
    differ = [n for n in _files(one) if not filecmp.cmp(one / n, other / n, shallow=False)]
    assert differ == []


@pytest.fixture(scope="module")
def registry_files(tmp_path_factory) -> Path:
    """Three demo cohorts as files (patients CSV, cohort metadata CSV, adverse events CSV)."""
    folder = tmp_path_factory.mktemp("registry")
    patients, cohorts = demo_registry(n_patients=400, seed=SEED)
    keep = patients["cohort_id"].value_counts().index[:3]
    patients = patients[patients["cohort_id"].isin(keep)].reset_index(drop=True)
    cohorts = cohorts[cohorts["cohort_id"].isin(keep)].reset_index(drop=True)
    events = demo_adverse_events(patients, SEED)
    data = folder / "cohorts.csv"
    patients.to_csv(data, index=False)
    cohorts.to_csv(folder / "cohorts.cohorts.csv", index=False)
    events.to_csv(folder / "cohorts.adverse_events.csv", index=False)
    return data


def _copy_registry(data: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in data.parent.iterdir():
        shutil.copy(path, folder / path.name)
    return folder / data.name


class Recorder:
    """The PartCache of each build, to tell what was laid out and what was reused."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.caches: list[pdf_cache.PartCache] = []
        original = pdf_cache.PartCache.write
        recorder = self

        def write(cache: pdf_cache.PartCache) -> Path:
            recorder.caches.append(cache)
            return original(cache)

        monkeypatch.setattr(pdf_cache.PartCache, "write", write)

    @property
    def last(self) -> pdf_cache.PartCache:
        return self.caches[-1]


def build(data: Path, out: Path, *, cache: bool = True) -> dict[str, float]:
    _, timings = build_dossier(Settings(), data=data, destination=out, formats=FORMATS,
                               cache=cache)
    return timings


def change_one_patient(data: Path) -> str:
    """Progression 10 days earlier for one patient of the smallest cohort; its id."""
    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    cohort = frame["cohort_id"].value_counts().index[-1]
    rows = frame.index[(frame["cohort_id"] == cohort) & (frame["pfs_event"] == "1")
                       & (pd.to_numeric(frame["pfs_days"]) > 30)]
    frame.loc[rows[0], "pfs_days"] = str(int(frame.loc[rows[0], "pfs_days"]) - 10)
    frame.to_csv(data, index=False)
    return str(cohort)


def _cache_members(folder: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(folder / CACHE_NAME) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_cache(folder: Path, members: dict[str, bytes]) -> None:
    """Rewrite a dossier's cache file with ``members`` (edited by a test)."""
    with zipfile.ZipFile(folder / CACHE_NAME, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def _rebuild_after_a_change(data: Path, out: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> pdf_cache.PartCache:
    """Change one patient (so that the build renders, nothing copied), rebuild ``out``, check
    it equals a clean build of the changed data; the rebuild's cache."""
    change_one_patient(data)
    recorder = Recorder(monkeypatch)
    build(data, out)
    cache = recorder.last
    reference = tmp_path / "clean"
    build(data, reference, cache=False)
    assert_same_folders(out, reference)
    return cache


@pytest.fixture(scope="module")
def clean(registry_files, tmp_path_factory) -> Path:
    """A clean build of the three cohorts (no cache read)."""
    out = tmp_path_factory.mktemp("clean") / "dossier"
    build(registry_files, out, cache=False)
    return out


def test_the_folder_keeps_its_cache_listed_in_the_manifest(clean) -> None:
    manifest = json.loads((clean / MANIFEST_NAME).read_text())
    assert CACHE_NAME in [o["path"] for o in manifest["outputs"]]
    with zipfile.ZipFile(clean / CACHE_NAME) as archive:
        index = json.loads(archive.read("index.json"))
        names = set(archive.namelist())
    assert len(index["build"]["key"]) == 64
    # every laid-out part and every joined PDF is kept, with the hash of its bytes
    assert len(index["entries"]) >= 3 * 5 + 8
    for key, record in index["entries"].items():
        assert f"{key}.pdf" in names
        assert len(record["sha256"]) == 64 and record["pages"] >= 1


def test_nothing_changed_copies_every_output_byte_for_byte(clean, registry_files,
                                                           tmp_path, monkeypatch) -> None:
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    recorder = Recorder(monkeypatch)
    timings = build(registry_files, out)
    assert "reused" in timings and "pdf" not in timings and "xlsx" not in timings
    assert recorder.caches == []  # nothing rendered, not even the cache rewritten
    assert_same_folders(out, clean)


def test_one_cohort_changed_lays_out_only_its_parts_and_equals_a_clean_build(
        clean, registry_files, tmp_path, monkeypatch) -> None:
    data = _copy_registry(registry_files, tmp_path / "registry")
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    changed = change_one_patient(data)
    recorder = Recorder(monkeypatch)
    build(data, out)
    made = recorder.last.made
    sections = [label for label in made if label.startswith("('cohort', ")]
    assert sections == [str(("cohort", changed))]
    # only the changed cohort's listing (and methods page) is laid out again; the other
    # cohorts' pages leave the data file's hash to an overlay
    assert [m for m in made if m.startswith("('listing', ")] == [str(("listing", changed))]
    assert {m for m in made if m.startswith("('methods', ")} <= {str(("methods", changed))}
    assert [m for m in made if m.startswith("('tail', ")] == []
    assert "sha256" in made and "appendix" not in made
    assert any(label.startswith("('cohort', ") for label in recorder.last.reused)
    # the render context made only the changed cohort's figures and tables (and the
    # population records of all patients, which it is one of)
    memo = recorder.last.memo
    assert sorted(memo.made) == ["km figures", "population", "population records",
                                 "population records", "swimmer plot"]
    assert sorted(set(memo.reused)) == ["km figures", "population", "population records",
                                        "swimmer plot"]
    assert len(memo.reused) == 2 * 4  # the two other cohorts'
    reference = tmp_path / "clean"
    build(data, reference, cache=False)
    assert_same_folders(out, reference)


def test_no_cache_lays_out_everything_and_writes_the_same_folder(clean, registry_files,
                                                                 tmp_path, monkeypatch) -> None:
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    recorder = Recorder(monkeypatch)
    timings = build(registry_files, out, cache=False)
    assert "pdf" in timings
    assert recorder.last.reused == []
    assert_same_folders(out, clean)


def test_a_cache_entry_whose_bytes_changed_is_laid_out_again(clean, registry_files, tmp_path,
                                                             monkeypatch) -> None:
    data = _copy_registry(registry_files, tmp_path / "registry")
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    members = _cache_members(out)
    index = json.loads(members["index.json"])
    spoiled = sorted(index["entries"])[0]
    members[f"{spoiled}.pdf"] = members[f"{spoiled}.pdf"].replace(b"/Page", b"/Pagf", 1)
    _write_cache(out, members)
    cache = _rebuild_after_a_change(data, out, tmp_path, monkeypatch)
    assert cache.reused  # the other entries were used


def test_a_kept_figure_whose_bytes_changed_is_made_again(clean, registry_files, tmp_path,
                                                         monkeypatch) -> None:
    data = _copy_registry(registry_files, tmp_path / "registry")
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    members = _cache_members(out)
    memo = sorted(n for n in members if n.startswith(f"{pdf_cache.MEMO_FOLDER}/"))
    assert len(memo) == 3 * 4 + 1  # each cohort's four steps, the records of all patients
    for name in memo:  # a figure changed in the file: the index's hash no longer matches
        members[name] = members[name].replace(b"<svg", b"<svG", 1)
    _write_cache(out, members)
    cache = _rebuild_after_a_change(data, out, tmp_path, monkeypatch)
    assert "km figures" not in cache.memo.reused
    assert "swimmer plot" not in cache.memo.reused


def test_an_output_edited_after_the_build_is_not_copied(clean, registry_files, tmp_path,
                                                        monkeypatch) -> None:
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    (out / "results.json").write_text("{}\n")
    recorder = Recorder(monkeypatch)
    timings = build(registry_files, out)
    assert "reused" not in timings and "json" in timings
    assert recorder.last.made == []  # every PDF part and PDF taken from the cache
    assert_same_folders(out, clean)


def test_a_changed_title_is_a_changed_build(clean, registry_files, tmp_path) -> None:
    out = tmp_path / "dossier"
    shutil.copytree(clean, out)
    settings = Settings().with_overrides(title="Another title")
    _, timings = build_dossier(settings, data=registry_files, destination=out,
                               formats=FORMATS)
    assert "reused" not in timings
    reference = tmp_path / "clean"
    build_dossier(settings, data=registry_files, destination=reference, formats=FORMATS,
                  cache=False)
    assert_same_folders(out, reference)
