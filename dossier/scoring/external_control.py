"""Metrics against an external control, and the label every verdict built on one carries.

A registry cohort is single-arm: any control is external. Its figures come per cohort from the
cohort metadata (``control_pfs_median_months``, ``control_os_median_months``, ``hr_*``), which
take precedence, else from the comparators file entry for the cohort's tumour type and line
(:mod:`dossier.registry.cohort_controls`). From them the rule files' comparative metrics follow:

* gains: cohort median - control median (the engine derives them; their 95% CI here is the
  cohort median's CI minus the control median, the control being taken as known);
* ORR against the control ORR, as a difference in percentage points (context, no rule reads it);
* hazard ratios, which an external control does not give: approximated under an exponential
  model, HR = control median / cohort median, with the 95% CI exp(log HR +- z / sqrt(d)) from
  the cohort's d events (the control's own uncertainty ignored, so the interval is too narrow).
  With a median not reached no HR is approximated, and HR clauses are not assessable.

Every verdict of a rule file whose rules read such a metric then carries
:data:`UNANCHORED_LABEL` and :data:`UNANCHORED_CAVEAT`, and notes saying which figure came from
where and how each comparison was made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import pandas as pd
from scipy.stats import norm

from dossier.registry.cohort_controls import CohortLine, cohort_lines
from dossier.registry.comparators import UNANCHORED_CAVEAT, UNANCHORED_LABEL, Comparators
from dossier.scoring.grammar import metrics_of
from dossier.scoring.rules import RuleSet
from dossier.scoring.verdicts import NOT_APPLICABLE, ROBUST, UNCERTAIN, Verdict

CONTROL_MEDIANS = {"pfs": "control_pfs_median_months", "os": "control_os_median_months"}
COMPARATIVE_METRICS = frozenset({
    *CONTROL_MEDIANS.values(), "hr_os", "hr_os_lower95", "hr_pfs", "hr_pfs_lower95",
    "os_gain_months", "pfs_gain_months", "os_landmark_gain_2y", "os_landmark_gain_3y"})
"""Metrics that compare the cohort with a control: a rule reading one makes a verdict
comparative."""

FROM_METADATA = "cohort metadata"
FROM_FILE = "external-control file"
HR_METHOD = (
    "approximated under an exponential model: HR = control median / cohort median, 95% CI "
    "exp(log HR +- 1.96 / sqrt(events)) from the cohort's number of events with the control "
    "taken as known (so the interval is too narrow); not an observed hazard ratio")
"""How dossier derives a hazard ratio against an external control (docs/comparators.md)."""

JUSTIFICATION_METRIC = "form3_justified"
"""The boolean a rule file's gate reads when the cohort metadata gives form3_justification."""
JUSTIFICATION_KEY = "form3_justification"
CONTROL_KEY = "external_control"
"""Keys of a cohort's metrics that are not metrics: the justification text and the
:class:`ExternalControl` account, read by :func:`label_verdicts` (the engine reads only the
metrics its rule files name)."""


@dataclass(frozen=True)
class ExternalControl:
    """The external control of one cohort: its figures, where each came from, the comparisons."""

    cohort_id: str
    cohort: CohortLine | None
    figures: Mapping[str, float]
    sources: Mapping[str, str]
    comparisons: tuple[str, ...]

    @property
    def label(self) -> str:
        """The label a verdict shows: the unanchored words and what the control is."""
        return f"{UNANCHORED_LABEL}; control: {self.description}"

    @property
    def description(self) -> str:
        """What the control is and where its figures were read."""
        entry = self.cohort.comparator if self.cohort is not None else None
        parts = []
        if entry is not None and FROM_FILE in self.sources.values():
            what = entry.treatment or "standard of care"
            line = "any line" if entry.lines.any else f"line {entry.lines.label}"
            parts.append(f"{what}, {entry.tumour_type.lower()}, {line}; {entry.evidence.label}; "
                         f"from the {FROM_FILE}")
        if FROM_METADATA in self.sources.values():
            parts.append(f"figures given in the {FROM_METADATA}")
        return "; ".join(parts)

    def notes(self) -> tuple[str, ...]:
        """The control's figures with their source, then each comparison, in words."""
        shown = []
        for metric, value in self.figures.items():
            name = {"control_pfs_median_months": "median PFS",
                    "control_os_median_months": "median OS", "control_orr_percent": "ORR"}[metric]
            unit = "%" if metric == "control_orr_percent" else " months"
            shown.append(f"{name} {value:g}{unit} ({self.sources[metric]})")
        entry = self.cohort.comparator if self.cohort is not None else None
        source = ""
        if entry is not None and FROM_FILE in self.sources.values():
            source = f"; source: {entry.citation or entry.evidence.label}"
            if entry.url:
                source += f" ({entry.url})"
        line = ""
        if self.cohort is not None and self.cohort.line is not None:
            line = f" (cohort in line {self.cohort.line}: {self.cohort.line_source})"
        return (f"External control{line}: {', '.join(shown)}{source}", *self.comparisons)

    def record(self) -> dict[str, object]:
        """JSON-ready."""
        entry = self.cohort.comparator if self.cohort is not None else None
        return {
            "cohort_id": self.cohort_id, "label": UNANCHORED_LABEL, "caveat": UNANCHORED_CAVEAT,
            "description": self.description, "figures": dict(self.figures),
            "sources": dict(self.sources), "comparisons": list(self.comparisons),
            "tumour_type": self.cohort.tumour_type if self.cohort else None,
            "line": self.cohort.line if self.cohort else None,
            "line_source": self.cohort.line_source if self.cohort else None,
            "entry": entry.record() if entry is not None else None,
        }


