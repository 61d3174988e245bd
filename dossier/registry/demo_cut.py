"""The demo registry as it stood at an earlier data cut, so that two cuts can be compared.

A registry re-analysed at every data cut only grows: patients are added, follow-up lengthens,
censored patients have their events, responses are seen. :func:`cut_registry` turns that back,
applied to the full demo: every patient whose treatment started on or after the cut is removed;
PFS, OS and response times run to the cut at most, and an event after it is censored at the
cut; a response first seen after the cut is not yet known (the best response so far is stable
disease), a response seen but not yet confirmable by a repeat assessment (4 weeks later) is
unconfirmed; a patient whose first assessment falls after the cut is not yet response-evaluable.
Stage status is not carried over: the engine recomputes it from what remains. The demo's other
columns (baseline, adverse-event grade, prior treatment) describe the patient at enrolment and
are kept; any other column of days from treatment start that lies after the cut is blanked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from dossier.errors import ConfigurationError
from dossier.registry.demo import DATA_CUTOFF, FIRST_START

__all__ = ["CONFIRMATION_DAYS", "FIRST_ASSESSMENT_DAYS", "cut_registry", "parse_cut",
           "write_demo_cut"]

FIRST_ASSESSMENT_DAYS = 56
"""The demo's first tumour assessment, 8 weeks after treatment start (DRUP's schedule)."""
CONFIRMATION_DAYS = 28
"""A CR or PR is confirmed by a repeat assessment at least 4 weeks after it (RECIST 1.1)."""

_KEPT_DAYS = ("prior_pfs_days",)
"""Day columns that describe the time before treatment, not follow-up: never cut."""


class CutDateError(ConfigurationError, ValueError):
    """A --cut date that is not a date inside the demo's follow-up."""


def parse_cut(text: str) -> dt.date:
    """The cut date from ``YYYY-MM-DD``; it must fall after the demo's first patient and on or
    before its data cut-off (a cut outside them would be empty or the full demo)."""
    try:
        cut = dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise CutDateError(f"--cut {text!r} is not a date; give it as YYYY-MM-DD, e.g. "
                           "2024-07-01") from None
    if not FIRST_START < cut <= DATA_CUTOFF:
        raise CutDateError(
            f"--cut {cut.isoformat()} lies outside the demo's follow-up; give a date after "
            f"{FIRST_START.isoformat()} (the first patient) and on or before "
            f"{DATA_CUTOFF.isoformat()} (the demo's data cut-off)")
    return cut


def _first_assessment(patients: pd.DataFrame) -> np.ndarray:
    """Day of each evaluable patient's first tumour assessment.

    Progressive disease is found at the first assessment (the PFS time); any other best
    response was seen at the scheduled assessment, or earlier when a response or progression
    was recorded before it.
    """
    pfs = patients["pfs_days"].to_numpy(dtype=float)
    event = patients["pfs_event"].to_numpy(dtype=float) == 1
    response = pd.to_numeric(patients["response_days"]).to_numpy(dtype=float, na_value=np.nan)
    scheduled = np.full(len(patients), float(FIRST_ASSESSMENT_DAYS))
    earlier = np.fmin(np.where(event, pfs, np.nan), response)
    first = np.fmin(scheduled, earlier)
    return np.where(patients["best_response"].to_numpy(dtype=object) == "PD", pfs, first)


