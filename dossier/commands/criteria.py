"""``dossier criteria list`` and ``dossier criteria show ID``: the rule files, readable.

``show`` prints every gate, stratum, rule, stage and adjustment as a table with its status
(verified, secondary source, unverified, ours) and source, then the sources with their URLs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dossier.commands.common import console, fail, reports_errors, settings_of
from dossier.scoring.grammar import Condition, condition_text, leaves
from dossier.scoring.rulebook import CriteriaError, RuleBook, load_rulebook
from dossier.scoring.rules import RuleSet
from dossier.yamlfile import FileCheckError

criteria_app = typer.Typer(
    name="criteria",
    help="List the rule files (criteria) dossier knows, or show one as a readable table.",
    no_args_is_help=True,
)

FILES_HELP = "Extra rule or override file, or a folder of them (repeatable)."


def _book(ctx: typer.Context, files: list[str] | None) -> RuleBook:
    settings = settings_of(ctx)
    extra = list(files or [])
    base = settings.source.parent if settings.source is not None else None
    for item in settings.criteria:  # dossier.toml may name files as well as ids
        candidates = [Path(item)] + ([base / item] if base is not None else [])
        found = next((c for c in candidates if c.exists()), None)
        if found is not None:
            extra.append(str(found))
    try:
        return load_rulebook(extra)
    except (FileCheckError, CriteriaError) as exc:
        raise fail(str(exc)) from exc


def _scale(rule_set: RuleSet) -> str:
    outcome = rule_set.outcome
    if outcome.scale == "graded":
        return f"graded {outcome.grades[0]}-{outcome.grades[-1]}, met at >= {outcome.met_at}"
    if outcome.scale == "staged":
        return " then ".join(f">= {s.at_least}/{s.of}" for s in rule_set.stages)
    return "met / not met"


@criteria_app.command("list")
@reports_errors
def list_criteria(
    ctx: typer.Context,
    files: list[str] = typer.Option(None, "--criteria", "-c", help=FILES_HELP),
) -> None:
    """List every rule file: id, framework, version, effective date, scale and what it is for."""
    book = _book(ctx, files)
    table = Table(title=f"{len(book.rule_sets)} rule file(s)")
    table.add_column("id", no_wrap=True)
    for column in ("framework", "version", "effective", "scale", "applies to", "title"):
        table.add_column(column, overflow="fold")
    for rule_set in book.rule_sets:
        applies = "; ".join(f"{k}: {v}" for k, v in rule_set.applies_to)
        framework = rule_set.framework + (" (ours)" if rule_set.ours else "")
        table.add_row(rule_set.id, framework, rule_set.version, rule_set.effective,
                      _scale(rule_set), applies, rule_set.title)
    console.print(table)


def _condition(condition: Condition, rule_set: RuleSet) -> str:
    """The condition in words, then any clause whose status or note differs from its rule's."""
    specs = rule_set.specs
    lines = [condition_text(condition, specs)]
    for leaf in leaves(condition):
        info = getattr(leaf, "info", None)
        if info is None or not (info.status or info.note):
            continue
        marks = [m for m in (info.status, info.note) if m]
        lines.append(f"- {condition_text(leaf, specs)}: {'; '.join(marks)}")
    return "\n".join(lines)


def _rules_table(rule_set: RuleSet) -> Table:
    graded = rule_set.outcome.scale == "graded"
    table = Table(title="Rules", show_lines=True)
    stratified = bool(rule_set.strata)
    columns = (["stratum"] if stratified else []) + ["rule"] + (["grade"] if graded else [])
    columns += ["condition", "status", "source"]
    for column in columns:
        table.add_column(column, overflow="fold")
    groups = [(s.label or s.id, s.rules) for s in rule_set.strata] or [("", rule_set.rules)]
    for stratum, rules in groups:
        for rule in rules:
            condition = (_condition(rule.when, rule_set) if rule.when is not None
                         else f"(needs an override) {rule.requires_override}")
            if rule.overridden_by:
                condition += f"  [from {rule.overridden_by}]"
            cells = ([stratum] if stratified else [])
            cells.append(f"{rule.id}: {rule.label}" if rule.label else rule.id)
            cells += [str(rule.grade)] if graded else []
            table.add_row(*cells, condition, rule.status, rule.source)
    return table


