"""The temporary folder a build writes into: marked as dossier's, cleaned up however it ends.

Each build writes into ``.<name>.tmp-<pid>-<random>`` beside its destination, with a marker
file inside naming the process that owns it (pid, host, boot and process start time). A build
that fails, is interrupted (Ctrl-C, SIGTERM, SIGHUP) or crashes removes its folder; one killed
outright (SIGKILL, power loss) cannot, so the next build in the same parent folder removes the
temporary folders whose owner is gone. A folder without a valid marker, on another host, or of a
process still running is never touched.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

MARKER_NAME = ".dossier-build"
"""The marker file inside a temporary build folder (never part of the finished dossier)."""
MARKER_KIND = "dossier temporary build folder"
_TEMP = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]{8}$")
_MAX_MARKER_BYTES = 4096

HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                        if hasattr(signal, name))
"""Signals a build turns into a clean stop (SIGKILL cannot be handled)."""


class BuildInterrupted(KeyboardInterrupt):
    """A build stopped by a signal; a KeyboardInterrupt, so nothing catches it by accident."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by that signal."""
        return 128 + self.signum


# ------------------------------------------------------------------------- who owns a folder
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of proc(5), after pid and comm


def _owner() -> dict[str, object]:
    return {"kind": MARKER_KIND, "pid": os.getpid(), "host": socket.gethostname(),
            "boot_id": _boot_id(), "process_start": _process_start(os.getpid())}


def make_temporary_folder(destination: Path) -> Path:
    """Create ``.<name>.tmp-<pid>-<random>`` beside ``destination`` with its owner marker."""
    temp = destination.parent / f".{destination.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    temp.mkdir()
    try:
        (temp / MARKER_NAME).write_text(json.dumps(_owner(), sort_keys=True) + "\n",
                                        encoding="utf-8")
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return temp


def _marker(folder: Path) -> dict[str, object] | None:
    match = _TEMP.match(folder.name)
    marker = folder / MARKER_NAME
    try:
        if (match is None or folder.is_symlink() or not folder.is_dir() or marker.is_symlink()
                or marker.stat().st_size > _MAX_MARKER_BYTES):
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if (not isinstance(data, dict) or data.get("kind") != MARKER_KIND
            or not isinstance(data.get("pid"), int) or data["pid"] != int(match.group(1))
            or not isinstance(data.get("host"), str)):
        return None
    return data


def _owner_gone(marker: dict[str, object]) -> bool:
    """Whether the process that made a marked folder has certainly ended (False when unsure)."""
    if os.name != "posix" or marker["host"] != socket.gethostname():
        return False  # cannot tell (and os.kill on Windows would end the process)
    pid = int(marker["pid"])  # type: ignore[arg-type]
    if pid <= 0:
        return False
    boot = _boot_id()
    if boot is not None and marker.get("boot_id") not in (None, boot):
        return True  # made before the machine restarted
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, owned by another user
    started = _process_start(pid)
    return started is not None and marker.get("process_start") not in (None, started)


def remove_stale_folders(parent: Path) -> list[Path]:
    """Remove the temporary build folders in ``parent`` whose owning process is gone.

    Only folders named like a build's temporary folder that hold a valid marker of this host
    are considered; the rest, and those of live builds, are left alone. Returns those removed.
    """
    removed: list[Path] = []
    try:
        candidates = sorted(p for p in Path(parent).iterdir() if _TEMP.match(p.name))
    except OSError:
        return removed
    for folder in candidates:
        marker = _marker(folder)
        if marker is not None and _owner_gone(marker):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


# ---------------------------------------------------------------------------------- signals
def _stop_worker_processes() -> None:
    """Terminate this process's multiprocessing children (the layout and figure workers)."""
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            child.terminate()


@contextlib.contextmanager
def stop_cleanly_on_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`BuildInterrupted` for the ``with`` block.

    The first signal stops the worker processes and raises in the main thread, so every
    ``with`` block (the temporary folder's included) cleans up on the way out; later signals
    are ignored until the block has ended, so the clean-up itself is not cut short. The
    previous handlers are restored afterwards. A signal that was ignored stays ignored (e.g. a
    build started with nohup). Outside the main thread this does nothing: only the main thread
    can handle signals.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        del frame
        if fired:
            return
        fired.append(signum)
        _stop_worker_processes()
        raise BuildInterrupted(signum)

    previous: dict[int, object] = {}
    try:
        for signum in HANDLED_SIGNALS:
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN:
                continue
            previous[signum] = signal.SIG_DFL if current is None else current
            signal.signal(signum, handle)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
