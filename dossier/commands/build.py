"""``dossier build``: the main job: one dossier folder with PDF, workbook, results and manifest."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dossier.commands.common import (
    ADAM_MAP_OPTION,
    ADAM_OPTION,
    COMPARATORS_OPTION,
    SHEET_OPTION,
    console,
    fail,
    settings_of,
)
from dossier.commands.score import GRADE_CLOSED_OPTION


def build(
    ctx: typer.Context,
    data: Path = typer.Argument(None, help="Patient file (CSV, XLSX, Parquet); default: demo."),
    cohorts: Path = typer.Option(None, "--cohorts", help="Cohort metadata (YAML or CSV)."),
    criteria: list[str] = typer.Option(
        None, "--criteria", help="Criteria id, or a rule file or folder to add (repeatable)."),
    adam: Path = ADAM_OPTION,
    adam_map: Path = ADAM_MAP_OPTION,
    sheet: str = SHEET_OPTION,
    comparators: Path = COMPARATORS_OPTION,
    adverse_events: Path = typer.Option(
        None, "--adverse-events", metavar="FILE", show_default=False,
        help="Adverse events, one row per event (CSV, XLSX, Parquet): safety tables by organ "
             "class and term. dossier.toml: [study] adverse_events."),
    only: list[str] = typer.Option(
        None, "--only", help="Build only this cohort (repeatable; the cohort id)."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Dossier folder to write (default: output/<data name>). "
        "It must be new, empty or a dossier written by dossier (see --force)."),
    force: bool = typer.Option(
        False, "--force", help="Replace the --out folder even when it holds other files: "
        "everything in it is deleted (never a folder holding an input of the build); also "
        "replace an existing --patient-key file."),
    formats: str = typer.Option(
        "pdf,xlsx,json", "--format",
        help="Comma-separated outputs: pdf, xlsx, json, docx (Word), qmd (Quarto project)."),
    templates: Path = typer.Option(
        None, "--templates", help="Folder of templates/stylesheet overriding the built-in ones."),
    docx_reference: Path = typer.Option(
        None, "--docx-reference", metavar="FILE", show_default=False,
        help="Word template (.docx) whose styles, page setup, header and footer dossier.docx "
             "takes (default: the bundled templates/reference.docx)."),
    engine: str = typer.Option(
        "weasyprint", "--engine",
        help="PDF engine: weasyprint (built in), or quarto (renders the Quarto project to "
             "HTML, Word and PDF; needs quarto on PATH)."),
    patient_ids: str = typer.Option(
        None, "--patient-ids", metavar="pseudonymise|keep|omit", show_default=False,
        help="Patient identifiers in the outputs: pseudonymise (default: sequential codes "
             "P0001, ... by cohort, treatment start and id), keep (as in the registry) or omit "
             "(no identifier column, unlabelled figures). dossier.toml: [study] patient_ids."),
    grade_closed: bool = GRADE_CLOSED_OPTION,
    km_full_followup: bool = typer.Option(
        None, "--km-full-followup/--km-readable-axis", show_default=False,
        help="Kaplan-Meier plots over the whole follow-up, or (default) cut where fewer than "
             "10% of patients remain at risk, saying so. dossier.toml: [figures] "
             "km_full_followup."),
    patient_key: Path = typer.Option(
        None, "--patient-key", metavar="FILE", show_default=False,
        help="Also write the key from codes to registry ids (CSV) to FILE, outside --out; "
             "it is never written otherwise."),
    pdf_variant: str = typer.Option(
        None, "--pdf-variant", metavar="VARIANT", show_default=False,
        help="Write the PDFs as this archival variant: pdf/a-2b (as eCTD and archives "
             "accept), pdf/a-2u, pdf/a-3b or pdf/a-3u. dossier.toml: [pdf] variant."),
    since: Path = typer.Option(
        None, "--since", metavar="OLD", show_default=False,
        help="Show what changed since an earlier dossier folder (or patient file): a 'Changes "
             "since' section first in the PDF, a Changes sheet, changes.json."),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Build from scratch: do not reuse the outputs or PDF parts "
        "kept in the --out folder's .dossier-cache.zip (a new one is still written)."),
) -> None:
    """Build the dossier: read -> endpoints -> criteria -> PDF, Excel, JSON, Word, Quarto."""
    from dossier.build import build_dossier
    from dossier.build_cache import CACHE_NAME
    from dossier.config import ConfigError
    from dossier.errors import DossierError
    from dossier.registry.load import RegistryError
    from dossier.render.staging import BuildInterrupted

    try:
        settings = settings_of(ctx).with_overrides(
            sheet=sheet, comparators=comparators, adverse_events=adverse_events,
            patient_ids=patient_ids.strip().lower() if patient_ids else None,
            grade_closed_cohorts=grade_closed or None, km_full_followup=km_full_followup,
            pdf_variant=pdf_variant)
    except ConfigError as exc:
        raise fail(escape(str(exc).replace("patient_ids", "--patient-ids", 1))) from exc
    chosen = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), TextColumn(
            "{task.completed}/{task.total}"), TimeElapsedColumn(), console=console,
            transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("reading", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        try:
            folder, timings = build_dossier(
                settings, data=data, cohorts=cohorts, criteria=criteria or (),
                only=only or (), destination=out, formats=chosen, templates=templates,
                adam=adam, adam_map=adam_map, docx_reference=docx_reference,
                engine=engine.strip().lower(), progress=progress, patient_key=patient_key,
                force=force, since=since, cache=not no_cache)
        except RegistryError as exc:
            console.print(exc.report.to_table())
            raise fail(f"{data or adam or settings.data}: the data has errors; nothing was written",
                       1) from exc
        except BuildInterrupted as exc:
            raise fail(f"build {exc}; nothing was written (an earlier dossier there is "
                       "untouched) and its temporary folder was removed", exc.exit_code) from exc
        except (DossierError, OSError) as exc:  # anything else is a bug and surfaces as one
            code = exc.exit_code if isinstance(exc, DossierError) else 1
            raise fail(f"build failed, nothing was written: {exc}", code) from exc
    console.print(f"dossier written to {folder}")
    for name in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file()):
        if not name.startswith(("cohorts/", "quarto/figures/", "quarto/_output/", ".")):
            console.print(f"  {name}")
    if (folder / CACHE_NAME).is_file():
        console.print(f"  {CACHE_NAME} (what the next build into this folder reuses)")
    n_cohort_pdfs = len(list((folder / "cohorts").glob("*.pdf")))
    if n_cohort_pdfs:
        console.print(f"  cohorts/ ({n_cohort_pdfs} per-cohort PDFs)")
    n_figures = len(list((folder / "quarto" / "figures").glob("*.svg")))
    if n_figures:
        console.print(f"  quarto/figures/ ({n_figures} figures as SVG and PNG)")
    rendered = sorted(p.name for p in (folder / "quarto" / "_output").glob("dossier.*"))
    if rendered:
        console.print(f"  quarto/_output/ (rendered by Quarto: {', '.join(rendered)})")
    meanwhile = " (the other outputs are written while the PDFs are laid out)" \
        if "pdf" in timings and len(timings.keys() & {"json", "xlsx", "docx", "qmd"}) else ""
    console.print("time per stage: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
                  + meanwhile, highlight=False)
