"""Study design and analysis sets: the two-stage design, the sets' definitions, each cohort's flow.

The stage sizes and bars are read from the staged rule file in use (DRUP's by default), never
typed here. A cohort's flow (treated -> response-evaluable -> the stages) counts its patients
and looks its stage counts up in the results table; the reasons a patient is not
response-evaluable are read from what the data show (death or progression before any
assessment), since the registry has no column for the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from dossier.registry.schema import FIRST_ASSESSMENT_WINDOW_DAYS
from dossier.render.bibliography import Bibliography
from dossier.render.formatting import count_text, is_missing, rate_text
from dossier.render.results_index import ResultsIndex
from dossier.resources import drup_stages

STAGE_VALUES = ("1", "2", "expansion")
STAGE_NAMES = {"1": "stage 1", "2": "stage 2", "expansion": "expansion"}


def design_stages(rule_files: Sequence[object]) -> tuple[tuple[int, int], ...]:
    """(at_least, of) of each stage: the first staged rule file in use, else DRUP's bundled one."""
    for rule in rule_files:
        stages = getattr(rule, "stages", None) or ()
        if stages:
            return tuple((int(s.at_least), int(s.of)) for s in stages)
    return drup_stages()


def design_text(stages: Sequence[tuple[int, int]], bib: Bibliography) -> list[str]:
    """The two-stage design in sentences, with its sizes and bars and the references."""
    if not stages:
        return []
    words = []
    previous = 0
    for k, (at_least, of) in enumerate(stages, start=1):
        who = (f"the first {of} response-evaluable patients" if k == 1
               else f"up to {of} response-evaluable patients ({of - previous} more)")
        if k < len(stages):
            then = (f"the cohort continues to stage {k + 1} when at least {at_least} of them "
                    f"has clinical benefit, and closes otherwise")
        else:
            then = (f"the cohort is successful when at least {at_least} of {of} have clinical "
                    f"benefit")
        words.append(f"Stage {k} judges {who}: {then}.")
        previous = of
    head = (f"Each cohort (one drug, one tumour type, one alteration) is a single-arm study "
            f"with a {len(stages)}-stage design {bib.cite('drup-2019', 'simon-1989')}. "
            f"Patients are counted in order of treatment start.")
    tail = ("A successful cohort may open an expansion cohort; its patients are analysed with "
            "the cohort's.")
    return [head, " ".join(words), tail]


def analysis_sets(bib: Bibliography) -> list[dict[str, str]]:
    """The three analysis sets: name, definition, what is estimated on them."""
    return [
        {"name": "Treated",
         "definition": "every patient who started the study treatment",
         "used_for": (f"overall and progression-free survival "
                      f"{bib.cite('kaplan-meier-1958', 'greenwood-1926')}, safety")},
        {"name": "Response-evaluable",
         "definition": ("treated patients with at least one response assessment by "
                        f"RECIST 1.1 {bib.cite('recist-1.1')}"),
         "used_for": ("clinical benefit, objective response and disease control rates, "
                      f"with exact 95% confidence intervals {bib.cite('clopper-pearson-1934')}")},
        {"name": "Responders",
         "definition": "response-evaluable patients with a confirmed complete or partial response",
         "used_for": "duration of response"},
    ]


def _flag(value: object) -> bool:
    return not (value is pd.NA or is_missing(value)) and bool(value)


def not_evaluable_reasons(patients: pd.DataFrame) -> list[dict[str, str]]:
    """Why treated patients are not response-evaluable, as far as the data show, with counts."""
    if patients.empty or "response_evaluable" not in patients.columns:
        return []
    missing = patients[~patients["response_evaluable"].map(_flag)]
    died = progressed = other = 0
    for pfs_days, pfs_event, os_days, os_event in zip(
            missing["pfs_days"], missing["pfs_event"], missing["os_days"], missing["os_event"],
            strict=True):
        early = not is_missing(pfs_days) and float(pfs_days) <= FIRST_ASSESSMENT_WINDOW_DAYS
        if early and _flag(os_event) and not is_missing(os_days) \
                and float(os_days) <= float(pfs_days):
            died += 1
        elif early and _flag(pfs_event):
            progressed += 1
        else:
            other += 1
    weeks = f"{FIRST_ASSESSMENT_WINDOW_DAYS / 7:g}"
    reasons = ((f"died within {weeks} weeks, before the first response assessment", died),
               (f"progressed within {weeks} weeks, before the first response assessment",
                progressed),
               ("no response assessment recorded", other))
    return [{"reason": text, "n": count_text(n)} for text, n in reasons if n]


