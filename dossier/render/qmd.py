"""The dossier as a Quarto project: ``dossier.qmd`` plus ``_quarto.yml``, figures and data.

Statisticians who author reports in Quarto get the same sections, numbers and verdicts as the
PDF, as text in markdown (nothing to re-run), from the Jinja2 templates ``dossier.qmd.j2`` and
``_quarto.yml.j2``. ``quarto render`` in the folder makes HTML, Word and PDF (Typst). Narrative
sections (background, unmet need, each cohort's interpretation, discussion) are fenced divs
whose text a rebuild carries over from the previous ``dossier.qmd``; everything else is
regenerated. :func:`render_with_quarto` runs Quarto when it is installed and says how to get it
when it is not.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from dossier.errors import OutputError
from dossier.render.docx import reference_document
from dossier.render.html import template_dirs
from dossier.render.markdown import (
    FigureSink,
    NarrativeSink,
    markdown_environment,
    read_narrative,
    render_markdown,
)
from dossier.render.sandbox import reported

TEMPLATE = "dossier.qmd.j2"
PROJECT_TEMPLATE = "_quarto.yml.j2"
QMD_NAME = "dossier.qmd"
PROJECT_NAME = "_quarto.yml"
OUTPUT_DIR = "_output"
"""Where ``quarto render`` writes (``output-dir`` in the bundled ``_quarto.yml.j2``)."""
FIGURES_DIR = "figures"
DATA_DIR = "data"
RESULTS_NAME = "results.csv"
REFERENCE_NAME = "reference.docx"
QUARTO_TIMEOUT = 1800
QUARTO_INSTALL_HINT = (
    "Quarto is not installed (no `quarto` on PATH). Install it from "
    "https://quarto.org/docs/get-started/ (one installer for Windows, macOS and Linux; no "
    "LaTeX needed, PDF goes through the Typst that Quarto bundles), then run the build again. "
    "Without Quarto, `dossier build --format docx` writes dossier.docx with the pandoc that "
    "dossier ships, and `--format qmd` writes the Quarto project to render elsewhere.")


class QuartoError(OutputError, RuntimeError):
    """Quarto is missing or failed; the message says what to do."""


def quarto_markdown(context: Mapping[str, object], *, templates_dir: Path | None = None,
                    narrative: Mapping[str, str] | None = None
                    ) -> tuple[str, FigureSink, NarrativeSink]:
    """The text of ``dossier.qmd``, its figures and the narrative sections it placed."""
    figures = FigureSink(quarto=True, extension="", folder=FIGURES_DIR)
    sink = NarrativeSink(dict(narrative or {}))
    text = render_markdown(TEMPLATE, context, templates_dir=templates_dir, figures=figures,
                           narrative=sink)
    return text, figures, sink


def write_quarto_project(context: Mapping[str, object], folder: Path, *,
                         templates_dir: Path | None = None, results: pd.DataFrame | None = None,
                         keep_narrative_from: Path | None = None,
                         reference_doc: Path | None = None) -> Path:
    """Write the Quarto project into ``folder``; return the path of its ``dossier.qmd``.

    Parameters
    ----------
    context : the template data of ``dossier.render.context.build_context``.
    templates_dir : a folder whose templates override the bundled ones.
    results : the results table (contract D), written as ``data/results.csv`` for a user's
        own code chunks; the document itself does not read it.
    keep_narrative_from : an earlier ``dossier.qmd`` (typically the one this build replaces);
        its narrative sections are carried into the new file. Missing file: none kept.
    reference_doc : the Word template Quarto's DOCX output takes its styles from (copied in as
        ``reference.docx``); default the bundled one.

    Files: ``dossier.qmd``, ``_quarto.yml``, ``reference.docx``, ``figures/<name>.svg`` and
    ``.png`` (HTML and Typst use the SVG, Word the PNG), ``data/results.csv``.
    """
    folder = Path(folder)
    reference = reference_document(templates_dir, reference_doc)
    kept = read_narrative(Path(keep_narrative_from)) if keep_narrative_from else {}
    text, figures, _ = quarto_markdown(context, templates_dir=templates_dir, narrative=kept)
    with reported(template_dirs(templates_dir), PROJECT_TEMPLATE):
        project = markdown_environment(templates_dir).get_template(PROJECT_TEMPLATE).render(
            context)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / QMD_NAME).write_text(text, encoding="utf-8")
    (folder / PROJECT_NAME).write_text(project, encoding="utf-8")
    shutil.copyfile(reference, folder / REFERENCE_NAME)
    figures.write(folder / FIGURES_DIR)
    if results is not None:
        from dossier.endpoints.results import results_bytes

        (folder / DATA_DIR).mkdir(exist_ok=True)
        (folder / DATA_DIR / RESULTS_NAME).write_bytes(
            results_bytes(results.reset_index(drop=True), ".csv"))
    return folder / QMD_NAME


def quarto_binary() -> str:
    """The ``quarto`` executable on PATH, or :class:`QuartoError` with the install hint."""
    found = shutil.which("quarto")
    if found is None:
        raise QuartoError(QUARTO_INSTALL_HINT)
    return found


def render_with_quarto(folder: Path, *, to: Sequence[str] = (),
                       timeout: float = QUARTO_TIMEOUT) -> Path:
    """Run ``quarto render`` on the project in ``folder``; return its output folder.

    ``to`` picks formats ("html", "docx", "typst" for PDF); empty renders every format of
    ``_quarto.yml``. Raises :class:`QuartoError` when Quarto is not installed (with how to
    install it, and that ``--format docx`` needs no Quarto) or when rendering fails (with the
    end of Quarto's own message).
    """
    folder = Path(folder)
    if not (folder / PROJECT_NAME).is_file():
        raise QuartoError(f"{folder}: no {PROJECT_NAME}; write the project first "
                          "(dossier build --format qmd)")
    command = [quarto_binary(), "render"]
    if to:
        command += ["--to", ",".join(to)]
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise QuartoError(f"quarto render did not finish within {timeout:g} s in {folder}") \
            from exc
    except OSError as exc:
        raise QuartoError(f"quarto could not run: {exc}") from exc
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise QuartoError(f"quarto render failed in {folder} (exit {done.returncode}): {said}")
    output = folder / OUTPUT_DIR
    if not output.is_dir():
        raise QuartoError(f"quarto render wrote no {OUTPUT_DIR}/ in {folder}; does "
                          f"{PROJECT_NAME} still set output-dir: {OUTPUT_DIR}?")
    return output
