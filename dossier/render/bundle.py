"""The dossier folder: written whole or not at all, with a manifest that makes it traceable.

A :class:`DossierBundle` writes every output into a temporary sibling of the destination (same
parent folder, hence the same filesystem, so ``os.replace`` is atomic) and only on success swaps
it into place. A failed or interrupted build leaves any earlier dossier untouched and no
half-written folder behind. ``manifest.json`` records the SHA-256 of every input, rule file and
output, the parameters and the software versions, so a reader can tell exactly what produced a
dossier. Output is deterministic: JSON with sorted keys, and a build time taken from
``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) or from the caller, not the clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import TracebackType

import numpy as np
import pandas as pd

from dossier.errors import ConfigurationError, OutputError
from dossier.render.ownership import GENERATOR, MANIFEST_NAME, check_destination
from dossier.render.staging import MARKER_NAME, make_temporary_folder, remove_stale_folders

MANIFEST_VERSION = 2
"""2: ``generator`` signature; ``inputs`` a list of role, name, path, SHA-256 and size."""
MAX_STEM_LENGTH = 80
"""Longest file stem :func:`safe_file_name` returns (hash suffix included)."""

SOFTWARE = ("dossier", "numpy", "pandas", "scipy", "lifelines", "weasyprint", "openpyxl",
            "jinja2", "pypandoc-binary", "resvg-py")
"""Distributions whose versions the manifest records (with Python itself)."""

_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_REPEATS = re.compile(r"([._-])\1+")
_HASH_LENGTH = 8


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:_HASH_LENGTH]


def safe_file_name(cohort_id: str, taken: set[str] | None = None) -> str:
    """Turn a cohort id into a file stem that is safe on every filesystem and still readable.

    The id is ASCII-folded (Unicode NFKD, accents dropped), every character outside
    ``[A-Za-z0-9._-]`` becomes ``_``, runs of ``_``, ``.`` or ``-`` collapse to one (so ``..``
    cannot survive), and leading/trailing separators are stripped (no hidden files, nothing that
    reads as a command-line option, no trailing dot Windows would drop). Windows device names
    (``CON``, ``NUL``, ``COM1`` ...) get a trailing ``_``. A stem longer than
    :data:`MAX_STEM_LENGTH` is cut and given ``-<sha1[:8]>`` of the original id; so is an id that
    folds to nothing ("cohort-<sha1[:8]>") and one whose stem is already in ``taken``. ``taken``
    is compared case-insensitively (macOS and Windows filesystems are), and the returned stem is
    added to it, so a loop over cohorts can never hand two cohorts the same file.

    >>> safe_file_name("Ni\u00f1o | BRAF V600E")
    'Nino_BRAF_V600E'
    """
    text = str(cohort_id)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    stem = _REPEATS.sub(r"\1", _UNSAFE.sub("_", folded)).strip("._-")
    suffix = ""
    if not stem:
        stem, suffix = "cohort", _short_hash(text)
    elif len(stem) > MAX_STEM_LENGTH:
        stem, suffix = stem[: MAX_STEM_LENGTH - _HASH_LENGTH - 1], _short_hash(text)
    name = _join(stem, suffix)
    used = {t.lower() for t in taken} if taken is not None else set()
    if name.lower() in used and not suffix:
        suffix = _short_hash(text)
        name = _join(stem[: MAX_STEM_LENGTH - _HASH_LENGTH - 1], suffix)
    counter = 2
    base = name
    while name.lower() in used:  # the same id twice, or a (very unlikely) hash clash
        name = f"{base}-{counter}"
        counter += 1
    if taken is not None:
        taken.add(name)
    return name


def _join(stem: str, suffix: str) -> str:
    stem = stem.rstrip("._-")
    name = f"{stem}-{suffix}" if suffix else stem
    head, dot, tail = name.partition(".")
    if head.upper() in _WINDOWS_RESERVED:
        name = f"{head}_{dot}{tail}"
    return name


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes as lowercase hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SourceDateError(ConfigurationError, ValueError):
    """SOURCE_DATE_EPOCH that is not a whole number of seconds dossier can date a build with."""


def _build_time(data_time: dt.datetime | None) -> tuple[dt.datetime, str]:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is not None and raw.strip():
        try:
            return dt.datetime.fromtimestamp(int(raw.strip()), tz=dt.UTC), "SOURCE_DATE_EPOCH"
        except (ValueError, OverflowError, OSError):  # not a whole number, or out of range
            raise SourceDateError(
                f"the environment variable SOURCE_DATE_EPOCH must be whole seconds since "
                f"1970-01-01 UTC, got {raw!r}", hint="unset it or give e.g. 1700000000"
            ) from None
    if data_time is not None:
        if data_time.tzinfo is None:
            return data_time.replace(tzinfo=dt.UTC), "caller"
        return data_time.astimezone(dt.UTC), "caller"
    return dt.datetime.now(dt.UTC).replace(microsecond=0), "clock"


def build_timestamp(data_time: dt.datetime | None = None) -> dt.datetime:
    """The build time to stamp on a dossier (timezone-aware, UTC).

    ``SOURCE_DATE_EPOCH`` wins (reproducible-builds convention), then ``data_time`` (a naive
    value is taken as UTC), and only when neither is given the wall clock.
    """
    return _build_time(data_time)[0]


def _iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(obj: object) -> object:
    """Convert ``obj`` to plain JSON types, deterministically.

    numpy scalars and arrays become Python numbers and lists, NaN/inf/NA/NaT become ``None``,
    paths become POSIX strings, dates and times ISO 8601 strings, sets sorted lists, enums their
    value, dataclasses and objects with ``to_dict()`` dicts, data frames lists of records.
    Anything else raises ``TypeError`` naming its type.
    """
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating | Decimal):
        value = float(obj)
        return value if math.isfinite(value) else None
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, Path | PurePosixPath | PureWindowsPath):
        return obj.as_posix()
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, dt.timedelta | pd.Timedelta | np.timedelta64):
        return pd.Timedelta(obj).isoformat()
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else pd.Timestamp(obj).isoformat()
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k) if not isinstance(k, str) else k): to_jsonable(v)
                for k, v in obj.items()}
    if isinstance(obj, set | frozenset):
        items = [to_jsonable(v) for v in obj]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, list | tuple | np.ndarray | pd.Series | pd.Index):
        return [to_jsonable(v) for v in obj]  # element-wise keeps datetime64 as dates
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(dict(zip(map(str, obj.columns), row, strict=True)))
                for row in obj.itertuples(index=False, name=None)]
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    raise TypeError(f"cannot write a {type(obj).__name__} to JSON: {obj!r}")


_FLAT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=False)
"""Encodes a record on one line (C speed: Python's own encoder indents in Python)."""


def _encode(value: object, indent: str, out: list[str]) -> None:
    """``value`` (plain JSON types) into ``out``: a mapping or list that holds another one is
    indented by 2 spaces a level, one that holds only plain values is one line (a record)."""
    if isinstance(value, dict) and value and any(
            isinstance(v, dict | list) for v in value.values()):
        inner = indent + "  "
        out.append("{")
        for k, key in enumerate(sorted(value)):
            out.append(("\n" if k == 0 else ",\n") + inner + _FLAT.encode(key) + ": ")
            _encode(value[key], inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        inner = indent + "  "
        out.append("[")
        for k, item in enumerate(value):
            out.append(("\n" if k == 0 else ",\n") + inner)
            _encode(item, inner, out)
        out.append("\n" + indent + "]")
    else:
        out.append(_FLAT.encode(value))


def dumps_json(obj: object) -> str:
    """Deterministic JSON text: sorted keys, UTF-8 as is, a final newline; nested mappings and
    lists indented by 2 spaces, each record (a mapping or list of plain values) on one line,
    so that a change to one row of a table is a change to one line."""
    out: list[str] = []
    _encode(to_jsonable(obj), "", out)
    return "".join(out) + "\n"


def software_versions() -> dict[str, str | None]:
    """Versions of Python and of :data:`SOFTWARE` (``None`` when a package is not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _file_record(path: Path, key: str, value: str) -> dict[str, object]:
    return {key: value, "sha256": sha256_file(path), "size": path.stat().st_size}


def recorded_path(path: Path) -> str:
    """How the manifest names an input: never absolute, so it tells nothing of the machine.

    A relative path without ``..`` is kept as given (relative to the working directory), a
    path beneath the working directory is made relative to it, any other is its name alone.
    """
    path = Path(path)
    if not path.is_absolute() and ".." not in path.parts:
        return path.as_posix()
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.name


def _input_records(inputs: Mapping[str, Path] | Iterable[tuple[str, Path]]
                   ) -> list[dict[str, object]]:
    pairs = inputs.items() if isinstance(inputs, Mapping) else inputs
    records, seen = [], set()
    for role, path in pairs:
        key = (role, os.path.abspath(path))
        if key in seen:
            continue
        seen.add(key)
        records.append({"role": role, "path": recorded_path(path),
                        **_file_record(Path(path), "name", Path(path).name)})
    return records


class DossierBundle:
    """An output folder that appears complete at ``destination`` or not at all.

    Use as a context manager. Files go into ``.<name>.tmp-<pid>-<random>`` beside
    ``destination`` (with a marker naming its owner, see :mod:`dossier.render.staging`); a clean
    exit moves any previous dossier aside, renames the new folder into place and deletes the
    old one. An exception (``KeyboardInterrupt`` included) deletes the temporary folder and
    leaves ``destination`` as it was. Entering removes the temporary folders of earlier builds
    whose process is gone.

    ``destination`` is replaced only when :func:`~dossier.render.ownership.check_destination`
    allows it: it does not exist, is empty, or holds a dossier dossier wrote (``force`` allows
    any other folder); a folder holding one of ``inputs`` never is. With ``overwrite=False``
    an existing destination is an error.

    >>> with DossierBundle(Path("out/dossier")) as bundle:       # doctest: +SKIP
    ...     bundle.write_json("results.json", results)
    ...     bundle.finish_manifest(inputs={"data": data}, criteria_files=[], parameters={})
    """

    def __init__(self, destination: Path, *, overwrite: bool = True, force: bool = False,
                 inputs: Iterable[Path] = ()) -> None:
        self.destination = Path(destination)
        self.overwrite = overwrite
        self.force = force
        self.inputs = tuple(Path(p) for p in inputs)
        self._temp: Path | None = None
        self._finished = False
        self._committed = False
        self.removed_stale: list[Path] = []
        """Temporary folders of dead earlier builds removed on entry."""

    # ----------------------------------------------------------------------------- lifecycle
    def _check(self) -> None:
        dest = self.destination
        if (dest.exists() or dest.is_symlink()) and not self.overwrite:
            raise OutputError("already exists (overwrite is off)", file=dest)
        check_destination(dest, force=self.force, inputs=self.inputs)

    def __enter__(self) -> DossierBundle:
        if self._temp is not None or self._committed:
            raise RuntimeError("a DossierBundle can be entered only once")
        self._check()
        dest = self.destination
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.removed_stale = remove_stale_folders(dest.parent)
        self._temp = make_temporary_folder(dest)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        temp, self._temp = self._temp, None
        if temp is None:
            return
        if exc_type is not None:
            shutil.rmtree(temp, ignore_errors=True)
            return
        try:
            self._commit(temp)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        self._committed = True

    def _commit(self, temp: Path) -> None:
        dest = self.destination
        self._check()  # the folder may have changed during the build
        (temp / MARKER_NAME).unlink()
        if not (dest.exists() or dest.is_symlink()):
            os.replace(temp, dest)
            return
        old = dest.parent / f".{dest.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.replace(dest, old)
        try:
            os.replace(temp, dest)
        except BaseException:
            os.replace(old, dest)  # put the earlier dossier back
            raise
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)

    @property
    def temporary_folder(self) -> Path:
        """The folder being written (only while the ``with`` block runs)."""
        if self._temp is None:
            raise RuntimeError("DossierBundle is not open: use it in a `with` block")
        return self._temp

    # --------------------------------------------------------------------------------- writes
    def path(self, relative: str) -> Path:
        """Where ``relative`` (a POSIX path inside the dossier) is written; parents are created.

        Absolute paths, drive letters, backslashes, ``..`` and empty parts are refused with
        ``ValueError``, so no output can land outside the dossier folder.
        """
        root = self.temporary_folder
        if self._finished:
            raise RuntimeError("the manifest is written; no file can be added after it")
        text = str(relative)
        if (not text or "\\" in text or "\x00" in text or PurePosixPath(text).is_absolute()
                or PureWindowsPath(text).drive):
            raise ValueError(f"output path must be relative inside the dossier, got {text!r}")
        parts = text.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"output path must not contain '', '.' or '..' parts: {text!r}")
        target = root.joinpath(*parts)
        if not target.resolve().is_relative_to(root.resolve()):
            raise ValueError(f"output path escapes the dossier folder: {text!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_bytes(self, relative: str, data: bytes) -> Path:
        """Write ``data`` to ``relative``; returns the (temporary) path written."""
        target = self.path(relative)
        target.write_bytes(data)
        return target

    def write_text(self, relative: str, text: str) -> Path:
        """Write ``text`` as UTF-8 with the line endings it has (no platform translation)."""
        return self.write_bytes(relative, text.encode("utf-8"))

    def write_json(self, relative: str, obj: object) -> Path:
        """Write ``obj`` as deterministic JSON (see :func:`dumps_json`, :func:`to_jsonable`)."""
        return self.write_text(relative, dumps_json(obj))

    def outputs(self) -> list[dict[str, object]]:
        """Path (POSIX, relative), SHA-256 and size of every file written so far, by path."""
        root = self.temporary_folder
        files = sorted(
            (p for p in root.rglob("*") if p.is_file()),
            key=lambda p: p.relative_to(root).as_posix(),
        )
        return [_file_record(p, "path", p.relative_to(root).as_posix()) for p in files
                if p.relative_to(root).as_posix() not in (MANIFEST_NAME, MARKER_NAME)]

    def finish_manifest(
        self,
        *,
        inputs: Mapping[str, Path] | Iterable[tuple[str, Path]],
        criteria_files: Sequence[Path],
        parameters: Mapping[str, object],
        software: Mapping[str, str] | None = None,
        build_time: dt.datetime | None = None,
    ) -> Path:
        """Write ``manifest.json``: what went in, what came out, with which software, and when.

        ``inputs`` are (role, file) pairs ("data", "cohorts", "template", ...; a mapping of role
        to file works too), every file that influenced the build; each is recorded, in the
        order given, with its role, name, path (see :func:`recorded_path`: never absolute, so
        the manifest does not depend on where the build ran), SHA-256 and size.
        ``criteria_files`` are recorded by name, SHA-256 and size in the order given. The
        ``generator`` field (``"dossier"``) and the list of ``outputs`` are how a later build
        recognises the folder as one it may replace. ``software``
        entries are added to (and override) the detected versions. The build time comes from
        :func:`build_timestamp`; ``build_time_source`` says which of ``SOURCE_DATE_EPOCH``,
        ``caller`` or ``clock`` gave it. Call it last: later writes are refused so the
        manifest's list of outputs stays complete.
        """
        moment, source = _build_time(build_time)
        pairs = list(inputs.items() if isinstance(inputs, Mapping) else inputs)
        missing = [str(p) for p in [*(p for _, p in pairs), *criteria_files]
                   if not Path(p).is_file()]
        if missing:
            raise FileNotFoundError(f"manifest inputs not found: {', '.join(missing)}")
        manifest = {
            "generator": GENERATOR,
            "manifest_version": MANIFEST_VERSION,
            "build_time": _iso_utc(moment),
            "build_time_source": source,
            "inputs": _input_records(pairs),
            "criteria": [_file_record(Path(p), "name", Path(p).name) for p in criteria_files],
            "parameters": parameters,
            "software": {**software_versions(), **(software or {})},
            "outputs": self.outputs(),
        }
        target = self.write_json(MANIFEST_NAME, manifest)
        self._finished = True
        return target
