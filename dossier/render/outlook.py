"""The "Outlook and tissue context" views: pending cohorts' predictive probabilities and baskets.

Plain template data (strings) for the overview section, each cohort's section, the comparison
table and the methods. Every number comes from :mod:`dossier.scoring.outlook` and
:mod:`dossier.endpoints.baskets`; bars, sizes and thresholds from the rule files in use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from dossier.endpoints.baskets import SIGNIFICANCE, Basket, BasketRate, baskets
from dossier.endpoints.certainty import JEFFREYS
from dossier.endpoints.tissue import LEVEL, NODES, PANELS
from dossier.render.figures_forest import ForestRow, forest_svg
from dossier.render.formatting import percent_text, rate_text
from dossier.render.results_index import ResultsIndex
from dossier.scoring.outlook import (
    CohortOutlook,
    RateTarget,
    cohort_outlooks,
    rate_targets,
    stage_bars,
)
from dossier.scoring.rules import RuleSet

__all__ = ["outlook_context", "p_value_text", "probability_text"]

COHORT = "cohort_id"


def probability_text(value: float) -> str:
    """A probability with two decimals; "< 0.01" / "> 0.99" rather than a misleading 0.00."""
    if value <= 0.0:
        return "0"
    if value >= 1.0:
        return "1"
    if value < 0.005:
        return "< 0.01"
    if value >= 0.995:
        return "> 0.99"
    return f"{value:.2f}"


def p_value_text(value: float | None) -> str:
    """An exact p-value: "p < 0.001", "p = 0.004", "p = 1"."""
    if value is None:
        return "not computed (too many tables)"
    if value < 0.001:
        return "p < 0.001"
    if value >= 0.9995:
        return "p = 1"
    return f"p = {value:.3f}"


def _shrink_text(value: float) -> str:
    return f"{value * 100:.0f}%"


def _interval_text(estimate: float, lower: float, upper: float) -> str:
    return f"{estimate * 100:.1f}% ({lower * 100:.1f}-{upper * 100:.1f})"


def _target_header(target: RateTarget) -> str:
    return f"{target.label} {target.op} {target.threshold * 100:g}%"


def _pending_row(outlook: CohortOutlook, targets: Sequence[RateTarget], index: ResultsIndex,
                 number: int) -> dict[str, object]:
    group = (COHORT, outlook.cohort_id)
    cbr = index.get(group, "cbr", "rate", "evaluable")
    orr = index.get(group, "orr", "rate", "evaluable")
    by_text = {t.text: p for t, p in outlook.targets}
    at_least, of = outlook.stage_bar
    return {
        "number": number, "anchor": f"cohort-{number}", "id": outlook.cohort_id,
        "cb": "" if cbr is None else f"{int(cbr['x'])}/{int(cbr['n'])}",
        "orr": "" if orr is None else f"{int(orr['x'])}/{int(orr['n'])}",
        "remaining": str(outlook.stage.remaining),
        "stage": probability_text(outlook.stage.probability),
        "targets": [probability_text(by_text[t.text].probability) if t.text in by_text else "-"
                    for t in targets],
        "sentences": [
            f"Probability to reach the DRUP stage 2 bar ({at_least} of {of} with clinical "
            f"benefit) at n={of}: {probability_text(outlook.stage.probability)} "
            f"({outlook.stage.x} of the first {outlook.stage.n} so far, "
            f"{outlook.stage.remaining} still to come)",
            *[f"Probability to reach {_target_header(t)} at n={of} ({', '.join(t.rule_files)}):"
              f" {probability_text(p.probability)} ({p.x} of {p.n} so far; needs {p.needed} of "
              f"{of})" for t, p in outlook.targets],
        ],
    }


def _basket_rows(rate: BasketRate, index: ResultsIndex,
                 numbers: Mapping[str, int]) -> list[dict[str, str]]:
    rows = []
    for cid, tumour, estimate in zip(rate.cohorts, rate.tumour_types, rate.fit.types,
                                     strict=True):
        row = index.get((COHORT, cid), rate.endpoint, "rate", "evaluable")
        rows.append({
            "rate": rate.name, "tumour_type": tumour, "number": str(numbers.get(cid, "")),
            "anchor": f"cohort-{numbers[cid]}" if cid in numbers else "",
            "count": f"{estimate.x}/{estimate.n}", "observed": rate_text(row),
            "model": _interval_text(estimate.mean, estimate.lower, estimate.upper),
            "shrinkage": _shrink_text(estimate.shrinkage),
        })
    return rows


def _basket_sentence(rate: BasketRate) -> str:
    differs = ("differs by tumour type" if rate.differs
               else "does not differ detectably by tumour type")
    return (f"{rate.name}: {differs} (exact test, {p_value_text(rate.p_value)}); basket mean "
            f"{percent_text(rate.fit.basket_mean)}, share of variance between tumour types "
            f"{percent_text(rate.fit.rho_mean)} (posterior means; with few tumour types and "
            "few patients both mostly reflect their uniform priors, which pull the basket mean "
            "towards 50% and the share towards one half)")


def _basket_figure(basket: Basket, index: ResultsIndex) -> str:
    rows: list[ForestRow] = []
    for rate in basket.rates:
        for cid, tumour, estimate in zip(rate.cohorts, rate.tumour_types, rate.fit.types,
                                         strict=True):
            row = index.get((COHORT, cid), rate.endpoint, "rate", "evaluable") or {}
            rows.append(ForestRow(f"{rate.name}, {tumour}: observed",
                                  row.get("estimate"), row.get("lower"), row.get("upper"),
                                  n_text=f"{estimate.x}/{estimate.n}"))
            rows.append(ForestRow(f"{rate.name}, {tumour}: borrowing strength",
                                  estimate.mean, estimate.lower, estimate.upper,
                                  n_text=f"shrunk {_shrink_text(estimate.shrinkage)}"))
    lines = [(r.fit.basket_mean, f"{r.name} basket mean {percent_text(r.fit.basket_mean)}")
             for r in basket.rates]
    return forest_svg(rows, title=f"{basket.drug}, {basket.alteration}: rates by tumour type, "
                      "observed (exact 95% CI) and hierarchical (95% credible interval)",
                      thresholds=lines, label_header="Rate, tumour type",
                      n_header="x/n")


def _basket_summary(total: int, differ: int) -> str:
    pairs = "drug and alteration pair" + ("" if total == 1 else "s")
    return (f"{total} {pairs} tested in more than one tumour type; the outcome differs by "
            f"tumour type in {differ} of {total}.")


def method_paragraphs(rule_sets: Sequence[RuleSet]) -> list[str]:
    """The model, prior and assumptions of the outlook and the tissue context, in words."""
    bars = stage_bars(rule_sets)
    targets = rate_targets(rule_sets)
    (first_needed, first_of), (last_needed, last_of) = bars[0], bars[-1]
    target_text = "; ".join(f"{_target_header(t)} ({', '.join(t.rule_files)})" for t in targets)
    grid = PANELS * NODES
    return [
        f"Outlook of pending cohorts. A cohort is pending when it has passed stage 1 (at least "
        f"{first_needed} of the first {first_of} evaluable patients with clinical benefit) and "
        f"has fewer than {last_of} evaluable patients. For each, the predictive probability that "
        f"once {last_of} patients are evaluable (a) at least {last_needed} of the first "
        f"{last_of} have clinical benefit (DRUP's stage 2 bar) and (b) each rate threshold of "
        f"the criteria in use is met"
        + (f" ({target_text})" if target_text else "") + ". Model: the cohort's true rate "
        f"has the {JEFFREYS.name}, updated with the patients seen so far; the number of "
        "successes among the patients still to come is then beta-binomial, and the probability "
        "is summed exactly over every possible number. Assumptions: the patients still to come "
        "are like those seen so far, every one of them will be evaluable, and the cohort will "
        f"reach {last_of}. A threshold that a rule combines with a duration (such as a median "
        "duration of response) is reached at most with the probability shown.",
        "Tissue context. For each drug and alteration tested in two or more tumour types, the "
        "clinical benefit and objective response rates of the tumour types are compared by the "
        "exact Fisher-Freeman-Halton test on the counts (conditional on the margins; "
        f"p < {SIGNIFICANCE:g} is read as 'differs by tumour type'; with few patients per type "
        "a test that finds no difference does not show there is none). A hierarchical "
        "(random-effects) model borrows strength across the tumour types of a basket: each "
        "type's rate follows a beta distribution with the basket's mean rate and an "
        "intra-class correlation (the share of the variance that lies between tumour types), "
        "both with uniform priors on 0-1. The model is fitted by numerical integration over "
        f"these two parameters on a fixed {grid} x {grid}-point Gauss-Legendre grid "
        "(deterministic, no sampling); each type's estimate is its posterior mean with an "
        f"equal-tailed {LEVEL * 100:g}% credible interval, and its shrinkage is the weight "
        "the estimate gives to the basket's mean rather than to the type's own patients.",
    ]


def outlook_context(results: pd.DataFrame, cohorts: pd.DataFrame,
                    rule_files: Sequence[object], numbers: Mapping[str, int]
                    ) -> dict[str, object]:
    """Everything the outlook partials show: pending cohorts, baskets, per-cohort notes."""
    rule_sets = [r for r in rule_files if isinstance(r, RuleSet)]
    shown = results[(results["group_by"] != COHORT) | results["group"].isin(list(numbers))]
    index = ResultsIndex(shown)
    targets = rate_targets(rule_sets)
    outlooks = cohort_outlooks(shown, rule_sets)
    pending = [_pending_row(o, targets, index, numbers[cid]) for cid, o in outlooks.items()
               if cid in numbers]
    by_cohort: dict[str, dict[str, list[str]]] = {}
    for row in pending:
        by_cohort.setdefault(str(row["id"]), {"pending": [], "tissue": []})["pending"] = \
            list(row["sentences"])  # type: ignore[arg-type]
    basket_views = []
    for basket in baskets(shown, cohorts):
        sentences = [_basket_sentence(r) for r in basket.rates]
        basket_views.append({
            "drug": basket.drug, "alteration": basket.alteration,
            "tissue_matters": basket.tissue_matters,
            "headline": ("outcome differs by tumour type" if basket.tissue_matters
                         else "no difference by tumour type detected"),
            "sentences": sentences,
            "rows": [row for rate in basket.rates for row in _basket_rows(rate, index, numbers)],
            "svg": _basket_figure(basket, index),
        })
        for rate in basket.rates:
            for cid, estimate in zip(rate.cohorts, rate.fit.types, strict=True):
                others = [f"{t} ({x}/{n})" for c, t, x, n in zip(
                    rate.cohorts, rate.tumour_types, rate.x, rate.n, strict=True) if c != cid]
                by_cohort.setdefault(cid, {"pending": [], "tissue": []})["tissue"].append(
                    f"{rate.name}: {estimate.x}/{estimate.n} here, "
                    f"{', '.join(others)} in the same drug and alteration; "
                    f"{'differs' if rate.differs else 'no difference detected'} "
                    f"({p_value_text(rate.p_value)}); borrowing strength across tumour types "
                    f"{_interval_text(estimate.mean, estimate.lower, estimate.upper)}, "
                    f"shrinkage {_shrink_text(estimate.shrinkage)}")
    bars = stage_bars(rule_sets)
    n_matter = sum(1 for b in basket_views if b["tissue_matters"])
    return {
        "present": bool(pending or basket_views),
        "planned": str(bars[-1][1]) if bars else "",
        "stage_bar": f"{bars[-1][0]} of {bars[-1][1]}" if bars else "",
        "targets": [_target_header(t) for t in targets],
        "pending": pending,
        "baskets": basket_views,
        "basket_summary": _basket_summary(len(basket_views), n_matter),
        "by_cohort": by_cohort,
        "methods": method_paragraphs(rule_sets) if len(bars) >= 2 else [],
    }