def _stage_counts(patients: pd.DataFrame) -> list[dict[str, str]]:
    if "stage" not in patients.columns:
        return []
    stages = patients["stage"].astype(str)
    return [{"stage": STAGE_NAMES[s], "n": count_text(int((stages == s).sum()))}
            for s in STAGE_VALUES if (stages == s).any()]


def stage_progress(index: ResultsIndex, group: tuple[str, str],
                   stages: Sequence[tuple[int, int]]) -> list[dict[str, str]]:
    """Each stage of a cohort: evaluable so far of its size, with benefit, the bar, the state."""
    out = []
    for k, (at_least, of) in enumerate(stages, start=1):
        row = index.get(group, f"cbr_stage{k}", "rate")
        if row is None or is_missing(row["n"]):
            continue
        n, x = int(float(row["n"])), int(float(row["x"]))
        closed = n >= of and x < at_least
        if x >= at_least:
            state = "bar met" if n >= of else f"bar met with {n} of {of} evaluable"
        elif closed:
            state = "bar not met" + (": the cohort closes" if k < len(stages) else "")
        else:
            state = f"in progress: {n} of {of} evaluable so far"
        out.append({"stage": f"Stage {k}", "size": count_text(of),
                    "evaluable": count_text(n), "benefit": count_text(x),
                    "bar": f"at least {at_least} of {of}", "state": state})
        if closed:  # a failed stage ends the design: later stages are not run
            break
    return out


def stage_reached(patients: pd.DataFrame, progress: Sequence[dict[str, str]]) -> str:
    """The furthest stage the cohort enrolled in (the registry's stage column), with the state
    of the design's last stage judged; the two are named apart when they differ."""
    reached = ""
    if "stage" in patients.columns:
        present = set(patients["stage"].astype(str))
        reached = next((STAGE_NAMES[v] for v in reversed(STAGE_VALUES) if v in present), "")
    if reached == STAGE_NAMES["expansion"] or not progress:
        return reached
    last = progress[-1]
    judged = last["stage"].lower()
    if not reached or reached == judged:
        return f"{judged} ({last['state']})"
    return f"{reached} ({judged}: {last['state']})"


def cohort_flow(index: ResultsIndex, group: tuple[str, str], patients: pd.DataFrame,
                stages: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """The CONSORT-style flow of one cohort: every box's count and words."""
    treated = index.get(group, "patients", "treated")
    evaluable = index.get(group, "patients", "evaluable")
    orr = index.get(group, "orr", "rate", "evaluable")
    cbr = index.get(group, "cbr", "rate", "evaluable")
    n_treated = 0 if treated is None else int(float(treated["estimate"]))
    n_evaluable = 0 if evaluable is None else int(float(evaluable["estimate"]))
    progress = stage_progress(index, group, stages)
    return {
        "treated": count_text(n_treated),
        "by_stage": _stage_counts(patients),
        "not_evaluable": count_text(n_treated - n_evaluable),
        "reasons": not_evaluable_reasons(patients),
        "evaluable": count_text(n_evaluable),
        "benefit": count_text(None if cbr is None else cbr["x"]),
        "benefit_rate": rate_text(cbr),
        "responders": count_text(None if orr is None else orr["x"]),
        "stages": progress,
        "expansion": next((b["n"] for b in _stage_counts(patients)
                           if b["stage"] == STAGE_NAMES["expansion"]), ""),
        "reached": stage_reached(patients, progress),
    }


def analysis_set_counts(flow: dict[str, Any]) -> dict[str, str]:
    """The sizes of a cohort's three analysis sets, by set name."""
    return {"Treated": flow["treated"], "Response-evaluable": flow["evaluable"],
            "Responders": flow["responders"]}
