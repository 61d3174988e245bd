"""``dossier compare``: all cohorts against all thresholds, nearest dossier's payer screen first.

dossier's payer screen is dossier's reading (ours), not a payer's decision: DRUP's two-stage
success, plus the durability screen, plus ESMO-MCBS Form 3 grade >= 3. A trial success that
misses it is flagged "trial success, below dossier's payer screen".
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.table import Table

from dossier.commands.common import ADAM_MAP_OPTION, ADAM_OPTION, SHEET_OPTION, console, settings_of
from dossier.commands.score import (
    COHORTS_OPTION,
    CRITERIA_OPTION,
    DATA_ARGUMENT,
    FORMAT_OPTION,
    SUMMARY_OPTION,
    check_format,
    cohort_metrics,
    run_scoring,
    selected_rules,
)
from dossier.scoring.readiness import LINE_RULES, Readiness, by_distance, readiness
from dossier.scoring.rulebook import RuleBook
from dossier.scoring.verdicts import (
    IMMATURE,
    INSUFFICIENT,
    MET,
    NOT_APPLICABLE,
    NOT_ASSESSABLE,
    NOT_MET,
    PENDING,
    Verdict,
)

SHORT = {MET: "met", NOT_MET: "not met", PENDING: "pending", IMMATURE: "immature",
         NOT_ASSESSABLE: "n/assess", INSUFFICIENT: "insuff.", NOT_APPLICABLE: "n/a"}


def _cell(verdict: Verdict | None) -> str:
    if verdict is None:
        return ""
    grade = verdict.grade_text
    return SHORT[verdict.verdict] + (f" (g{grade})" if grade else "")


def _distance(row: Readiness) -> str:
    return f"{row.distance:.2f}" if math.isfinite(row.distance) else "unresolved"


def compare_table(rows: list[Readiness], verdicts: list[Verdict], book: RuleBook,
                  metrics: dict[str, dict[str, object]], title: str) -> Table:
    """Cohorts in order of distance; one column per rule file; the flag and what is missing."""
    by_key = {(v.cohort_id, v.criteria_id): v for v in verdicts}
    table = Table(title=title, show_lines=True)
    for column in ("#", "Cohort", "n eval."):
        table.add_column(column, overflow="fold")
    for rule_set in book.rule_sets:
        table.add_column(rule_set.display_name, overflow="fold")
    for column in ("Payer line", "Distance", "Missing for the line"):
        table.add_column(column, overflow="fold")
    for rank, row in enumerate(rows, start=1):
        n = metrics.get(row.cohort_id, {}).get("n_evaluable", "")
        cells = [_cell(by_key.get((row.cohort_id, r.id))) for r in book.rule_sets]
        gaps = "; ".join(row.gaps[:3]) + (" ..." if len(row.gaps) > 3 else "")
        table.add_row(str(rank), row.cohort_id, str(n), *cells, row.flag, _distance(row), gaps)
    return table


def compare(
    ctx: typer.Context,
    data: Path = DATA_ARGUMENT,
    summary: Path = SUMMARY_OPTION,
    criteria: list[str] = CRITERIA_OPTION,
    cohorts: Path = COHORTS_OPTION,
    adam: Path = ADAM_OPTION,
    adam_map: Path = ADAM_MAP_OPTION,
    sheet: str = SHEET_OPTION,
    fmt: str = FORMAT_OPTION,
) -> None:
    """Compare every cohort with every rule file, sorted by distance to dossier's payer screen."""
    settings = settings_of(ctx).with_overrides(sheet=sheet)
    fmt = check_format(fmt)
    book = selected_rules(settings, criteria)
    metrics, label, evidence = cohort_metrics(settings, book, data, summary, cohorts, adam,
                                              adam_map)
    verdicts = run_scoring(book, metrics, evidence, settings.grade_closed_cohorts)
    rows = by_distance(readiness(verdicts))
    if fmt == "json":
        payload = {"source": label, "criteria": book.ids(), "payer_screen": list(LINE_RULES),
                   "cohorts": [{"rank": i, **row.to_dict(),
                                "all": {v.criteria_id: v.to_dict() for v in verdicts
                                        if v.cohort_id == row.cohort_id}}
                               for i, row in enumerate(rows, start=1)]}
        console.print(json.dumps(payload, indent=2, ensure_ascii=False), markup=False,
                      highlight=False)
        return
    title = (f"{len(metrics)} cohort(s) from {label}, nearest dossier's payer screen first "
             f"({' + '.join(LINE_RULES)}; the screen is ours, not a payer's decision)")
    console.print(compare_table(rows, verdicts, book, metrics, title))
    console.print("n/a = not applicable; n/assess = not assessable; gN = grade; distance = sum "
                  "of relative shortfalls to the line", highlight=False)