def _row(results: pd.DataFrame, endpoint: str, statistic: str) -> Mapping[str, object] | None:
    rows = results[(results["endpoint"] == endpoint) & (results["statistic"] == statistic)]
    if endpoint == "orr":
        rows = rows[rows["denominator"] == "evaluable"]
    return None if rows.empty else rows.iloc[0].to_dict()


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _limits(lower: float | None, upper: float | None, shift: float, scale: float = 1.0,
            unit: str = "", places: int = 2) -> str:
    low = "NE" if lower is None else f"{scale * (lower - shift):.{places}f}"
    high = "NR" if upper is None else f"{scale * (upper - shift):.{places}f}"
    return f"95% CI {low} to {high}{unit}"


def _median_comparison(endpoint: str, row: Mapping[str, object] | None, control: float
                       ) -> str | None:
    name = endpoint.upper()
    if row is None:
        return None
    estimate = _finite(row["estimate"])
    lower, upper = _finite(row["lower"]), _finite(row["upper"])
    if estimate is None:
        return (f"median {name} not reached vs control {control:g} months: gain more than "
                f"{(lower or 0.0) - control:.2f} months (lower limit of the cohort's CI minus "
                "the control median)")
    return (f"median {name} {estimate:.2f} months vs control {control:g} months: gain "
            f"{estimate - control:.2f} months ({_limits(lower, upper, control)} months: the "
            "cohort's CI minus the control median)")


def _hazard_ratio(endpoint: str, row: Mapping[str, object] | None,
                  events: Mapping[str, object] | None, control: float, z: float
                  ) -> tuple[float, float, float] | str:
    """(HR, lower, upper) under the exponential approximation, or why there is none."""
    median = _finite(row["estimate"]) if row is not None else None
    count = _finite(events["estimate"]) if events is not None else None
    if median is None or median <= 0:
        return (f"HR for {endpoint.upper()} not approximated: the cohort's median is not "
                "reached, so clauses on it are not assessable")
    if not count:
        return f"HR for {endpoint.upper()} not approximated: no events in the cohort"
    hr = control / median
    spread = z / math.sqrt(count)
    return hr, hr * math.exp(-spread), hr * math.exp(spread)


