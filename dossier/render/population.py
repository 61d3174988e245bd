"""Baseline, safety and quality-of-life tables of a cohort (and of all cohorts), as text.

The counts come from ``dossier.endpoints.population``; this module only writes them the way the
PDF, Word and Markdown show them ("63 (25-88)", "12 (37.5%)", "not collected") and adds the
waterfall plot and the quality-of-life statement from the cohort metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from dossier.endpoints.adverse_events import GRADE_BANDS, event_lines, group_events, term_rows
from dossier.endpoints.population import (
    NOT_COLLECTED,
    Line,
    baseline_lines,
    collected_columns,
    worst_grade_lines,
)
from dossier.render.figures_waterfall import waterfall_svg
from dossier.render.formatting import count_text, percent_text

QOL_WORDS = {
    True: "improved: the cohort's quality-of-life evidence shows an improvement",
    False: "no improvement shown by the cohort's quality-of-life evidence",
}
PER_EVENT_NOTE = ("Adverse events are not given per event: the registry holds each patient's "
                  "worst treatment-related grade only.")
PER_EVENT_TOPICS = ("Adverse events by system organ class and preferred term",
                    "Serious adverse events", "Discontinuations due to adverse events")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def line_value(line: Line) -> str:
    """The cell text of a line: 'not collected', '63 (25-88)' or '12 (37.5%)'."""
    if line.status:
        return line.status
    if line.median is not None or (line.unit and not line.category):
        if line.median is None:
            return "no values"
        return f"{_number(line.median)} ({_number(line.minimum)}-{_number(line.maximum)})"
    if line.characteristic == "Patients treated":
        return count_text(line.n)
    return f"{count_text(line.n)} ({percent_text(line.share)})"


def line_label(line: Line) -> str:
    """The row label: the characteristic (with unit and 'median (range)') or the category."""
    if line.category:
        return line.category
    if line.unit and not line.status:
        return f"{line.characteristic}, {line.unit}: median (range)"
    return line.characteristic


def table_rows(lines: Sequence[Line]) -> list[dict[str, str]]:
    """Rows for a template: a 'group' row heads the categories of one characteristic."""
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for line in lines:
        if line.category and line.characteristic not in seen:
            rows.append({"kind": "group", "label": line.characteristic, "value": ""})
        seen.add(line.characteristic)
        rows.append({"kind": "item" if line.category else "line", "label": line_label(line),
                     "value": line_value(line)})
    return rows


def quality_of_life(meta: Mapping[str, object]) -> str:
    """What the cohort metadata says about quality of life, or 'not collected'."""
    value = meta.get("qol_improved")
    if value is None or (isinstance(value, float) and value != value):
        return NOT_COLLECTED
    return QOL_WORDS[bool(value)]


def _share(n: int, total: int) -> str:
    return f"{count_text(n)} ({percent_text(n / total if total else None)})" if n else "0"


def adverse_event_view(group: pd.DataFrame,
                       events: pd.DataFrame | None) -> dict[str, object]:
    """The per-event safety rows of a group: 'not collected' lines without an AE file, else the
    organ class / term x grade table and the serious / discontinuation lines."""
    if events is None:
        return {"per_event": [{"label": t, "value": NOT_COLLECTED} for t in PER_EVENT_TOPICS],
                "safety_note": PER_EVENT_NOTE, "ae_terms": [], "ae_grades": []}
    total = len(group)
    mine = group_events(events, group.index)
    terms = [{"kind": r["kind"], "label": r["pt"] or r["soc"],
              "any": _share(int(r["any"]), total),
              "grades": [_share(int(r[label]), total) for label, _, _ in GRADE_BANDS]}
             for r in term_rows(mine)]
    return {"per_event": [{"label": line.characteristic, "value": line_value(line)}
                          for line in event_lines(mine, events, total)],
            "safety_note": ("Adverse events by system organ class and preferred term: patients "
                            "counted once per term and class, at the worst grade of their "
                            "events there; any relation to the drug." if terms else
                            "No adverse events recorded for these patients."),
            "ae_terms": terms,
            "ae_grades": [f"Grade {label}" for label, _, _ in GRADE_BANDS]}


def population_view(group: pd.DataFrame, collected: frozenset[str],
                    meta: Mapping[str, object] | None, number: int | None,
                    events: pd.DataFrame | None = None) -> dict[str, object]:
    """Everything the population partials show for one cohort (``number``) or all (None);
    ``events`` are the registry's adverse events per event, when given."""
    who = "All cohorts" if number is None else f"Cohort {number}"
    has_change = "best_pct_change" in collected
    view: dict[str, object] = {
        "heading": f"{who} (n = {count_text(len(group))})",
        "baseline": table_rows(baseline_lines(group, collected)),
        "safety": table_rows(worst_grade_lines(group, collected)),
        **adverse_event_view(group, events),
        "qol": quality_of_life(meta) if meta is not None else "",
        "waterfall_svg": "",
        "waterfall_note": "" if has_change else (
            "Waterfall plot: not shown, the best percentage change in target lesions is "
            f"{NOT_COLLECTED}."),
    }
    if has_change and number is not None:
        view["waterfall_svg"] = waterfall_svg(
            group, title=f"{who}: best percentage change in target lesions, by patient")
    return view


def pooled_population(patients: pd.DataFrame,
                      events: pd.DataFrame | None = None) -> dict[str, object]:
    """The population view of all treated patients of the registry (no waterfall plot)."""
    return population_view(patients, collected_columns(patients), None, None, events)
