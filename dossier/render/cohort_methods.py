"""One cohort's methods on one page, for its own PDF: denominators, estimators, design, rules.

A payer reading one indication needs the methods that produced its numbers, not the
dossier's five generic pages. Everything here is read from what was computed (the cohort's
analysis sets and stage counts, the results' method strings) or from the rule files in use
(the stage sizes and bars, the frameworks that applied): nothing is typed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# a method whose first clause starts so is a count, not an estimate: it has no estimator
COUNT_WORDS = ("count ", "number at risk")


def _first_clause(text: str) -> str:
    """Text up to the first ";" outside parentheses."""
    depth = 0
    for k, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth <= 0:
            return text[:k]
    return text


def _estimator(method: str) -> str:
    """A method sentence's estimator: its first clause ("Clopper-Pearson exact 95% CI")."""
    first = _first_clause(method).strip().rstrip(".")
    return first[:1].upper() + first[1:]


def estimator_groups(method_rows: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Endpoints grouped by estimator, in the order the methods list them."""
    groups: dict[str, list[str]] = {}
    for row in method_rows:
        method = str(row.get("method") or "")
        if not method or method.lower().startswith(COUNT_WORDS):
            continue
        names = groups.setdefault(_estimator(method), [])
        name = str(row.get("endpoint") or "")
        if name and name not in names:
            names.append(name)
    return [{"estimator": k, "endpoints": "; ".join(v)} for k, v in groups.items() if v]


def design_rows(stages: Sequence[tuple[int, int]],
                progress: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Each stage of the design (size and bar from the rule file) beside this cohort's count."""
    reached = {str(p["stage"]): p for p in progress}
    rows = []
    for k, (at_least, of) in enumerate(stages, start=1):
        seen = reached.get(f"Stage {k}")
        rows.append({
            "stage": f"Stage {k}", "size": str(of),
            "bar": f"at least {at_least} of {of} with clinical benefit",
            "cohort": (f"{seen['benefit']} of {seen['evaluable']} evaluable with clinical "
                       f"benefit; {seen['state']}") if seen else "not reached"})
    return rows


def cohort_methods(cohort: Mapping[str, Any], method_rows: Sequence[Mapping[str, str]],
                   stages: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """The data of one cohort's one-page methods summary (``cohort.methods_summary``)."""
    submission = cohort.get("submission") or {}
    flow = submission.get("flow") or {}
    return {
        "sets": [{"name": s["name"], "n": s["n"], "definition": s["definition"]}
                 for s in submission.get("sets", ())],
        "estimators": estimator_groups(method_rows),
        "design": design_rows(stages, flow.get("stages", ())),
        "applied": [{"short": v["short"], "framework": v["framework"],
                     "version": v["version"], "verdict": v["verdict"], "css": v["css"]}
                    for v in cohort.get("verdicts", ())],
        "not_applicable": list(cohort.get("not_applicable", ())),
        "sd_weeks": str((cohort.get("flow") or {}).get("sd_weeks") or ""),
    }
