"""Applicability: the setting, the gates and the strata of a rule file, before its rules.

A gate that does not hold makes the verdict "not applicable" (or "pending" for a maturity gate
such as "assessed once 24 patients are evaluable"); gates are shown as one clause each that reads
"applies" / "does not apply", never as a failing clause. Also the verdict constructor shared by
the engine's scales.

A gate marked ``indicative`` (e.g. EMA registration, which off-label cohorts never have) does
not stop the other gates being checked: when only such gates fail, the verdict is "not
applicable" and the engine adds the verdict the rules would give if they held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from dossier.scoring.evaluation import EvalContext, Evaluation, evaluate
from dossier.scoring.grammar import condition_text
from dossier.scoring.metrics import Observed
from dossier.scoring.rules import Gate, Rule, RuleSet
from dossier.scoring.verdicts import (
    NOT_APPLICABLE,
    NOT_ASSESSABLE,
    PENDING,
    ClauseResult,
    Verdict,
)


def eval_context(rule_set: RuleSet, status: str = "", source: str = "", rule: str = "",
                 grade: int | None = None) -> EvalContext:
    """What evaluation needs from the rule file, with one row's status and source."""
    return EvalContext(rule_set.specs, rule_set.source_urls, status, source, rule, grade)


def open_gaps(evaluation: Evaluation) -> list[str]:
    """The evaluation's gaps in words, empty ones left out."""
    return [g for g in evaluation.gaps if g]


def base_verdict(rule_set: RuleSet, cohort_id: str, verdict: str, outcome: str,
                 **fields: object) -> Verdict:
    """A Verdict of this rule file on one cohort; ``fields`` fill the rest."""
    return Verdict(cohort_id=cohort_id, criteria_id=rule_set.id, framework=rule_set.framework,
                   version=rule_set.version, title=rule_set.title, verdict=verdict,
                   outcome=outcome, ours=rule_set.ours, **fields)  # type: ignore[arg-type]


def _gate_clauses(rule_set: RuleSet, gate: Gate, ev: Evaluation, state: str
                  ) -> tuple[ClauseResult, ...]:
    """A gate as one clause that reads right: it applies, does not apply, or is pending.

    A gate such as "not (control median OS given)" holds when its leaf does not; showing the
    leaf as "not held" would read as a failing clause.
    """
    if not ev.clauses:
        return ()
    held = {"applies": True, "does not apply": False}.get(state)
    first = ev.clauses[0]
    observed = first.observed_text if len(ev.clauses) == 1 else "; ".join(
        f"{c.label} {c.observed_text}" for c in ev.clauses)
    notes = "; ".join(dict.fromkeys(c.note for c in ev.clauses if c.note))
    return (replace(first, label=f"applicability ({gate.id})",
                    condition=condition_text(gate.when, rule_set.specs), observed_text=observed,
                    op="gate", threshold=None,
                    threshold_text=condition_text(gate.when, rule_set.specs), unit="",
                    held=held, state=state, status=gate.status,
                    source=rule_set.source_urls.get(gate.source, gate.source), rule=gate.id,
                    grade=None, note=notes),)


def _so_far(ev: Evaluation) -> str:
    shown = [str(int(c.observed)) if isinstance(c.observed, int | float)
             and not isinstance(c.observed, bool) and float(c.observed).is_integer()
             else c.observed_text for c in ev.clauses]
    return ", ".join(shown)


