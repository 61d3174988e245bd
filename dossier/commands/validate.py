"""``dossier validate``: check a registry and list every problem, with file, row and column.

Exit code 0 when the registry has no errors (warnings allowed), 1 when it has errors. Nothing
is written: validation only reads.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from dossier.commands.common import (
    ADAM_MAP_OPTION,
    ADAM_OPTION,
    SHEET_OPTION,
    fail,
    print_report,
    settings_of,
)
from dossier.config import Settings
from dossier.registry.adam import OptionsError, registry_from_options
from dossier.registry.load import Registry, RegistryError
from dossier.registry.validate import ValidationReport


class ReportFormat(StrEnum):
    """How the report is printed."""

    table = "table"
    json = "json"


def validate(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, metavar="FILE", show_default=False,
        help="Patient file (.csv, .xlsx, .parquet). Default: the data file named in "
        "dossier.toml, else the bundled demo registry.",
    ),
    cohorts: Path | None = typer.Option(
        None, "--cohorts", metavar="META", show_default=False,
        help="Cohort metadata (.yaml or .csv). Default: the cohorts file named in dossier.toml "
        "when FILE is not given, else <FILE stem>.cohorts.yaml beside FILE when present.",
    ),
    adam: Path = ADAM_OPTION,
    adam_map: Path = ADAM_MAP_OPTION,
    sheet: str = SHEET_OPTION,
    adverse_events: Path | None = typer.Option(
        None, "--adverse-events", metavar="FILE", show_default=False,
        help="Adverse events, one row per event (CSV, XLSX, Parquet). Default: dossier.toml's "
        "[study] adverse_events, else <FILE stem>.adverse_events.csv beside FILE when present.",
    ),
    output_format: ReportFormat = typer.Option(
        ReportFormat.table, "--format", help="table (for people) or json (for programs; only "
        "JSON is printed on stdout).", case_sensitive=False,
    ),
) -> None:
    """Validate a registry: every problem at once, each with its file, row, column and rule."""
    settings = settings_of(ctx).with_overrides(sheet=sheet, adverse_events=adverse_events)
    report = _check(settings, file, cohorts, adam, adam_map)
    if output_format is ReportFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _check(settings: Settings, file: Path | None, meta: Path | None, adam: Path | None,
           adam_map: Path | None) -> ValidationReport:
    try:
        registry: Registry = registry_from_options(file, meta, adam, adam_map, settings)
    except OptionsError as exc:
        raise fail(str(exc)) from exc
    except RegistryError as exc:
        return exc.report
    return registry.report

