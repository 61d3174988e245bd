"""Where each pending cohort is heading: predictive probabilities of the bars the rule files set.

A cohort is pending when it passed stage 1 of the staged rule file in use (DRUP's "at least 1 of
8") and has fewer evaluable patients than the last stage's size (24). For it this module
gives the predictive probability (:mod:`dossier.endpoints.predictive`) that, at that planned
size, it (a) passes the last stage's bar (5 of 24) and (b) meets each payer clause on a rate
that the loaded rule files state ("ORR >= 20%" of ESMO Form 3, ...). Bars, sizes and
thresholds are read from the rule files, never written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dossier.endpoints.certainty import JEFFREYS, BetaPrior
from dossier.endpoints.predictive import (
    PredictiveProbability,
    predictive_probability,
    successes_needed,
)
from dossier.resources import drup_stages
from dossier.scoring.grammar import Band, Compare, Condition, leaves
from dossier.scoring.inputs import RATES
from dossier.scoring.rules import RuleSet, used_metrics

__all__ = ["STAGE_BAR_PROBABILITY", "CohortOutlook", "RateTarget", "cohort_outlooks",
           "outlook_json", "rate_targets", "stage_bars", "with_outlook_metrics"]

STAGE_BAR_PROBABILITY = "stage_bar_probability"
"""The metric a rule file may declare (``inputs: stage_bar_probability: fraction``) to read a
pending cohort's predictive probability of passing the last stage's bar. Only a rule file that
names it gets it: no bundled rule file does, so no verdict uses it by default."""

RATE_METRICS = {metric: endpoint for metric, (endpoint, denominator, column) in RATES.items()
                if column == "estimate" and denominator == "evaluable"}
"""Metrics that are a binomial rate among evaluable patients (orr, cbr): the ones a count of
future patients can reach."""


@dataclass(frozen=True)
class RateTarget:
    """A payer clause on a rate: ``metric op threshold``, and which rule files state it."""

    metric: str
    endpoint: str
    op: str
    threshold: float
    label: str
    rule_files: tuple[str, ...]

    @property
    def text(self) -> str:
        """``ORR >= 20%``."""
        return f"{self.label} {self.op} {self.threshold * 100:g}%"


def _conditions(rule_set: RuleSet) -> list[Condition]:
    found: list[Condition | None] = [g.when for g in rule_set.gates]
    found += [r.when for r in rule_set.all_rules]
    found += [s.when for s in rule_set.strata]
    found += [a.when for a in rule_set.adjustments]
    return [c for c in found if c is not None]


def rate_targets(rule_sets: Sequence[RuleSet]) -> list[RateTarget]:
    """Every distinct lower bar on a rate among evaluable patients in the rule files.

    A comparison ``orr >= 0.20`` and a band ``orr in [0.20, 0.60)`` both give "ORR >= 20%";
    upper bounds and bars on harms are not targets. Sorted by metric, then threshold.
    """
    targets: dict[tuple[str, str, float], tuple[str, list[str]]] = {}
    for rule_set in rule_sets:
        specs = rule_set.specs
        for condition in _conditions(rule_set):
            for leaf in leaves(condition):
                if isinstance(leaf, Compare) and leaf.op in (">=", ">"):
                    metric, op, value = leaf.metric, leaf.op, leaf.threshold.value
                elif isinstance(leaf, Band):
                    metric, value = leaf.metric, leaf.lower.value
                    op = ">=" if leaf.lower_closed else ">"
                else:
                    continue
                if metric not in RATE_METRICS or value <= 0:
                    continue
                label = specs[metric].label if metric in specs else metric
                name = rule_set.short or rule_set.id
                entry = targets.setdefault((metric, op, round(value, 12)), (label, []))
                if name not in entry[1]:
                    entry[1].append(name)
    return [RateTarget(metric, RATE_METRICS[metric], op, value, label, tuple(names))
            for (metric, op, value), (label, names) in sorted(targets.items())]


def stage_bars(rule_sets: Sequence[RuleSet]) -> tuple[tuple[int, int], ...]:
    """(at_least, of) of each stage of the staged rule file in use, else of DRUP's bundled one."""
    for rule_set in rule_sets:
        if rule_set.stages:
            return tuple((s.at_least, s.of) for s in rule_set.stages)
    return drup_stages()


