"""Follow-up and maturity of each cohort: events per endpoint, median follow-up, immaturity.

Median follow-up is the reverse Kaplan-Meier median of the results table (computed by
``endpoints.km.median_followup``); when it is not estimable the table says why. What makes an
endpoint "immature" is data (``criteria/reference/maturity.yaml``), applied here to every
cohort x endpoint and printed as a sentence derived from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import pandas as pd
import yaml

from dossier.registry.schema import DAYS_PER_MONTH
from dossier.render.bibliography import Bibliography
from dossier.render.formatting import count_text, is_missing, median_text, percent_text
from dossier.render.results_index import ResultsIndex
from dossier.resources import resource_dir

MATURITY_FILE = "reference/maturity.yaml"
ENDPOINTS = (("pfs", "Progression-free survival", "progression or death"),
             ("os", "Overall survival", "death"),
             ("dor", "Duration of response", "progression or death after response"))


def _percent(fraction: float) -> str:
    """A threshold as written in the definition: 50%, 33.3%."""
    return f"{fraction * 100:.4g}%"


@dataclass(frozen=True)
class MaturityRule:
    """When an endpoint is immature: too few events, or (optionally) its median not reached."""

    min_event_fraction: float
    median_not_reached: bool
    source: str
    cite: tuple[str, ...]

    def definition(self, bib: Bibliography) -> str:
        """The rule as one sentence a reader can apply, with its references."""
        also = (", or when its Kaplan-Meier median is not reached"
                if self.median_not_reached else "")
        cites = f" {bib.cite(*self.cite)}" if self.cite else ""
        return (f"An endpoint is called immature in a cohort when fewer than "
                f"{_percent(self.min_event_fraction)} of its patients have had the event"
                f"{also}{cites}.")


@lru_cache(maxsize=1)
def maturity_rule() -> MaturityRule:
    """The bundled definition of an immature endpoint."""
    path = resource_dir("criteria") / MATURITY_FILE
    with path.open(encoding="utf-8") as handle:
        block = (yaml.safe_load(handle) or {})["immature"]
    return MaturityRule(min_event_fraction=float(block["min_event_fraction"]),
                        median_not_reached=bool(block.get("median_not_reached", False)),
                        source=" ".join(str(block.get("source") or "").split()),
                        cite=tuple(str(k) for k in block.get("cite") or ()))


def immaturity(rule: MaturityRule, events: int, patients: int, median_reached: bool) -> str:
    """Why an endpoint is immature ("" when it is mature); "no patients" when there are none."""
    if patients == 0:
        return "no patients"
    reasons = []
    if events / patients < rule.min_event_fraction:
        reasons.append(f"{events} of {patients} patients had the event "
                       f"({percent_text(events / patients)}, below "
                       f"{_percent(rule.min_event_fraction)})")
    if rule.median_not_reached and not median_reached:
        reasons.append("median not reached")
    return "; ".join(reasons)


def followup_not_estimable(censored: int, patients: int) -> str:
    """Why the reverse Kaplan-Meier median follow-up is not estimable."""
    if patients == 0:
        return "no patients"
    if censored == 0:
        return "every patient had the event (none censored): follow-up is complete"
    return (f"only {censored} of {patients} patients censored: the reverse Kaplan-Meier "
            f"curve stays above 50%")


def _int(value: object) -> int:
    return 0 if value is None or is_missing(value) else int(float(value))  # type: ignore[arg-type]


def followup_rows(index: ResultsIndex, group: tuple[str, str],
                  rule: MaturityRule) -> list[dict[str, str]]:
    """One row per time-to-event endpoint: patients, events, median, follow-up, maturity."""
    out = []
    for endpoint, name, event in ENDPOINTS:
        n_row = index.get(group, endpoint, "n")
        if n_row is None:
            continue
        patients, events = _int(n_row["n"]), _int(n_row["x"])
        median = index.get(group, endpoint, "median")
        follow = index.get(group, endpoint, "followup")
        reached = median is not None and median["status"] == "ok"
        if follow is not None and follow["status"] == "ok":
            follow_text = median_text(follow)
            censored = _int(follow["x"])
            follow_note = (f"from {censored} censored patient{'s' if censored != 1 else ''}"
                           if censored < patients else "")
        else:
            follow_text = "NE"
            follow_note = followup_not_estimable(_int(follow["x"]) if follow else 0, patients)
        why = immaturity(rule, events, patients, reached)
        out.append({
            "endpoint": name, "event": event,
            "patients": f"{count_text(patients)} {n_row.get('denominator_label') or ''}".strip(),
            "events": (f"{count_text(events)} ({percent_text(events / patients)})"
                       if patients else "0"),
            "median": median_text(median) if median is not None else "NE",
            "followup": follow_text, "followup_note": follow_note,
            "mature": "no patients" if why == "no patients" else ("immature" if why else
                                                                  "mature"),
            "why": "" if why == "no patients" else why,
        })
    return out


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def enrolment_to_cutoff(patients: pd.DataFrame, cutoff: str) -> dict[str, str]:
    """First and last treatment start of a cohort and the months from the last to the cut-off."""
    if "treatment_start" not in patients.columns:
        return {"first": "NE", "last": "NE", "months": "NE"}
    starts = pd.to_datetime(patients["treatment_start"], errors="coerce").dropna()
    end = _day(cutoff)
    if starts.empty:
        return {"first": "NE", "last": "NE", "months": "NE"}
    first, last = starts.min().date(), starts.max().date()
    months = "NE" if end is None else f"{(end - last).days / DAYS_PER_MONTH:.1f}"
    return {"first": first.isoformat(), "last": last.isoformat(), "months": months}
