"""The pipeline behind ``dossier build``: read -> endpoints -> scoring -> render, in that order.

``analyse`` runs the first three stages (what ``score`` and ``compare`` need too); ``build_dossier``
renders the outputs into one dossier folder that appears only when complete.
"""

from __future__ import annotations

import datetime as dt
import difflib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dossier import __version__
from dossier.config import Settings
from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.results import results_bytes
from dossier.registry.adam import registry_from_options
from dossier.registry.load import Registry
from dossier.registry.pseudonyms import (
    PSEUDONYMISE,
    check_key_path,
    identifiers_sentence,
    patient_codes,
    shown_registry,
    write_key,
)
from dossier.registry.schema import DAYS_PER_MONTH
from dossier.render.bundle import DossierBundle, build_timestamp, safe_file_name
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.readiness import Readiness, readiness
from dossier.scoring.rulebook import RuleBook, resolve_criteria
from dossier.scoring.verdicts import Verdict

FORMATS = ("pdf", "xlsx", "json", "docx", "qmd")
DEFAULT_FORMATS = ("pdf", "xlsx", "json")
ENGINES = ("weasyprint", "quarto")
QUARTO_FOLDER = "quarto"
"""Where the Quarto project goes inside the dossier folder (``--format qmd``)."""
DEMO_NAME = "demo"

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as each stage (and each cohort PDF) completes."""


class BuildError(ValueError):
    """A build that cannot start or finish; the message says what to change."""


@dataclass(frozen=True)
class Analysis:
    """Everything the renderers read: the registry, the results table and the verdicts."""

    registry: Registry
    results: pd.DataFrame
    rules: RuleBook
    verdicts: tuple[Verdict, ...]
    readiness: tuple[Readiness, ...]
    data_name: str
    parameters: dict[str, object]
    timings: dict[str, float] = field(default_factory=dict)


def endpoint_parameters(settings: Settings) -> dict[str, object]:
    """The endpoint parameters a run used, as recorded in the manifest and the methods."""
    return {
        "ci": settings.ci, "sd_weeks": settings.sd_weeks, "durable_weeks": settings.durable_weeks,
        "exceptional_pfs_months": settings.exceptional_pfs_months,
        "pfs_ratio_threshold": settings.pfs_ratio_threshold, "by": list(settings.by),
        "days_per_month": DAYS_PER_MONTH, "conf_level": 0.95,
    }


def load(settings: Settings, data: Path | None = None, cohorts: Path | None = None,
         adam: Path | None = None, adam_map: Path | None = None) -> Registry:
    """The validated registry: --adam DIR, DATA, dossier.toml's data or adam, else the demo."""
    return registry_from_options(data, cohorts, adam, adam_map, settings)


def endpoint_results(settings: Settings, registry: Registry) -> pd.DataFrame:
    """The results table of a registry with the settings' endpoint parameters."""
    return compute_endpoints(
        registry.patients, by=settings.by, ci=settings.ci, sd_weeks=settings.sd_weeks,
        durable_weeks=settings.durable_weeks,
        exceptional_pfs_months=settings.exceptional_pfs_months,
        pfs_ratio_threshold=settings.pfs_ratio_threshold)


def cohort_metrics(settings: Settings, registry: Registry) -> dict[str, dict[str, object]]:
    """The scoring metrics of every cohort (the names rule files use), from its endpoints."""
    return metrics_from_results(endpoint_results(settings, registry), registry.cohorts)


