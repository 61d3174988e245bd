"""The ``dossier`` command line: a thin typer app that parses, calls the API and prints."""

from __future__ import annotations

import os
from pathlib import Path

_EPOCH = os.environ.pop("SOURCE_DATE_EPOCH", None)
try:  # numpy.f2py (imported by scipy) reads SOURCE_DATE_EPOCH on import and dies on a value
    # that is not an integer; dossier checks the variable itself where a build uses it
    import typer

    from dossier import __version__
    from dossier.commands.build import build
    from dossier.commands.common import fail, reports_errors
    from dossier.commands.compare import compare
    from dossier.commands.criteria import criteria_app
    from dossier.commands.demo import demo
    from dossier.commands.diff import diff
    from dossier.commands.endpoints import endpoints
    from dossier.commands.score import score
    from dossier.commands.validate import validate
    from dossier.config import ConfigError, load_settings
finally:
    if _EPOCH is not None:
        os.environ["SOURCE_DATE_EPOCH"] = _EPOCH

app = typer.Typer(
    name="dossier",
    help=(
        "Turn patient-level precision-oncology cohort data into reimbursement evidence: "
        "validate -> endpoints -> score against DRUP, PASKWIL and ESMO-MCBS -> build dossiers. "
        "Every command runs on the bundled DRUP-like demo registry when given no data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dossier {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path = typer.Option(
        None, "--config", help="Study configuration (default: ./dossier.toml when present)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Load the study settings once; every command reads them from the context."""
    try:
        ctx.obj = load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


app.command("validate")(reports_errors(validate))
app.command("endpoints")(reports_errors(endpoints))
app.add_typer(criteria_app, name="criteria")
app.command("score")(reports_errors(score))
app.command("compare")(reports_errors(compare))
app.command("demo")(reports_errors(demo))
app.command("build")(reports_errors(build))
app.command("diff")(reports_errors(diff))


def main() -> None:
    """Entry point of the ``dossier`` console script and ``python -m dossier``."""
    app()
