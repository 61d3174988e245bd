"""``dossier diff OLD NEW``: what changed between two data cuts (dossier folders or registries)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from dossier.commands.common import console, settings_of


def diff(
    ctx: typer.Context,
    old: Path = typer.Argument(..., help="The earlier dossier folder, or its patient file."),
    new: Path = typer.Argument(..., help="The later dossier folder, or its patient file."),
    json_out: Path = typer.Option(
        None, "--json", metavar="FILE", show_default=False,
        help="Also write the changes as JSON (changes.json) to FILE."),
    report: Path = typer.Option(
        None, "--report", metavar="FILE", show_default=False,
        help="Also write the changes as a Markdown report to FILE."),
    criteria: list[str] = typer.Option(
        None, "--criteria", help="Criteria for a patient file (as for build; repeatable)."),
    force: bool = typer.Option(
        False, "--force", help="Replace --json / --report files that dossier did not write."),
) -> None:
    """Per cohort and pooled: patients and events added, estimates and verdicts that moved,
    cohorts that opened, closed or passed a stage. A dossier folder is read from its JSON; a
    patient file is analysed as a build would."""
    from dossier.changes.compare import compare
    from dossier.changes.output import check_changes_targets, write_changes
    from dossier.changes.snapshot import load_snapshot
    from dossier.changes.text import summary_lines

    settings = settings_of(ctx)
    inputs = tuple(p for p in (old, new) if p.is_file())
    check_changes_targets(json_out, report, force=force, inputs=inputs)  # before any work
    before = load_snapshot(old, settings, criteria or ())
    after = load_snapshot(new, settings, criteria or ())
    document = compare(before, after)
    for line in summary_lines(document):
        console.print(escape(line), highlight=False)
    for path in write_changes(document, json_path=json_out, report_path=report, force=force,
                              inputs=inputs):
        console.print(f"wrote {escape(str(path))}", highlight=False)