def cut_registry(patients: pd.DataFrame, cohorts: pd.DataFrame,
                 cut: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(patients, cohorts)`` of the demo as they stood at ``cut`` (see the module docstring).

    Patients keep their ids and order; cohorts without a patient at the cut are dropped.
    The same inputs always give the same tables.
    """
    starts = pd.to_datetime(patients["treatment_start"])
    kept = patients.loc[(starts < pd.Timestamp(cut)).to_numpy()].copy()
    follow = (pd.Timestamp(cut) - pd.to_datetime(kept["treatment_start"])).dt.days.to_numpy()
    for stem in ("pfs", "os"):
        days = kept[f"{stem}_days"].to_numpy(dtype=np.int64)
        after = days > follow
        kept[f"{stem}_days"] = np.where(after, follow, days).astype(np.int64)
        kept[f"{stem}_event"] = np.where(after, 0, kept[f"{stem}_event"]).astype(np.int64)

    evaluable = kept["response_evaluable"].to_numpy(dtype=np.int64) == 1
    assessed = _first_assessment(kept) <= follow
    not_yet = evaluable & ~assessed
    response = pd.to_numeric(kept["response_days"]).to_numpy(dtype=float, na_value=np.nan)
    unseen = evaluable & assessed & (response > follow)  # the response came after the cut
    unconfirmed = evaluable & assessed & ~unseen & (response + CONFIRMATION_DAYS > follow)
    best = kept["best_response"].to_numpy(dtype=object).copy()
    best[unseen] = "SD"
    best[not_yet] = None
    confirmed = kept["response_confirmed"].astype("Int64").copy()
    confirmed[unseen | not_yet] = pd.NA
    confirmed[unconfirmed & (confirmed == 1).fillna(False).to_numpy()] = 0
    kept["best_response"] = best
    kept["response_confirmed"] = confirmed
    kept["response_days"] = pd.array(np.where(unseen | not_yet, np.nan, response),
                                      dtype="Int64")
    kept["response_evaluable"] = np.where(not_yet, 0, kept["response_evaluable"]).astype(
        np.int64)
    for column in kept.columns:
        if column.endswith("_days") and column not in (*_KEPT_DAYS, "pfs_days", "os_days",
                                                       "response_days"):
            values = pd.to_numeric(kept[column])
            kept[column] = values.mask(values > follow)
    kept = kept.reset_index(drop=True)
    present = set(kept["cohort_id"])
    remaining = cohorts.loc[cohorts["cohort_id"].isin(present)].reset_index(drop=True)
    return kept, remaining


def write_demo_cut(path: Path | str, cut: dt.date, n_patients: int | None = None,
                   seed: int | None = None, *, overwrite: bool = False) -> tuple[Path, Path, int]:
    """Write the demo as it stood at ``cut``, like :func:`dossier.registry.demo.write_demo`.

    The patients, cohorts and adverse-event files are written atomically and never over an
    existing file unless ``overwrite``.
    Returns (patients_path, cohorts_path, number of patients at the cut).
    """
    from dossier.atomic import check_targets, write_files_atomic
    from dossier.registry import demo

    path = Path(path)
    writer = demo._WRITERS.get(path.suffix.lower())
    if writer is None:
        kind = f"a {path.suffix!r} file" if path.suffix else "a file without suffix"
        raise ValueError(f"{path}: cannot write the demo registry as {kind}; "
                         "use .csv, .xlsx or .parquet")
    n_patients = demo._TREATED if n_patients is None else n_patients
    seed = demo.DEMO_SEED if seed is None else seed
    cohorts_path = path.with_name(path.stem + ".cohorts.yaml")
    events_path = demo.events_path_of(path)
    check_targets([path, cohorts_path, events_path], overwrite=overwrite)
    full, full_cohorts = demo.demo_registry(n_patients, seed)
    patients, cohorts = cut_registry(full, full_cohorts, cut)
    patients, events = cut_adverse_events(
        patients, demo.demo_adverse_events(full, seed), cut)
    head = f"# The demo as it stood at the data cut {cut.isoformat()}.\n".encode()
    write_files_atomic([(path, writer(patients)),
                        (cohorts_path, head + demo._cohorts_yaml(cohorts, n_patients, seed)),
                        (events_path, demo._csv_bytes(events))],
                       overwrite=overwrite)
    return path, cohorts_path, len(patients)


def cut_adverse_events(patients: pd.DataFrame, events: pd.DataFrame, cut: dt.date
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The adverse events known at ``cut`` (patients still in the registry, onset on or before
    the cut), and each patient's worst treatment-related grade recomputed from them, so the
    patient file and the events file agree as they do in the full demo."""
    onset = pd.to_datetime(events["onset_date"]).dt.date
    kept = events[events["patient_id"].isin(set(patients["patient_id"])) & (onset <= cut)]
    kept = kept.reset_index(drop=True)
    related = kept[kept["related"].astype(int) == 1]
    worst = related.groupby("patient_id")["grade"].max()
    patients = patients.copy()
    known = patients["worst_ae_grade"].notna()
    recomputed = patients["patient_id"].map(worst).fillna(0)
    patients.loc[known, "worst_ae_grade"] = recomputed[known].astype(
        patients["worst_ae_grade"].dtype)
    return patients, kept