def _show_header(rule_set: RuleSet) -> None:
    console.print(f"[bold]{rule_set.id}[/]: {rule_set.title}", highlight=False)
    lines = [
        f"framework {rule_set.framework}, version {rule_set.version}, effective "
        f"{rule_set.effective}" + (f", issued by {rule_set.issuer}" if rule_set.issuer else ""),
        "applies to: " + ("; ".join(f"{k} {v}" for k, v in rule_set.applies_to) or "any"),
        f"file: {rule_set.path}",
    ]
    if rule_set.ours:
        lines.append("this is dossier's own rule (ours), not a payer's criterion")
    outcome = rule_set.outcome
    scale = f"outcome: {outcome.scale}"
    if outcome.scale == "graded":
        scale += (f", grades {', '.join(map(str, outcome.grades))}; verdict 'met' at grade >= "
                  f"{outcome.met_at}; final grade kept within {outcome.floor}-{outcome.ceiling}"
                  f" (cap status: {outcome.cap_status or 'not stated'}); grades awarded only "
                  f"from rules whose status is {' / '.join(outcome.award_statuses)}")
    elif outcome.scale == "binary":
        scale += f" ({outcome.met} / {outcome.not_met})"
    lines.append(scale)
    if outcome.met_at_note:
        lines.append(outcome.met_at_note)
    for line in lines:
        console.print(line, highlight=False, markup=False)


@criteria_app.command("show")
@reports_errors
def show_criteria(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="ID", help="Criteria id ('dossier criteria list')."),
    files: list[str] = typer.Option(None, "--criteria", "-c", help=FILES_HELP),
) -> None:
    """Print one rule file as readable tables: inputs, gates, rules, adjustments and sources."""
    book = _book(ctx, files)
    try:
        rule_set = book.get(ident)
    except CriteriaError as exc:
        raise fail(str(exc)) from exc
    specs = rule_set.specs
    _show_header(rule_set)
    inputs = Table(title="Inputs")
    for column in ("metric", "unit", "meaning"):
        inputs.add_column(column, overflow="fold")
    for spec in rule_set.inputs:
        inputs.add_row(spec.name, spec.unit or ("yes/no" if spec.kind == "boolean" else ""),
                       spec.meaning)
    console.print(inputs)
    if rule_set.gates:
        gates = Table(title="Applicability gates (not applicable when a gate fails)",
                      show_lines=True)
        for column in ("gate", "condition", "otherwise", "status", "source"):
            gates.add_column(column, overflow="fold")
        for gate in rule_set.gates:
            gates.add_row(gate.id, condition_text(gate.when, specs), gate.reason, gate.status,
                          gate.source)
        console.print(gates)
    if rule_set.strata:
        strata = Table(title="Strata (the first that holds applies)")
        for column in ("stratum", "condition", "status", "source"):
            strata.add_column(column, overflow="fold")
        for stratum in rule_set.strata:
            strata.add_row(stratum.label or stratum.id, condition_text(stratum.when, specs),
                           stratum.status, stratum.source)
        console.print(strata)
    if rule_set.stages:
        stages = Table(title="Stages", show_lines=True)
        for column in ("stage", "bar", "if met", "if not", "status", "source"):
            stages.add_column(column, overflow="fold")
        label = specs[rule_set.outcome.successes].label
        for stage in rule_set.stages:
            stages.add_row(stage.label or stage.id, f">= {stage.at_least} {label} of {stage.of}",
                           stage.passed, stage.failed, stage.status, stage.source)
        console.print(stages)
    else:
        console.print(_rules_table(rule_set))
    if rule_set.adjustments:
        adjustments = Table(title="Adjustments", show_lines=True)
        for column in ("adjustment", "change", "condition", "if not reported", "status",
                       "source"):
            adjustments.add_column(column, overflow="fold")
        for adj in rule_set.adjustments:
            missing = "no adjustment" if adj.if_missing == "none" else "grade unresolved"
            adjustments.add_row(adj.label, f"{adj.change:+d}", condition_text(adj.when, specs),
                                missing, adj.status, adj.source)
        console.print(adjustments)
    sources = Table(title="Sources", show_lines=True)
    for column in ("source", "status", "where", "note"):
        sources.add_column(column, overflow="fold")
    for source in rule_set.sources:
        sources.add_row(source.id, source.status, source.where, source.note)
    console.print(sources)
    for note in rule_set.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
