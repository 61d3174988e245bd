"""The scoring metrics (contract E): names, kinds, units, and what a cohort's value is.

Rule files and summary files use these names. A value is *exact* (a number, a yes/no), *immature*
(a median not reached: known only to lie beyond the follow-up) or *missing* (not given; for a
few metrics another metric bounds it). The engine never sees anything else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dossier.errors import InputError
from dossier.registry.schema import DAYS_PER_MONTH, DAYS_PER_WEEK, FALSE_WORDS, TRUE_WORDS

NOT_REACHED = "NR"
"""How a median that was not reached is written (summary files accept "not reached" too)."""

KINDS = ("fraction", "median", "months", "signed_months", "count", "boolean", "ratio", "points",
         "category")

UNIT_OF_KIND = {
    "fraction": "fraction", "median": "months", "months": "months", "signed_months": "months",
    "count": "patients", "boolean": "", "ratio": "ratio", "points": "percentage points",
    "category": "",
}

THRESHOLD_UNITS: dict[str, dict[str, float]] = {
    # metric unit -> threshold unit -> factor that turns a threshold into the metric's unit
    "months": {"months": 1.0, "weeks": DAYS_PER_WEEK / DAYS_PER_MONTH,
               "days": 1.0 / DAYS_PER_MONTH},
    "fraction": {"fraction": 1.0, "percent": 0.01},
    "percentage points": {"percentage points": 1.0},
    "patients": {"patients": 1.0},
    "ratio": {"ratio": 1.0},
}


class MetricValueError(InputError, ValueError):
    """A metric value that cannot be used; the message names the metric and says why."""


@dataclass(frozen=True)
class MetricSpec:
    """One scoring metric: its name, kind, display label and meaning."""

    name: str
    kind: str
    label: str
    meaning: str
    allowed: tuple[str, ...] = ()
    followup: str = ""
    """For a median: the metric holding the follow-up of the patients concerned."""
    upper_bound: str = ""
    """A metric whose value bounds this one from above when this one is not given."""
    derived_from: tuple[str, ...] = ()
    """(treatment median, control median) from which a missing gain is derived."""
    extension: bool = False
    """Not in the contract E list: a dossier addition or a rule file's declared input."""

    @property
    def unit(self) -> str:
        """The unit values of this metric are given in."""
        return UNIT_OF_KIND[self.kind]


def _m(name: str, kind: str, label: str, meaning: str, **extra: object) -> MetricSpec:
    return MetricSpec(name, kind, label, meaning, **extra)  # type: ignore[arg-type]


