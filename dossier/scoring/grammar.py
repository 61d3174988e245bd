"""The condition grammar of rule files: YAML -> frozen condition nodes, and back to words.

A condition is one of

* ``{metric: pfs_median_months, op: ">=", value: 6}`` (also ``unit: weeks`` or ``percent``),
* ``{metric: orr, in: "[0.20, 0.60)"}``, a band with open or closed ends,
* ``{metric: qol_improved, is: true}``, ``{present: control_os_median_months}``,
* ``{bar: {successes: cb_n, patients: n_evaluable, at_least: 5, of: 24}}``, a two-stage bar,
* ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``.

This module declares and parses conditions; :mod:`dossier.scoring.evaluation` evaluates them
(three-valued, by a tree walk). Nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dossier.scoring.metrics import (
    METRICS,
    THRESHOLD_UNITS,
    MetricSpec,
    format_number,
    unit_suffix,
)
from dossier.suggest import did_you_mean
from dossier.yamlfile import LineDict, LineList, ProblemLog, line_of

OPERATORS = (">", ">=", "<", "<=")
STATUSES = ("verified", "secondary source", "unverified", "ours")
"""Where a rule comes from: seen at the source, seen only in a secondary source, not found in
any source (a placeholder), or dossier's own definition."""

NUMERIC_KINDS = ("fraction", "median", "months", "signed_months", "count", "ratio", "points")
METRIC_KINDS_ALL = (*NUMERIC_KINDS, "boolean", "category")
_BAND = re.compile(r"^\s*([\[(])\s*([-+]?[0-9.eE+-]+)\s*,\s*([-+]?[0-9.eE+-]+)\s*([\])])\s*$")


def tolerance(threshold: float) -> float:
    """Values within 1e-9 (relative) of a threshold count as equal to it.

    So that a rate computed as 18/30 meets ">= 0.60" however the division rounds.
    """
    return 1e-9 * max(1.0, abs(threshold))


@dataclass(frozen=True)
class Threshold:
    """A threshold in the metric's unit, and as the rule file wrote it."""

    value: float
    written: float
    written_unit: str

    def text(self, spec: MetricSpec) -> str:
        """The threshold in words, with the unit the rule file wrote when it differs."""
        shown = format_number(spec, self.value, threshold=True) + unit_suffix(spec)
        if self.written_unit and self.written_unit != spec.unit:
            return f"{self.written:g} {self.written_unit} ({self.value:.2f}{unit_suffix(spec)})"
        return shown


@dataclass(frozen=True)
class Leaf:
    """Fields every leaf carries: where it is, how it is labelled, its status and source."""

    line: int
    label: str
    status: str
    source: str
    note: str


@dataclass(frozen=True)
class Compare:
    """A metric compared with a threshold: ``metric op value``."""
    metric: str
    op: str
    threshold: Threshold
    info: Leaf


@dataclass(frozen=True)
class Band:
    """A metric within a band whose ends may be open or closed: ``[0.20, 0.60)``."""
    metric: str
    lower: Threshold
    lower_closed: bool
    upper: Threshold
    upper_closed: bool
    info: Leaf


@dataclass(frozen=True)
class Is:
    """A yes/no (or category) metric equal to the expected value."""
    metric: str
    expected: bool | str
    info: Leaf


@dataclass(frozen=True)
class Present:
    """A metric is given (used by applicability gates)."""
    metric: str
    info: Leaf


@dataclass(frozen=True)
class Bar:
    """At least ``at_least`` of the first ``of`` patients must have the outcome (a stage bar)."""

    successes: str
    patients: str
    at_least: int
    of: int
    info: Leaf
    first_successes: str = ""
    first_patients: str = ""
    """Counts among the first ``of`` patients only; used instead of the totals when given."""


@dataclass(frozen=True)
class AllOf:
    """Every part holds (Kleene and)."""
    items: tuple[Condition, ...]
    line: int


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds (Kleene or)."""
    items: tuple[Condition, ...]
    line: int


@dataclass(frozen=True)
class Not:
    """The part does not hold."""
    item: Condition
    line: int


Condition = Compare | Band | Is | Present | Bar | AllOf | AnyOf | Not


# --------------------------------------------------------------------------- parsing


@dataclass
class ParseContext:
    """What parsing needs: the problem log, the metrics in scope and the file's source ids."""

    log: ProblemLog
    metrics: Mapping[str, MetricSpec]
    source_ids: frozenset[str] = frozenset()
    used: dict[str, int] = field(default_factory=dict)


