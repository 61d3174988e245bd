"""What every command shares: the settings from the context and a console that prints errors."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from dossier.config import Settings


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
