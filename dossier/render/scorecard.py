"""ESMO-MCBS scorecards: each cohort's ESMO grade laid out as ESMO publishes it.

ESMO's published scorecards give the agent, the comparator ("single arm" for Form 3), the
indication, the form and scale version, the endpoint evaluated, the preliminary grade, each
adjustment, the final grade and the date. This module copies those fields from a verdict and
its rule file (nothing is re-scored); the PDF partial ``_scorecard.html.j2`` and the workbook
sheet (:mod:`dossier.render.workbook_scorecard`) show them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from dossier.render.rule_words import condition_words
from dossier.render.verdict_views import METRIC_LABELS, plain_words
from dossier.scoring.grammar import leaves
from dossier.scoring.rules import Rule, RuleSet
from dossier.scoring.verdicts import NOT_APPLICABLE, AdjustmentResult, Verdict

FRAMEWORK = "ESMO-MCBS"
ENDPOINT_OF_METRIC = {"pfs": "PFS", "os": "OS", "orr": "ORR", "dor": "duration of response",
                      "hr": "hazard ratio", "g34": "toxicity", "qol": "quality of life"}
"""The first part of a metric name -> the endpoint a scorecard names."""


@dataclass(frozen=True)
class AdjustmentLine:
    """One adjustment of a scorecard: what it is, its change, whether it applied and why."""

    id: str
    label: str
    change: int
    state: str
    """"applied", "not applied" or "unresolved"."""
    reason: str


@dataclass(frozen=True)
class Scorecard:
    """One cohort's ESMO-MCBS scorecard (copied from its verdict and rule file)."""

    cohort_id: str
    criteria_id: str
    form: str
    version: str
    comparator: str
    endpoint: str
    rule_id: str
    """The id of the row that set the preliminary grade (workbook and JSON only)."""
    criterion: str
    """That row in ESMO's own words, derived from the rule file's condition."""
    observed: str
    preliminary_grade: int | None
    preliminary_text: str
    adjustments: tuple[AdjustmentLine, ...]
    final_grade: int | None
    final_text: str
    verdict: str
    certainty: str
    evaluated: str
    data_cutoff: str


def form_name(rule_set: RuleSet) -> str:
    """``Form 3`` from the rule file's title (its short name when the title has no form)."""
    found = re.search(r"\bForm\s+([0-9][a-z]?)\b", rule_set.title)
    return f"Form {found.group(1)}" if found else (rule_set.short or rule_set.title)


def comparator_text(rule_set: RuleSet, verdict: Verdict | None = None) -> str:
    """"single arm" for a single-arm form (ESMO's own wording); the external control and its
    caveat when the verdict was made against one; else the trial's control arm."""
    design = dict(rule_set.applies_to).get("design", "")
    if "single-arm" in design:
        return "single arm"
    if verdict is not None and verdict.comparator:
        return verdict.comparator
    return "control arm, as given"


def _metrics(rule: Rule) -> list[str]:
    return [getattr(leaf, "metric", "") for leaf in leaves(rule.when)] if rule.when else []


def endpoint_text(rule: Rule | None) -> str:
    """The endpoint(s) a row evaluates: ``PFS``, ``ORR and duration of response``."""
    if rule is None:
        return "none reached"
    names = [ENDPOINT_OF_METRIC.get(m.split("_")[0], m) for m in _metrics(rule) if m]
    return " and ".join(dict.fromkeys(names)) or "-"


def _awarding_rule(verdict: Verdict, rule_set: RuleSet) -> Rule | None:
    """The row that set the preliminary grade: every clause of it held, at that grade."""
    grade = verdict.preliminary_grade
    if not grade:
        return None
    rules = {r.id: r for r in rule_set.all_rules}
    by_rule: dict[str, list[bool | None]] = {}
    for clause in verdict.clauses:
        if clause.rule in rules and clause.grade == grade:
            by_rule.setdefault(clause.rule, []).append(clause.held)
    held = [rid for rid, found in by_rule.items() if found and all(found)]
    return rules[held[0]] if held else None


def _adjustment(result: AdjustmentResult) -> AdjustmentLine:
    if result.applied is None:
        state = "unresolved"
    else:
        state = "applied" if result.applied else "not applied"
    decided = [f"{c.label} {c.observed_text} vs {c.threshold_text}" for c in result.clauses
               if c.held is not None]
    if result.applied is not None and decided:
        reason = "; ".join(decided)
    elif result.state.startswith("not reported"):
        reason = "not reported"
    else:
        reason = result.state
    return AdjustmentLine(result.id, result.label, result.change, state, reason)


