"""Files written whole or not at all, and never over a file unless the caller says so.

Each file goes to a temporary file in its own folder (same filesystem, so the final rename is
atomic), is flushed to disk with ``fsync`` and then moved into place. Without ``overwrite`` an
existing file is refused with :class:`~dossier.errors.OutputError` before anything is written,
and the move itself never replaces a file that appeared meanwhile (a hard link, which fails
when the name exists). A failure at any point removes the temporary files and leaves every
existing file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from dossier.errors import OutputError

FORCE_HINT = "pass --force to replace it, or choose another file with --out"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_targets(targets: Iterable[Path], *, overwrite: bool = False,
                  inputs: Iterable[Path] = ()) -> None:
    """Refuse targets that are inputs (always), folders (always) or existing files (unless
    ``overwrite``), naming every one of them at once."""
    targets = [Path(t) for t in targets]
    inputs = [Path(i) for i in inputs]
    for target in targets:
        if any(_same_file(target, i) for i in inputs):
            raise OutputError("is an input of this command; dossier never writes over its input, "
                              "not even with --force", file=target,
                              hint="choose another file with --out")
        if target.is_dir() and not target.is_symlink():
            raise OutputError("is a folder; give a file name", file=target)
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing and not overwrite:
        names = ", ".join(str(t) for t in existing)
        raise OutputError(f"{names}: already exist{'s' if len(existing) == 1 else ''}; "
                          "dossier does not overwrite a file unless asked", hint=FORCE_HINT)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temporary_copy(target: Path, data: bytes, mode: int) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)  # mkstemp makes 0600; give the permissions of a new file
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _move_into_place(temporary: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # fails if the name exists: never a silent overwrite
    except FileExistsError:
        raise OutputError("appeared while it was being written; not overwritten", file=target,
                          hint=FORCE_HINT) from None
    except OSError:  # no hard links on this filesystem: check, then rename
        if target.exists() or target.is_symlink():
            raise OutputError("appeared while it was being written; not overwritten",
                              file=target, hint=FORCE_HINT) from None
        os.replace(temporary, target)
        return
    temporary.unlink()


def write_files_atomic(files: Sequence[tuple[Path, bytes]], *, overwrite: bool = False,
                       inputs: Iterable[Path] = ()) -> list[Path]:
    """Write each (path, bytes) atomically; all are refused if any may not be written.

    Every file is first written and synced to its temporary file, then all are moved into
    place, so a failure while writing leaves every target as it was. ``inputs`` are files the
    command read: never written over, whatever ``overwrite`` says.
    """
    targets = [Path(p) for p, _ in files]
    check_targets(targets, overwrite=overwrite, inputs=inputs)
    mode = 0o666 & ~_umask()
    temporaries: list[Path] = []
    placed: list[Path] = []
    try:
        for target, data in files:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            temporaries.append(_temporary_copy(Path(target), data, mode))
        for temporary, target in zip(temporaries, targets, strict=True):
            _move_into_place(temporary, target, overwrite)
            placed.append(target)
    except BaseException:
        if not overwrite:  # the files placed so far are new: take them back, all or none
            for target in placed:
                target.unlink(missing_ok=True)
        raise
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    for folder in dict.fromkeys(t.parent for t in targets):
        _sync_folder(folder)
    return targets


def write_file_atomic(path: Path, data: bytes, *, overwrite: bool = False,
                      inputs: Iterable[Path] = ()) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_files_atomic`)."""
    return write_files_atomic([(Path(path), data)], overwrite=overwrite, inputs=inputs)[0]
