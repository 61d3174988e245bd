"""The scoring engine: one rule file x one cohort's metrics -> a Verdict.

Order of play: setting and applicability gates (not applicable), then the stratum, then the
rules. Staged scales (DRUP's two-stage design) walk the stages; binary scales ask whether any
route to "met" holds; graded scales take the highest grade any row reaches and then apply the
adjustments within the caps. Values that cannot be told (medians not reached, values not
given) are handled exactly: every combination of the thresholds they straddle is tried, so a
verdict is only "immature" or "not assessable" when the missing piece could change it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from dossier.scoring.applicability import applicability as _applicability
from dossier.scoring.applicability import base_verdict as _base
from dossier.scoring.applicability import eval_context as _ctx
from dossier.scoring.applicability import (
    failed_only_indicative,
    with_indicative,
    without_indicative_gates,
)
from dossier.scoring.applicability import stratum_rules as _stratum_rules
from dossier.scoring.clause_certainty import with_certainty
from dossier.scoring.evaluation import (
    Evaluation,
    evaluate,
)
from dossier.scoring.evidence import CohortEvidence
from dossier.scoring.grammar import (
    Bar,
    Condition,
    Present,
    condition_text,
    leaves,
    thresholds_of,
)
from dossier.scoring.metrics import MetricSpec, MetricValueError, Observed, observe
from dossier.scoring.minimum_evidence import ResolvedMinimum, apply_minimum, resolved_minimums
from dossier.scoring.rulebook import RuleBook
from dossier.scoring.rules import Adjustment, Rule, RuleSet, used_metrics
from dossier.scoring.staged import staged
from dossier.scoring.verdict_certainty import with_verdict_certainty
from dossier.scoring.verdicts import (
    IMMATURE,
    MET,
    NOT_ASSESSABLE,
    NOT_MET,
    PENDING,
    AdjustmentResult,
    ClauseResult,
    Verdict,
)

SCENARIO_LIMIT = 20_000
"""Most value combinations tried when values are unknown; beyond it, three-valued bounds."""


def _category(reasons: Iterable[str]) -> str:
    reasons = set(reasons)
    if "missing" in reasons:
        return NOT_ASSESSABLE
    if "pending" in reasons:
        return PENDING
    return IMMATURE


# --------------------------------------------------------------------------- rows


def _evaluate_rule(rule_set: RuleSet, rule: Rule, values: Mapping[str, Observed],
                   relax: bool = False) -> Evaluation:
    if rule.when is None:
        clause = ClauseResult(
            metric="", label=rule.label or rule.id, condition="thresholds not published",
            observed=None, observed_text="no documented threshold", op="override",
            threshold=None, threshold_text="thresholds not published in the sources", unit="",
            held=None, state="missing",
            status=rule.status, source=rule_set.source_urls.get(rule.source, rule.source),
            rule=rule.id, grade=rule.grade, note=rule.requires_override)
        gap = f"{rule.label or rule.id}: {rule.requires_override}"
        return Evaluation(None, frozenset({"missing"}), (clause,), math.inf, (gap,))
    ctx = _ctx(rule_set, rule.status, rule.source, rule.id, rule.grade)
    return evaluate(rule.when, values, replace(ctx, relax_unverified=relax))


def _variable_points(spec: MetricSpec, obs: Observed, thresholds: list[float]) -> list[Observed]:
    if spec.kind == "boolean":
        return [Observed(spec.name, "exact", flag, text=str(flag)) for flag in (True, False)]
    if spec.kind == "category":
        return [Observed(spec.name, "exact", v, text=v) for v in spec.allowed]
    points: set[float] = set()
    for t in thresholds:
        step = 1e-6 * max(1.0, abs(t))
        points |= {t - step, t, t + step}
    lo, hi = obs.lower, obs.upper
    points |= {p for p in (lo, hi) if math.isfinite(p)}
    span = max((abs(t) for t in thresholds), default=1.0) + 1.0
    if not math.isfinite(hi):
        points.add(max([*thresholds, lo if math.isfinite(lo) else 0.0]) + 10 * span)
    if not math.isfinite(lo):
        points.add(min([*thresholds, hi if math.isfinite(hi) else 0.0]) - 10 * span)
    low_edge = lo - 1e-6 * max(1.0, abs(lo)) if math.isfinite(lo) else -math.inf
    high_edge = hi + 1e-6 * max(1.0, abs(hi)) if math.isfinite(hi) else math.inf
    return [Observed(spec.name, "exact", p, p, p, text=f"{p:g}")
            for p in sorted(points) if low_edge <= p <= high_edge]


def _scenarios(values: Mapping[str, Observed], conditions: Sequence[Condition],
               specs: Mapping[str, MetricSpec]) -> list[Mapping[str, Observed]]:
    """Every combination of the values the unknown metrics could take that matters."""
    thresholds: dict[str, list[float]] = {}
    names: list[str] = []
    for condition in conditions:
        for name, found in thresholds_of(condition).items():
            thresholds.setdefault(name, []).extend(found)
        names += [leaf.metric for leaf in leaves(condition) if hasattr(leaf, "metric")]
    unknown = [n for n in dict.fromkeys(names)
               if values[n].state != "exact" and specs[n].kind != "count"]
    if not unknown:
        return [values]
    options = [_variable_points(specs[n], values[n], thresholds.get(n, [])) for n in unknown]
    if math.prod(len(o) for o in options) > SCENARIO_LIMIT or any(not o for o in options):
        return [values]
    out = []
    for combo in itertools.product(*options):
        scenario = dict(values)
        scenario.update({o.name: o for o in combo})
        out.append(scenario)
    return out


def _unreported(rule: Rule, values: Mapping[str, Observed]) -> list[str]:
    """The metrics of a rule when none of them is given (a route the evidence does not report).

    Such a rule counts as not held: payers and ESMO judge the evidence presented. A rule with
    some of its values given and others missing stays open instead.
    """
    names = _rule_metrics(rule)
    if names and all(values[n].state == "missing" for n in names):
        return names
    return []


def _rule_metrics(rule: Rule) -> list[str]:
    """The metrics whose values a rule compares (presence checks excluded)."""
    if rule.when is None:
        return []
    names: list[str] = []
    for leaf in leaves(rule.when):
        if isinstance(leaf, Bar):
            names += [leaf.successes, leaf.patients]
        elif not isinstance(leaf, Present):
            names.append(leaf.metric)  # type: ignore[union-attr]
    return list(dict.fromkeys(names))


def _split_reported(rules: Sequence[Rule], values: Mapping[str, Observed]
                    ) -> tuple[list[Rule], list[str]]:
    """Rules with at least one value given, and a note naming those left out."""
    kept, notes = [], []
    for rule in rules:
        names = _unreported(rule, values)
        if names:
            notes.append(f"{rule.id}: not reported ({', '.join(names)} not given), counted as "
                         "not held")
        else:
            kept.append(rule)
    return kept, notes


def _nothing_reported(rule_set: RuleSet, cohort_id: str, rules: Sequence[Rule],
                      clauses: tuple[ClauseResult, ...], stratum: str) -> Verdict:
    names = list(dict.fromkeys(n for r in rules for n in _rule_metrics(r)))
    return _base(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable", clauses=clauses,
                 stratum=stratum,
                 reasons=(f"none of the values this rule file judges is given "
                          f"({', '.join(names)})",))


# --------------------------------------------------------------------------- binary


def _binary(rule_set: RuleSet, rules: tuple[Rule, ...], values: Mapping[str, Observed],
            cohort_id: str, clauses: tuple[ClauseResult, ...], stratum: str) -> Verdict:
    awarded = set(rule_set.outcome.award_statuses)
    all_evaluations = [(r, _evaluate_rule(rule_set, r, values)) for r in rules]
    all_clauses = clauses + tuple(c for _, ev in all_evaluations for c in ev.clauses)
    reported, unreported_notes = _split_reported(rules, values)
    if not reported:
        return _nothing_reported(rule_set, cohort_id, rules, all_clauses, stratum)
    evaluations = [(r, ev) for r, ev in all_evaluations if r in reported]
    counted = [(r, ev) for r, ev in evaluations if r.status in awarded or r.requires_override]
    conditions = [r.when for r, _ in counted if r.when]

    def truths_of(relax: bool) -> set[bool | None]:
        truths: set[bool | None] = set()
        for scenario in _scenarios(values, conditions, rule_set.specs):
            found = [_evaluate_rule(rule_set, r, scenario, relax).truth for r, _ in counted]
            truths.add(True if True in found else (None if None in found else False))
        return truths

    truths = truths_of(False)
    unverified = [f"{condition_text(leaf, rule_set.specs)} ({r.id})" for r, _ in counted
                  if r.when for leaf in leaves(r.when)
                  if getattr(leaf, "info", None) and leaf.info.status == "unverified"]
    common = dict(clauses=all_clauses, stratum=stratum, notes=tuple(unreported_notes))
    holding = [(r, ev) for r, ev in counted if ev.truth]
    if truths == {True}:
        rule, ev = holding[0] if holding else counted[0]
        deciding = tuple(f"{rule.id}: {c.label} {c.observed_text} vs {c.threshold_text}"
                         for c in ev.clauses if c.held)
        return _base(rule_set, cohort_id, MET, rule_set.outcome.met, deciding=deciding,
                     distance_score=0.0, statuses=(rule.status,), **common)
    closest = min(counted, key=lambda pair: pair[1].shortfall) if counted else None
    distance = tuple(f"{closest[0].id}: {g}" for g in closest[1].gaps) if closest else ()
    score = closest[1].shortfall if closest else math.inf
    if truths == {False}:
        unawarded = [r for r, ev in evaluations if r.status not in awarded and ev.truth]
        if unawarded:
            return _base(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable",
                         reasons=tuple(f"only {r.id} holds, and its status is {r.status}: not "
                                       "counted" for r in unawarded),
                         distance=distance, distance_score=score, **common)
        if unverified and truths_of(True) != {False}:
            reason = ("the verdict turns on clause(s) whose status is unverified: "
                      + "; ".join(unverified))
            return _base(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable", reasons=(reason,),
                         distance=distance, distance_score=score, **common)
        return _base(rule_set, cohort_id, NOT_MET, rule_set.outcome.not_met,
                     deciding=distance, distance=distance, distance_score=score,
                     statuses=tuple(dict.fromkeys(r.status for r, _ in counted)), **common)
    open_rows = [(r, ev) for r, ev in counted if ev.truth is None]
    reasons = {x for _, ev in open_rows for x in ev.reasons}
    why = tuple(dict.fromkeys(f"{r.id}: {g}" for r, ev in open_rows for g in ev.gaps))
    return _base(rule_set, cohort_id, _category(reasons), _category(reasons), reasons=why,
                 deciding=why, distance=distance, distance_score=score, **common)


# --------------------------------------------------------------------------- graded


@dataclass(frozen=True)
class _Bounds:
    prelim_low: int
    prelim_high: int
    final_low: int
    final_high: int


def _apply(rule_set: RuleSet, grade: int, change: int) -> int:
    if grade == 0:
        return 0
    outcome = rule_set.outcome
    return max(outcome.floor or 1, min(outcome.ceiling or grade + change, grade + change))


def _grade_bounds(rule_set: RuleSet, rules: Sequence[Rule], values: Mapping[str, Observed],
                  fixed: int, open_adjustments: Sequence[Adjustment]) -> _Bounds:
    conditions = [r.when for r in rules if r.when] + [a.when for a in open_adjustments]
    lows, highs, final_lows, final_highs = [], [], [], []
    for scenario in _scenarios(values, conditions, rule_set.specs):
        truths = [(r.grade or 0, _evaluate_rule(rule_set, r, scenario).truth) for r in rules]
        low = max([g for g, t in truths if t], default=0)
        high = max([low] + [g for g, t in truths if t is None])
        down = up = fixed
        for adjustment in open_adjustments:
            truth = evaluate(adjustment.when, scenario, _ctx(rule_set)).truth
            if truth:
                up += adjustment.change
                down += adjustment.change
            elif truth is None:
                up += max(adjustment.change, 0)
                down += min(adjustment.change, 0)
        lows.append(low)
        highs.append(high)
        final_lows.append(_apply(rule_set, low, down))
        final_highs.append(_apply(rule_set, high, up))
    return _Bounds(min(lows), max(highs), min(final_lows), max(final_highs))


def _adjustment_results(rule_set: RuleSet, values: Mapping[str, Observed]
                        ) -> tuple[list[AdjustmentResult], int, list[Adjustment]]:
    results, fixed, open_ = [], 0, []
    for adjustment in rule_set.adjustments:
        ev = evaluate(adjustment.when, values, _ctx(rule_set, adjustment.status,
                                                    adjustment.source, adjustment.id))
        note = adjustment.note
        if ev.truth is None and adjustment.if_missing == "none":
            applied, state = False, "not reported (no adjustment)"
        elif ev.truth is None:
            applied, state = None, _unresolved_adjustment(rule_set, adjustment, ev, values)
            open_.append(adjustment)
        else:
            applied, state = ev.truth, "applied" if ev.truth else "not applied"
        if applied:
            fixed += adjustment.change
        results.append(AdjustmentResult(
            adjustment.id, adjustment.label, adjustment.change, applied, state,
            adjustment.status, rule_set.source_urls.get(adjustment.source, adjustment.source),
            ev.clauses, note))
    return results, fixed, open_


def _unresolved_adjustment(rule_set: RuleSet, adjustment: Adjustment, ev: Evaluation,
                           values: Mapping[str, Observed]) -> str:
    """``-1 applies if ...; grade >= 3 TRAE 30.8% in the registry, ... not recorded``.

    Says when the adjustment applies and what is known, never as if the threshold were a
    requirement the cohort failed.
    """
    specs = rule_set.specs
    known = []
    for clause in ev.clauses:
        if clause.state != "missing":
            known.append(f"{clause.label} {clause.observed_text}")
            continue
        spec = specs.get(clause.metric)
        bound = values.get(spec.upper_bound) if spec is not None and spec.upper_bound else None
        if bound is not None and bound.state == "exact":
            known.append(f"{specs[bound.name].label} {bound.text} in the registry (an upper "
                         f"bound); {clause.label} not recorded")
        else:
            known.append(f"{clause.label} not recorded")
    condition = condition_text(adjustment.when, specs)
    return f"{adjustment.change:+d} applies if {condition}; " + "; ".join(known)


def _graded(rule_set: RuleSet, rules: tuple[Rule, ...], values: Mapping[str, Observed],
            cohort_id: str, clauses: tuple[ClauseResult, ...], stratum: str) -> Verdict:
    outcome = rule_set.outcome
    met_at = outcome.met_at or 0
    awarded_statuses = set(outcome.award_statuses)
    evaluations = {r.id: _evaluate_rule(rule_set, r, values) for r in rules}
    all_clauses = clauses + tuple(c for r in rules for c in evaluations[r.id].clauses)
    all_rules = rules
    reported, unreported_notes = _split_reported(rules, values)
    if not reported:
        return _nothing_reported(rule_set, cohort_id, rules, all_clauses, stratum)
    rules = tuple(reported)
    awarded = [r for r in rules if r.status in awarded_statuses]
    adjustments, fixed, open_adjustments = _adjustment_results(rule_set, values)
    bounds = _grade_bounds(rule_set, awarded, values, fixed, open_adjustments)
    indicative = _grade_bounds(rule_set, list(rules), values, fixed, open_adjustments) \
        if len(awarded) < len(rules) else bounds
    low, high = bounds.final_low, bounds.final_high
    grade = low if low == high and low > 0 else None
    prelim = bounds.prelim_low if bounds.prelim_low == bounds.prelim_high else None
    notes = list(unreported_notes)
    if prelim and not open_adjustments and fixed and grade != prelim + fixed:
        notes.append(f"grade {prelim}{fixed:+d} capped at {grade} (scale {outcome.floor}-"
                     f"{outcome.ceiling}; cap status: {outcome.cap_status or 'not stated'})")
    deciding = _graded_deciding(all_rules, evaluations, awarded, bounds.prelim_low, adjustments)
    distance, score = _graded_distance(awarded, evaluations, bounds.prelim_low, met_at - fixed)
    if not math.isfinite(score) and bounds.prelim_low > 0 and low == high and low < met_at:
        score = float(met_at - low)  # no row reaches the line: count the grades short
        distance += tuple(f"{a.label} lowered the grade ({a.change:+d})" for a in adjustments
                          if a.applied and a.change < 0)
        ups = [a.label for a in adjustments if a.applied is False and a.change > 0]
        if ups:
            distance += (f"grade {met_at} needs {met_at - low} more from the adjustments: "
                         + "; ".join(ups),)
    ind_grade = None
    if indicative != bounds and indicative.final_low == indicative.final_high:
        ind_grade = indicative.final_low or None
    common = dict(clauses=all_clauses, stratum=stratum, preliminary_grade=prelim or None,
                  grade=grade, grade_range=(low, high), indicative_grade=ind_grade,
                  adjustments=tuple(adjustments), deciding=deciding, distance=distance,
                  notes=tuple(notes),
                  statuses=tuple(dict.fromkeys(r.status for r in awarded
                                               if r.grade == bounds.prelim_low)))
    words = _grade_words(low, high, _met_line(rule_set))
    if low >= met_at:
        return _base(rule_set, cohort_id, MET, words, distance_score=0.0,
                     **common)
    if high < met_at:
        if indicative.final_high >= met_at and indicative.final_low < met_at:
            notes.append(f"rows not awarded (status not {' / '.join(outcome.award_statuses)}) "
                         f"could reach grade {met_at} with values not given")
            common["notes"] = tuple(notes)
        if indicative.final_low >= met_at:
            held = [r for r in rules if r.status not in awarded_statuses
                    and evaluations[r.id].truth is not False]
            statuses = sorted({r.status for r in held}) or ["not verified"]
            reason = (f"reaching grade {met_at} rests on rows whose status is "
                      f"{' / '.join(statuses)} ({', '.join(r.id for r in held)}): not awarded")
            return _base(rule_set, cohort_id, NOT_ASSESSABLE, words,
                         reasons=(reason,), distance_score=score, **common)
        return _base(rule_set, cohort_id, NOT_MET, words, distance_score=score,
                     **common)
    open_rows = [r for r in awarded if (r.grade or 0) > bounds.prelim_low
                 and evaluations[r.id].truth is None]
    reasons = {x for r in open_rows for x in evaluations[r.id].reasons}
    why = [f"{r.id}: {g}" for r in open_rows for g in evaluations[r.id].gaps]
    for adjustment, result in zip(rule_set.adjustments, adjustments, strict=True):
        if result.applied is None:
            reasons.add("missing")
            why.append(f"{adjustment.id}: {result.state}")
    return _base(rule_set, cohort_id, _category(reasons or {"missing"}), words,
                 reasons=tuple(dict.fromkeys(why)), distance_score=score, **common)


def _grade_words(low: int, high: int, line: str = "") -> str:
    """``grade 3``, ``no grade`` or ``grade 2 to 4 (unresolved)``, with the file's met line."""
    if low == high:
        words = f"grade {low}" if low else "no grade"
    else:
        words = f"grade {low or 'none'} to {high} (unresolved)"
    return f"{words} ({line})" if line else words


