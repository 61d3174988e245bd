"""Rebuilds in seconds: the cache a dossier folder keeps of its own build.

A dossier folder holds ``.dossier-cache.zip`` (listed in its manifest like every output): the
laid-out PDF parts of the build that wrote it (:mod:`dossier.render.pdf_cache`), each
cohort's figures and population tables (:mod:`dossier.render.memo`) and the *build key*, a
SHA-256 of everything that can change an output:

- the software: dossier's version and the hash of its source code, its bundled templates and
  rule files, the versions of the libraries the manifest records;
- every input file's bytes (data, cohort metadata, adverse events, ADaM datasets, mapping,
  dossier.toml, comparators, rule files, templates, Word template, carried-over narrative);
- what was read and computed from them: the registry's tables and validation report, the
  endpoint results, the verdicts and the parameters;
- the options: settings, formats, engine, ``--only``, patient identifiers, build time, and
  the changes since an earlier cut.

A build into a folder whose cache holds the same build key, and whose outputs still hash to
what its manifest recorded, copies those outputs instead of rendering them. Otherwise the
build renders, taking from the cache every PDF part whose own key is unchanged. Either way the
folder is byte-identical to a clean build's. ``dossier build --no-cache`` reads no cache (it
still writes one for the next build).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from dossier.render.bundle import DossierBundle, sha256_file, software_versions
from dossier.render.memo import frame_digest
from dossier.render.ownership import MANIFEST_NAME, listed_outputs
from dossier.render.pdf_cache import INDEX, source_hash
from dossier.resources import resource_dir

CACHE_NAME = ".dossier-cache.zip"
"""The cache file inside a dossier folder."""


def earlier_cache(folder: Path) -> Path | None:
    """The cache of the dossier in ``folder``, if it is a dossier folder that lists one."""
    folder = Path(folder)
    listed = listed_outputs(folder) if folder.is_dir() else None
    path = folder / CACHE_NAME
    if listed is None or CACHE_NAME not in listed or path.is_symlink() or not path.is_file():
        return None
    return path


def cached_build_key(cache: Path | None) -> str | None:
    """The build key recorded in a cache file (None when there is none or it is unreadable)."""
    if cache is None:
        return None
    try:
        with zipfile.ZipFile(cache) as archive:
            index = json.loads(archive.read(INDEX))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None
    build = index.get("build") if isinstance(index, dict) else None
    key = build.get("key") if isinstance(build, dict) else None
    return key if isinstance(key, str) else None


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted((p for p in folder.rglob("*") if p.is_file()),
                           key=lambda p: p.relative_to(folder).as_posix()):
            digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_key(*, inputs: Iterable[tuple[str, Path]], frames: Mapping[str, pd.DataFrame | None],
              records: Mapping[str, object]) -> str:
    """The build key: software, the bytes of every input file, the tables read and computed
    (``frames``), and every other value an output shows or depends on (``records``,
    JSON-able with ``str`` for the rest)."""
    digest = hashlib.sha256()

    def add(name: str, text: str) -> None:
        digest.update(name.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")

    add("software", json.dumps(software_versions(), sort_keys=True))
    add("source", source_hash())
    for folder in ("templates", "criteria"):
        add(folder, _folder_hash(resource_dir(folder)))
    for role, path in inputs:
        add(f"input:{role}:{Path(path).name}", sha256_file(Path(path)))
    for name, frame in frames.items():
        add(f"frame:{name}", frame_digest(frame))
    add("records", json.dumps(records, sort_keys=True, default=str))
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, object] | None:
    try:
        manifest = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _manifest_outputs(folder: Path) -> list[dict[str, object]] | None:
    outputs = (_manifest(folder) or {}).get("outputs")
    return outputs if isinstance(outputs, list) else None


def data_changed(folder: Path, sha256: str) -> bool:
    """Whether the dossier in ``folder`` was built from another data file than the one whose
    hash is ``sha256`` (or there is none): then its outputs cannot be reused, since the build
    key holds that hash, and a build can start its PDF workers before it knows the key."""
    parameters = (_manifest(folder) or {}).get("parameters")
    return not (isinstance(parameters, dict) and parameters.get("data_sha256") == sha256)


def reuse_outputs(folder: Path, bundle: DossierBundle, skip: Sequence[str] = (CACHE_NAME,)
                  ) -> list[str] | None:
    """Copy every output of the dossier in ``folder`` into ``bundle``, when each still hashes
    to what its manifest recorded; None (and nothing copied) when one does not.

    Files are hard-linked where the filesystem allows (the earlier folder is removed when the
    new one takes its place), else copied.
    """
    outputs = _manifest_outputs(Path(folder))
    if outputs is None:
        return None
    chosen: list[tuple[str, Path]] = []
    for record in outputs:
        if not isinstance(record, dict):
            return None
        relative, sha = record.get("path"), record.get("sha256")
        if not isinstance(relative, str) or relative in skip:
            continue
        source = Path(folder).joinpath(*relative.split("/"))
        if source.is_symlink() or not source.is_file() or sha256_file(source) != sha:
            return None
        chosen.append((relative, source))
    for relative, source in chosen:
        target = bundle.path(relative)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return [relative for relative, _ in chosen]
