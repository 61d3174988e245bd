"""Shared helpers for the scoring tests: the built-in rule book and a one-call scorer."""

from __future__ import annotations

from functools import cache

from dossier.scoring.engine import score
from dossier.scoring.metrics import DAYS_PER_MONTH
from dossier.scoring.rulebook import RuleBook, load_rulebook
from dossier.scoring.verdicts import Verdict

WEEK_MONTHS = 7 / DAYS_PER_MONTH
"""One week in months (7 / 30.4375), as the rule files convert PASKWIL's weeks."""


@cache
def builtin_book() -> RuleBook:
    return load_rulebook()


def verdict_of(rule_id: str, **metrics: object) -> Verdict:
    """The verdict of a built-in rule file on these metrics."""
    return score(builtin_book().get(rule_id), metrics, "cohort")


def rule_held(verdict: Verdict, rule_id: str) -> bool | None:
    """Whether every clause of one rule (row) held; None when any could not be told."""
    clauses = [c for c in verdict.clauses if c.rule == rule_id]
    assert clauses, f"no clauses for rule {rule_id!r} in {verdict.criteria_id}"
    if any(c.held is False for c in clauses):
        return False
    if any(c.held is None for c in clauses):
        return None
    return True