def _met_line(rule_set: RuleSet) -> str:
    """The rule file's own words for its "met" line of a graded scale (its ``met`` text)."""
    met = rule_set.outcome.met
    return "" if met in ("", "met") else met


def _graded_deciding(rules: Sequence[Rule], evaluations: Mapping[str, Evaluation],
                     awarded: Sequence[Rule], prelim: int,
                     adjustments: Sequence[AdjustmentResult]) -> tuple[str, ...]:
    out: list[str] = []
    top = [r for r in awarded if r.grade == prelim and evaluations[r.id].truth]
    if top:
        rule = top[0]
        held = [f"{c.label} {c.observed_text} vs {c.threshold_text}"
                for c in evaluations[rule.id].clauses if c.held]
        out.append(f"{rule.id} (grade {rule.grade}): " + "; ".join(held))
    for result in adjustments:
        if result.applied:
            out.append(f"{result.change:+d} {result.label}")
    return tuple(out)


def _graded_distance(awarded: Sequence[Rule], evaluations: Mapping[str, Evaluation], prelim: int,
                     met_target: int) -> tuple[tuple[str, ...], float]:
    def closest(target: int) -> tuple[Rule, Evaluation] | None:
        options = [(r, evaluations[r.id]) for r in awarded
                   if (r.grade or 0) >= target and not evaluations[r.id].truth]
        return min(options, key=lambda pair: (pair[1].shortfall, pair[0].grade or 0)) \
            if options else None

    nxt = closest(prelim + 1)
    distance = ()
    if nxt is not None:
        rule, ev = nxt
        distance = tuple(f"to grade {rule.grade} ({rule.id}): {g}" for g in ev.gaps)
    if prelim >= met_target:
        return distance, 0.0
    to_met = closest(met_target)
    return distance, (to_met[1].shortfall if to_met else math.inf)


