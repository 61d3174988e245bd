"""What scoring returns: a verdict per cohort x rule file, with every clause that led to it.

Plain frozen dataclasses that convert to JSON-ready dicts; the engine fills them, the commands
and the renderers only read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MET = "met"
NOT_MET = "not met"
PENDING = "pending"
IMMATURE = "immature"
NOT_ASSESSABLE = "not assessable"
NOT_APPLICABLE = "not applicable"
INSUFFICIENT = "insufficient evidence"
"""Too few evaluable patients, or a cohort its design closed: the minimum-evidence rule of the
rule file (:mod:`dossier.scoring.minimum_evidence`) withholds the grade."""
VERDICTS = (MET, NOT_MET, PENDING, IMMATURE, NOT_ASSESSABLE, INSUFFICIENT, NOT_APPLICABLE)
"""Every verdict a rule file can give, best first."""

CLAUSE_STATES = ("held", "not held", "pending", "immature", "missing", "applies", "does not apply")
"""The last two are for applicability gates (one clause per gate): the gate applies or not."""

CERTAINTY_STATES = ("met", "met, uncertain", "not met, uncertain", "not met", "not estimable")
"""A clause decided with its 95% CI (see :mod:`dossier.endpoints.certainty`)."""

ROBUST = "robust"
UNCERTAIN = "uncertain"
VERDICT_CERTAINTY = (ROBUST, UNCERTAIN, INSUFFICIENT)
"""How certain a verdict is: its deciding clauses clear their thresholds with the whole CI
(robust), one of them has a CI spanning its threshold (uncertain), or too few patients
(insufficient evidence). Empty for verdicts not decided on data (not applicable)."""


@dataclass(frozen=True)
class ClauseResult:
    """One comparison of a cohort's value with a threshold, and whether it held.

    ``held`` is None when it cannot be told yet: ``state`` then says why ("pending": more
    patients are needed; "immature": a median not reached within the follow-up; "missing": the
    value, or a threshold that must come from an override, is not given).
    """

    metric: str
    label: str
    condition: str
    observed: float | int | bool | str | None
    observed_text: str
    op: str
    threshold: float | int | bool | str | None
    threshold_text: str
    unit: str
    held: bool | None
    state: str
    status: str = ""
    source: str = ""
    rule: str = ""
    grade: int | None = None
    note: str = ""
    ci_lower: float | None = None
    """Lower limit of the 95% CI of the observed value (None when the clause has no CI)."""
    ci_upper: float | None = None
    ci_text: str = ""
    """The CI as the reader sees it (``95% CI 1.0 to NR``); empty when there is none."""
    certainty: str = ""
    """One of :data:`CERTAINTY_STATES` when decided with its CI, else empty (counts, yes/no)."""
    probability: float | None = None
    """Posterior probability that the true value meets the threshold (None when not computed)."""
    probability_method: str = ""

    @property
    def text(self) -> str:
        """``median PFS 4.07 vs >= 6 months (not held)``: the clause as a reader checks it."""
        return f"{self.label} {self.observed_text} vs {self.threshold_text} ({self.state})"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "rule": self.rule, "grade": self.grade, "metric": self.metric, "label": self.label,
            "condition": self.condition, "observed": self.observed,
            "observed_text": self.observed_text, "op": self.op, "threshold": self.threshold,
            "threshold_text": self.threshold_text, "unit": self.unit, "held": self.held,
            "state": self.state, "status": self.status, "source": self.source,
            "note": self.note, "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
            "ci_text": self.ci_text, "certainty": self.certainty,
            "probability": self.probability, "probability_method": self.probability_method,
        }


@dataclass(frozen=True)
class AdjustmentResult:
    """One grade adjustment (e.g. -1 for toxicity) and whether it applied."""

    id: str
    label: str
    change: int
    applied: bool | None
    state: str
    status: str = ""
    source: str = ""
    clauses: tuple[ClauseResult, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, with the adjustment's clauses."""
        return {
            "id": self.id, "label": self.label, "change": self.change, "applied": self.applied,
            "state": self.state, "status": self.status, "source": self.source,
            "note": self.note, "clauses": [c.to_dict() for c in self.clauses],
        }