@dataclass(frozen=True)
class CohortOutlook:
    """A pending cohort's predictive probabilities at its planned size."""

    cohort_id: str
    planned: int
    stage_bar: tuple[int, int]
    stage: PredictiveProbability
    targets: tuple[tuple[RateTarget, PredictiveProbability], ...]

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return {
            "cohort_id": self.cohort_id, "planned_size": self.planned,
            "stage_bar": {"at_least": self.stage_bar[0], "of": self.stage_bar[1],
                          **self.stage.to_dict()},
            "rate_targets": [{"target": t.text, "metric": t.metric, "op": t.op,
                              "threshold": t.threshold, "rule_files": list(t.rule_files),
                              **p.to_dict()} for t, p in self.targets],
        }


RateRows = dict[tuple[object, object], list[tuple[object, object, object]]]
"""(group, endpoint) -> (denominator, x, n) of each cohort "rate" row, in table order."""


def _rate_rows(results: pd.DataFrame) -> RateRows:
    """The cohort rate rows, looked up by group and endpoint (one pass over the table rather
    than one filter of it per cohort and endpoint)."""
    rows = results[(results["group_by"] == "cohort_id") & (results["statistic"] == "rate")]
    out: RateRows = {}
    for group, endpoint, denominator, x, n in zip(
            rows["group"].tolist(), rows["endpoint"].tolist(), rows["denominator"].tolist(),
            rows["x"].tolist(), rows["n"].tolist(), strict=True):
        out.setdefault((group, endpoint), []).append((denominator, x, n))
    return out


def _row(rates: RateRows, cid: str, endpoint: str, denominator: str | None
         ) -> tuple[int, int] | None:
    first = next((r for r in rates.get((cid, endpoint), ())
                  if denominator is None or r[0] == denominator), None)
    if first is None or pd.isna(first[1]) or pd.isna(first[2]):
        return None
    return int(first[1]), int(first[2])  # type: ignore[call-overload]


def cohort_outlooks(results: pd.DataFrame, rule_sets: Sequence[RuleSet],
                    prior: BetaPrior = JEFFREYS) -> dict[str, CohortOutlook]:
    """cohort_id -> outlook, for every cohort past stage 1 and short of the last stage's size.

    Stage counts are the ``cbr_stage<k>`` rows (the first ``of`` evaluable patients); a rate
    target is counted among all evaluable patients (the ``orr``/``cbr`` rows), as the clause
    reads it, at the planned size.
    """
    bars = stage_bars(rule_sets)
    if len(bars) < 2:
        return {}
    (first_needed, _), (last_needed, planned) = bars[0], bars[-1]
    targets = rate_targets(rule_sets)
    cohorts = results.loc[results["group_by"] == "cohort_id", "group"].astype(str)
    rates = _rate_rows(results)
    out: dict[str, CohortOutlook] = {}
    for cid in dict.fromkeys(cohorts):
        first = _row(rates, cid, "cbr_stage1", None)
        last = _row(rates, cid, f"cbr_stage{len(bars)}", None)
        if first is None or last is None or first[0] < first_needed or last[1] >= planned:
            continue
        stage = predictive_probability(last[0], last[1], planned, last_needed, prior)
        reached = []
        for target in targets:
            counts = _row(rates, cid, target.endpoint, "evaluable")
            if counts is None or counts[1] >= planned:
                continue
            needed = successes_needed(target.threshold, target.op, planned)
            reached.append((target, predictive_probability(counts[0], counts[1], planned,
                                                           needed, prior)))
        out[cid] = CohortOutlook(cid, planned, (last_needed, planned), stage, tuple(reached))
    return out


def outlook_json(results: pd.DataFrame, cohorts: pd.DataFrame,
                 rule_sets: Sequence[object]) -> dict[str, object]:
    """The outlook and tissue context as JSON fields (results.json's ``outlook``)."""
    from dossier.endpoints.baskets import baskets

    sets = [r for r in rule_sets if isinstance(r, RuleSet)]
    return {
        "prior": JEFFREYS.name,
        "pending_cohorts": [o.to_dict() for o in cohort_outlooks(results, sets).values()],
        "baskets": [b.to_dict() for b in baskets(results, cohorts)],
    }



def with_outlook_metrics(metrics: dict[str, dict[str, object]], results: pd.DataFrame,
                         rule_sets: Sequence[RuleSet]) -> dict[str, dict[str, object]]:
    """``metrics`` plus :data:`STAGE_BAR_PROBABILITY` of each pending cohort, when a rule file
    in use reads it (data decides; otherwise ``metrics`` is returned unchanged)."""
    if not any(STAGE_BAR_PROBABILITY in used_metrics(r) for r in rule_sets):
        return metrics
    outlooks = cohort_outlooks(results, rule_sets)
    return {cid: ({**values, STAGE_BAR_PROBABILITY: outlooks[cid].stage.probability}
                  if cid in outlooks else values) for cid, values in metrics.items()}