_LEAF_KEYS = {"label", "status", "source", "note"}
_FORMS = {
    "compare": {"metric", "op", "value", "unit"} | _LEAF_KEYS,
    "band": {"metric", "in", "unit"} | _LEAF_KEYS,
    "is": {"metric", "is"} | _LEAF_KEYS,
    "present": {"present"} | _LEAF_KEYS,
    "bar": {"bar"} | _LEAF_KEYS,
}
_COMBINATORS = ("all", "any", "not")
CONDITION_KEYS = sorted({k for keys in _FORMS.values() for k in keys} | set(_COMBINATORS))


def _leaf_info(node: LineDict, ctx: ParseContext) -> Leaf:
    status = node.get("status", "")
    if status and status not in STATUSES:
        ctx.log.add(node.line_of("status"),
                    f"unknown status {status!r}{did_you_mean(status, STATUSES)}; "
                    f"use one of: {', '.join(STATUSES)}")
    source = node.get("source", "")
    if source and source not in ctx.source_ids:
        ctx.log.add(node.line_of("source"),
                    f"source {source!r} is not among this file's sources"
                    f"{did_you_mean(source, sorted(ctx.source_ids))}")
    for key in ("label", "note"):
        if key in node and not isinstance(node[key], str):
            ctx.log.add(node.line_of(key), f"{key} must be text")
    return Leaf(node.line, str(node.get("label", "") or ""), str(status or ""),
                str(source or ""), str(node.get("note", "") or ""))


def _metric(node: LineDict, key: str, ctx: ParseContext, kinds: tuple[str, ...]) -> str | None:
    name = node.get(key)
    line = node.line_of(key)
    if not isinstance(name, str):
        ctx.log.add(line, f"{key} must be a metric name, not {name!r}")
        return None
    spec = ctx.metrics.get(name)
    if spec is None:
        ctx.log.add(line, f"unknown metric {name!r}{did_you_mean(name, list(ctx.metrics))}; "
                          "declare it under inputs (with kind and unit) or use a metric of the "
                          "contract list")
        return None
    if spec.kind not in kinds:
        ctx.log.add(line, f"metric {name!r} is {spec.kind}; this condition needs "
                          f"{' or '.join(kinds)}")
        return None
    ctx.used.setdefault(name, line)
    return name


def _threshold(value: object, unit: object, spec: MetricSpec, line: int,
               ctx: ParseContext) -> Threshold | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        ctx.log.add(line, f"threshold must be a number, not {value!r}")
        return None
    written_unit = spec.unit if unit in (None, "") else str(unit)
    factors = THRESHOLD_UNITS.get(spec.unit, {spec.unit: 1.0})
    if written_unit not in factors:
        ctx.log.add(line, f"unit {written_unit!r} does not fit {spec.name} (measured in "
                          f"{spec.unit}); use one of: {', '.join(factors)}")
        return None
    return Threshold(float(value) * factors[written_unit], float(value),
                     "" if written_unit == spec.unit else written_unit)


def _check_keys(node: LineDict, allowed: set[str], ctx: ParseContext, what: str) -> None:
    for key in node:
        if key not in allowed:
            ctx.log.add(node.line_of(key), f"unknown key {key!r} in {what}"
                                           f"{did_you_mean(key, sorted(allowed))}; "
                                           f"allowed: {', '.join(sorted(allowed))}")


def _parse_items(node: LineDict, key: str, ctx: ParseContext) -> tuple[Condition, ...] | None:
    items = node[key]
    if not isinstance(items, LineList) or not items:
        ctx.log.add(node.line_of(key), f"{key} must be a non-empty list of conditions")
        return None
    parsed = [parse_condition(item, ctx, items.line_of(i)) for i, item in enumerate(items)]
    if any(p is None for p in parsed):
        return None
    return tuple(p for p in parsed if p is not None)