CONTRACT_METRICS: tuple[MetricSpec, ...] = (
    _m("orr", "fraction", "ORR", "Objective response rate: confirmed CR + PR, share 0-1."),
    _m("cbr", "fraction", "CBR",
       "Clinical benefit rate: CR/PR or SD >= sd_weeks (DRUP 16 weeks), share 0-1."),
    _m("dor_median_months", "median", "median DoR",
       "Median duration of response (Kaplan-Meier), months, or NR.",
       followup="dor_followup_months"),
    _m("pfs_median_months", "median", "median PFS",
       "Median progression-free survival (Kaplan-Meier), months, or NR.",
       followup="pfs_followup_months"),
    _m("os_median_months", "median", "median OS",
       "Median overall survival (Kaplan-Meier), months, or NR.", followup="os_followup_months"),
    _m("dor_followup_months", "months", "DoR follow-up",
       "Median follow-up of the responders (reverse Kaplan-Meier), months."),
    _m("pfs_followup_months", "months", "PFS follow-up",
       "Median follow-up for PFS (reverse Kaplan-Meier), months."),
    _m("os_followup_months", "months", "OS follow-up",
       "Median follow-up for OS (reverse Kaplan-Meier), months."),
    _m("g34_tox_wellbeing_rate", "fraction", "grade 3-4 toxicity impacting daily well-being",
       "Share of patients with grade 3-4 toxicity impacting daily well-being (ESMO-MCBS).",
       upper_bound="g3_trae_rate"),
    _m("qol_improved", "boolean", "improved quality of life",
       "Quality-of-life evidence shows improvement."),
    _m("phase4_confirmatory", "boolean", "confirmatory phase-4 experience",
       "A confirmatory, adequately sized phase-4 experience exists."),
    _m("ema_approved", "boolean", "EMA (conditional) approval",
       "The drug is (conditionally) approved by EMA for the indication."),
    _m("rare_indication", "boolean", "rare indication",
       "The indication is rare (a randomised study cannot be run)."),
    _m("no_effective_treatment", "boolean", "no effective treatment",
       "No proven effective treatment is (any longer) available."),
    _m("n_evaluable", "count", "evaluable patients", "Response-evaluable patients."),
    _m("cb_n", "count", "patients with clinical benefit",
       "Evaluable patients with clinical benefit (confirmed CR/PR or SD >= sd_weeks, "
       "DRUP 16 weeks)."),
    _m("cb_durable_n", "count", "patients with durable clinical benefit",
       "Evaluable patients with confirmed CR/PR or SD >= durable_weeks (default 24 weeks)."),
    *(spec for k in (1, 2) for spec in (
        _m(f"n_evaluable_stage{k}", "count", f"stage {k} evaluable patients",
           f"The first response-evaluable patients of the cohort by treatment start that stage "
           f"{k} is judged on (as many as the stage's 'of:' in the staged rule file; fewer while "
           "fewer are evaluable)."),
        _m(f"cb_n_stage{k}", "count", "patients with clinical benefit",
           f"Patients with clinical benefit among stage {k}'s first evaluable patients "
           f"(n_evaluable_stage{k})."),
        _m(f"cb_durable_n_stage{k}", "count", "patients with durable clinical benefit",
           f"Patients with confirmed CR/PR or SD >= durable_weeks among stage {k}'s first "
           f"evaluable patients (n_evaluable_stage{k})."))),
    _m("control_os_median_months", "months", "control median OS",
       "Median OS of the control arm, months."),
    _m("control_pfs_median_months", "months", "control median PFS",
       "Median PFS of the control arm, months."),
    _m("hr_os", "ratio", "HR OS", "Hazard ratio for OS versus control (point estimate)."),
    _m("hr_os_lower95", "ratio", "HR OS lower 95% limit", "Lower 95% confidence limit of hr_os."),
    _m("hr_pfs", "ratio", "HR PFS", "Hazard ratio for PFS versus control (point estimate)."),
    _m("hr_pfs_lower95", "ratio", "HR PFS lower 95% limit",
       "Lower 95% confidence limit of hr_pfs."),
    _m("os_gain_months", "signed_months", "median OS gain",
       "Median OS minus control median OS, months.",
       derived_from=("os_median_months", "control_os_median_months")),
    _m("pfs_gain_months", "signed_months", "median PFS gain",
       "Median PFS minus control median PFS, months.",
       derived_from=("pfs_median_months", "control_pfs_median_months")),
    _m("os_landmark_gain_2y", "points", "2-year OS gain",
       "Kaplan-Meier 2-year OS, intervention minus control, percentage points."),
    _m("os_landmark_gain_3y", "points", "3-year OS gain",
       "Kaplan-Meier 3-year OS, intervention minus control, percentage points."),
    _m("os_landmark_2y", "fraction", "2-year OS", "Kaplan-Meier 2-year OS, intervention arm."),
    _m("os_landmark_3y", "fraction", "3-year OS", "Kaplan-Meier 3-year OS, intervention arm."),
)

EXTENSION_METRICS: tuple[MetricSpec, ...] = (
    _m("g3_trae_rate", "fraction", "grade >= 3 treatment-related AEs",
       "Share of treated patients whose worst treatment-related AE is grade >= 3. An upper "
       "bound on g34_tox_wellbeing_rate, used only when that is not given.", extension=True),
    _m("setting", "category", "setting", "Treatment intent of the cohort.",
       allowed=("palliative", "curative"), extension=True),
)

METRICS: dict[str, MetricSpec] = {m.name: m for m in CONTRACT_METRICS + EXTENSION_METRICS}
"""Every metric dossier knows without a rule file declaring it."""

RENAMED: dict[str, str] = {
    "cb_n_first8": "cb_n_stage1", "n_evaluable_first8": "n_evaluable_stage1",
    "cb_n_first24": "cb_n_stage2", "n_evaluable_first24": "n_evaluable_stage2",
    "cb24_n_first24": "cb_durable_n_stage2", "cb24_n": "cb_durable_n",
}
"""Metric names of dossier 0.1 that had a stage size or a week count in them -> today's name.
A summary file that uses one gets an error naming the new one (the sizes now come from the
rule file, so "first8" may no longer be 8)."""