# --------------------------------------------------------------------------- public API


def score(rule_set: RuleSet, metrics: Mapping[str, object], cohort_id: str = "", *,
          evidence: CohortEvidence | None = None, minimum: ResolvedMinimum | None = None,
          design_verdict: Verdict | None = None, grade_closed: bool = False) -> Verdict:
    """Score one cohort's (or published study's) metrics against one rule file.

    ``evidence`` (x of n, S(T) with CIs, from the results table) adds to every rate and median
    clause its CI, certainty state and posterior, and to the verdict its certainty. ``minimum``
    is the rule file's resolved minimum-evidence rule, judged with the design's verdict on the
    cohort (``design_verdict``); ``grade_closed`` grades a cohort the design closed anyway.

    Raises
    ------
    MetricValueError
        When a metric value does not fit its kind (the message names the cohort and metric).
    """
    try:
        values = observe(metrics, [*used_metrics(rule_set), "setting"], rule_set.specs)
    except MetricValueError as exc:
        raise MetricValueError(f"{cohort_id or 'metrics'}: {exc}") from exc
    verdict, clauses = _applicability(rule_set, values, cohort_id)
    if verdict is not None and failed_only_indicative(rule_set, verdict):
        assumed = score(without_indicative_gates(rule_set), metrics, cohort_id,
                        evidence=evidence, minimum=minimum, design_verdict=design_verdict,
                        grade_closed=grade_closed)
        return with_indicative(verdict, assumed)
    if verdict is not None:
        return verdict
    if rule_set.outcome.scale == "staged":
        return with_verdict_certainty(staged(rule_set, values, cohort_id, clauses), rule_set,
                                      (), {})
    verdict, rules, stratum, clauses = _stratum_rules(rule_set, values, cohort_id, clauses)
    if verdict is not None:
        return verdict
    if rule_set.outcome.scale == "binary":
        result = _binary(rule_set, rules, values, cohort_id, clauses, stratum)
    else:
        result = _graded(rule_set, rules, values, cohort_id, clauses, stratum)
    extra = [f"{o.name}: {o.note}" for o in values.values() if o.note and o.state != "missing"]
    extra += [f"rules from override file {p}" for p in rule_set.overrides]
    result = replace(result, notes=result.notes + tuple(dict.fromkeys(extra)))
    if evidence is not None:  # values without their data (a summary file): no certainty
        result = _with_clause_certainty(result, evidence, rule_set)
        truths = {r.id: _evaluate_rule(rule_set, r, values).truth for r in rules}
        result = with_verdict_certainty(result, rule_set, rules, truths)
    return apply_minimum(result, minimum, metrics, design_verdict, grade_closed)