@dataclass(frozen=True)
class Verdict:
    """The verdict of one rule file on one cohort (or one published study).

    ``grade`` is the final grade of a graded scale once it is certain; while clauses are
    pending, immature or missing, ``grade_range`` holds the lowest and highest grade still
    possible (0 = no grade). ``distance`` says what stands between the cohort and the next better
    outcome; ``distance_score`` is the relative shortfall to "met" (0 when met, inf when it
    cannot be told), used only to sort.
    """

    cohort_id: str
    criteria_id: str
    framework: str
    version: str
    title: str
    verdict: str
    outcome: str
    preliminary_grade: int | None = None
    grade: int | None = None
    grade_range: tuple[int, int] | None = None
    indicative_grade: int | None = None
    adjustments: tuple[AdjustmentResult, ...] = ()
    clauses: tuple[ClauseResult, ...] = ()
    deciding: tuple[str, ...] = ()
    distance: tuple[str, ...] = ()
    distance_score: float = math.inf
    reasons: tuple[str, ...] = ()
    stratum: str = ""
    notes: tuple[str, ...] = ()
    ours: bool = False
    statuses: tuple[str, ...] = field(default=())
    certainty: str = ""
    """One of :data:`VERDICT_CERTAINTY`, or empty when the verdict is not decided on data."""
    certainty_reason: str = ""
    """Why (``the CI of median PFS (1.0 to NR) spans 6 months``)."""
    comparator: str = ""
    """``vs external control (unanchored, naive comparison); control: ...`` when the verdict
    compares the cohort with an external control (:mod:`dossier.scoring.external_control`)."""
    comparator_caveat: str = ""
    """The standard caveat on unanchored comparisons, with ``comparator``."""
    indicative_verdict: str = ""
    """For a "not applicable" verdict from gates marked indicative only (e.g. no EMA
    registration): the verdict the rule file would give if those gates held; else empty."""
    indicative_outcome: str = ""
    indicative_grade_text: str = ""
    """The indicative verdict's grade (``3``, ``2-3``, ``no grade``) on a graded scale."""
    indicative_certainty: str = ""
    indicative_certainty_reason: str = ""
    indicative_deciding: tuple[str, ...] = ()
    indicative_reasons: tuple[str, ...] = ()
    indicative_clauses: tuple[ClauseResult, ...] = ()

    @property
    def grade_text(self) -> str:
        """``3``, ``2-3`` (unresolved), ``no grade`` (no grade reached) or empty (not graded)."""
        if self.grade is not None:
            return str(self.grade)
        if self.grade_range is not None:
            low, high = self.grade_range
            if low == high == 0:
                return "no grade"
            return f"{low or 'none'}-{high}"
        return ""

    def to_dict(self) -> dict[str, object]:
        """Everything in the verdict, JSON-ready (inf distance becomes null)."""
        score = self.distance_score
        return {
            "id": self.cohort_id,
            "criteria": self.criteria_id,
            "framework": self.framework,
            "version": self.version,
            "title": self.title,
            "ours": self.ours,
            "verdict": self.verdict,
            "outcome": self.outcome,
            "stratum": self.stratum,
            "preliminary_grade": self.preliminary_grade,
            "grade": self.grade,
            "grade_range": list(self.grade_range) if self.grade_range is not None else None,
            "indicative_grade": self.indicative_grade,
            "adjustments": [a.to_dict() for a in self.adjustments],
            "deciding": list(self.deciding),
            "distance": list(self.distance),
            "distance_score": score if math.isfinite(score) else None,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "statuses": list(self.statuses),
            "certainty": self.certainty,
            "certainty_reason": self.certainty_reason,
            "comparator": self.comparator,
            "comparator_caveat": self.comparator_caveat,
            "clauses": [c.to_dict() for c in self.clauses],
            "indicative_verdict": self.indicative_verdict,
            "indicative_outcome": self.indicative_outcome,
            "indicative_grade_text": self.indicative_grade_text,
            "indicative_certainty": self.indicative_certainty,
            "indicative_certainty_reason": self.indicative_certainty_reason,
            "indicative_deciding": list(self.indicative_deciding),
            "indicative_reasons": list(self.indicative_reasons),
            "indicative_clauses": [c.to_dict() for c in self.indicative_clauses],
        }