def parse_condition(node: object, ctx: ParseContext, line: int = 0) -> Condition | None:
    """Parse one condition; on a problem, log it (with its line) and return None."""
    if not isinstance(node, LineDict):
        ctx.log.add(line_of(node) or line,
                    f"a condition must be a mapping (metric/op/value, in, is, present, bar, "
                    f"all, any or not), not {node!r}")
        return None
    combinators = [k for k in _COMBINATORS if k in node]
    if combinators:
        key = combinators[0]
        if len(node) != 1:
            extra = ", ".join(repr(k) for k in node if k != key)
            ctx.log.add(node.line, f"{key!r} must stand alone in its mapping (also found {extra})")
            return None
        if key == "not":
            inner = parse_condition(node["not"], ctx, node.line_of("not"))
            return Not(inner, node.line) if inner is not None else None
        items = _parse_items(node, key, ctx)
        if items is None:
            return None
        return AllOf(items, node.line) if key == "all" else AnyOf(items, node.line)
    if "bar" in node:
        return _parse_bar(node, ctx)
    if "present" in node:
        _check_keys(node, _FORMS["present"], ctx, "a 'present' condition")
        name = _metric(node, "present", ctx, tuple(METRIC_KINDS_ALL))
        return Present(name, _leaf_info(node, ctx)) if name else None
    if "metric" not in node:
        ctx.log.add(node.line, "a condition needs 'metric' (with op/value, in or is), "
                               f"'present', 'bar', 'all', 'any' or 'not'; found "
                               f"{', '.join(map(repr, node)) or 'nothing'}"
                               f"{did_you_mean(next(iter(node), ''), CONDITION_KEYS)}")
        return None
    if "is" in node:
        return _parse_is(node, ctx)
    if "in" in node:
        return _parse_band(node, ctx)
    return _parse_compare(node, ctx)



def _parse_compare(node: LineDict, ctx: ParseContext) -> Compare | None:
    _check_keys(node, _FORMS["compare"], ctx, "a comparison")
    info = _leaf_info(node, ctx)
    name = _metric(node, "metric", ctx, NUMERIC_KINDS)
    op = node.get("op")
    ok = True
    if op not in OPERATORS:
        ctx.log.add(node.line_of("op"),
                    ("missing 'op'" if op is None else f"unknown operator {op!r}")
                    + f"; use one of: {', '.join(OPERATORS)} (or 'in' for a band, 'is' for yes/no)")
        ok = False
    if "value" not in node:
        ctx.log.add(node.line, "a comparison needs 'value' (the threshold)")
        return None
    if name is None or not ok:
        return None
    threshold = _threshold(node["value"], node.get("unit"), ctx.metrics[name],
                           node.line_of("value"), ctx)
    return Compare(name, str(op), threshold, info) if threshold else None


def _parse_band(node: LineDict, ctx: ParseContext) -> Band | None:
    _check_keys(node, _FORMS["band"], ctx, "a band")
    info = _leaf_info(node, ctx)
    name = _metric(node, "metric", ctx, NUMERIC_KINDS)
    text = node["in"]
    match = _BAND.match(text) if isinstance(text, str) else None
    if match is None:
        ctx.log.add(node.line_of("in"), f"a band is written like \"[0.20, 0.60)\" ('[' or ']' "
                                        f"include the end, '(' or ')' exclude it), not {text!r}")
        return None
    if name is None:
        return None
    try:
        low, high = float(match.group(2)), float(match.group(3))
    except ValueError:
        ctx.log.add(node.line_of("in"), f"band ends must be numbers: {text!r}")
        return None
    if not low < high:
        ctx.log.add(node.line_of("in"), f"band {text!r} is empty: its lower end must be below "
                                        "its upper end")
        return None
    spec = ctx.metrics[name]
    lower = _threshold(low, node.get("unit"), spec, node.line_of("in"), ctx)
    upper = _threshold(high, node.get("unit"), spec, node.line_of("in"), ctx)
    if lower is None or upper is None:
        return None
    return Band(name, lower, match.group(1) == "[", upper, match.group(4) == "]", info)


def _parse_is(node: LineDict, ctx: ParseContext) -> Is | None:
    _check_keys(node, _FORMS["is"], ctx, "an 'is' condition")
    info = _leaf_info(node, ctx)
    name = _metric(node, "metric", ctx, ("boolean", "category"))
    if name is None:
        return None
    spec = ctx.metrics[name]
    expected = node["is"]
    if spec.kind == "boolean" and not isinstance(expected, bool):
        ctx.log.add(node.line_of("is"), f"{name} is yes/no: write 'is: true' or 'is: false', "
                                        f"not {expected!r}")
        return None
    if spec.kind == "category" and expected not in spec.allowed:
        ctx.log.add(node.line_of("is"), f"{name} is one of {', '.join(spec.allowed)}, "
                                        f"not {expected!r}")
        return None
    return Is(name, expected, info)


