"""Time thresholds the loaded rule files set, for drawing on Kaplan-Meier plots.

A rule that compares the median PFS with a value (ESMO-MCBS Form 3 grade 3: median PFS >= 6
months) gives a vertical line on the PFS plot at that value. The values are read from the rule
files in use, never typed here, so that changing a rule file moves the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dossier.scoring.grammar import AllOf, AnyOf, Compare, Condition, Not

PFS_MEDIAN = "pfs_median_months"
AT_LEAST = (">=", ">")


def _compares(condition: Condition | None) -> Iterable[Compare]:
    """Every comparison in a condition tree."""
    if isinstance(condition, Compare):
        yield condition
    elif isinstance(condition, AllOf | AnyOf):
        for item in condition.items:
            yield from _compares(item)
    elif isinstance(condition, Not):
        yield from _compares(condition.item)


def median_thresholds(rule_files: Sequence[object], metric: str = PFS_MEDIAN
                      ) -> list[tuple[float, str]]:
    """(months, label) for each distinct "median >= value" a rule of the loaded files sets.

    The label names the rule files that use the value, in their own short names, e.g.
    ``(6.0, "median PFS >= 6 months (ESMO Form 3; Durability (ours))")``. Rule files given as
    plain mappings (no rules) contribute nothing.
    """
    found: dict[tuple[float, str], list[str]] = {}
    for rule_file in rule_files:
        rules = getattr(rule_file, "all_rules", ())
        name = str(getattr(rule_file, "short", "") or getattr(rule_file, "id", ""))
        for rule in rules:
            for compare in _compares(rule.when):
                if compare.metric == metric and compare.op in AT_LEAST:
                    names = found.setdefault((float(compare.threshold.value), compare.op), [])
                    if name not in names:
                        names.append(name)
    return [(value, f"median PFS {op} {value:g} months ({'; '.join(names)})")
            for (value, op), names in sorted(found.items())]
