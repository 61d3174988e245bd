"""How certain a verdict is: robust, uncertain or insufficient evidence, and why.

Rules (documented in docs/certainty.md, section 5):

* **met** (a binary "met", or a grade): robust when at least one route that gives it (a rule
  that holds at the awarded preliminary grade) has every clause clear of its threshold with the
  whole 95% CI (or decided on counts and yes/no facts, which have no CI); otherwise uncertain,
  naming the clause whose CI spans its threshold.
* **not met**: uncertain when some route to "met" is within reach of the CIs: every clause of
  it that fails, fails only on the estimate ("not met, uncertain"); robust when each route has
  at least one clause whose whole CI misses it (or that fails on an exact fact).
* **staged designs** (DRUP's two stages) are decided on exact counts by the design's own rule
  (at least 1 of 8, 5 of 24): there is no estimate to be uncertain about, so a decided stage
  verdict is robust.
* pending, immature, not assessable and not applicable are not decided on data: no certainty.
  "insufficient evidence" is set by the minimum-evidence rule (:mod:`.minimum_evidence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from dossier.scoring.clause_certainty import spans_text
from dossier.scoring.metrics import MetricSpec
from dossier.scoring.rules import Rule, RuleSet
from dossier.scoring.verdicts import MET, NOT_MET, ROBUST, UNCERTAIN, ClauseResult, Verdict

MET_UNCERTAIN = "met, uncertain"
NOT_MET_UNCERTAIN = "not met, uncertain"
NOT_MET_CERTAIN = "not met"


def _clauses_of(verdict: Verdict, rule_id: str) -> list[ClauseResult]:
    return [c for c in verdict.clauses if c.rule == rule_id]


def _has_ci(clauses: Sequence[ClauseResult]) -> bool:
    return any(c.certainty for c in clauses)


def _met_certainty(verdict: Verdict, routes: Sequence[Rule], specs: Mapping[str, MetricSpec]
                   ) -> tuple[str, str]:
    weakest: ClauseResult | None = None
    any_ci = False
    for rule in routes:
        held = [c for c in _clauses_of(verdict, rule.id) if c.held]
        any_ci = any_ci or _has_ci(held)
        shaky = [c for c in held if c.certainty == MET_UNCERTAIN]
        if not shaky:
            if _has_ci(held):
                return ROBUST, (f"the {_level(held)} CI of every deciding clause clears its "
                                "threshold")
            return ROBUST, "decided on exact counts and facts (no estimate with a CI)"
        weakest = weakest or shaky[0]
    if weakest is None:
        return ROBUST, "decided on exact counts and facts (no estimate with a CI)"
    return UNCERTAIN, spans_text(weakest, specs)


def _level(clauses: Sequence[ClauseResult]) -> str:
    for clause in clauses:
        if clause.ci_text:
            return clause.ci_text.split(" CI ")[0]
    return "95%"


def _not_met_certainty(verdict: Verdict, routes: Sequence[Rule],
                       specs: Mapping[str, MetricSpec]) -> tuple[str, str]:
    seen_ci = False
    for rule in routes:
        clauses = _clauses_of(verdict, rule.id)
        failing = [c for c in clauses if c.held is False]
        seen_ci = seen_ci or _has_ci(clauses)
        if failing and all(c.certainty == NOT_MET_UNCERTAIN for c in failing):
            return UNCERTAIN, spans_text(failing[0], specs, "reaches")
    if seen_ci:
        return ROBUST, "every route to a better outcome misses a threshold with its whole CI"
    return ROBUST, "decided on exact counts and facts (no estimate with a CI)"


def _routes_met(rule_set: RuleSet, rules: Sequence[Rule], truths: Mapping[str, bool | None],
                verdict: Verdict) -> list[Rule]:
    awarded = set(rule_set.outcome.award_statuses)
    holding = [r for r in rules if truths.get(r.id) and (r.status in awarded
                                                         or r.requires_override)]
    if rule_set.outcome.scale == "graded":
        top = verdict.preliminary_grade or max((r.grade or 0 for r in holding), default=0)
        holding = [r for r in holding if r.grade == top]
    return holding


def _routes_not_met(rule_set: RuleSet, rules: Sequence[Rule], truths: Mapping[str, bool | None]
                    ) -> list[Rule]:
    awarded = set(rule_set.outcome.award_statuses)
    counted = [r for r in rules if truths.get(r.id) is False and r.status in awarded]
    if rule_set.outcome.scale == "graded":
        line = rule_set.outcome.met_at or 0
        counted = [r for r in counted if (r.grade or 0) >= line]
    return counted


def with_verdict_certainty(verdict: Verdict, rule_set: RuleSet, rules: Sequence[Rule],
                           truths: Mapping[str, bool | None]) -> Verdict:
    """The verdict with ``certainty``/``certainty_reason`` set (see the module docstring); an
    uncertain verdict says so in its outcome ("grade 3 ..., uncertain: the 95% CI of ...")."""
    if verdict.certainty:
        return verdict
    specs = rule_set.specs
    if rule_set.outcome.scale == "staged":
        if verdict.verdict not in (MET, NOT_MET):
            return verdict
        return replace(verdict, certainty=ROBUST,
                       certainty_reason="decided on exact patient counts by the design's own "
                                        "stage rule (no estimate, so no CI)")
    if verdict.verdict == MET:
        state, reason = _met_certainty(verdict, _routes_met(rule_set, rules, truths, verdict),
                                       specs)
    elif verdict.verdict == NOT_MET:
        state, reason = _not_met_certainty(verdict, _routes_not_met(rule_set, rules, truths),
                                           specs)
    else:
        return verdict
    outcome = verdict.outcome
    if state == UNCERTAIN:
        outcome = f"{outcome}, uncertain: {reason}"
    return replace(verdict, certainty=state, certainty_reason=reason, outcome=outcome)
