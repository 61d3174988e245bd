"""The payer-ready line: a trial success that also shows the durable signal payers ask for.

A cohort that passes ``drup-two-stage`` but fails ``dossier-durability-screen`` or grades below
3 on ``esmo-mcbs-v1.1-form3`` is flagged "trial success, not payer-ready" (the gap the DRUP 2026
report describes). The line is dossier's own reading (ours), not a payer's rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dossier.scoring.verdicts import MET, NOT_MET, PENDING, Verdict

TRIAL_RULE = "drup-two-stage"
PAYER_RULES = ("dossier-durability-screen", "esmo-mcbs-v1.1-form3")
LINE_RULES = (TRIAL_RULE, *PAYER_RULES)

PAYER_READY = "payer-ready"
NOT_PAYER_READY = "trial success, not payer-ready"
UNRESOLVED = "trial success, payer-readiness unresolved"
TRIAL_PENDING = "trial pending"
TRIAL_OPEN = "trial outcome not assessable"
NO_TRIAL_SUCCESS = "no trial success"
NOT_SCORED = "not scored"


@dataclass(frozen=True)
class Readiness:
    """Where one cohort stands against the payer-ready line.

    ``distance`` adds up the relative shortfalls of the three verdicts on the line (0 when
    payer-ready, inf when a verdict cannot be told); ``gaps`` say what is missing in words.
    """

    cohort_id: str
    flag: str
    trial_success: bool | None
    payer_ready: bool | None
    distance: float
    gaps: tuple[str, ...]
    verdicts: tuple[Verdict, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (inf distance becomes null)."""
        return {
            "id": self.cohort_id, "flag": self.flag, "trial_success": self.trial_success,
            "payer_ready": self.payer_ready,
            "distance": self.distance if math.isfinite(self.distance) else None,
            "gaps": list(self.gaps),
            "verdicts": {v.criteria_id: {"verdict": v.verdict, "grade": v.grade,
                                         "grade_range": list(v.grade_range)
                                         if v.grade_range else None}
                         for v in self.verdicts},
        }


def _gaps(verdict: Verdict) -> list[str]:
    if verdict.verdict == MET:
        return []
    found = list(verdict.distance) or list(verdict.reasons)
    return [f"{verdict.criteria_id}: {g}" for g in found]


def cohort_readiness(cohort_id: str, verdicts: Sequence[Verdict]) -> Readiness:
    """The payer-ready flag for one cohort from its verdicts (any order, any rule files)."""
    by_rule = {v.criteria_id: v for v in verdicts if v.cohort_id == cohort_id}
    line = tuple(by_rule[r] for r in LINE_RULES if r in by_rule)
    if len(line) < len(LINE_RULES):
        missing = [r for r in LINE_RULES if r not in by_rule]
        return Readiness(cohort_id, NOT_SCORED, None, None, math.inf,
                         (f"not scored against {', '.join(missing)}",), line)
    trial, payers = by_rule[TRIAL_RULE], [by_rule[r] for r in PAYER_RULES]
    distance = sum(v.distance_score for v in line)
    gaps = tuple(g for v in line for g in _gaps(v))
    if trial.verdict != MET:
        flag = {NOT_MET: NO_TRIAL_SUCCESS, PENDING: TRIAL_PENDING}.get(trial.verdict, TRIAL_OPEN)
        success: bool | None = False if trial.verdict == NOT_MET else None
        return Readiness(cohort_id, flag, success, False if success is False else None,
                         distance, gaps, line)
    if any(v.verdict == NOT_MET for v in payers):
        return Readiness(cohort_id, NOT_PAYER_READY, True, False, distance, gaps, line)
    if all(v.verdict == MET for v in payers):
        return Readiness(cohort_id, PAYER_READY, True, True, 0.0, (), line)
    return Readiness(cohort_id, UNRESOLVED, True, None, distance, gaps, line)


def readiness(verdicts: Iterable[Verdict]) -> list[Readiness]:
    """One Readiness per cohort, in the order the cohorts first appear."""
    verdicts = list(verdicts)
    cohorts = list(dict.fromkeys(v.cohort_id for v in verdicts))
    return [cohort_readiness(c, verdicts) for c in cohorts]


_FLAG_ORDER = (PAYER_READY, UNRESOLVED, NOT_PAYER_READY, TRIAL_PENDING, TRIAL_OPEN,
               NO_TRIAL_SUCCESS, NOT_SCORED)


def by_distance(rows: Iterable[Readiness]) -> list[Readiness]:
    """Nearest the payer-ready line first: ready cohorts, then by distance, unknown last."""
    return sorted(rows, key=lambda r: (r.distance != 0.0 or not r.payer_ready,
                                       r.distance, _FLAG_ORDER.index(r.flag), r.cohort_id))
