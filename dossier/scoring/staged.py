"""Staged scales: DRUP's two-stage design, each stage judged on its own first patients.

Each stage is decided on the cohort's first evaluable patients, as many as its ``of:`` in the rule
file (DRUP: 8, then 24), when the per-stage counts are given (e.g. cb_n_stage1 of
n_evaluable_stage1); the totals so far are then only noted ("expansion: 120 of 200 overall").
With totals only (summary files) each stage is judged on all evaluable patients so far, with
a note when that hides the first patients' result.
"""

from __future__ import annotations

from collections.abc import Mapping

from dossier.scoring.applicability import base_verdict as _base
from dossier.scoring.evaluation import bar_gap, bar_status, stage_counts
from dossier.scoring.grammar import singular
from dossier.scoring.metrics import Observed
from dossier.scoring.rules import RuleSet
from dossier.scoring.verdicts import MET, NOT_ASSESSABLE, NOT_MET, PENDING, ClauseResult, Verdict


def staged(rule_set: RuleSet, values: Mapping[str, Observed], cohort_id: str,
            clauses: tuple[ClauseResult, ...]) -> Verdict:
    """Walk the stages; each is judged on its own first patients when the per-stage counts
    (e.g. cb_n_stage1 of n_evaluable_stage1) are given, else on the totals so far."""
    outcome = rule_set.outcome
    label = rule_set.specs[outcome.successes].label
    final = rule_set.stages[-1]
    stage_clauses: list[ClauseResult] = []
    overall: dict[str, None] = {}  # the expansion total, noted once on the verdict
    score = 1.0
    s = n = 0
    for index, stage in enumerate(rule_set.stages):
        last = index == len(rule_set.stages) - 1
        counts = stage_counts(values, outcome.successes, outcome.patients, stage.of,
                              stage.successes, stage.patients, stage.at_least, last)
        succ, pats = counts.successes, counts.patients
        if succ is None or pats is None or succ.state != "exact" or pats.state != "exact":
            absent = [o.name for o in (succ, pats) if o is not None and o.state != "exact"]
            return _base(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable",
                         clauses=clauses + tuple(stage_clauses),
                         reasons=(f"needs {' and '.join(absent or [outcome.successes])}",))
        s, n = int(succ.value), int(pats.value)  # type: ignore[arg-type]
        if s > n:
            return _base(rule_set, cohort_id, NOT_ASSESSABLE, "not assessable",
                         clauses=clauses + tuple(stage_clauses),
                         reasons=(f"{succ.name} ({s}) exceeds {pats.name} ({n})",))
        score = max(0, final.at_least - s) / final.at_least
        truth, _needed = bar_status(s, n, stage.at_least, stage.of)
        early = truth is None and s >= stage.at_least and not last
        notes = [] if counts.first else list(counts.notes)
        if counts.first:
            overall.update(dict.fromkeys(c for c in counts.notes if c.startswith("expansion")))
        if not counts.first and n > stage.of:
            notes[:1] = [f"judged on all {n} evaluable patients so far ({outcome.successes} "
                         f"counts them all, not only the first {stage.of})"]
        if early:
            notes.append(f"already passed: {s} of {n} so far, the stage needs {stage.at_least}")
        held = True if early else truth
        state = "pending" if held is None else ("held" if held else "not held")
        among = f" among the first {stage.of}" if counts.first else ""
        stage_clauses.append(ClauseResult(
            metric=succ.name, label=stage.label or stage.id,
            condition=f"at least {singular(stage.at_least, label)} among the first {stage.of} "
                      "evaluable patients",
            observed=s, observed_text=f"{s} of {n}", op="bar", threshold=stage.at_least,
            threshold_text=f">= {stage.at_least} of {stage.of}", unit="patients", held=held,
            state=state, status=stage.status,
            source=rule_set.source_urls.get(stage.source, stage.source), rule=stage.id,
            note="; ".join(notes)))
        gap = bar_gap(s, n, stage.at_least, stage.of, label)
        everything = clauses + tuple(stage_clauses)
        name = stage.label or stage.id
        if held is False:
            return _base(rule_set, cohort_id, NOT_MET, stage.failed, clauses=everything,
                         deciding=(f"{name}: {s} of {n} {label}{among}",), distance=(gap,),
                         distance_score=score, statuses=(stage.status,),
                         notes=tuple(overall))
        if held is None:
            distance = [f"{name}: {gap}"]
            for later in rule_set.stages[index + 1:]:
                distance.append(f"then {later.label or later.id}: at least {later.at_least} of "
                                f"{later.of}")
            return _base(rule_set, cohort_id, PENDING, f"{name} in progress",
                         clauses=everything, deciding=(f"{name}: {s} of {n} {label}{among}",),
                         distance=tuple(distance), distance_score=score,
                         reasons=(f"{name} is not complete: {n} of {stage.of} evaluable",),
                         statuses=(stage.status,), notes=tuple(overall))
    among = f" among the first {final.of}" if stage_clauses and final.successes else ""
    return _base(rule_set, cohort_id, MET, final.passed, clauses=clauses + tuple(stage_clauses),
                 deciding=(f"{final.label or final.id}: {s} of {n} {label}{among}",),
                 distance_score=0.0, notes=tuple(overall),
                 statuses=tuple(dict.fromkeys(c.status for c in stage_clauses)))
