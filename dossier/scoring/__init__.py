"""Criteria as data: rule files, the condition grammar and the scoring engine.

Rule files (criteria/*.yaml, one per framework version) are modelled in
:mod:`dossier.scoring.rules`, read and checked by :mod:`dossier.scoring.rulefile` and gathered
in a :mod:`dossier.scoring.rulebook`; conditions are parsed by :mod:`dossier.scoring.grammar`
and evaluated by :mod:`dossier.scoring.evaluation` (no ``eval``);
:mod:`dossier.scoring.engine` (with :mod:`~dossier.scoring.applicability` for gates and
:mod:`~dossier.scoring.staged` for DRUP's stages) turns one cohort's metrics into a
:class:`Verdict` per rule file;
:mod:`dossier.scoring.inputs` and :mod:`dossier.scoring.summary` supply the metrics, from the
results table or from a hand-written summary of a published study.
"""

from __future__ import annotations

from dossier.scoring.engine import score, score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.metrics import METRICS, NOT_REACHED, MetricSpec, MetricValueError
from dossier.scoring.readiness import (
    BELOW_SCREEN,
    MEETS_SCREEN,
    Readiness,
    by_distance,
    cohort_readiness,
    readiness,
)
from dossier.scoring.rulebook import CriteriaError, RuleBook, load_rulebook, resolve_criteria
from dossier.scoring.rulefile import RuleFileError, load_rule_file
from dossier.scoring.rules import RuleSet
from dossier.scoring.summary import SummaryEntry, SummaryFileError, read_summary
from dossier.scoring.verdicts import VERDICTS, AdjustmentResult, ClauseResult, Verdict

__all__ = [
    "BELOW_SCREEN",
    "MEETS_SCREEN",
    "METRICS",
    "NOT_REACHED",
    "VERDICTS",
    "AdjustmentResult",
    "ClauseResult",
    "CriteriaError",
    "MetricSpec",
    "MetricValueError",
    "Readiness",
    "RuleBook",
    "RuleFileError",
    "RuleSet",
    "SummaryEntry",
    "SummaryFileError",
    "Verdict",
    "by_distance",
    "cohort_readiness",
    "load_rule_file",
    "load_rulebook",
    "metrics_from_results",
    "read_summary",
    "readiness",
    "resolve_criteria",
    "score",
    "score_cohorts",
]
