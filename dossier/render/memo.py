"""The last build's figures and tables of each cohort, kept so that a rebuild makes only those
whose inputs changed.

A step of the render context that is costly and depends on nothing but its arguments (a
cohort's Kaplan-Meier and swimmer plots, its population tables) is run through
:meth:`Memo.value` with those arguments. Its result is kept under a key that hashes the step's
name, every argument (a table as :func:`frame_digest`, anything else as JSON) and the
software (dossier's version and source code, the libraries' versions). A later build takes the
kept result only when the key is equal and the stored bytes hash to what the index recorded.
A result is kept only when it is made of plain JSON values (text, numbers, booleans, lists and
mappings with text keys), so what a rebuild takes is equal to what the step would make; the
dossier is byte-identical either way (tested).

The values live in the dossier's cache file beside the laid-out PDF parts
(:mod:`dossier.render.pdf_cache`): those of the latest build only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

FORMAT = 1
"""Version of the keys and the stored values; another version's are not used."""
LIBRARIES = ("pandas", "numpy", "scipy")
"""Libraries whose version is part of every key (the numbers the steps compute)."""

T = TypeVar("T")
Lookup = Callable[[str], bytes | None]


def _add_values(digest: hashlib._Hash, values: np.ndarray) -> None:
    if values.dtype.kind in "biufcmM":  # numbers, booleans, times: their exact bytes
        digest.update(f"{values.dtype.str}:{len(values)}\0".encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    else:  # anything else value by value, as Python writes it (1 and "1" differ)
        digest.update(f"object:{len(values)}\0".encode())
        digest.update("\x1f".join(map(repr, values.tolist())).encode("utf-8", "backslashreplace"))
    digest.update(b"\0")


def frame_digest(frame: pd.DataFrame | None) -> str:
    """SHA-256 of a table: its index, and each column's name, type and values, exactly (a
    number's bytes, any other value's ``repr``): equal digest, equal table."""
    digest = hashlib.sha256()
    if frame is None:
        return digest.hexdigest()
    digest.update(f"{frame.shape}\0".encode())
    _add_values(digest, frame.index.to_numpy())
    for name, column in frame.items():
        digest.update(f"{name!r}:{column.dtype}\0".encode("utf-8", "backslashreplace"))
        _add_values(digest, column.to_numpy())
    return digest.hexdigest()


def _default(value: object) -> object:
    if isinstance(value, pd.DataFrame):
        return {"frame": frame_digest(value)}
    if isinstance(value, set | frozenset):
        return {"set": sorted(map(str, value))}
    if isinstance(value, np.generic):
        return {type(value).__name__: value.item()}
    if isinstance(value, dt.date | dt.time | pd.Timestamp) or value is pd.NaT:
        return {type(value).__name__: str(value)}
    if value is pd.NA:
        return {"NA": None}
    raise TypeError(f"a memo key cannot hold a {type(value).__name__}: {value!r}")


def _plain(value: object) -> bool:
    """Whether ``value`` is plain JSON (and so comes back from JSON equal and of the same types)."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return True
    if kind is list:
        return all(map(_plain, value))  # type: ignore[arg-type]
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())  # type: ignore[attr-defined]
    return False


def package_version(name: str) -> str:
    """An installed package's version ("-" when it is not installed)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def software_key() -> str:
    """What every key shares: dossier's version and source, the libraries' versions."""
    from dossier import __version__
    from dossier.render.pdf_cache import source_hash

    record = {"format": FORMAT, "dossier": __version__, "source": source_hash(),
              "libraries": {name: package_version(name) for name in LIBRARIES}}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


class Memo:
    """Results of costly steps: taken from the last build (``lookup``) when their key is
    there, else made; :attr:`kept` holds this build's, as stored bytes, for the next one."""

    def __init__(self, lookup: Lookup | None = None) -> None:
        self._lookup = lookup
        self._software: str | None = None
        self.kept: dict[str, bytes] = {}
        self.reused: list[str] = []
        """The steps whose result was taken from the last build (their names, in order)."""
        self.made: list[str] = []
        """The steps that were run."""

    def key(self, step: str, inputs: Sequence[object]) -> str:
        """The key of ``step`` run with ``inputs``."""
        if self._software is None:
            self._software = software_key()
        text = json.dumps(list(inputs), sort_keys=True, default=_default, allow_nan=True)
        digest = hashlib.sha256(f"{self._software}\0{step}\0".encode())
        digest.update(text.encode("utf-8"))
        return digest.hexdigest()

    def value(self, step: str, inputs: Sequence[object], make: Callable[[], T]) -> T:
        """``make()``, or the result the last build kept for ``step`` with equal ``inputs``
        (every value ``make`` depends on must be among them)."""
        key = self.key(step, inputs)
        stored = self._lookup(key) if self._lookup is not None else None
        if stored is not None:
            self.kept[key] = stored
            self.reused.append(step)
            return json.loads(stored)  # type: ignore[no-any-return]
        result = make()
        if _plain(result):
            # in its own order: a template shows a mapping's items in the order they have
            self.kept[key] = json.dumps(result, allow_nan=True).encode("utf-8")
        self.made.append(step)
        return result