def add_external_controls(metrics: Mapping[str, Mapping[str, object]], results: pd.DataFrame,
                          lines: Mapping[str, CohortLine], *, level: float = 0.95,
                          group_by: str = "cohort_id"
                          ) -> tuple[dict[str, dict[str, object]], dict[str, ExternalControl]]:
    """Each cohort's metrics with its external control added, and the control's account.

    Metadata figures (already in ``metrics``) win over the comparators file; a hazard ratio the
    metadata gives is kept, otherwise it is approximated (:data:`HR_METHOD`). Cohorts without
    any control figure are returned unchanged and get no account.
    """
    z = float(norm.ppf(0.5 + level / 2.0))
    rows = results[results["group_by"] == group_by]
    out: dict[str, dict[str, object]] = {}
    controls: dict[str, ExternalControl] = {}
    for cohort_id, given in metrics.items():
        values = dict(given)
        out[cohort_id] = values
        cohort = lines.get(cohort_id)
        entry = cohort.comparator if cohort is not None else None
        figures: dict[str, float] = {}
        sources: dict[str, str] = {}
        for endpoint, metric in CONTROL_MEDIANS.items():
            own = _finite(values.get(metric))
            from_file = getattr(entry, f"median_{endpoint}_months", None) if entry else None
            if own is not None:
                figures[metric], sources[metric] = own, FROM_METADATA
            elif from_file is not None:
                figures[metric], sources[metric] = float(from_file), FROM_FILE
                values[metric] = float(from_file)
        if entry is not None and entry.orr_percent is not None:
            figures["control_orr_percent"] = entry.orr_percent
            sources["control_orr_percent"] = FROM_FILE
        if not figures:
            continue
        values["control_is_external"] = True
        frame = rows[rows["group"].astype(str) == cohort_id]
        comparisons: list[str] = []
        for endpoint, metric in CONTROL_MEDIANS.items():
            if metric not in figures:
                continue
            median = _row(frame, endpoint, "median")
            text = _median_comparison(endpoint, median, figures[metric])
            if text:
                comparisons.append(text)
            hr_metric = f"hr_{endpoint}"
            if _finite(values.get(hr_metric)) is not None:
                comparisons.append(f"HR for {endpoint.upper()} {values[hr_metric]} "
                                   f"({FROM_METADATA})")
                continue
            hr = _hazard_ratio(endpoint, median, _row(frame, endpoint, "events"),
                               figures[metric], z)
            if isinstance(hr, str):
                comparisons.append(hr)
                continue
            values[hr_metric], values[f"{hr_metric}_lower95"] = hr[0], hr[1]
            sources[hr_metric] = "approximation"
            comparisons.append(f"HR for {endpoint.upper()} {hr[0]:.2f} (95% CI {hr[1]:.2f} to "
                               f"{hr[2]:.2f}), {HR_METHOD}")
        if "control_orr_percent" in figures:
            orr = _row(frame, "orr", "rate")
            estimate = _finite(orr["estimate"]) if orr is not None else None
            if estimate is not None:
                control = figures["control_orr_percent"] / 100.0
                limits = _limits(_finite(orr["lower"]), _finite(orr["upper"]), control, 100.0,
                                 places=1)
                comparisons.append(
                    f"ORR {100 * estimate:.1f}% vs control {figures['control_orr_percent']:g}%: "
                    f"difference {100 * (estimate - control):.1f} percentage points "
                    f"({limits} "
                    "points: the cohort's CI minus the control ORR)")
        controls[cohort_id] = ExternalControl(cohort_id, cohort, figures, sources,
                                              tuple(comparisons))
        values[CONTROL_KEY] = controls[cohort_id]
    return out, controls


def add_justifications(metrics: Mapping[str, Mapping[str, object]],
                       cohorts: pd.DataFrame | None) -> tuple[dict[str, dict[str, object]],
                                                              dict[str, str]]:
    """Metrics with ``form3_justified`` set where the cohort metadata gives
    ``form3_justification``, and the justifications by cohort."""
    out = {cohort_id: dict(values) for cohort_id, values in metrics.items()}
    texts: dict[str, str] = {}
    if cohorts is None or "form3_justification" not in cohorts.columns:
        return out, texts
    for cohort_id, text in zip(cohorts["cohort_id"].astype(str), cohorts["form3_justification"],
                               strict=True):
        if cohort_id in out and isinstance(text, str) and text.strip():
            out[cohort_id][JUSTIFICATION_METRIC] = True
            out[cohort_id][JUSTIFICATION_KEY] = texts[cohort_id] = " ".join(text.split())
    return out, texts


def is_comparative(rule_set: RuleSet) -> bool:
    """Whether a rule file's rules (not only its gates) compare the cohort with a control."""
    conditions = [s.when for s in rule_set.strata]
    conditions += [r.when for r in rule_set.all_rules if r.when is not None]
    return any(name in COMPARATIVE_METRICS for c in conditions for name in metrics_of(c))


def _gate_metrics(rule_set: RuleSet) -> set[str]:
    """Every metric the gates of a rule file read."""
    return {name for gate in rule_set.gates for name in metrics_of(gate.when)}


def _unchecked_context(verdict: Verdict, rule_set: RuleSet, values: Mapping[str, object]
                       ) -> Verdict:
    """A note when a Form 3 style gate (one a justification can open) could not be checked
    because the cohort's context is not given, so the rules were applied without it."""
    for gate in rule_set.gates:
        names = [n for n in metrics_of(gate.when) if n != JUSTIFICATION_METRIC]
        if JUSTIFICATION_METRIC not in metrics_of(gate.when) or values.get(JUSTIFICATION_KEY):
            continue
        if any(values.get(n) is True for n in names):
            continue
        missing = [rule_set.specs[n].label if n in rule_set.specs else n for n in names
                   if values.get(n) is None]
        if missing:
            note = (f"applicability ({gate.id}) not checked: {' and '.join(missing)} not given "
                    "in the cohort metadata; the rules were applied without that check")
            verdict = replace(verdict, notes=(*verdict.notes, note))
    return verdict