def _with_clause_certainty(verdict: Verdict, evidence: CohortEvidence | None,
                           rule_set: RuleSet) -> Verdict:
    if evidence is None:
        return verdict
    specs = rule_set.specs
    clauses = tuple(with_certainty(c, evidence, specs) for c in verdict.clauses)
    adjustments = tuple(replace(a, clauses=tuple(with_certainty(c, evidence, specs)
                                                 for c in a.clauses))
                        for a in verdict.adjustments)
    return replace(verdict, clauses=clauses, adjustments=adjustments)


def score_cohorts(rules: RuleBook | Iterable[RuleSet],
                  metrics_by_cohort: Mapping[str, Mapping[str, object]],
                  evidence_by_cohort: Mapping[str, CohortEvidence] | None = None, *,
                  grade_closed_cohorts: bool = False) -> list[Verdict]:
    """Every cohort against every rule file: one verdict per cohort x rule file, cohort-major.

    With ``evidence_by_cohort`` (:func:`~dossier.scoring.evidence.evidence_from_results`) the
    clauses carry their CIs and the verdicts their certainty; rule files with a minimum-evidence
    rule withhold the grade from cohorts below it (``grade_closed_cohorts``: grade cohorts their
    design closed anyway).
    """
    rule_sets = rules.rule_sets if isinstance(rules, RuleBook) else tuple(rules)
    minimums, designs = resolved_minimums(rule_sets)
    evidence_by_cohort = evidence_by_cohort or {}
    out: list[Verdict] = []
    for cohort_id, metrics in metrics_by_cohort.items():
        evidence = evidence_by_cohort.get(cohort_id)
        design_verdicts = {ident: score(design, metrics, cohort_id)
                           for ident, design in designs.items()}
        for rule_set in rule_sets:
            if rule_set.id in design_verdicts:  # a staged design: scored once, above
                out.append(design_verdicts[rule_set.id])
                continue
            minimum = minimums.get(rule_set.id)
            out.append(score(rule_set, metrics, cohort_id, evidence=evidence, minimum=minimum,
                             design_verdict=design_verdicts.get(minimum.design_id)
                             if minimum else None,
                             grade_closed=grade_closed_cohorts))
    return out