def _observed(verdict: Verdict, rule: Rule | None) -> str:
    if rule is None:
        return ""
    return "; ".join(f"{c.label} {c.observed_text}" for c in verdict.clauses
                     if c.rule == rule.id and c.held)


def scorecard(verdict: Verdict, rule_set: RuleSet, evaluated: str,
              data_cutoff: str) -> Scorecard | None:
    """The scorecard of one ESMO-MCBS verdict (None for other frameworks, or not applicable).

    ``evaluated`` is the date of the evaluation (the build date, deterministic) and
    ``data_cutoff`` the data cut-off it rests on.
    """
    if verdict.framework != FRAMEWORK or rule_set.outcome.scale != "graded" \
            or verdict.verdict == NOT_APPLICABLE:
        return None
    rule = _awarding_rule(verdict, rule_set)
    prelim = verdict.preliminary_grade
    if prelim:
        prelim_text = str(prelim)
    elif verdict.grade_range is not None and verdict.grade_range[1] > 0:
        prelim_text = "not yet certain"
    else:
        prelim_text = "no grade"
    if verdict.grade is not None:
        final_text = str(verdict.grade)
    elif verdict.grade_range is not None and verdict.grade_range[0] != verdict.grade_range[1]:
        low, high = verdict.grade_range
        final_text = f"{low or 'no grade'} to {high} (unresolved)"
    else:
        final_text = "no grade"
    criterion = ""
    if rule is not None:
        criterion = rule.label or (condition_words(rule.when, rule_set.specs)
                                   if rule.when is not None else "")
    return Scorecard(
        cohort_id=verdict.cohort_id, criteria_id=verdict.criteria_id,
        form=form_name(rule_set), version=rule_set.version,
        comparator=comparator_text(rule_set, verdict), endpoint=endpoint_text(rule),
        rule_id=rule.id if rule is not None else "", criterion=criterion,
        observed=_observed(verdict, rule), preliminary_grade=prelim or None,
        preliminary_text=prelim_text,
        adjustments=tuple(_adjustment(a) for a in verdict.adjustments),
        final_grade=verdict.grade, final_text=final_text, verdict=verdict.verdict,
        certainty=verdict.certainty, evaluated=evaluated, data_cutoff=data_cutoff)


def scorecards(verdicts: Sequence[Verdict], rule_sets: Sequence[object], evaluated: str,
               data_cutoff: str) -> list[Scorecard]:
    """The scorecards of every ESMO-MCBS verdict, in the verdicts' order."""
    by_id = {r.id: r for r in rule_sets if isinstance(r, RuleSet)}
    out = []
    for verdict in verdicts:
        rule_set = by_id.get(verdict.criteria_id)
        card = scorecard(verdict, rule_set, evaluated, data_cutoff) if rule_set else None
        if card is not None:
            out.append(card)
    return out


def scorecard_view(card: Scorecard, cohort: Mapping[str, object],
                   labels: Mapping[str, str] | None = None) -> dict[str, object]:
    """A scorecard as the PDF shows it: ESMO's fields, words only (no rule ids)."""
    labels = METRIC_LABELS if labels is None else labels
    indication = ", ".join(str(cohort.get(k) or "") for k in ("tumour_type", "alteration")
                           if cohort.get(k))
    return {
        "title": f"ESMO-MCBS v{card.version} {card.form} scorecard",
        "rows": [
            ("Agent", str(cohort.get("drug") or "-")),
            ("Indication", indication or "-"),
            ("Comparator", card.comparator),
            ("Form and version", f"{card.form}, ESMO-MCBS v{card.version}"),
            ("Endpoint evaluated", card.endpoint),
            ("Criterion reached", (f"{card.criterion} ({card.observed})" if card.observed
                                   else card.criterion) or "none of the form's rows"),
            ("Preliminary grade", card.preliminary_text),
        ],
        "adjustments": [{"label": a.label, "change": f"{a.change:+d}", "state": a.state,
                         "reason": plain_words(a.reason, labels)} for a in card.adjustments],
        "final": card.final_text,
        "certainty": card.certainty,
        "evaluated": card.evaluated, "data_cutoff": card.data_cutoff,
    }


def cohort_scorecards(cohort: Mapping[str, object], verdicts: Sequence[Verdict],
                      rule_sets: Sequence[object], built: datetime, data_cutoff: str,
                      labels: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """The PDF views of one cohort's scorecards, dated by the build (``built``, UTC)."""
    evaluated = built.strftime("%Y-%m-%d")
    return [scorecard_view(card, cohort, labels)
            for card in scorecards(verdicts, rule_sets, evaluated, data_cutoff)]