def analyse(settings: Settings, registry: Registry, criteria: Sequence[str] = (),
            data_name: str = DEMO_NAME) -> Analysis:
    """Endpoints for every cohort, then every cohort scored against the chosen rule files."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    results = endpoint_results(settings, registry)
    timings["endpoints"] = time.perf_counter() - start
    start = time.perf_counter()
    choices = list(criteria) if criteria else list(settings.criteria)
    base = settings.source.parent if settings.source is not None else None
    _, chosen = resolve_criteria(choices, base)
    metrics = metrics_from_results(results, registry.cohorts)
    verdicts = tuple(score_cohorts(chosen, metrics))
    timings["scoring"] = time.perf_counter() - start
    return Analysis(registry, results, chosen, verdicts, tuple(readiness(verdicts)), data_name,
                    endpoint_parameters(settings), timings)


def _only(analysis: Analysis, only: Sequence[str]) -> list[str] | None:
    if not only:
        return None
    known = analysis.registry.cohorts["cohort_id"].astype(str).tolist()
    unknown = [c for c in only if c not in known]
    if unknown:
        hints = [f"{c!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(
            c, known, n=1, cutoff=0.5)) else "") for c in unknown]
        raise BuildError(f"--only names cohort(s) not in the data: {', '.join(hints)}")
    return list(dict.fromkeys(only))


def data_timestamp(registry: Registry) -> dt.datetime:
    """The latest date the data speaks of (last contact), so a rebuild keeps its build date."""
    patients = registry.patients
    if patients.empty:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    starts = pd.to_datetime(patients["treatment_start"])
    last = (starts + pd.to_timedelta(patients["os_days"].fillna(0), unit="D")).max()
    return dt.datetime(last.year, last.month, last.day, tzinfo=dt.UTC)


def default_destination(settings: Settings, data_name: str) -> Path:
    """``output/<data file stem>`` (``output/demo`` for the demo registry)."""
    return Path(settings.out) / safe_file_name(Path(data_name).stem or DEMO_NAME)


def _results_of(analysis: Analysis, only: list[str] | None) -> pd.DataFrame:
    results = analysis.results
    if only is not None:
        results = results[(results["group_by"] != "cohort_id") | results["group"].isin(only)]
    return results


def _check_outputs(formats: Sequence[str], engine: str, templates: Path | None,
                   docx_reference: Path | None) -> None:
    """Refuse, before any work, options that cannot succeed: a missing Quarto, a bad template."""
    if engine not in ENGINES:
        raise BuildError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine == "quarto":
        from dossier.render.qmd import QuartoError, quarto_binary

        try:
            quarto_binary()
        except QuartoError as exc:
            raise BuildError(str(exc)) from exc
    if docx_reference is not None or "docx" in formats or "qmd" in formats:
        from dossier.render.docx import reference_document

        try:
            reference_document(templates, docx_reference)
        except (ValueError, FileNotFoundError) as exc:
            raise BuildError(str(exc)) from exc


def _results_json(analysis: Analysis, only: list[str] | None) -> dict[str, object]:
    import json

    results = _results_of(analysis, only)
    verdicts = [v for v in analysis.verdicts if only is None or v.cohort_id in only]
    flags = [r for r in analysis.readiness if only is None or r.cohort_id in only]
    return {
        "software": {"dossier": __version__},
        "data": analysis.data_name,
        "parameters": analysis.parameters,
        "criteria": [{"id": r.id, "framework": r.framework, "version": r.version,
                      "effective": r.effective} for r in analysis.rules.rule_sets],
        "results": json.loads(results_bytes(results.reset_index(drop=True), ".json")),
        "verdicts": [v.to_dict() for v in verdicts],
        "readiness": [r.to_dict() for r in flags],
    }


def build_dossier(settings: Settings, *, data: Path | None = None, cohorts: Path | None = None,
                  criteria: Sequence[str] = (), only: Sequence[str] = (),
                  destination: Path | None = None, formats: Sequence[str] = DEFAULT_FORMATS,
                  templates: Path | None = None, registry: Registry | None = None,
                  adam: Path | None = None, adam_map: Path | None = None,
                  progress: Progress | None = None, docx_reference: Path | None = None,
                  engine: str = "weasyprint", patient_key: Path | None = None,
                  force: bool = False) -> tuple[Path, dict[str, float]]:
    """Build the dossier folder and return its path and the time each stage took (seconds).

    The folder is written next to its destination and moved into place only when every output
    is complete; a failure leaves any earlier dossier untouched. ``docx_reference`` is the Word
    template of ``dossier.docx`` (and of Quarto's Word output). ``engine="quarto"`` writes the
    Quarto project and renders it with Quarto (HTML, Word and PDF in ``quarto/_output/``); its
    PDF is then ``dossier.pdf`` (no per-cohort PDFs). The narrative written in the earlier
    dossier's ``quarto/dossier.qmd`` is carried into the new one and into ``dossier.docx``.
    Patient ids are shown as ``settings.patient_ids`` says (the renderers see only a copy of the
    registry with codes, or none); ``patient_key`` writes the codes' key outside the folder
    (an existing file only with ``force``).
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise BuildError(f"unknown format(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(FORMATS)}")
    if templates is not None and not Path(templates).is_dir():
        raise BuildError(f"{templates}: --templates must be a folder of templates")
    _check_outputs(formats, engine, templates, docx_reference)
    if patient_key is not None and settings.patient_ids != PSEUDONYMISE:
        raise BuildError(f"--patient-key needs --patient-ids {PSEUDONYMISE}, not "
                         f"{settings.patient_ids}: only codes have a key")
    report = progress or (lambda stage, done, total: None)
    steps = 3 + len(formats)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    path = data if data is not None else (settings.data if adam is None else None)
    adam_dir = adam if adam is not None else (settings.adam if path is None else None)
    data_name = str(path or adam_dir or DEMO_NAME)
    if registry is None:
        registry = load(settings, data, cohorts, adam, adam_map)
    timings["read"] = time.perf_counter() - start
    report("read", 1, steps)
    analysis = analyse(settings, registry, criteria, data_name)
    timings.update(analysis.timings)
    report("endpoints and scoring", 3, steps)
    chosen = _only(analysis, only)

    build_time = build_timestamp(data_timestamp(registry))
    target = Path(destination) if destination is not None else default_destination(
        settings, Path(data_name).name)
    if patient_key is not None:
        sources = [p for p in (data, cohorts, settings.data, settings.cohorts) if p is not None]
        check_key_path(patient_key, target, sources, force=force)
    codes = patient_codes(registry.patients)
    shown = shown_registry(registry, settings.patient_ids, codes)  # all the renderers see
    identifiers = identifiers_sentence(settings.patient_ids, patient_key is not None)
    cohort_ids = chosen if chosen is not None else (
        analysis.registry.cohorts["cohort_id"].astype(str).tolist())
    taken: set[str] = set()
    file_names = {cid: safe_file_name(cid, taken) for cid in cohort_ids}
    build_info = {
        "title": settings.title, "data source": data_name, "data SHA-256": registry.sha256,
        "build date": build_time.date().isoformat(), "software": f"dossier {__version__}",
        "criteria": ", ".join(f"{r.id} ({r.version})" for r in analysis.rules.rule_sets),
        "patient identifiers": identifiers,
    }
    context = None
    if {"pdf", "docx", "qmd"} & set(formats) or engine == "quarto":
        from dossier.render.context import build_context

        start = time.perf_counter()
        context = build_context(
            results=analysis.results, verdicts=analysis.verdicts, registry=shown,
            rule_files=analysis.rules.rule_sets, parameters=analysis.parameters,
            title=settings.title, build_time=build_time, software_version=__version__,
            data_sha256=registry.sha256, data_name=data_name, only=chosen,
            patient_ids=identifiers)
        timings["context"] = time.perf_counter() - start
    earlier_qmd = target / QUARTO_FOLDER / "dossier.qmd"  # its narrative is carried over
    weasy_pdfs = "pdf" in formats and engine == "weasyprint"
    # one step per output file: the PDFs are reported one by one as they are written
    steps = 3 + len(formats) + (len(cohort_ids) if weasy_pdfs else 0)
    done = 3
    lock = threading.Lock()

    def tick(stage: str) -> None:
        nonlocal done
        with lock:
            done += 1
            report(stage, done, steps)

    def timed(name: str, write: Callable[[], object]) -> None:
        start = time.perf_counter()
        write()
        timings[name] = time.perf_counter() - start

    with DossierBundle(target) as bundle, ThreadPoolExecutor(max_workers=1) as background:
        # the PDFs are laid out by worker processes; the other outputs are written meanwhile
        # (leaving the `with` waits for them, so a failure never removes a folder in use)
        pdfs = None
        if weasy_pdfs:
            from dossier.render.pdf import write_pdfs

            pdfs = background.submit(timed, "pdf", lambda: write_pdfs(
                context, bundle.temporary_folder, templates_dir=templates,
                cohort_file_names=file_names, progress=tick))
        if "json" in formats:
            timed("json", lambda: bundle.write_json("results.json",
                                                    _results_json(analysis, chosen)))
            tick("results.json")
        if "xlsx" in formats:
            from dossier.render.workbook import write_dossier_workbook

            timed("xlsx", lambda: write_dossier_workbook(
                bundle.path("dossier.xlsx"), results=analysis.results,
                verdicts=analysis.verdicts, readiness=analysis.readiness,
                rule_sets=analysis.rules.rule_sets, patients=shown.patients,
                registry_cohorts=registry.cohorts, report=shown.report,
                build_info=build_info, created=build_time, only=chosen))
            tick("dossier.xlsx")
        if "docx" in formats:
            from dossier.render.docx import write_docx
            from dossier.render.markdown import read_narrative

            timed("docx", lambda: write_docx(
                context, bundle.path("dossier.docx"), templates_dir=templates,
                reference_doc=docx_reference, narrative=read_narrative(earlier_qmd)))
            tick("dossier.docx")
        if "qmd" in formats or engine == "quarto":
            from dossier.render.qmd import render_with_quarto, write_quarto_project

            project = bundle.temporary_folder / QUARTO_FOLDER
            timed("qmd", lambda: write_quarto_project(
                context, project, templates_dir=templates,
                results=_results_of(analysis, chosen).reset_index(drop=True),
                keep_narrative_from=earlier_qmd, reference_doc=docx_reference))
            if "qmd" in formats:
                tick("quarto/dossier.qmd")
            if engine == "quarto":
                start = time.perf_counter()
                rendered = render_with_quarto(project)
                timings["quarto"] = time.perf_counter() - start
                if "pdf" in formats:
                    bundle.write_bytes("dossier.pdf", (rendered / "dossier.pdf").read_bytes())
                    tick("dossier.pdf (Quarto)")
        if pdfs is not None:
            pdfs.result()
        inputs = {"data": Path(path)} if path is not None else {}
        if adam_dir is not None:
            inputs.update({f"adam/{p.name}": p for p in sorted(Path(adam_dir).iterdir())
                           if p.is_file()})
        meta = cohorts if cohorts is not None else settings.cohorts
        if meta is not None:
            inputs["cohorts"] = Path(meta)
        if docx_reference is not None:
            inputs["docx_reference"] = Path(docx_reference)
        bundle.finish_manifest(
            inputs=inputs, criteria_files=[r.path for r in analysis.rules.rule_sets],
            parameters={**analysis.parameters, "formats": sorted(formats), "engine": engine,
                        "only": chosen or [], "title": settings.title,
                        "data_sha256": registry.sha256,
                        "patient_ids": {"choice": settings.patient_ids,
                                        "key_written": patient_key is not None,
                                        "statement": identifiers}},
            build_time=build_time)
    if patient_key is not None:  # only once the dossier is in place: never a key without it
        write_key(patient_key, codes)
    return target, timings
