"""Patient identifiers in the outputs: replaced by per-dossier sequential codes, kept, or left out.

A registry's ``patient_id`` (a hospital or trial number) must not leave the data holder with a
dossier. By default each patient gets a code, ``P0001`` onwards, numbered by cohort, then start
of treatment, then registry id, so that a rebuild of the same data gives the same codes. The
build hands the renderers a copy of the registry that holds only the codes (or no identifier at
all); the endpoints are computed from the registry itself, so no number depends on the choice.
The key from codes back to the registry's ids is written only on request, to a file outside the
dossier folder (:func:`write_key`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from dossier.config import PATIENT_ID_CHOICES
from dossier.errors import ConfigurationError, OutputError
from dossier.registry.load import Registry
from dossier.registry.validate import Issue

PSEUDONYMISE, KEEP, OMIT = PATIENT_ID_CHOICES
CODE_PREFIX = "P"
CODE_DIGITS = 4
"""Codes are ``P`` and at least four digits (``P0001``); more when a registry has more."""
KEY_COLUMNS = ("code", "patient_id")


def _checked_mode(mode: str) -> str:
    if mode not in PATIENT_ID_CHOICES:
        raise ConfigurationError(f"--patient-ids must be one of {', '.join(PATIENT_ID_CHOICES)}, "
                                 f"not {mode!r}")
    return mode


def patient_codes(patients: pd.DataFrame) -> dict[str, str]:
    """Registry id -> code, numbered by cohort, then treatment start, then id (deterministic)."""
    order = pd.DataFrame({
        "cohort": patients["cohort_id"].astype(str),
        "start": pd.to_datetime(patients["treatment_start"], errors="coerce"),
        "id": patients["patient_id"].astype(str),
    }).sort_values(["cohort", "start", "id"], kind="mergesort", na_position="last")
    digits = max(CODE_DIGITS, len(str(len(order))))
    return {pid: f"{CODE_PREFIX}{n:0{digits}d}" for n, pid in enumerate(order["id"], start=1)}


def _mentions(pid: str) -> re.Pattern[str]:
    """The id as a word of its own: 'P1' in 'patient P1 has', not in 'P10' or 'row 1'."""
    return re.compile(rf"(?<![\w-]){re.escape(pid)}(?![\w-])")


def _issue(issue: Issue, shown: Mapping[str, str], omitted: str) -> Issue:
    """The issue with its patient's id replaced wherever it names it."""
    pid = issue.patient_id
    if not pid:
        return issue
    new = shown.get(pid, omitted)
    words = _mentions(pid)
    return replace(issue, patient_id=new or None,
                   value=new if issue.value == pid else issue.value,
                   message=words.sub(new or omitted, issue.message))


def shown_registry(registry: Registry, mode: str,
                   codes: Mapping[str, str] | None = None) -> Registry:
    """The registry as the renderers may see it: ids replaced by ``codes`` (pseudonymise), as
    they are (keep) or blank (omit), in the patients and in the validation report."""
    mode = _checked_mode(mode)
    if mode == KEEP:
        return registry
    ids = registry.patients["patient_id"].astype(str)
    if mode == PSEUDONYMISE:
        codes = patient_codes(registry.patients) if codes is None else codes
        shown = dict(codes)
    else:
        shown = dict.fromkeys(ids, "")
    patients = registry.patients.assign(patient_id=ids.map(shown).astype(object))
    omitted = "a patient" if mode == OMIT else ""
    report = replace(registry.report,
                     issues=tuple(_issue(i, shown, omitted) for i in registry.report.issues))
    return replace(registry, patients=patients, report=report)


def identifiers_sentence(mode: str, key_written: bool = False) -> str:
    """What the methods section says about patient identifiers."""
    mode = _checked_mode(mode)
    if mode == KEEP:
        return "Patient identifiers: shown as they are in the registry."
    if mode == OMIT:
        return ("Patient identifiers: left out; listings have no identifier column and "
                "figures no patient labels.")
    kept = ("the key that maps them back to the registry's identifiers was written to a file "
            "apart from this dossier and is kept by the data holder" if key_written else
            "no key was written with this dossier, so the codes lead back to a patient only "
            "through the registry held by the data holder")
    return (f"Patient identifiers: replaced by sequential codes ({CODE_PREFIX}"
            f"{1:0{CODE_DIGITS}d}, ...), numbered by cohort, start of treatment and registry "
            f"identifier; {kept}.")


def check_key_path(key: Path, out: Path, inputs: Sequence[Path] = (), *,
                   force: bool = False) -> Path:
    """Refuse, before any work, a key file the build must not write.

    The key never goes inside the dossier folder (which is shared), never replaces an input,
    and replaces an existing file only with ``force``.
    """
    key = Path(key)
    resolved = key.resolve()
    hint = "give --patient-key a file outside the --out folder"
    if resolved == Path(out).resolve() or resolved.is_relative_to(Path(out).resolve()):
        raise OutputError("the patient key would be written inside the dossier folder "
                          f"{out}, which is shared with the dossier", file=key, hint=hint)
    if any(resolved == Path(p).resolve() for p in inputs):
        raise OutputError("the patient key would replace an input of this build", file=key)
    if key.is_dir():
        raise OutputError("the patient key must be a file, not a folder", file=key)
    if key.exists() and not force:
        raise OutputError("the patient key file exists already; nothing was written",
                          file=key, hint="pass --force to replace it, or choose a new file")
    if not key.parent.is_dir():
        raise OutputError("the patient key's folder does not exist", file=key)
    return key


def key_csv(codes: Mapping[str, str]) -> str:
    """The key as CSV text: one line per code, in code order, ids exactly as in the registry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(KEY_COLUMNS)
    for pid, code in sorted(codes.items(), key=lambda item: item[1]):
        writer.writerow((code, pid))
    return buffer.getvalue()


def write_key(key: Path, codes: Mapping[str, str]) -> Path:
    """Write the key atomically (a temporary file beside it, then renamed into place)."""
    key = Path(key)
    handle, temporary = tempfile.mkstemp(prefix=f".{key.name}.", suffix=".tmp", dir=key.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(key_csv(codes))
        os.chmod(temporary, 0o600)  # identifiable data: readable by its owner only
        os.replace(temporary, key)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return key


def read_key(key: Path) -> dict[str, str]:
    """Code -> registry id, from a key file :func:`write_key` wrote."""
    with Path(key).open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    if not rows or tuple(rows[0]) != KEY_COLUMNS:
        raise OutputError(f"not a patient key (its header is not {', '.join(KEY_COLUMNS)})",
                          file=key)
    return {code: pid for code, pid in rows[1:]}
