"""A build stopped by a signal leaves nothing behind, and a later build removes the temporary
folders of builds that died (only those dossier made, only when their process is gone)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.build import build_dossier
from dossier.cli import app
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.bundle import DossierBundle
from dossier.render.staging import (
    MARKER_KIND,
    MARKER_NAME,
    BuildInterrupted,
    _boot_id,
    _process_start,
    remove_stale_folders,
    stop_cleanly_on_signals,
)

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(os.name != "posix", reason="signals and pids as on POSIX")


def _children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return not (state.exists() and state.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@posix_only
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_build_stops_workers_and_leaves_no_temporary_folder(tmp_path, signum):
    data = tmp_path / "reg.csv"
    demo = CliRunner().invoke(app, ["demo", "--out", str(data), "--patients", "60"])
    assert demo.exit_code == 0, demo.output
    out = tmp_path / "out" / "dossier"
    build = subprocess.Popen(
        [sys.executable, "-m", "dossier", "build", str(data), "--out", str(out),
         "--format", "pdf,json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        wanted = 2 if (os.cpu_count() or 1) >= 2 else 0  # one core: PDFs laid out in-process
        while time.monotonic() < deadline and build.poll() is None:
            temporary = list(out.parent.glob(".dossier.tmp-*")) if out.parent.exists() else []
            workers = _children(build.pid)
            if temporary and len(workers) >= wanted:  # the PDF workers are laying out pages
                break
            time.sleep(0.1)
        assert build.poll() is None, "the build ended before it could be interrupted"
        assert temporary, "no temporary folder appeared"
        build.send_signal(signum)
        _, stderr = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 128 + signum, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert "Traceback" not in stderr
    assert sorted(p.name for p in out.parent.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out", "reg.adverse_events.csv", "reg.cohorts.yaml", "reg.csv"]
    time.sleep(1)
    assert [pid for pid in workers if _alive(pid)] == []


@posix_only
def test_signal_handlers_are_restored_after_a_build(tmp_path):
    patients, cohorts = demo_registry(n_patients=40, seed=3)
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    marker = []

    def mine(signum, frame):
        marker.append(signum)

    before = signal.signal(signal.SIGTERM, mine)
    try:
        build_dossier(Settings(), registry=registry, destination=tmp_path / "d",
                      formats=("json",))
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, before)


@posix_only
def test_a_signal_inside_the_guard_unwinds_and_removes_the_temporary_folder(tmp_path):
    dest = tmp_path / "dossier"
    with pytest.raises(BuildInterrupted) as raised, stop_cleanly_on_signals(), \
            DossierBundle(dest) as bundle:
        bundle.write_text("results.json", "{}\n")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert raised.value.exit_code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_an_ignored_signal_stays_ignored_during_a_build():
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_cleanly_on_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


# -------------------------------------------------------------------------- stale folders
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _marked(parent: Path, name: str, **fields) -> Path:
    folder = parent / name
    (folder / "cohorts").mkdir(parents=True)
    (folder / "cohorts" / "A.pdf").write_bytes(b"%PDF half")
    marker = {"kind": MARKER_KIND, "host": socket.gethostname(), "boot_id": _boot_id(),
              "process_start": None, **fields}
    (folder / MARKER_NAME).write_text(json.dumps(marker))
    return folder


@posix_only
def test_next_build_removes_only_the_temporary_folders_of_dead_dossier_builds(tmp_path):
    dead = _dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = _marked(tmp_path, f".dossier.tmp-{dead}-0a1b2c3d", pid=dead)
        other_stale = _marked(tmp_path, f".other.tmp-{dead}-0a1b2c3e", pid=dead)
        live = _marked(tmp_path, f".dossier.tmp-{sleeper.pid}-0a1b2c3f", pid=sleeper.pid)
        elsewhere = _marked(tmp_path, f".dossier.tmp-{dead}-0a1b2c40", pid=dead,
                            host="another-machine")
        mismatch = _marked(tmp_path, f".dossier.tmp-{dead}-0a1b2c41", pid=dead + 1)
        unmarked = tmp_path / f".dossier.tmp-{dead}-0a1b2c42"
        (unmarked / "cohorts").mkdir(parents=True)
        user = tmp_path / ".notes.tmp-1-deadbeef"  # the user's, whatever its name
        user.mkdir()
        (user / MARKER_NAME).write_text("{}")
        with DossierBundle(tmp_path / "dossier") as bundle:
            bundle.write_text("results.json", "{}\n")
            bundle.finish_manifest(inputs={}, criteria_files=[], parameters={})
        assert sorted(bundle.removed_stale) == sorted([stale, other_stale])
        assert not stale.exists() and not other_stale.exists()
        for kept in (live, elsewhere, mismatch, unmarked, user):
            assert kept.is_dir(), kept
        assert (tmp_path / "dossier" / "results.json").is_file()
        assert not (tmp_path / "dossier" / MARKER_NAME).exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@posix_only
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start from /proc")
def test_a_folder_whose_pid_was_reused_by_another_process_is_stale(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert _process_start(sleeper.pid) is not None
        reused = _marked(tmp_path, f".dossier.tmp-{sleeper.pid}-0a1b2c3d", pid=sleeper.pid,
                         process_start="1")  # not when the sleeper started
        assert remove_stale_folders(tmp_path) == [reused]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_running_build_marks_its_temporary_folder_and_the_dossier_has_no_marker(tmp_path):
    dest = tmp_path / "dossier"
    with DossierBundle(dest) as bundle:
        marker = json.loads((bundle.temporary_folder / MARKER_NAME).read_text())
        assert marker["pid"] == os.getpid() and marker["kind"] == MARKER_KIND
        assert remove_stale_folders(tmp_path) == []  # a live build is never touched
        bundle.finish_manifest(inputs={}, criteria_files=[], parameters={})
    manifest = json.loads((dest / "manifest.json").read_text())
    assert [o["path"] for o in manifest["outputs"]] == []
    assert sorted(p.name for p in dest.iterdir()) == ["manifest.json"]
