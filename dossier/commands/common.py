"""What every command shares: the settings from the context and a console that prints errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from dossier.config import Settings

if TYPE_CHECKING:
    from dossier.registry.load import Registry


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


ADAM_HELP = (
    "Read CDISC ADaM datasets (ADSL, ADTTE, ADRS, ADAE as .xpt, .csv or .parquet) from DIR "
    "instead of a patient file (see docs/adam.md)."
)
ADAM_MAP_HELP = (
    "ADaM mapping file (YAML): cohort keys, parameter codes, response rules (docs/adam.md). "
    "Default: CDISC names."
)


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
        from dossier.commands.validate import print_report

        print_report(exc.report)
        raise fail(f"{file or adam or settings.data}: the data has errors (listed above)",
                   1) from exc