def _is_nan(value: object) -> bool:
    try:
        return value is not None and not isinstance(value, bool | str) and math.isnan(value)
    except TypeError:
        return False


def is_absent(value: object) -> bool:
    """None, NaN, pandas NA and empty text all mean "not given"."""
    if value is None or _is_nan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _number(spec: MetricSpec, value: object) -> float:
    if isinstance(value, bool):
        raise MetricValueError(f"{spec.name} must be a number, not {value!r}")
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            raise MetricValueError(f"{spec.name} must be a number, not {value!r}") from None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MetricValueError(f"{spec.name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise MetricValueError(f"{spec.name} must be a finite number, not {value!r}")
    return number


def normalise_value(spec: MetricSpec, value: object) -> float | int | bool | str | None:
    """Check one raw value against its metric's kind; return it in canonical form.

    None for "not given"; "NR" for a median not reached; int for counts; bool for yes/no.

    Raises
    ------
    MetricValueError
        Naming the metric and saying what a valid value looks like.
    """
    if is_absent(value):
        return None
    kind = spec.kind
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise MetricValueError(f"{spec.name} must be yes/no (true/false, 1/0), not {value!r}")
    if kind == "category":
        word = str(value).strip().lower()
        if word not in spec.allowed:
            raise MetricValueError(
                f"{spec.name} must be one of {', '.join(spec.allowed)}, not {value!r}")
        return word
    if kind == "median" and isinstance(value, str) \
            and value.strip().lower() in ("nr", "not reached", "not_reached"):
        return NOT_REACHED
    number = _number(spec, value)
    if kind == "fraction" and not 0 <= number <= 1:
        hint = f"; write {number / 100:g} for {number:g}%" if 1 < number <= 100 else ""
        raise MetricValueError(f"{spec.name} must be a fraction from 0 to 1, not {number:g}{hint}")
    if kind in ("median", "months") and number < 0:
        raise MetricValueError(f"{spec.name} must be months >= 0, not {number:g}")
    if kind == "count":
        if number < 0 or number != int(number):
            raise MetricValueError(f"{spec.name} must be a whole number >= 0, not {number:g}")
        return int(number)
    if kind == "ratio" and number <= 0:
        raise MetricValueError(f"{spec.name} must be a ratio > 0, not {number:g}")
    if kind == "points" and not -100 <= number <= 100:
        raise MetricValueError(
            f"{spec.name} must be percentage points from -100 to 100, not {number:g}")
    return number


@dataclass(frozen=True)
class Observed:
    """What is known about one metric of one cohort.

    ``state`` is "exact" (``value`` holds it), "immature" (a median not reached: the value lies
    above ``lower``) or "missing" (not given; ``upper`` may bound it from another metric).
    """

    name: str
    state: str
    value: float | int | bool | str | None = None
    lower: float = -math.inf
    upper: float = math.inf
    text: str = ""
    note: str = ""

    @property
    def raw(self) -> float | int | bool | str | None:
        """The observed value as JSON shows it: a number, a bool, "NR" or null."""
        if self.state == "immature":
            return NOT_REACHED
        return self.value if self.state == "exact" else None


def format_number(spec: MetricSpec, value: float, *, threshold: bool = False) -> str:
    """A value in the metric's own terms: fractions as percent, months to 2 decimals."""
    if spec.kind == "fraction":
        return f"{100 * value:g}%" if threshold else f"{100 * value:.1f}%"
    if spec.kind == "count":
        return f"{round(value)}"
    if threshold:
        return f"{value:g}"
    if spec.kind in ("ratio",):
        return f"{value:.2f}"
    if spec.kind == "points":
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_near(spec: MetricSpec, value: float, threshold: float) -> str:
    """Format ``value``, with more decimals when it would otherwise print as ``threshold``."""
    text = format_number(spec, value)
    if value == threshold:
        return text
    scale = 100.0 if spec.kind == "fraction" else 1.0
    for places in range(2, 10):
        shown = float(text.rstrip("%"))
        if not math.isclose(shown, scale * threshold, rel_tol=0, abs_tol=1e-12):
            break
        text = f"{scale * value:.{places}f}" + ("%" if spec.kind == "fraction" else "")
    return text


def unit_suffix(spec: MetricSpec) -> str:
    """The unit written after a number (empty for fractions, shown as %, and ratios)."""
    return {"months": " months", "patients": " patients",
            "percentage points": " percentage points"}.get(spec.unit, "")


def _observe_one(spec: MetricSpec, raw: object, metrics: Mapping[str, object],
                 specs: Mapping[str, MetricSpec]) -> Observed:
    value = normalise_value(spec, raw)
    if value is None:
        return _missing(spec, metrics, specs)
    if value == NOT_REACHED:
        return _not_reached(spec, metrics, specs)
    if isinstance(value, bool) or spec.kind == "category":
        return Observed(spec.name, "exact", value, text=str(value).lower())
    number = float(value)
    return Observed(spec.name, "exact", value, number, number,
                    text=format_number(spec, number) + unit_suffix(spec))


def _not_reached(spec: MetricSpec, metrics: Mapping[str, object],
                 specs: Mapping[str, MetricSpec]) -> Observed:
    follow_spec = specs.get(spec.followup) or METRICS.get(spec.followup)
    follow = normalise_value(follow_spec, metrics.get(spec.followup)) if follow_spec else None
    if follow is None:
        return Observed(spec.name, "immature", lower=0.0,
                        text="not reached (follow-up not given)")
    return Observed(spec.name, "immature", lower=float(follow),  # type: ignore[arg-type]
                    text=f"not reached (follow-up {float(follow):.2f} months)")  # type: ignore[arg-type]


def _missing(spec: MetricSpec, metrics: Mapping[str, object],
             specs: Mapping[str, MetricSpec]) -> Observed:
    if spec.derived_from:
        treated_name, control_name = spec.derived_from
        treated = _observe_one(specs.get(treated_name) or METRICS[treated_name],
                               metrics.get(treated_name), metrics, specs)
        control = _observe_one(specs.get(control_name) or METRICS[control_name],
                               metrics.get(control_name), metrics, specs)
        if control.state == "exact" and treated.state != "missing":
            c = float(control.value)  # type: ignore[arg-type]
            note = f"derived: {treated_name} - {control_name}"
            if treated.state == "exact":
                gain = float(treated.value) - c  # type: ignore[arg-type]
                return Observed(spec.name, "exact", gain, gain, gain,
                                text=format_number(spec, gain) + unit_suffix(spec), note=note)
            lower = treated.lower - c
            return Observed(spec.name, "immature", lower=lower,
                            text=f"not reached (treatment median {treated.text}; gain > "
                                 f"{lower:.2f} months)", note=note)
    if spec.upper_bound:
        bound_spec = specs.get(spec.upper_bound) or METRICS.get(spec.upper_bound)
        bound = normalise_value(bound_spec, metrics.get(spec.upper_bound)) if bound_spec else None
        if isinstance(bound, float | int) and not isinstance(bound, bool):
            return Observed(spec.name, "missing", lower=0.0, upper=float(bound),
                            text=f"not given (at most {format_number(spec, float(bound))}: "
                                 f"{spec.upper_bound})",
                            note=f"bounded above by {spec.upper_bound}")
    lower = 0.0 if spec.kind in ("fraction", "median", "months", "count", "ratio") else -math.inf
    upper = 1.0 if spec.kind == "fraction" else math.inf
    return Observed(spec.name, "missing", lower=lower, upper=upper, text="not given")


def observe(metrics: Mapping[str, object], names: Iterable[str],
            specs: Mapping[str, MetricSpec] | None = None) -> dict[str, Observed]:
    """What is known about each metric in ``names`` for one cohort's ``metrics``.

    Medians not reached become "immature" with the follow-up as their lower bound; a missing
    gain is derived from the two medians when both are given; a missing
    g34_tox_wellbeing_rate is bounded by g3_trae_rate when that is given.

    Raises
    ------
    MetricValueError
        When a value does not fit its metric.
    """
    known = dict(METRICS)
    if specs:
        known.update(specs)
    out: dict[str, Observed] = {}
    for name in names:
        spec = known.get(name)
        if spec is None:
            raise MetricValueError(f"unknown metric {name!r}")
        out[name] = _observe_one(spec, metrics.get(name), metrics, known)
    return out
