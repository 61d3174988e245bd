"""What every command shares: the settings from the context and a console that prints errors."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console

from dossier.config import Settings
from dossier.errors import DossierError

if TYPE_CHECKING:
    from dossier.registry.load import Registry
    from dossier.registry.validate import ValidationReport


def _width() -> int | None:
    """Terminal width when there is a terminal; a wide page (not rich's 80) when piped."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None
    return 160


console = Console(soft_wrap=True, width=_width())
error_console = Console(stderr=True, soft_wrap=True, width=_width())


def settings_of(ctx: typer.Context) -> Settings:
    """The study settings the app callback loaded (defaults when run outside the app)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    error_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so that what the user can fix ends in a message and an exit code.

    Only :class:`DossierError` (exit code of its class: 1, or 2 for usage errors) and
    ``OSError`` (a file that cannot be read or written; exit 1) are caught: any other exception
    is a bug in dossier and must surface as one, with its traceback.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DossierError as exc:
            raise fail(str(exc), exc.exit_code) from exc
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(f"{where}{exc.strerror or exc}", 1) from exc

    return run


ADAM_HELP = (
    "Read CDISC ADaM datasets (ADSL, ADTTE, ADRS, ADAE as .xpt, .csv or .parquet) from DIR "
    "instead of a patient file (see docs/adam.md)."
)
ADAM_MAP_HELP = (
    "ADaM mapping file (YAML): cohort keys, parameter codes, response rules (docs/adam.md). "
    "Default: CDISC names."
)

# Options several commands declare alike: one declaration each (typer reads them as specs).
ADAM_OPTION = typer.Option(None, "--adam", metavar="DIR", help=ADAM_HELP, show_default=False)
ADAM_MAP_OPTION = typer.Option(None, "--adam-map", metavar="FILE", help=ADAM_MAP_HELP,
                               show_default=False)
COMPARATORS_OPTION = typer.Option(
    None, "--comparators", metavar="FILE", show_default=False,
    help="External controls per tumour type and line of therapy (YAML or CSV, see "
    "docs/comparators.md); comparisons with them are labelled unanchored. Default: dossier.toml's "
    "study section; the demo registry uses the bundled example file.")
SHEET_OPTION = typer.Option(
    None, "--sheet", metavar="NAME", show_default=False,
    help="Workbook sheet holding the patients (.xlsx). Default: sheet in dossier.toml's study "
    "section, else the only sheet, else the only sheet whose first row carries the patient "
    "columns.")


def print_report(report: ValidationReport) -> None:
    """Summary line, row-numbering legend, then the issues table (errors first)."""
    status = "[bold green]OK[/]" if report.ok else "[bold red]FAILED[/]"
    console.print(f"{status} {report.summary()}", highlight=False)
    for line in report.legend():
        console.print(f"  {line}", style="dim", highlight=False)
    if report.issues:
        console.print(report.to_table())
    if report.decisions:
        console.print(report.decisions_table())


def load_for_command(settings: Settings, file: Path | None, cohorts: Path | None,
                     adam: Path | None, adam_map: Path | None) -> Registry:
    """The registry a command works on (ADaM, FILE, dossier.toml's data, or the demo).

    A registry with errors prints its validation report and exits 1; conflicting options exit 2.
    """
    from dossier.registry.adam import OptionsError, registry_from_options
    from dossier.registry.load import RegistryError

    try:
        return registry_from_options(file, cohorts, adam, adam_map, settings)
    except OptionsError as exc:
        raise fail(str(exc)) from exc
    except RegistryError as exc:
        print_report(exc.report)
        raise fail(f"{file or adam or settings.data}: the data has errors (listed above)",
                   1) from exc
