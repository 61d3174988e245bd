"""``dossier score``: every cohort (or published study) against the rule files, one row each.

Metrics come from the endpoint results of a patient file (DATA; the demo registry without it)
or from a summary file (``--summary``). The helpers here are shared with ``dossier compare``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.table import Table

from dossier.commands.common import (
    ADAM_MAP_OPTION,
    ADAM_OPTION,
    COMPARATORS_OPTION,
    SHEET_OPTION,
    console,
    error_console,
    fail,
    load_for_command,
    settings_of,
)
from dossier.config import Settings
from dossier.endpoints.parameters import EndpointParameters
from dossier.errors import DossierError
from dossier.scoring.evidence import CohortEvidence
from dossier.scoring.metrics import MetricValueError
from dossier.scoring.readiness import BELOW_SCREEN, readiness
from dossier.scoring.rulebook import CriteriaError, RuleBook, resolve_criteria
from dossier.scoring.summary import read_summary
from dossier.scoring.verdicts import MET, NOT_ASSESSABLE, Verdict
from dossier.yamlfile import FileCheckError

FORMATS = ("table", "json")

CRITERIA_HELP = (
    "Criteria id to apply, or a rule/override file or folder to add (repeatable). "
    "Default: every built-in rule file (and dossier.toml's [criteria] apply)."
)

# The options of score and compare, declared once for both (typer reads them as specs).
DATA_ARGUMENT = typer.Argument(None, help="Patient file (.csv, .xlsx, .parquet); default: demo.")
SUMMARY_OPTION = typer.Option(None, "--summary", "-s",
                              help="Summary file (YAML or CSV) of published results.")
CRITERIA_OPTION = typer.Option(None, "--criteria", "-c", help=CRITERIA_HELP)
GRADE_CLOSED_OPTION = typer.Option(
    False, "--grade-closed-cohorts",
    help="Grade (ESMO-MCBS, PASKWIL) cohorts DRUP closed at stage 1 too; by default they get "
         "'insufficient evidence'. dossier.toml: [criteria] grade_closed_cohorts = true.")
COHORTS_OPTION = typer.Option(None, "--cohorts", help="Cohort metadata (YAML or CSV).")
FORMAT_OPTION = typer.Option("table", "--format", "-f", help="table or json.")


def selected_rules(settings: Settings, criteria: Sequence[str] | None) -> RuleBook:
    """The rule files chosen on the command line (or in dossier.toml), overrides applied."""
    choices = list(criteria) if criteria else list(settings.criteria)
    base = settings.source.parent if settings.source is not None else None
    try:
        _, chosen = resolve_criteria(choices, base)
    except (FileCheckError, CriteriaError) as exc:
        raise fail(str(exc)) from exc
    return chosen


def _registry_metrics(settings: Settings, data: Path | None, cohorts: Path | None,
                      adam: Path | None, adam_map: Path | None, book: RuleBook | None = None,
                      ) -> tuple[dict[str, dict[str, object]], str, dict[str, CohortEvidence]]:
    from dossier.build import cohort_inputs

    registry = load_for_command(settings, data, cohorts, adam, adam_map)
    protocol_weeks = EndpointParameters().sd_weeks  # DRUP's own definition is the default
    if settings.sd_weeks != protocol_weeks:
        error_console.print(f"note: clinical benefit uses SD >= {settings.sd_weeks:g} weeks "
                            f"(settings); DRUP's rule counts SD >= {protocol_weeks:g} weeks",
                            highlight=False)
    label = str(data or adam or settings.data or settings.adam or "demo registry")
    try:
        metrics, evidence = cohort_inputs(settings, registry, book)
    except DossierError as exc:  # only what the user can fix; a bug surfaces as one
        raise fail(f"{label}: {exc}", exc.exit_code) from exc
    return metrics, label, evidence


def cohort_metrics(settings: Settings, book: RuleBook, data: Path | None, summary: Path | None,
                   cohorts: Path | None, adam: Path | None = None, adam_map: Path | None = None,
                   ) -> tuple[dict[str, dict[str, object]], str, dict[str, CohortEvidence]]:
    """Metrics per cohort from DATA or --adam (or the demo), or per entry of a summary file,
    with the evidence behind them (none for a summary file: its values carry no CI)."""
    if (data is not None or adam is not None) and summary is not None:
        raise fail("give either DATA (a patient file or --adam DIR) or --summary (published "
                   "results), not both")
    if summary is None:
        return _registry_metrics(settings, data, cohorts, adam, adam_map, book)
    if cohorts is not None:
        raise fail("--cohorts goes with patient data, not with --summary")
    try:
        entries = read_summary(summary, book.metric_specs())
    except FileCheckError as exc:
        raise fail(str(exc)) from exc
    return {e.id: e.metrics for e in entries}, str(summary), {}


def run_scoring(book: RuleBook, metrics: dict[str, dict[str, object]],
                evidence: dict[str, CohortEvidence] | None = None,
                grade_closed: bool = False) -> list[Verdict]:
    """Score (clauses decided with their CIs, comparisons with an external control labelled),
    turning a bad metric value into a clean error."""
    from dossier.build import score_registry

    try:
        return score_registry(book, metrics, evidence, grade_closed_cohorts=grade_closed)
    except MetricValueError as exc:
        raise fail(str(exc)) from exc


def check_format(fmt: str) -> str:
    """The output format, or a clean error naming the choices."""
    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


def _why(verdict: Verdict) -> str:
    if verdict.verdict == MET or verdict.deciding:
        text = list(verdict.deciding) or list(verdict.reasons)
    else:
        text = list(verdict.reasons) or list(verdict.distance)
    return "; ".join(text[:3]) + (" ..." if len(text) > 3 else "")


def _next(verdict: Verdict) -> str:
    return "; ".join(verdict.distance[:2]) + (" ..." if len(verdict.distance) > 2 else "")


def verdict_table(verdicts: Sequence[Verdict], book: RuleBook, title: str) -> Table:
    """One row per cohort x rule file: verdict, grade, deciding clauses, distance."""
    names = {r.id: r.display_name for r in book.rule_sets}
    table = Table(title=title, show_lines=True)
    for column in ("Cohort", "Criteria", "Verdict", "Grade", "Deciding clauses / why",
                   "To the next better outcome"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        table.add_row(verdict.cohort_id, names.get(verdict.criteria_id, verdict.criteria_id),
                      verdict.verdict, verdict.grade_text, _why(verdict), _next(verdict))
    return table


def score(
    ctx: typer.Context,
    data: Path = DATA_ARGUMENT,
    summary: Path = SUMMARY_OPTION,
    criteria: list[str] = CRITERIA_OPTION,
    cohorts: Path = COHORTS_OPTION,
    adam: Path = ADAM_OPTION,
    adam_map: Path = ADAM_MAP_OPTION,
    sheet: str = SHEET_OPTION,
    fmt: str = FORMAT_OPTION,
    grade_closed: bool = GRADE_CLOSED_OPTION,
    comparators: Path = COMPARATORS_OPTION,
) -> None:
    """Score each cohort against the criteria: verdict, grade and the clauses that decided it."""
    if comparators is not None and summary is not None:
        raise fail("--comparators goes with patient data, not with --summary (a summary "
                   "file gives its control figures itself)")
    settings = settings_of(ctx).with_overrides(sheet=sheet, comparators=comparators,
                                               grade_closed_cohorts=grade_closed or None)
    fmt = check_format(fmt)
    book = selected_rules(settings, criteria)
    metrics, label, evidence = cohort_metrics(settings, book, data, summary, cohorts, adam,
                                              adam_map)
    verdicts = run_scoring(book, metrics, evidence, settings.grade_closed_cohorts)
    ready = readiness(verdicts)
    if fmt == "json":
        payload = {"source": label, "criteria": book.ids(),
                   "verdicts": [v.to_dict() for v in verdicts],
                   "readiness": [r.to_dict() for r in ready]}
        console.print(json.dumps(payload, indent=2, ensure_ascii=False), markup=False,
                      highlight=False)
        return
    title = f"{len(metrics)} cohort(s) from {label} x {len(book.rule_sets)} rule file(s)"
    console.print(verdict_table(verdicts, book, title))
    flagged = [r.cohort_id for r in ready if r.flag == BELOW_SCREEN]
    for cohort_id in flagged:
        console.print(f"{cohort_id}: {BELOW_SCREEN}", highlight=False, markup=False)
    print_override_hint(verdicts)


PASKWIL_2021 = "paskwil-2021-nonrandomised"


def print_override_hint(verdicts: Sequence[Verdict]) -> None:
    """How to supply PASKWIL 2021's unpublished thresholds, when a verdict waits for them."""
    if any(v.criteria_id == PASKWIL_2021 and v.verdict == NOT_ASSESSABLE for v in verdicts):
        error_console.print(
            f"note: {PASKWIL_2021} efficacy thresholds are not published; supply them with "
            f"--criteria FILE whose top key is 'override: {PASKWIL_2021}' and which carries a "
            "rule 'efficacy' (see criteria/README.md)", highlight=False)
