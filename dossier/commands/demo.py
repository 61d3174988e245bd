"""``dossier demo``: write the synthetic DRUP-like registry (and its cohort metadata) to a file."""

from __future__ import annotations

from pathlib import Path

import typer

from dossier.commands.common import console, fail


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(
        ..., "--out", "-o", help="Patient file to write: .csv, .xlsx or .parquet (by suffix)."
    ),
    patients: int = typer.Option(1610, "--patients", "-n", min=8, help="Number of patients."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: the demo's own)."),
    force: bool = typer.Option(
        False, "--force", help="Replace FILE, its .cohorts.yaml and .adverse_events.csv when they "
        "exist (without --force nothing is written if any exists)."),
    cut: str = typer.Option(
        None, "--cut", metavar="YYYY-MM-DD", show_default=False,
        help="Write the registry as it stood at this earlier data cut: later patients removed, "
             "follow-up truncated, later events censored (try dossier diff on two cuts)."),
) -> None:
    """Write the deterministic demo registry; the cohort metadata (.cohorts.yaml) and the
    adverse events (.adverse_events.csv) go beside it.

    The files are written atomically; an existing file is never replaced without --force.
    """
    from dossier.errors import DossierError
    from dossier.registry.demo import DEMO_SEED, events_path_of, write_demo

    try:
        if cut is not None:
            from dossier.registry.demo_cut import parse_cut, write_demo_cut

            patients_path, cohorts_path, patients = write_demo_cut(
                out, parse_cut(cut), patients, seed, overwrite=force)
        else:
            patients_path, cohorts_path = write_demo(
                out, n_patients=patients, seed=DEMO_SEED if seed is None else seed,
                overwrite=force)
    except DossierError as exc:
        raise fail(str(exc), exc.exit_code) from exc
    except ValueError as exc:  # its message already names the file
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"{out}: {exc}") from exc
    console.print(f"wrote {patients_path} ({patients:,} patients)")
    console.print(f"wrote {cohorts_path} (cohort metadata)")
    console.print(f"wrote {events_path_of(out)} (adverse events, one row per event)")
