"""Stage sizes come from the loaded rule files: which first patients each stage is judged on.

A staged rule file (DRUP's) says each stage's size in its ``of:``, and bars of other rule files
that reuse a stage's counts (``first_successes: cb_n_stage1``) say it again. The endpoints count
the first evaluable patients of each stage with these sizes (:func:`stage_sizes`), and the counts
are checked against the rule files before scoring (:func:`check_stage_sizes`): a rule file whose
``of:`` disagrees with what the endpoints counted is a :class:`~dossier.errors.CriteriaFileError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dossier.errors import CriteriaFileError
from dossier.scoring.grammar import AllOf, AnyOf, Bar, Condition, Not
from dossier.scoring.inputs import STAGE_SUFFIX, stage_metric_endpoint
from dossier.scoring.rules import RuleSet


@dataclass(frozen=True)
class StageSize:
    """One place a rule file fixes a stage's size: ``of`` patients for the stage metric."""

    stage: int
    of: int
    metric: str
    file: Path
    where: str
    """The stage or bar that says it ("stage stage-1", "bar in rule durable-signal")."""


def _bars(condition: Condition | None) -> Iterator[Bar]:
    if isinstance(condition, Bar):
        yield condition
    elif isinstance(condition, AllOf | AnyOf):
        for item in condition.items:
            yield from _bars(item)
    elif isinstance(condition, Not):
        yield from _bars(condition.item)


def _stage_of(metric: str) -> int | None:
    found = STAGE_SUFFIX.search(metric) if metric else None
    return int(found.group(1)) if found and stage_metric_endpoint(metric) else None


def declared_sizes(rule_sets: Sequence[RuleSet]) -> list[StageSize]:
    """Every stage size the rule files state: staged stages and bars on stage counts."""
    out: list[StageSize] = []
    for rule_set in rule_sets:
        for stage in rule_set.stages:
            k = _stage_of(stage.successes)
            if k is not None:
                out.append(StageSize(k, stage.of, stage.successes, rule_set.path,
                                     f"stage {stage.id}"))
        conditions = [(g.when, f"gate {g.id}") for g in rule_set.gates]
        conditions += [(r.when, f"rule {r.id}") for r in rule_set.all_rules]
        conditions += [(s.when, f"stratum {s.id}") for s in rule_set.strata]
        conditions += [(a.when, f"adjustment {a.id}") for a in rule_set.adjustments]
        for condition, where in conditions:
            for bar in _bars(condition):
                k = _stage_of(bar.first_successes)
                if k is not None:
                    out.append(StageSize(k, bar.of, bar.first_successes, rule_set.path,
                                         f"bar in {where}"))
    return out


def stage_sizes(rule_sets: Sequence[RuleSet]) -> tuple[int, ...]:
    """The size of stage 1, 2, ... as the rule files state it; () when none uses stage counts.

    Raises
    ------
    CriteriaFileError
        When two rule files (or two places of one) give one stage different sizes, or a stage
        is missing (stage 2 without stage 1).
    """
    first: dict[int, StageSize] = {}
    for size in declared_sizes(rule_sets):
        seen = first.setdefault(size.stage, size)
        if seen.of != size.of:
            raise CriteriaFileError(
                f"{size.where} counts {size.metric} among the first {size.of} evaluable "
                f"patients, but {seen.file.name} ({seen.where}) says stage {size.stage} has "
                f"{seen.of}", file=size.file,
                hint=f"give stage {size.stage} the same 'of:' in every rule file in use")
    if not first:
        return ()
    missing = [k for k in range(1, max(first) + 1) if k not in first]
    if missing:
        last = first[max(first)]
        raise CriteriaFileError(
            f"{last.where} uses stage {last.stage} counts but no rule file in use says how many "
            f"patients stage {missing[0]} has", file=last.file,
            hint="number the stage metrics from _stage1")
    return tuple(first[k].of for k in sorted(first))


def computed_sizes(results: pd.DataFrame) -> dict[str, int]:
    """Endpoint (``cbr_stage1``) -> how many first evaluable patients the endpoints counted."""
    rows = results[(results["statistic"] == "rate")
                   & results["endpoint"].astype(str).str.contains("_stage", regex=False)]
    rows = rows.drop_duplicates(["endpoint", "parameters"])
    out: dict[str, int] = {}
    for endpoint, parameters in zip(rows["endpoint"].astype(str),
                                    rows["parameters"].astype(str), strict=True):
        try:
            first = json.loads(parameters).get("first")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(first, int | float):
            out.setdefault(endpoint, int(first))
    return out


def check_stage_sizes(rule_sets: Sequence[RuleSet], results: pd.DataFrame) -> None:
    """Raise CriteriaFileError when a rule file's ``of:`` differs from what endpoints counted.

    A results table with no stage rows (no cohort, or stages not computed) is not checked.
    """
    computed = computed_sizes(results)
    if not computed:
        return
    for size in declared_sizes(rule_sets):
        endpoint = stage_metric_endpoint(size.metric) or ""
        counted = computed.get(endpoint)
        if counted is None:
            raise CriteriaFileError(
                f"{size.where} reads {size.metric}, but the endpoints computed no stage "
                f"{size.stage} counts ({endpoint})", file=size.file,
                hint="compute the endpoints with the stage sizes of the rule files in use")
        if counted != size.of:
            raise CriteriaFileError(
                f"{size.where} judges {size.metric} among the first {size.of} evaluable "
                f"patients, but the endpoints counted it among the first {counted}",
                file=size.file,
                hint="compute the endpoints with this rule file's stage sizes, or change 'of:'")