def applicability(rule_set: RuleSet, values: Mapping[str, Observed], cohort_id: str
                  ) -> tuple[Verdict | None, tuple[ClauseResult, ...]]:
    """The verdict when the setting or a gate rules the file out (else None), and the gate
    clauses; a maturity gate (on_fail: pending) gives "pending" with the count so far."""
    setting = dict(rule_set.applies_to).get("setting")
    observed = values.get("setting")
    if setting and observed is not None and observed.state == "exact" and observed.value != setting:
        reason = f"applies to the {setting} setting; this cohort is {observed.value}"
        return base_verdict(rule_set, cohort_id, NOT_APPLICABLE, "not applicable",
                     reasons=(reason,)), ()
    clauses: list[ClauseResult] = []
    indicative: list[tuple[Gate, Evaluation]] = []  # failed gates marked indicative: go on
    for gate in rule_set.gates:
        ev = evaluate(gate.when, values, eval_context(rule_set, gate.status, gate.source, gate.id))
        if ev.truth is False and gate.on_fail == PENDING:
            clauses += _gate_clauses(rule_set, gate, ev, "pending")
            reason = f"{gate.reason}; {_so_far(ev)} so far"
            return base_verdict(rule_set, cohort_id, PENDING, "pending", reasons=(reason,),
                         clauses=tuple(clauses), deciding=(reason,),
                         statuses=(gate.status,)), tuple(clauses)
        if ev.truth is False and gate.indicative:
            clauses += _gate_clauses(rule_set, gate, ev, "does not apply")
            indicative.append((gate, ev))
            continue
        if ev.truth is False:
            clauses += _gate_clauses(rule_set, gate, ev, "does not apply")
            return base_verdict(rule_set, cohort_id, NOT_APPLICABLE, "not applicable",
                         reasons=(gate.reason,), clauses=tuple(clauses),
                         deciding=tuple(open_gaps(ev)),
                         statuses=(gate.status,)), tuple(clauses)
        if ev.truth is None and gate.if_unknown == "applies":
            continue  # cannot be told: the rules are judged (their own clauses say why)
        if ev.truth is None:
            clauses += ev.clauses
            why = "; ".join(open_gaps(ev))
            return base_verdict(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable",
                         reasons=(f"{gate.reason} (cannot be told: {why})",),
                         clauses=tuple(clauses), statuses=(gate.status,)), tuple(clauses)
        clauses += _gate_clauses(rule_set, gate, ev, "applies")
    if indicative:
        return base_verdict(rule_set, cohort_id, NOT_APPLICABLE, "not applicable",
                            reasons=tuple(g.reason for g, _ in indicative),
                            clauses=tuple(clauses),
                            deciding=tuple(gap for _, ev in indicative for gap in open_gaps(ev)),
                            statuses=tuple(dict.fromkeys(g.status for g, _ in indicative))
                            ), tuple(clauses)
    return None, tuple(clauses)


def failed_only_indicative(rule_set: RuleSet, verdict: Verdict) -> bool:
    """Whether a "not applicable" verdict comes only from gates marked ``indicative`` (so the
    verdict the rules would give if those gates held may be shown beside it)."""
    marked = {g.id for g in rule_set.gates if g.indicative}
    failed = [c.rule for c in verdict.clauses if c.op == "gate" and c.state == "does not apply"]
    return verdict.verdict == NOT_APPLICABLE and bool(failed) and set(failed) <= marked


def without_indicative_gates(rule_set: RuleSet) -> RuleSet:
    """The rule file as if its indicative gates held: they are left out."""
    return replace(rule_set, gates=tuple(g for g in rule_set.gates if not g.indicative))


def stratum_rules(rule_set: RuleSet, values: Mapping[str, Observed], cohort_id: str,
                  clauses: tuple[ClauseResult, ...]
                  ) -> tuple[Verdict | None, tuple[Rule, ...], str, tuple[ClauseResult, ...]]:
    """The rules of the first stratum that holds (all rules when there are no strata)."""
    if not rule_set.strata:
        return None, rule_set.rules, "", clauses
    unknown: list[str] = []
    for stratum in rule_set.strata:
        ev = evaluate(stratum.when, values,
                      eval_context(rule_set, stratum.status, stratum.source, stratum.id))
        if ev.truth:
            return None, stratum.rules, stratum.label or stratum.id, clauses + ev.clauses
        if ev.truth is None:
            unknown += open_gaps(ev)
    if unknown:
        reason = "cannot choose the stratum: " + "; ".join(dict.fromkeys(unknown))
        return base_verdict(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable",
                            reasons=(reason,), clauses=clauses), (), "", clauses
    return base_verdict(rule_set, cohort_id, NOT_APPLICABLE, "not applicable",
                 reasons=("no stratum of the rule file applies",), clauses=clauses), (), "", \
        clauses


def with_indicative(verdict: Verdict, assumed: Verdict) -> Verdict:
    """A "not applicable" verdict carrying ``assumed``, the verdict the rule file gives when
    its indicative gates are taken to hold, with its clauses and certainty."""
    return replace(verdict, indicative_verdict=assumed.verdict,
                   indicative_outcome=assumed.outcome,
                   indicative_grade_text=assumed.grade_text,
                   indicative_certainty=assumed.certainty,
                   indicative_certainty_reason=assumed.certainty_reason,
                   indicative_deciding=assumed.deciding, indicative_reasons=assumed.reasons,
                   indicative_clauses=assumed.clauses)
