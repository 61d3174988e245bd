"""The research question of each cohort as PICO: population, intervention, comparator, outcomes.

Each field comes from the cohort metadata when it gives one (``population``, ``line_of_therapy``,
``dose``, ``comparator``), else it is derived from the data: the tumour type and alteration, the
line of therapy from the patients' prior lines, the drug, the outcomes the results table reports.
The comparator is the metadata's, else a comparators file's entry for the tumour type and line,
else "none: single-arm".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from dossier.registry.cohort_controls import CohortLine, cohort_lines
from dossier.render.formatting import count_text, is_missing
from dossier.render.results_index import ResultsIndex

SINGLE_ARM = "none: single-arm"
OUTCOME_ROWS = (("cbr", "rate", "evaluable"), ("orr", "rate", "evaluable"),
                ("dcr", "rate", "evaluable"), ("pfs", "median", None), ("os", "median", None),
                ("dor", "median", None), ("severe_trae", "rate", "treated"))
"""The results rows whose labels name a cohort's outcomes (when the table holds them)."""


def _text(meta: Mapping[str, object], key: str) -> str:
    value = meta.get(key)
    return "" if value is None or is_missing(value) else " ".join(str(value).split())


def _first(patients: pd.DataFrame, column: str) -> str:
    if column not in patients.columns or patients.empty:
        return ""
    values = patients[column].dropna()
    return str(values.iloc[0]) if len(values) else ""


def _whole(value: str) -> int | None:
    """A line of therapy given as a whole number (``2``), else None (``2+``, ``any``)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 1 else None


def prior_lines_text(patients: pd.DataFrame) -> str:
    """``median 2 prior systemic lines (range 0-5)``, from the patients' prior_lines."""
    if "prior_lines" not in patients.columns:
        return "prior lines of treatment not recorded"
    lines = pd.to_numeric(patients["prior_lines"], errors="coerce").dropna()
    if lines.empty:
        return "prior lines of treatment not recorded"
    median = float(lines.median())
    shown = f"{median:g}"
    word = "line" if median == 1 else "lines"
    return (f"median {shown} prior systemic {word} (range {count_text(lines.min())}-"
            f"{count_text(lines.max())}; {count_text(len(lines))} patients with a record)")


def _comparator(meta: Mapping[str, object], matched: CohortLine | None,
                tumour_type: str) -> dict[str, str]:
    given = _text(meta, "comparator")
    if given:
        return {"text": given, "kind": "metadata", "source": ""}
    found = matched.comparator if matched is not None else None
    if found is None:
        figures = [f"{name} {float(meta[key]):g} months" for key, name in
                   (("control_pfs_median_months", "median PFS"),
                    ("control_os_median_months", "median OS"))
                   if meta.get(key) is not None and not is_missing(meta.get(key))]
        if figures:
            return {"text": f"external: control figures ({', '.join(figures)})",
                    "kind": "external", "source": "cohort metadata"}
        return {"text": SINGLE_ARM, "kind": "none", "source": ""}
    evidence = getattr(getattr(found, "evidence", None), "label", "")
    treatment = getattr(found, "treatment", None) or "standard of care"
    figures = []
    for value, name in ((getattr(found, "median_pfs_months", None), "median PFS"),
                        (getattr(found, "median_os_months", None), "median OS")):
        if value is not None:
            figures.append(f"{name} {float(value):g} months")
    if getattr(found, "orr_percent", None) is not None:
        figures.append(f"ORR {float(found.orr_percent):g}%")
    lines = getattr(getattr(found, "lines", None), "label", "any")
    text = f"external: {treatment} ({', '.join(figures)})" if figures else f"external: {treatment}"
    source = "; ".join(p for p in (evidence, f"line {lines}", getattr(found, "citation", None)
                                   or "", getattr(found, "url", None) or "") if p)
    return {"text": text, "kind": "external", "source": source}


def outcomes_text(index: ResultsIndex, group: tuple[str, str]) -> list[str]:
    """The labels of the outcomes the results table reports for ``group``, in a fixed order."""
    out = []
    for endpoint, statistic, denominator in OUTCOME_ROWS:
        row = index.get(group, endpoint, statistic, denominator)
        if row is not None and row.get("label"):
            out.append(str(row["label"]))
    return out


def cohort_pico(index: ResultsIndex, group: tuple[str, str], patients: pd.DataFrame,
                meta: Mapping[str, object], comparators: Any = None) -> dict[str, object]:
    """PICO of one cohort as text, each field saying whether it was given or derived.

    ``comparators`` is an optional :class:`dossier.registry.comparators.Comparators` (anything
    with ``find(tumour_type, line)``); a whole-number ``line_of_therapy`` in the metadata picks
    the line, otherwise only an any-line entry applies.
    """
    tumour = _first(patients, "tumour_type")
    alteration = _first(patients, "alteration")
    population = _text(meta, "population") or f"{tumour} with {alteration}".strip()
    line_given = _text(meta, "line_of_therapy")
    line = (f"line of therapy: {line_given}" if line_given
            else f"{prior_lines_text(patients)}")
    dose = _text(meta, "dose")
    drug = _first(patients, "drug")
    # the same tumour type, line and entry the verdicts are scored against (one rule)
    cohort = _first(patients, "cohort_id")
    given = _whole(line_given) if line_given else None
    matched = cohort_lines(patients, pd.DataFrame({"cohort_id": [cohort],
                                                   "line_of_therapy": [given]}),
                           comparators).get(cohort) if comparators is not None else None
    comparator = _comparator(meta, matched, tumour)
    return {
        "population": population, "line": line,
        "intervention": f"{drug}, {dose}" if dose else drug,
        "dose_given": bool(dose),
        "comparator": comparator["text"], "comparator_kind": comparator["kind"],
        "comparator_source": comparator["source"],
        "outcomes": outcomes_text(index, group),
    }
