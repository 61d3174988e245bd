"""How certain each verdict is, as the outputs show it: clause CI, state and posterior chance.

The scoring engine fills the fields (``ClauseResult.ci_*``, ``certainty``, ``probability``,
``Verdict.certainty``); this module only turns them into the cells, texts and tables of the
PDF, Word/Markdown body, workbook and methods, and never recomputes a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dossier.endpoints.certainty import JEFFREYS
from dossier.scoring.verdicts import VERDICT_CERTAINTY, ClauseResult, Verdict

CLAUSE_CERTAINTY_COLUMNS = ("ci_lower", "ci_upper", "ci", "clause_certainty", "probability",
                            "probability_method")
"""Workbook Verdicts columns for a clause's uncertainty (numbers stored as numbers)."""

CLAUSE_CERTAINTY_NOTE = (
    "ci_lower / ci_upper: the CI of the observed value (a proportion for rates, months for "
    "medians; empty where not reached or not computed). clause_certainty: met / met, uncertain "
    "/ not met, uncertain / not met - whether the whole CI lies on one side of the threshold "
    "(medians decided through the Kaplan-Meier survival at the threshold time). probability: "
    "posterior probability that the true value meets the threshold, method beside it. "
    "certainty: the verdict's - robust, uncertain or insufficient evidence.")

NOT_DECIDED = "not decided on data"
"""Verdicts without a certainty (pending, immature, not assessable, not applicable)."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def clause_certainty(clause: ClauseResult) -> dict[str, object]:
    """The workbook cells of a clause's uncertainty (None where it has none)."""
    return {"ci_lower": _number(clause.ci_lower), "ci_upper": _number(clause.ci_upper),
            "ci": clause.ci_text, "clause_certainty": clause.certainty,
            "probability": _number(clause.probability),
            "probability_method": clause.probability_method}


def probability_text(probability: float | None) -> str:
    """``83%``; ``> 99%`` / ``< 1%`` at the ends, so that no chance reads as a certainty."""
    if probability is None or not math.isfinite(probability):
        return ""
    if probability > 0.99:
        return "> 99%"
    if probability < 0.01:
        return "< 1%"
    return f"{100 * probability:.0f}%"


def clause_view(clause: ClauseResult) -> dict[str, str]:
    """The PDF/Word cells: CI text, certainty state and posterior chance of a clause."""
    return {"ci": clause.ci_text, "certainty": clause.certainty,
            "certainty_css": "c-" + clause.certainty.replace(",", "").replace(" ", "-")
            if clause.certainty else "",
            "probability": probability_text(clause.probability),
            "probability_method": clause.probability_method}


def verdict_view(verdict: Verdict) -> dict[str, str]:
    """The verdict's certainty and its reason, for the verdict heading."""
    return {"certainty": verdict.certainty, "certainty_reason": verdict.certainty_reason,
            "certainty_css": "c-" + verdict.certainty.replace(" ", "-")
            if verdict.certainty else ""}


def certainty_table(cohorts: Sequence[Mapping[str, object]],
                    by_cohort: Mapping[str, Sequence[Verdict]],
                    infos: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    """Per rule file: how many cohorts' verdicts are robust, uncertain, insufficient evidence
    or not decided on data, with the numbers of the uncertain cohorts (for the summary)."""
    rows = []
    for ident, info in infos.items():
        found = [(c, v) for c in cohorts for v in by_cohort[str(c["id"])]
                 if v.criteria_id == ident]
        if not found:
            continue
        counts = [sum(v.certainty == state for _, v in found) for state in VERDICT_CERTAINTY]
        undecided = sum(v.certainty not in VERDICT_CERTAINTY for _, v in found)
        uncertain = [str(c.get("number", c["id"])) for c, v in found
                     if v.certainty == VERDICT_CERTAINTY[1]]
        rows.append({"short": str(info.get("short") or ident),
                     "counts": [str(n) for n in counts], "undecided": str(undecided),
                     "total": str(len(found)), "uncertain_cohorts": ", ".join(uncertain)})
    return {"columns": list(VERDICT_CERTAINTY), "undecided": NOT_DECIDED, "rows": rows}


def methods_paragraph(ci_type: str, level: float) -> str:
    """The methods text: how each clause is decided with its uncertainty."""
    pct = f"{100 * level:g}%"
    return (
        f"Each rate and median clause is decided three ways: on the point estimate, on its "
        f"{pct} confidence interval and as a posterior probability that the true value meets "
        f"the threshold. A clause is met when the whole CI clears the threshold, 'met, "
        f"uncertain' when only the estimate does, 'not met, uncertain' when the CI reaches the "
        f"threshold although the estimate misses it, and not met when the whole CI misses it. "
        f"Rates use the exact Clopper-Pearson CI and a beta-binomial posterior with the "
        f"{JEFFREYS.name} (exact). A median threshold T is decided through the Kaplan-Meier "
        f"survival at T (median >= T exactly when S(T) >= 50%), with the same {ci_type} "
        f"pointwise CI as every survival estimate; its posterior probability is an "
        f"approximation: a normal distribution on the log-log scale of S(T) with the Greenwood "
        f"standard error (flat prior). Counts and yes/no facts have no CI. A verdict is robust "
        f"when its deciding clauses clear their thresholds with the whole CI (a 'not met' "
        f"when every route to 'met' misses a threshold with its whole CI), uncertain otherwise; "
        f"DRUP's stage decisions are exact counts by the design's own rule. ESMO-MCBS and "
        f"PASKWIL give no grade to a cohort with fewer evaluable patients than DRUP's stage 1 "
        f"judges, nor to one DRUP closed at stage 1 unless asked: 'insufficient evidence'.")