APPROXIMATED = frozenset({"hr_os", "hr_pfs", "hr_os_lower95", "hr_pfs_lower95"})
"""Metrics that, against an external control, come from the exponential approximation."""


def _approximation_is_uncertain(verdict: Verdict) -> Verdict:
    """A verdict that rests on a hazard ratio approximated against an external control is never
    "robust": the approximation takes the control as known, so its CI understates the
    uncertainty (docs/comparators.md)."""
    if verdict.certainty != ROBUST:
        return verdict
    used = [c for c in verdict.clauses if c.metric in APPROXIMATED and c.held is not None]
    if not used:
        return verdict
    names = ", ".join(dict.fromkeys(c.label for c in used))
    reason = (f"it rests on {names} approximated against an external control (exponential "
              "model, control taken as known), whose CI understates the uncertainty")
    return replace(verdict, certainty=UNCERTAIN, certainty_reason=reason,
                   outcome=f"{verdict.outcome}, uncertain: {reason}")


def label_verdicts(verdicts: Iterable[Verdict], rule_sets: Iterable[RuleSet],
                   metrics: Mapping[str, Mapping[str, object]]) -> list[Verdict]:
    """Label every comparative verdict made against an external control, and say when a
    stated justification (not the cohort's context) opened a gate.

    ``metrics`` are the cohorts' metrics after :func:`add_external_controls` and
    :func:`add_justifications` (which leave their accounts under CONTROL_KEY and
    JUSTIFICATION_KEY); verdicts of other cohorts pass unchanged.
    """
    sets = {r.id: r for r in rule_sets}
    out = []
    for verdict in verdicts:
        rule_set = sets.get(verdict.criteria_id)
        values = metrics.get(verdict.cohort_id, {})
        control = values.get(CONTROL_KEY)
        if (rule_set is not None and isinstance(control, ExternalControl)
                and is_comparative(rule_set)
                and (verdict.verdict != NOT_APPLICABLE or verdict.indicative_verdict)):
            verdict = replace(verdict, comparator=control.label,
                              comparator_caveat=UNANCHORED_CAVEAT,
                              notes=verdict.notes + control.notes())
            verdict = _approximation_is_uncertain(verdict)
        if rule_set is not None and verdict.verdict != NOT_APPLICABLE:
            verdict = _unchecked_context(verdict, rule_set, values)
        text = values.get(JUSTIFICATION_KEY)
        decisive = not any(values.get(m) is True
                           for m in ("rare_indication", "no_effective_treatment"))
        if (rule_set is not None and isinstance(text, str) and decisive
                and verdict.verdict != NOT_APPLICABLE
                and JUSTIFICATION_METRIC in _gate_metrics(rule_set)):
            note = f"applied on the justification given in the cohort metadata: {text}"
            gates = {g.id for g in rule_set.gates if JUSTIFICATION_METRIC in metrics_of(g.when)}
            clauses = tuple(replace(c, note="; ".join(filter(None, (c.note, note))))
                            if c.op == "gate" and c.rule in gates else c
                            for c in verdict.clauses)
            verdict = replace(verdict, clauses=clauses, notes=(*verdict.notes, note))
        out.append(verdict)
    return out


def with_cohort_context(metrics: Mapping[str, Mapping[str, object]], results: pd.DataFrame,
                        patients: pd.DataFrame, cohorts: pd.DataFrame | None,
                        comparators: Comparators | None, *, level: float = 0.95
                        ) -> dict[str, dict[str, object]]:
    """A registry's cohort metrics with their external controls and Form 3 justifications."""
    lines = cohort_lines(patients, cohorts, comparators)
    out, _ = add_external_controls(metrics, results, lines, level=level)
    out, _ = add_justifications(out, cohorts)
    return out


def external_controls(metrics: Mapping[str, Mapping[str, object]]) -> dict[str, ExternalControl]:
    """The external-control accounts left in ``metrics``, by cohort."""
    return {cohort_id: values[CONTROL_KEY] for cohort_id, values in metrics.items()
            if isinstance(values.get(CONTROL_KEY), ExternalControl)}  # type: ignore[misc]
