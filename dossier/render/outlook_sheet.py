"""The workbook's Outlook sheet: pending cohorts' predictive probabilities and basket estimates.

One long table: a row per pending cohort x bar (DRUP's stage-2 bar, each rate clause of the
rule files) with its predictive probability, then a row per basket x rate x tumour type with the
exact heterogeneity p-value and the hierarchical estimate. Numbers are copied from
:mod:`dossier.scoring.outlook` and :mod:`dossier.endpoints.baskets`; nothing is estimated here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dossier.endpoints.baskets import baskets
from dossier.render.outlook import method_paragraphs
from dossier.render.xlsx import SheetSpec
from dossier.scoring.outlook import cohort_outlooks
from dossier.scoring.rules import RuleSet

__all__ = ["OUTLOOK_COLUMNS", "outlook_sheet"]

OUTLOOK_COLUMNS = (
    "section", "cohort_id", "drug", "tumour_type", "alteration", "bar_or_rate", "x", "n",
    "planned", "needed", "probability", "p_value", "observed", "estimate", "lower", "upper",
    "shrinkage", "basket_mean", "method",
)


def outlook_sheet(results: pd.DataFrame, cohorts: pd.DataFrame, rule_sets: Sequence[RuleSet],
                  only: Sequence[str] | None = None) -> SheetSpec:
    """The Outlook sheet of dossier.xlsx (for the cohorts in ``only``, default all)."""
    if only is not None:
        results = results[(results["group_by"] != "cohort_id") | results["group"].isin(only)]
    labels = {str(r["cohort_id"]): r for r in cohorts.to_dict("records")} \
        if "cohort_id" in cohorts.columns else {}

    def named(cid: str) -> dict[str, object]:
        row = labels.get(cid, {})
        return {"cohort_id": cid, **{k: row.get(k, "") for k in
                                     ("drug", "tumour_type", "alteration")}}

    rows: list[dict[str, object]] = []
    for cid, outlook in cohort_outlooks(results, rule_sets).items():
        at_least, of = outlook.stage_bar
        bars = [(f"DRUP stage 2: at least {at_least} of {of} with clinical benefit",
                 outlook.stage)]
        bars += [(f"{t.text} ({', '.join(t.rule_files)})", p) for t, p in outlook.targets]
        for text, p in bars:
            rows.append({"section": "pending cohort", **named(cid), "bar_or_rate": text,
                         "x": p.x, "n": p.n, "planned": p.planned, "needed": p.needed,
                         "probability": p.probability, "method": p.method})
    for basket in baskets(results, cohorts):
        for rate in basket.rates:
            for cid, estimate in zip(rate.cohorts, rate.fit.types, strict=True):
                rows.append({"section": "basket", **named(cid), "bar_or_rate": rate.name,
                             "x": estimate.x, "n": estimate.n, "p_value": rate.p_value,
                             "observed": estimate.observed, "estimate": estimate.mean,
                             "lower": estimate.lower, "upper": estimate.upper,
                             "shrinkage": estimate.shrinkage,
                             "basket_mean": rate.fit.basket_mean, "method": rate.fit.method})
    frame = pd.DataFrame(rows, columns=list(OUTLOOK_COLUMNS))
    notes = ["probability: predictive probability of meeting the bar once the planned number "
             "of patients is evaluable; p_value: exact Fisher-Freeman-Halton test that the rate "
             "is the same in every tumour type of the basket; estimate, lower, upper: posterior "
             "mean and 95% credible interval of the hierarchical model; shrinkage: the weight "
             "the estimate gives to the basket mean.",
             *method_paragraphs(rule_sets)]
    return SheetSpec("Outlook", frame, notes=notes,
                     integer_columns=("x", "n", "planned", "needed"),
                     percent_columns=("observed", "estimate", "lower", "upper", "shrinkage",
                                      "basket_mean"))
