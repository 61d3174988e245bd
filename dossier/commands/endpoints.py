"""``dossier endpoints``: compute every endpoint per cohort, print a summary, write the table.

The printed table is read from the results table (contract D), never recomputed: counts, CBR
and ORR among response-evaluable patients with exact 95% CIs, and Kaplan-Meier median PFS and
OS in months with their 95% CIs ('NR' = not reached). ``--out`` writes the full results table
(.csv, .parquet or .json by suffix) atomically. Exit code 1 when the registry has errors, 2 for
bad options.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich import box
from rich.table import Table

from dossier.atomic import check_targets, write_file_atomic
from dossier.commands.common import (
    ADAM_MAP_OPTION,
    ADAM_OPTION,
    SHEET_OPTION,
    console,
    fail,
    load_for_command,
    settings_of,
)
from dossier.config import ConfigError, Settings
from dossier.endpoints.compute import POOLED, compute_endpoints
from dossier.endpoints.results import results_bytes, results_format
from dossier.errors import DossierError
from dossier.render.formatting import median_text, rate_text

if TYPE_CHECKING:
    from dossier.registry.load import Registry

Row = dict[str, Any]
"""One results-table row as a dict (column name -> value)."""

NO_PATIENTS = "-"


def endpoints(
    ctx: typer.Context,
    data: Path = typer.Argument(
        None, help="Patient file (.csv, .xlsx, .parquet). Default: data in dossier.toml's "
        "study section, else the bundled demo registry.", show_default=False,
    ),
    adam: Path = ADAM_OPTION,
    adam_map: Path = ADAM_MAP_OPTION,
    sheet: str = SHEET_OPTION,
    by: list[str] = typer.Option(
        None, "--by", help="Also group by these columns (comma-separated or repeated): drug, "
        "tumour_type, alteration, rare_cancer, stage, prior_lines_band (0-1, 2, 3+), or any "
        "column of the registry.", show_default=False,
    ),
    ci: str = typer.Option(
        None, "--ci", help="Kaplan-Meier pointwise CI, which the median CI inverts: log-log "
        "(default, as SAS), log (R's default) or plain.", show_default=False,
    ),
    sd_weeks: float = typer.Option(
        None, "--sd-weeks", help="Stable disease counts as clinical benefit from this many "
        "weeks (default 16, DRUP).", show_default=False,
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Write the full results table: .csv, .parquet or .json "
        "(by suffix). An existing file is not replaced without --force.", show_default=False,
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace the --out file when it exists (never an input file).",
    ),
) -> None:
    """Compute every endpoint per cohort (and pooled) and print the key figures."""
    groupings = _split_by(by)
    try:
        settings = settings_of(ctx).with_overrides(
            ci=ci, sd_weeks=sd_weeks, by=groupings if groupings else None, sheet=sheet
        )
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    if out is not None:
        try:
            results_format(out)  # ConfigError for an unknown suffix, before any work
            check_targets([out], overwrite=force, inputs=_inputs_of(settings, data, adam_map))
        except DossierError as exc:
            raise fail(str(exc), exc.exit_code) from exc
    registry = load_for_command(settings, data, None, adam, adam_map)
    # a bad --by is a ConfigError, reported by the command
    results = compute_endpoints(registry.patients, settings.by, settings.endpoints)
    console.print(
        f"{registry.report.summary()}; CI {settings.ci}; clinical benefit: confirmed CR/PR or "
        f"SD >= {_number(settings.sd_weeks)} weeks",
        highlight=False,
    )
    console.print(summary_table(results, "cohort_id", title="Endpoints per cohort",
                                ci=settings.ci))
    for name in settings.by:
        if name not in ("cohort_id", POOLED):
            console.print(summary_table(results, name, title=f"Endpoints by {name}",
                                        ci=settings.ci))
    if out is not None:
        try:
            inputs = [*registry_files(registry), *_inputs_of(settings, data, adam_map)]
            written = write_file_atomic(out, results_bytes(results, results_format(out)),
                                        overwrite=force, inputs=inputs)
        except DossierError as exc:
            raise fail(str(exc), exc.exit_code) from exc
        except OSError as exc:
            raise fail(f"{out}: cannot write the results table: {exc}", 1) from exc
        console.print(f"wrote {written} ({len(results):,} rows)", highlight=False)


def _inputs_of(settings: Settings, data: Path | None, adam_map: Path | None) -> list[Path]:
    """The files named as inputs before reading (the --out file may be none of them)."""
    named = [data, adam_map, settings.data, settings.cohorts, settings.adam_map, settings.source]
    return [Path(p) for p in named if p is not None]


def registry_files(registry: Registry) -> list[Path]:
    """The files a registry was read from (data, cohort metadata, ADaM datasets, mapping)."""
    return [Path(s.path) for s in registry.report.sources if s.path is not None]


def _split_by(by: Sequence[str] | None) -> tuple[str, ...]:
    """'drug,stage' and repeated --by options alike, in order, without duplicates."""
    names: list[str] = []
    for item in by or ():
        for name in item.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return tuple(names)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def format_median(row: Row | None) -> str:
    """'3.4 (2.8-3.5)' in months; NR / NE as dossier.render.formatting decides; '-' without
    patients."""
    return median_text(row, unit="", no_patients=NO_PATIENTS) if row is not None \
        else NO_PATIENTS


def format_rate(row: Row | None) -> str:
    """'34.9% (32.2-37.6)' with the exact 95% CI; '-' without patients."""
    return rate_text(row, no_patients=NO_PATIENTS) if row is not None else NO_PATIENTS


def summary_table(results: pd.DataFrame, group_by: str, *, title: str, ci: str) -> Table:
    """The key figures of every group of ``group_by`` plus the pooled row, from the table."""
    wanted = results[results["group_by"].isin([group_by, POOLED])]
    shown = wanted[wanted["statistic"].isin(["rate", "median", "treated", "evaluable"])]
    lookup: dict[tuple[str, str, str, str, str], Row] = {
        (r["group_by"], r["group"], r["endpoint"], r["statistic"], r["denominator"]): r
        for r in shown.to_dict("records")
    }
    table = Table(
        title=title,
        caption=f"CB = clinical benefit; CBR, ORR among response-evaluable patients with exact "
        f"95% CI (Clopper-Pearson); median PFS, OS in months with 95% CI (Brookmeyer-Crowley, "
        f"{ci}); NR = not reached, NE = not estimable",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption_justify="left",
    )
    table.add_column(group_by, overflow="fold", min_width=20, ratio=1)
    for name in ("treated", "evaluable", "CB"):
        table.add_column(name, justify="right", no_wrap=True)
    for name in ("CBR (95% CI)", "ORR (95% CI)", "median PFS", "median OS"):
        # wide enough for "(88.1-100.0)", so a narrow terminal wraps at the space
        table.add_column(name, justify="right", min_width=12)
    groups = list(dict.fromkeys(wanted.loc[wanted["group_by"] == group_by, "group"]))
    rows = [(group_by, g) for g in groups] + [(POOLED, POOLED)]
    for index, (gb, g) in enumerate(rows):
        def get(endpoint: str, statistic: str, denominator: str = "",
                gb: str = gb, g: str = g) -> Row | None:
            return lookup.get((gb, g, endpoint, statistic, denominator))

        treated = get("patients", "treated")
        evaluable = get("patients", "evaluable", "treated")
        cbr = get("cbr", "rate", "evaluable")
        cb = NO_PATIENTS if cbr is None or cbr["status"] == "no_patients" else (
            f"{int(cbr['x'])}/{int(cbr['n'])}"
        )
        table.add_row(
            "all (pooled)" if gb == POOLED else g,
            "0" if treated is None else f"{int(treated['estimate']):,}",
            "0" if evaluable is None else f"{int(evaluable['estimate']):,}",
            cb,
            format_rate(cbr),
            format_rate(get("orr", "rate", "evaluable")),
            format_median(get("pfs", "median", "treated")),
            format_median(get("os", "median", "treated")),
            end_section=index == len(rows) - 2,
            style="bold" if gb == POOLED else None,
        )
    return table
