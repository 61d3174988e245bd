"""The rule-file model: a framework version's sources, inputs, gates, rules and outcome scale.

Plain frozen dataclasses. :mod:`dossier.scoring.rulefile` reads and checks a YAML file into a
:class:`RuleSet`; :mod:`dossier.scoring.rulebook` holds the set of rule files in use;
:mod:`dossier.scoring.engine` scores cohorts against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dossier.scoring.grammar import Condition, metrics_of
from dossier.scoring.metrics import METRICS, MetricSpec
from dossier.scoring.minimum_evidence import MinimumEvidence
from dossier.yamlfile import LineList

SCALES = ("binary", "graded", "staged")
IF_MISSING = ("none", "unresolved")
GATE_ON_FAIL = ("not applicable", "pending")
GATE_IF_UNKNOWN = ("not assessable", "applies")
FRAMEWORK_ORDER = ("DRUP", "dossier", "ESMO-MCBS", "PASKWIL")
@dataclass(frozen=True)
class Source:
    """Where a rule was seen: URL (or citation), status and what the source says."""
    id: str
    url: str
    status: str
    note: str = ""
    citation: str = ""

    @property
    def where(self) -> str:
        """The URL, or the citation when there is no URL."""
        return self.url or self.citation


@dataclass(frozen=True)
class Gate:
    """An applicability gate: when it does not hold, the verdict is "not applicable"."""

    id: str
    when: Condition
    reason: str
    status: str
    source: str
    line: int
    on_fail: str = "not applicable"
    """Verdict when the gate does not hold: "not applicable", or "pending" (a maturity gate:
    the rule file is assessed once the cohort is big enough)."""
    if_unknown: str = "not assessable"
    """When the gate cannot be told: "not assessable", or "applies" (judge the rules anyway)."""
    indicative: bool = False
    """When only such gates fail, the verdict stays "not applicable" but also carries the
    verdict the rules would give if the gate held (e.g. EMA registration for off-label use)."""


@dataclass(frozen=True)
class Rule:
    """A grade row (graded scale) or a route to "met" (binary scale)."""

    id: str
    label: str
    when: Condition | None
    status: str
    source: str
    line: int
    grade: int | None = None
    note: str = ""
    requires_override: str = ""
    overridden_by: str = ""


@dataclass(frozen=True)
class Stratum:
    """A branch of the rule file chosen by a condition (e.g. control median OS <= 12)."""
    id: str
    label: str
    when: Condition
    rules: tuple[Rule, ...]
    status: str
    source: str
    line: int


@dataclass(frozen=True)
class Stage:
    """One stage of a staged design: at least ``at_least`` successes among ``of`` patients."""
    id: str
    label: str
    at_least: int
    of: int
    passed: str
    failed: str
    status: str
    source: str
    line: int
    successes: str = ""
    patients: str = ""
    """Counts among the first ``of`` patients (e.g. cb_n_stage1); when given they decide the
    stage instead of the totals so far."""


@dataclass(frozen=True)
class Adjustment:
    """A grade change applied when its condition holds (e.g. -1 for toxicity)."""
    id: str
    label: str
    change: int
    when: Condition
    if_missing: str
    status: str
    source: str
    line: int
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """The outcome scale: binary (met / not met), graded, or staged (two-stage bars)."""

    scale: str
    met: str = "met"
    not_met: str = "not met"
    grades: tuple[int, ...] = ()
    met_at: int | None = None
    met_at_note: str = ""
    floor: int | None = None
    ceiling: int | None = None
    cap_status: str = ""
    cap_source: str = ""
    award_statuses: tuple[str, ...] = ("verified", "secondary source", "ours")
    successes: str = ""
    patients: str = ""


@dataclass(frozen=True)
class RuleSet:
    """One rule file: a framework version with its sources, inputs, rules and outcome scale."""

    id: str
    title: str
    framework: str
    version: str
    effective: str
    sources: tuple[Source, ...]
    inputs: tuple[MetricSpec, ...]
    outcome: Outcome
    path: Path
    short: str = ""
    issuer: str = ""
    ours: bool = False
    applies_to: tuple[tuple[str, str], ...] = ()
    gates: tuple[Gate, ...] = ()
    strata: tuple[Stratum, ...] = ()
    rules: tuple[Rule, ...] = ()
    stages: tuple[Stage, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    notes: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    minimum_evidence: MinimumEvidence | None = None
    """No grade from fewer evaluable patients / for a closed cohort (see minimum_evidence.py)."""

    @property
    def specs(self) -> dict[str, MetricSpec]:
        """Every metric this file may read: the catalogue plus its declared inputs."""
        return {**METRICS, **{m.name: m for m in self.inputs}}

    @property
    def source_urls(self) -> dict[str, str]:
        """Source id -> URL (or citation)."""
        return {s.id: s.where for s in self.sources}

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """Every rule, top-level and in strata."""
        return self.rules + tuple(r for s in self.strata for r in s.rules)

    @property
    def display_name(self) -> str:
        """The short name tables use."""
        return self.short or self.id


@dataclass(frozen=True)
class Override:
    """Rules supplied by a user for another rule file (``override: <id>``)."""

    target: str
    title: str
    sources: tuple[Source, ...]
    raw_rules: LineList
    path: Path
    notes: tuple[str, ...] = ()


def used_metrics(rule_set: RuleSet) -> list[str]:
    """Every metric a rule set reads (inputs, follow-ups, bounds and derivation sources)."""
    names: list[str] = [m.name for m in rule_set.inputs]
    conditions: list[Condition] = [g.when for g in rule_set.gates]
    conditions += [s.when for s in rule_set.strata]
    conditions += [r.when for r in rule_set.all_rules if r.when is not None]
    conditions += [a.when for a in rule_set.adjustments]
    for condition in conditions:
        names += metrics_of(condition)
    if rule_set.outcome.scale == "staged":
        names += [rule_set.outcome.successes, rule_set.outcome.patients]
        names += [m for stage in rule_set.stages for m in (stage.successes, stage.patients) if m]
    specs = rule_set.specs
    extra = []
    for name in names:
        spec = specs.get(name)
        if spec is not None:
            extra += [n for n in (spec.followup, spec.upper_bound, *spec.derived_from) if n]
    return list(dict.fromkeys(names + extra))