def _parse_bar(node: LineDict, ctx: ParseContext) -> Bar | None:
    _check_keys(node, _FORMS["bar"], ctx, "a bar")
    info = _leaf_info(node, ctx)
    bar = node["bar"]
    if not isinstance(bar, LineDict):
        ctx.log.add(node.line_of("bar"), "bar must be a mapping with successes, patients, "
                                         "at_least and of")
        return None
    _check_keys(bar, {"successes", "patients", "at_least", "of", "first_successes",
                      "first_patients"}, ctx, "a bar")
    missing = [k for k in ("successes", "patients", "at_least", "of") if k not in bar]
    if missing:
        ctx.log.add(bar.line, f"bar lacks {', '.join(missing)}")
        return None
    successes = _metric(bar, "successes", ctx, ("count",))
    patients = _metric(bar, "patients", ctx, ("count",))
    k, n = bar["at_least"], bar["of"]
    if not (isinstance(k, int) and isinstance(n, int) and not isinstance(k, bool)
            and not isinstance(n, bool) and 1 <= k <= n):
        ctx.log.add(bar.line_of("at_least"),
                    f"bar needs whole numbers 1 <= at_least <= of, not at_least={k!r}, of={n!r}")
        return None
    first = [_metric(bar, key, ctx, ("count",)) if key in bar else ""
             for key in ("first_successes", "first_patients")]
    if bool(first[0]) != bool(first[1]):
        ctx.log.add(bar.line, "a bar gives first_successes and first_patients together")
    if successes is None or patients is None or None in first:
        return None
    return Bar(successes, patients, k, n, info, first[0] or "", first[1] or "")


def metrics_of(condition: Condition) -> list[str]:
    """Every metric a condition reads, in order of appearance."""
    if isinstance(condition, AllOf | AnyOf):
        return [m for item in condition.items for m in metrics_of(item)]
    if isinstance(condition, Not):
        return metrics_of(condition.item)
    if isinstance(condition, Bar):
        return [m for m in (condition.successes, condition.patients, condition.first_successes,
                            condition.first_patients) if m]
    return [condition.metric]


def thresholds_of(condition: Condition) -> dict[str, list[float]]:
    """The thresholds a condition compares each metric with (for scenario checks)."""
    out: dict[str, list[float]] = {}
    for leaf in leaves(condition):
        if isinstance(leaf, Compare):
            out.setdefault(leaf.metric, []).append(leaf.threshold.value)
        elif isinstance(leaf, Band):
            out.setdefault(leaf.metric, []).extend([leaf.lower.value, leaf.upper.value])
    return out


def leaves(condition: Condition) -> list[Condition]:
    """The leaves of a condition, in order."""
    if isinstance(condition, AllOf | AnyOf):
        return [leaf for item in condition.items for leaf in leaves(item)]
    if isinstance(condition, Not):
        return leaves(condition.item)
    return [condition]


# --------------------------------------------------------------------------- text


def label_of(metric: str, info: Leaf, specs: Mapping[str, MetricSpec]) -> str:
    """The leaf's own label, or the metric's."""
    return info.label or specs.get(metric, METRICS.get(metric)).label  # type: ignore[union-attr]


def band_text(node: Band, spec: MetricSpec) -> str:
    """``>= 20% and < 60%``: a band in words."""
    low = ">=" if node.lower_closed else ">"
    high = "<=" if node.upper_closed else "<"
    return f"{low} {node.lower.text(spec)} and {high} {node.upper.text(spec)}"


def singular(count: int, label: str) -> str:
    """``1 patient with ...`` / ``2 patients with ...``."""
    if count == 1 and label.startswith("patients"):
        label = "patient" + label[len("patients"):]
    return f"{count} {label}"


def _bar_text(node: Bar, specs: Mapping[str, MetricSpec]) -> str:
    return (f"at least {singular(node.at_least, specs[node.successes].label)} among the first "
            f"{node.of} {specs[node.patients].label}")


def condition_text(node: Condition, specs: Mapping[str, MetricSpec], nested: bool = False) -> str:
    """The condition in words, e.g. ``ORR >= 20% and < 60% and median DoR >= 9 months``."""
    if isinstance(node, Compare):
        spec = specs[node.metric]
        return f"{label_of(node.metric, node.info, specs)} {node.op} {node.threshold.text(spec)}"
    if isinstance(node, Band):
        return f"{label_of(node.metric, node.info, specs)} {band_text(node, specs[node.metric])}"
    if isinstance(node, Is):
        word = ("yes" if node.expected else "no") if isinstance(node.expected, bool) \
            else node.expected
        return f"{label_of(node.metric, node.info, specs)}: {word}"
    if isinstance(node, Present):
        return f"{label_of(node.metric, node.info, specs)} given"
    if isinstance(node, Bar):
        return _bar_text(node, specs)
    if isinstance(node, Not):
        return f"not ({condition_text(node.item, specs)})"
    joiner = " and " if isinstance(node, AllOf) else " or "
    text = joiner.join(condition_text(item, specs, nested=True) for item in node.items)
    return f"({text})" if nested and len(node.items) > 1 else text
