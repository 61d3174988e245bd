"""Adverse events per event, counted per patient: by organ class and term x grade, serious
adverse events and discontinuations due to an adverse event.

A patient counts once per term (and once per organ class) at the worst grade of its events
there, the usual way of safety tables; percentages are of the treated patients of the group.
A flag no event carries (serious, led to discontinuation) is "not collected", not zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dossier.endpoints.population import NOT_COLLECTED, Line

GRADE_BANDS = (("1-2", 1, 2), ("3", 3, 3), ("4", 4, 4), ("5", 5, 5))
"""Grade columns of the organ class / term table (CTCAE)."""


def group_events(events: pd.DataFrame, positions: Sequence[int]) -> pd.DataFrame:
    """The events of the patients at ``positions`` of the canonical patient frame."""
    return events[events["patient"].isin(list(positions))]


def _band_counts(events: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Patients per ``keys`` group ("any", then one column per grade band), each counted once
    at its worst grade there; indexed by ``keys``, sorted. One groupby for all groups: a
    table of a cohort has hundreds of terms, and a groupby each was most of a build's time."""
    worst = events.groupby([*keys, "patient"], sort=True)["grade"].max()
    grades = worst.to_numpy(dtype=float, na_value=np.nan)
    columns = {"any": np.ones(len(grades), dtype=np.int64)}
    for label, low, high in GRADE_BANDS:
        columns[label] = ((grades >= low) & (grades <= high)).astype(np.int64)
    index = worst.index.droplevel(-1)
    return pd.DataFrame(columns, index=index).groupby(level=list(range(len(keys))),
                                                     sort=True).sum()


def _records(table: pd.DataFrame) -> list[tuple[object, dict[str, int]]]:
    labels = list(table.columns)
    return [(key, dict(zip(labels, map(int, counts), strict=True)))
            for key, counts in zip(table.index, table.to_numpy(), strict=True)]


def term_rows(events: pd.DataFrame) -> list[dict[str, object]]:
    """Organ class rows, each followed by its terms: patients by worst grade, most frequent
    first (then alphabetical)."""
    if events.empty:
        return []
    terms: dict[object, list[tuple[object, dict[str, int]]]] = {}
    for (soc, pt), counts in _records(_band_counts(events, ["soc", "pt"])):
        terms.setdefault(soc, []).append((pt, counts))
    socs = _records(_band_counts(events, ["soc"]))
    socs.sort(key=lambda item: (-item[1]["any"], str(item[0])))
    rows: list[dict[str, object]] = []
    for soc, counts in socs:
        rows.append({"kind": "soc", "soc": str(soc), "pt": "", **counts})
        mine = sorted(terms.get(soc, []), key=lambda item: (-item[1]["any"], str(item[0])))
        rows += [{"kind": "pt", "soc": str(soc), "pt": str(pt), **counts} for pt, counts in mine]
    return rows


def _flag_line(events: pd.DataFrame, all_events: pd.DataFrame, flag: str, name: str,
               total: int) -> Line:
    if all_events[flag].isna().all():
        return Line("safety", name, status=NOT_COLLECTED)
    hit = events[events[flag].fillna(False).astype(bool)]
    return Line("safety", name, "patients", n=int(hit["patient"].nunique()), denominator=total)


def event_lines(events: pd.DataFrame, all_events: pd.DataFrame, total: int) -> list[Line]:
    """Patients with any adverse event, a serious one, and one that led to discontinuation."""
    return [
        Line("safety", "Any adverse event", "patients", n=int(events["patient"].nunique()),
             denominator=total),
        _flag_line(events, all_events, "serious", "Serious adverse events", total),
        _flag_line(events, all_events, "discontinued",
                   "Discontinuations due to adverse events", total),
    ]


def term_records(events: pd.DataFrame | None, group: pd.DataFrame) -> list[dict[str, object]]:
    """Organ class / term rows of a group's patients as plain records (counts as numbers);
    one 'not collected' record when there is no adverse-event file."""
    if events is None:
        return [{"soc": "", "pt": "", "status": NOT_COLLECTED, "treated": len(group)}]
    mine = group_events(events, group.index)
    return [{"soc": r["soc"], "pt": r["pt"], "status": "", "treated": len(group),
             **{key: r[key] for key in ("any", *(label for label, _, _ in GRADE_BANDS))}}
            for r in term_rows(mine)]
