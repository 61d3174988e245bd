"""dossier's payer screen: a trial success that also shows the durable signal payers ask for.

A cohort that passes ``drup-two-stage`` but fails ``dossier-durability-screen`` or grades below
3 on ``esmo-mcbs-v1.1-form3`` is flagged "trial success, below dossier's payer screen" (the gap
the DRUP 2026 report describes). The screen is dossier's own reading (ours): meeting it implies
no decision of any payer. (Until December 2026 it was called "payer-ready"; see README.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dossier.scoring.verdicts import MET, NOT_MET, PENDING, Verdict

TRIAL_RULE = "drup-two-stage"
SCREEN_RULES = ("dossier-durability-screen", "esmo-mcbs-v1.1-form3")
LINE_RULES = (TRIAL_RULE, *SCREEN_RULES)

SCREEN_NAME = "dossier's payer screen"
"""Whose judgement it is: dossier's, not a payer's (no payer decision is implied)."""
NO_PAYER_DECISION = (
    "No payer decision is implied: the verdicts apply each framework's published criteria as "
    f"dossier encodes them, and \"meets {SCREEN_NAME}\" is dossier's own screen (ours), not a "
    "judgement of any payer, HTA body or committee.")
"""Said on the cover, in the executive summary and in the README."""
MEETS_SCREEN = f"meets {SCREEN_NAME}"
BELOW_SCREEN = f"trial success, below {SCREEN_NAME}"
UNRESOLVED = f"trial success, {SCREEN_NAME} unresolved"
TRIAL_PENDING = "trial pending"
TRIAL_OPEN = "trial outcome not assessable"
NO_TRIAL_SUCCESS = "no trial success"
NOT_SCORED = "not scored"


@dataclass(frozen=True)
class Readiness:
    """Where one cohort stands against dossier's payer screen.

    ``distance`` adds up the relative shortfalls of the three verdicts on the line (0 when the
    screen is met, inf when a verdict cannot be told); ``gaps`` say what is missing in words.
    """

    cohort_id: str
    flag: str
    trial_success: bool | None
    meets_screen: bool | None
    distance: float
    gaps: tuple[str, ...]
    verdicts: tuple[Verdict, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (inf distance becomes null)."""
        return {
            "id": self.cohort_id, "flag": self.flag, "trial_success": self.trial_success,
            "meets_payer_screen": self.meets_screen,
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
    """The payer-screen flag for one cohort from its verdicts (any order, any rule files)."""
    by_rule = {v.criteria_id: v for v in verdicts if v.cohort_id == cohort_id}
    line = tuple(by_rule[r] for r in LINE_RULES if r in by_rule)
    if len(line) < len(LINE_RULES):
        missing = [r for r in LINE_RULES if r not in by_rule]
        return Readiness(cohort_id, NOT_SCORED, None, None, math.inf,
                         (f"not scored against {', '.join(missing)}",), line)
    trial, payers = by_rule[TRIAL_RULE], [by_rule[r] for r in SCREEN_RULES]
    distance = sum(v.distance_score for v in line)
    gaps = tuple(g for v in line for g in _gaps(v))
    if trial.verdict != MET:
        flag = {NOT_MET: NO_TRIAL_SUCCESS, PENDING: TRIAL_PENDING}.get(trial.verdict, TRIAL_OPEN)
        success: bool | None = False if trial.verdict == NOT_MET else None
        return Readiness(cohort_id, flag, success, False if success is False else None,
                         distance, gaps, line)
    if any(v.verdict == NOT_MET for v in payers):
        return Readiness(cohort_id, BELOW_SCREEN, True, False, distance, gaps, line)
    if all(v.verdict == MET for v in payers):
        return Readiness(cohort_id, MEETS_SCREEN, True, True, 0.0, (), line)
    return Readiness(cohort_id, UNRESOLVED, True, None, distance, gaps, line)


def readiness(verdicts: Iterable[Verdict]) -> list[Readiness]:
    """One Readiness per cohort, in the order the cohorts first appear."""
    verdicts = list(verdicts)
    cohorts = list(dict.fromkeys(v.cohort_id for v in verdicts))
    return [cohort_readiness(c, verdicts) for c in cohorts]


_FLAG_ORDER = (MEETS_SCREEN, UNRESOLVED, BELOW_SCREEN, TRIAL_PENDING, TRIAL_OPEN,
               NO_TRIAL_SUCCESS, NOT_SCORED)


def by_distance(rows: Iterable[Readiness]) -> list[Readiness]:
    """Nearest the payer screen first: cohorts meeting it, then by distance, unknown last."""
    return sorted(rows, key=lambda r: (r.distance != 0.0 or not r.meets_screen,
                                       r.distance, _FLAG_ORDER.index(r.flag), r.cohort_id))
