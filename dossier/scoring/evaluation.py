"""Evaluating conditions on one cohort's values: three-valued logic, by a tree walk (no ``eval``).

A clause holds, does not hold, or cannot be told yet because it is *pending* (more patients
needed), *immature* (a median not reached within the follow-up) or *missing* (a value not
given). ``all`` is false as soon as one part is false, ``any`` true as soon as one part is true
(Kleene). Each evaluation also measures how far a condition is from holding and says it in
words, for the "distance to the next better outcome".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from dossier.scoring.grammar import (
    AllOf,
    Band,
    Bar,
    Compare,
    Condition,
    Is,
    Leaf,
    Not,
    Present,
    band_text,
    condition_text,
    label_of,
    tolerance,
)
from dossier.scoring.metrics import MetricSpec, Observed, format_near, unit_suffix
from dossier.scoring.verdicts import ClauseResult


@dataclass(frozen=True)
class Evaluation:
    """A condition's truth (None = cannot be told), the clauses behind it and its distance.

    ``reasons`` are the states ("pending", "immature", "missing") of the clauses that leave the
    truth open; ``shortfall`` is a relative distance to holding (0 when it holds, inf when
    unknown); ``gaps`` say in words what is missing.
    """

    truth: bool | None
    reasons: frozenset[str]
    clauses: tuple[ClauseResult, ...]
    shortfall: float
    gaps: tuple[str, ...]


@dataclass(frozen=True)
class EvalContext:
    """What evaluation needs beside the values: metric specs, source URLs, row defaults."""

    specs: Mapping[str, MetricSpec]
    sources: Mapping[str, str]
    status: str = ""
    source: str = ""
    rule: str = ""
    grade: int | None = None
    relax_unverified: bool = False
    """Count clauses whose status is "unverified" as held (to see whether a verdict turns on
    them)."""


def compare_exact(x: float, op: str, t: float) -> bool:
    """``x op t`` with the equality tolerance of :func:`tolerance`."""
    tol = tolerance(t)
    if op == ">=":
        return x >= t - tol
    if op == ">":
        return x > t + tol
    if op == "<=":
        return x <= t + tol
    return x < t - tol


def compare_bounds(lower: float, upper: float, op: str, t: float) -> bool | None:
    """``x op t`` when x is only known to lie between ``lower`` and ``upper``.

    Decided only when the whole range lies beyond the threshold: a median not reached counts
    as ">= X months" only when the follow-up *exceeds* X.
    """
    tol = tolerance(t)
    if op in (">=", ">"):
        if lower > t + tol:
            return True
        if upper < t - tol:
            return False
        return None
    if upper < t - tol:
        return True
    if lower > t + tol:
        return False
    return None


def _scale(t: float) -> float:
    return abs(t) if abs(t) > 1e-12 else 1.0


def _compare_one(obs: Observed, op: str, t: float) -> tuple[bool | None, float]:
    if obs.state == "exact":
        x = float(obs.value)  # type: ignore[arg-type]
        held = compare_exact(x, op, t)
        if held:
            return True, 0.0
        gap = (t - x) if op in (">=", ">") else (x - t)
        return False, max(gap / _scale(t), 1e-6)
    held = compare_bounds(obs.lower, obs.upper, op, t)
    if held is None:
        return None, math.inf
    if held:
        return True, 0.0
    edge = obs.upper if op in (">=", ">") else obs.lower
    gap = (t - edge) if op in (">=", ">") else (edge - t)
    return False, max(gap / _scale(t), 1e-6)


def _clause(node: Condition, metric: str, obs: Observed, op: str, threshold: object,
            threshold_text: str, held: bool | None, ctx: EvalContext, observed_text: str = "",
            state: str = "") -> ClauseResult:
    info: Leaf = node.info  # type: ignore[union-attr]
    spec = ctx.specs[metric]
    if not state:
        state = ("held" if held else "not held") if held is not None else obs.state
    note = join_notes(info.note, obs.note)
    source_id = info.source or ctx.source
    return ClauseResult(
        metric=metric, label=label_of(metric, info, ctx.specs),
        condition=condition_text(node, ctx.specs), observed=obs.raw,
        observed_text=observed_text or obs.text, op=op, threshold=threshold,
        threshold_text=threshold_text, unit=spec.unit, held=held, state=state,
        status=info.status or ctx.status, source=ctx.sources.get(source_id, source_id),
        rule=ctx.rule, grade=ctx.grade, note=note,
    )


def _gap(clause: ClauseResult) -> str:
    if clause.state == "missing":
        return f"{clause.label} not given (needed: {clause.threshold_text})"
    if clause.state == "immature":
        return f"{clause.label} {clause.observed_text} vs {clause.threshold_text}: immature"
    return f"{clause.label} {clause.observed_text} vs {clause.threshold_text}"


def _leaf_result(clause: ClauseResult, shortfall: float) -> Evaluation:
    truth = clause.held
    reasons = frozenset() if truth is not None else frozenset({clause.state})
    gaps = () if truth else (_gap(clause),)
    return Evaluation(truth, reasons, (clause,), shortfall, gaps)


def _evaluate_compare(node: Compare, values: Mapping[str, Observed],
                      ctx: EvalContext) -> Evaluation:
    obs, spec, t = values[node.metric], ctx.specs[node.metric], node.threshold.value
    held, shortfall = _compare_one(obs, node.op, t)
    shown = obs.text
    if obs.state == "exact":
        shown = format_near(spec, float(obs.value), t) + unit_suffix(spec)  # type: ignore[arg-type]
    clause = _clause(node, node.metric, obs, node.op, t, f"{node.op} {node.threshold.text(spec)}",
                     held, ctx, observed_text=shown)
    return _leaf_result(clause, shortfall)


def _evaluate_band(node: Band, values: Mapping[str, Observed], ctx: EvalContext) -> Evaluation:
    obs, spec = values[node.metric], ctx.specs[node.metric]
    low_op = ">=" if node.lower_closed else ">"
    high_op = "<=" if node.upper_closed else "<"
    low_held, low_gap = _compare_one(obs, low_op, node.lower.value)
    high_held, high_gap = _compare_one(obs, high_op, node.upper.value)
    if low_held is False or high_held is False:
        held: bool | None = False
    elif low_held and high_held:
        held = True
    else:
        held = None
    shortfall = 0.0 if held else (math.inf if held is None else
                                  (low_gap if low_held is False else high_gap))
    interval = (f"{'[' if node.lower_closed else '('}{node.lower.value:g}, "
                f"{node.upper.value:g}{']' if node.upper_closed else ')'}")
    clause = _clause(node, node.metric, obs, "in", interval, band_text(node, spec), held, ctx)
    return _leaf_result(clause, shortfall)


def _evaluate_is(node: Is, values: Mapping[str, Observed], ctx: EvalContext) -> Evaluation:
    obs = values[node.metric]
    expected = node.expected
    word = ("yes" if expected else "no") if isinstance(expected, bool) else str(expected)
    if obs.state == "exact":
        held: bool | None = obs.value == expected
        shown = ("yes" if obs.value else "no") if isinstance(obs.value, bool) else str(obs.value)
    else:
        held, shown = None, obs.text
    clause = _clause(node, node.metric, obs, "is", expected, word, held, ctx, observed_text=shown)
    return _leaf_result(clause, 0.0 if held else (1.0 if held is False else math.inf))


def _evaluate_present(node: Present, values: Mapping[str, Observed],
                      ctx: EvalContext) -> Evaluation:
    obs = values[node.metric]
    held = obs.state != "missing"
    clause = _clause(node, node.metric, obs, "present", True, "given", held, ctx)
    return _leaf_result(clause, 0.0 if held else 1.0)


def bar_status(successes: int, patients: int, at_least: int, of: int) -> tuple[bool | None, int]:
    """Whether ``at_least`` of ``of`` can still be, or has been, reached: (truth, still needed).

    Complete (patients >= of): held when successes >= at_least. Incomplete: not held once the
    remaining patients cannot supply the successes still needed, else open (None).
    """
    needed = max(0, at_least - successes)
    if patients >= of:
        return successes >= at_least, needed
    return (False if needed > of - patients else None), needed


def _counted(count: int, label: str) -> str:
    """``1 more patient with ...`` / ``2 more patients with ...``."""
    if count == 1 and label.startswith("patients "):
        label = "patient " + label[len("patients "):]
    return f"{count} more {label}"


def bar_gap(successes: int, patients: int, at_least: int, of: int, label: str) -> str:
    """In words what a bar still needs, e.g. ``needs 2 more ... among the next 16``."""
    truth, needed = bar_status(successes, patients, at_least, of)
    remaining = of - patients
    if truth is None:
        if needed == 0:
            return (f"{successes} {label} already reach the bar of {at_least}; "
                    f"{remaining} more evaluable patients complete the {of}")
        return (f"needs {_counted(needed, label)} among the next {remaining} evaluable patients "
                f"({successes} of {patients} so far; at least {at_least} of {of} needed)")
    if truth is False and patients < of:
        return (f"can no longer reach {at_least} of {of}: needs {_counted(needed, label)} but "
                f"only {remaining} patients remain ({successes} of {patients} so far)")
    if truth is False:
        return f"{successes} of {patients} {label}; needed at least {at_least} of {of}"
    return ""


@dataclass(frozen=True)
class StageCounts:
    """The counts a stage bar is judged on, and what the reader must know about them.

    ``first`` is True when the counts are among the first ``of`` patients (per-stage metrics
    given); otherwise they are the totals so far and ``notes`` say what that hides.
    """

    successes: Observed
    patients: Observed
    first: bool
    notes: tuple[str, ...]


def stage_counts(values: Mapping[str, Observed], successes: str, patients: str, of: int,
                 first_successes: str = "", first_patients: str = "",
                 at_least: int = 1, last_stage: bool = False) -> StageCounts:
    """Pick the per-stage counts (first ``of`` patients) when given, else the totals so far.

    With per-stage counts, the totals are noted when they go beyond the ``of`` patients
    ("expansion: 120 of 200 overall" past the ``last_stage`` of a staged design, whose size the
    rule file gives); with totals only, the notes say when they cannot
    tell whether the first ``of`` alone reached ``at_least``.
    """
    total_s, total_n = values.get(successes), values.get(patients)
    totals = (total_s is not None and total_n is not None and total_s.state == "exact"
              and total_n.state == "exact")
    if first_successes and first_patients:
        fs, fn = values[first_successes], values[first_patients]
        if fs.state == "exact" and fn.state == "exact":
            notes: list[str] = []
            if totals and int(total_n.value) > of:  # type: ignore[union-attr,arg-type]
                overall = f"{int(total_s.value)} of {int(total_n.value)}"  # type: ignore[union-attr,arg-type]
                notes.append(f"expansion: {overall} overall" if last_stage
                             else f"{overall} evaluable patients so far overall")
            return StageCounts(fs, fn, True, tuple(notes))
    notes = []
    if totals:
        s, n = int(total_s.value), int(total_n.value)  # type: ignore[union-attr,arg-type]
        if n > of:
            notes.append(f"counts include all {n} evaluable patients, {n - of} beyond the "
                         f"first {of}")
            if s >= at_least and s - (n - of) < at_least:
                notes.append(f"whether {at_least} of the first {of} had it cannot be told "
                             "from the counts")
    return StageCounts(total_s, total_n, False, tuple(notes))  # type: ignore[arg-type]


def _evaluate_bar(node: Bar, values: Mapping[str, Observed], ctx: EvalContext) -> Evaluation:
    counts = stage_counts(values, node.successes, node.patients, node.of, node.first_successes,
                          node.first_patients, node.at_least)
    succ, pats = counts.successes, counts.patients
    label = ctx.specs[node.successes].label
    threshold_text = f">= {node.at_least} of {node.of}"
    if succ.state != "exact" or pats.state != "exact":
        missing = succ if succ.state != "exact" else pats
        clause = _clause(node, missing.name, missing, "bar", node.at_least, threshold_text, None,
                         ctx)
        return _leaf_result(clause, math.inf)
    s, n = int(succ.value), int(pats.value)  # type: ignore[arg-type]
    observed_text = f"{s} of {n}"
    if s > n:
        clause = _clause(node, succ.name, succ, "bar", node.at_least, threshold_text, None,
                         ctx, observed_text=observed_text, state="missing")
        clause = _with_note(clause, f"{succ.name} ({s}) exceeds {pats.name} ({n}): "
                                    "the counts cannot both be right")
        return Evaluation(None, frozenset({"missing"}), (clause,), math.inf,
                          (f"{succ.name} ({s}) exceeds {pats.name} ({n})",))
    truth, needed = bar_status(s, n, node.at_least, node.of)
    notes = list(counts.notes)
    state = "pending" if truth is None else ("held" if truth else "not held")
    clause = _clause(node, node.successes, succ, "bar", node.at_least, threshold_text, truth, ctx,
                     observed_text=observed_text, state=state)
    if notes:
        clause = _with_note(clause, "; ".join(notes))
    shortfall = 0.0 if truth else needed / node.at_least
    gap = bar_gap(s, n, node.at_least, node.of, label)
    reasons = frozenset({"pending"}) if truth is None else frozenset()
    return Evaluation(truth, reasons, (clause,), shortfall, (gap,) if gap else ())


def join_notes(*notes: str) -> str:
    """Notes joined by '; ' without a full stop before the semicolon."""
    parts = [n.strip() for n in notes if n and n.strip()]
    return "; ".join(p.rstrip(".") if i < len(parts) - 1 else p for i, p in enumerate(parts))


def _with_note(clause: ClauseResult, note: str) -> ClauseResult:
    return replace(clause, note=join_notes(clause.note, note))


def evaluate(node: Condition, values: Mapping[str, Observed], ctx: EvalContext) -> Evaluation:
    """Evaluate a condition on one cohort's observed values (three-valued, no ``eval``)."""
    info = getattr(node, "info", None)
    if ctx.relax_unverified and info is not None and info.status == "unverified":
        return Evaluation(True, frozenset(), (), 0.0, ())
    if isinstance(node, Compare):
        return _evaluate_compare(node, values, ctx)
    if isinstance(node, Band):
        return _evaluate_band(node, values, ctx)
    if isinstance(node, Is):
        return _evaluate_is(node, values, ctx)
    if isinstance(node, Present):
        return _evaluate_present(node, values, ctx)
    if isinstance(node, Bar):
        return _evaluate_bar(node, values, ctx)
    if isinstance(node, Not):
        inner = evaluate(node.item, values, ctx)
        truth = None if inner.truth is None else not inner.truth
        gaps = () if truth else (f"not ({'; '.join(c.text for c in inner.clauses)})",)
        shortfall = 0.0 if truth else (math.inf if truth is None else 1.0)
        return Evaluation(truth, inner.reasons, inner.clauses, shortfall, gaps)
    parts = [evaluate(item, values, ctx) for item in node.items]
    clauses = tuple(c for p in parts for c in p.clauses)
    truths = [p.truth for p in parts]
    if isinstance(node, AllOf):
        truth = False if False in truths else (None if None in truths else True)
        shortfall = sum(p.shortfall for p in parts)
        gaps = tuple(g for p in parts if not p.truth for g in p.gaps)
    else:
        truth = True if True in truths else (None if None in truths else False)
        closest = min(parts, key=lambda p: p.shortfall)
        shortfall = closest.shortfall
        gaps = () if truth else closest.gaps
    reasons = frozenset() if truth is not None else frozenset(
        r for p in parts if p.truth is None for r in p.reasons)
    return Evaluation(truth, reasons, clauses, shortfall, gaps)
