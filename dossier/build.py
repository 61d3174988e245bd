"""The pipeline behind ``dossier build``: read -> endpoints -> scoring -> render, in that order.

``analyse`` runs the first three stages (what ``score`` and ``compare`` need too); ``build_dossier``
renders the outputs into one dossier folder that appears only when complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dossier import __version__
from dossier.build_cache import (
    CACHE_NAME,
    build_key,
    cached_build_key,
    data_changed,
    earlier_cache,
    reuse_outputs,
)
from dossier.config import Settings
from dossier.endpoints.compute import compute_endpoints
from dossier.endpoints.parameters import EndpointParameters
from dossier.endpoints.population import GroupRecords
from dossier.endpoints.results import results_bytes
from dossier.errors import ConfigurationError
from dossier.registry.adam import registry_from_options
from dossier.registry.comparators import Comparators, read_comparators
from dossier.registry.load import DEMO_NAME as DEMO_REGISTRY
from dossier.registry.load import Registry, sidecar_metadata
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
from dossier.render.data_files import DataFiles, population_tables, write_data_files
from dossier.render.memo import Memo
from dossier.render.methods_text import data_cutoff
from dossier.render.ownership import check_destination
from dossier.render.pdf_cache import PartCache
from dossier.render.staging import stop_cleanly_on_signals
from dossier.resources import drup_stage_sizes, resource_dir
from dossier.scoring.engine import score_cohorts
from dossier.scoring.evidence import CohortEvidence, evidence_from_results
from dossier.scoring.external_control import (
    ExternalControl,
    external_controls,
    label_verdicts,
    with_cohort_context,
)
from dossier.scoring.inputs import metrics_from_results, needed_landmarks
from dossier.scoring.outlook import outlook_json, with_outlook_metrics
from dossier.scoring.readiness import Readiness, readiness
from dossier.scoring.rulebook import RuleBook, resolve_criteria
from dossier.scoring.stage_sizes import check_stage_sizes, stage_sizes
from dossier.scoring.verdicts import Verdict
from dossier.suggest import did_you_mean

if TYPE_CHECKING:
    from dossier.render.pdf import PdfWorkers

FORMATS = ("pdf", "xlsx", "json", "docx", "qmd")
DEFAULT_FORMATS = ("pdf", "xlsx", "json")
ENGINES = ("weasyprint", "quarto")
QUARTO_FOLDER = "quarto"
"""Where the Quarto project goes inside the dossier folder (``--format qmd``)."""
DEMO_NAME = "demo"
DEMO_COMPARATORS = "comparators/demo-comparators.yaml"
"""The bundled example comparators file (under criteria/) the demo build uses."""

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as each stage (and each cohort PDF) completes."""


class BuildError(ConfigurationError, ValueError):
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
    comparators: Comparators | None = None
    """The external controls read (the bundled example file for the demo), if any."""
    controls: Mapping[str, ExternalControl] = field(default_factory=dict)
    """Each cohort's external control account, by cohort id."""


def endpoint_parameters(settings: Settings,
                        parameters: EndpointParameters | None = None) -> dict[str, object]:
    """The endpoint parameters a run used, as recorded in the manifest and the methods."""
    used = parameters or settings.endpoints
    return {**{k: list(v) if isinstance(v, tuple) else v for k, v in used.as_dict().items()},
            "by": list(settings.by), "days_per_month": DAYS_PER_MONTH}


def run_parameters(settings: Settings, rules: RuleBook | None) -> EndpointParameters:
    """The settings' endpoint parameters plus the landmarks the rule files in use read."""
    if rules is None:
        return settings.endpoints
    return settings.endpoints.with_landmarks(needed_landmarks(rules.rule_sets))


def load(settings: Settings, data: Path | None = None, cohorts: Path | None = None,
         adam: Path | None = None, adam_map: Path | None = None) -> Registry:
    """The validated registry: --adam DIR, DATA, dossier.toml's data or adam, else the demo."""
    return registry_from_options(data, cohorts, adam, adam_map, settings)


def endpoint_results(settings: Settings, registry: Registry,
                     rules: RuleBook | None = None) -> pd.DataFrame:
    """The results table of a registry with the settings' endpoint parameters.

    The stage sizes come from the rule files in ``rules`` (DRUP's ``of:``), else from the
    bundled DRUP rule file; the counts are checked against ``rules`` before they are scored.
    """
    sizes = stage_sizes(rules.rule_sets) if rules is not None else ()
    results = compute_endpoints(registry.patients, settings.by,
                                run_parameters(settings, rules), stage_sizes=sizes or None)
    if rules is not None:
        check_stage_sizes(rules.rule_sets, results)
    return results


def comparators_of(settings: Settings, registry: Registry) -> Comparators | None:
    """The comparators file of the settings (--comparators, dossier.toml), read and checked;
    the demo registry without one uses the bundled example file (illustrative figures marked)."""
    path = settings.comparators
    if path is None and str(registry.source) == DEMO_REGISTRY:
        path = resource_dir("criteria") / DEMO_COMPARATORS
    return None if path is None else read_comparators(path)


def cohort_metrics(settings: Settings, registry: Registry,
                   rules: RuleBook | None = None,
                   comparators: Comparators | None = None) -> dict[str, dict[str, object]]:
    """The scoring metrics of every cohort (the names rule files use), from its endpoints,
    with its external control (``comparators``, else the settings') and Form 3 justification.

    Score them with :func:`score_registry`, which labels comparisons with an external control.
    """
    results = endpoint_results(settings, registry, rules)
    return _with_context(settings, registry, results, comparators or comparators_of(
        settings, registry))


def _with_context(settings: Settings, registry: Registry, results: pd.DataFrame,
                  comparators: Comparators | None) -> dict[str, dict[str, object]]:
    return with_cohort_context(metrics_from_results(results, registry.cohorts), results,
                               registry.patients, registry.cohorts, comparators,
                               level=settings.endpoints.conf_level)


def score_registry(rules: RuleBook, metrics: dict[str, dict[str, object]],
                   evidence: dict[str, CohortEvidence] | None = None, *,
                   grade_closed_cohorts: bool = False) -> list[Verdict]:
    """Every cohort against every rule file (clauses decided with their CIs when ``evidence``
    is given), comparisons with an external control labelled."""
    verdicts = score_cohorts(rules, metrics, evidence,
                             grade_closed_cohorts=grade_closed_cohorts)
    return label_verdicts(verdicts, rules.rule_sets, metrics)


def cohort_inputs(settings: Settings, registry: Registry, rules: RuleBook | None = None
                  ) -> tuple[dict[str, dict[str, object]], dict[str, CohortEvidence]]:
    """Every cohort's metrics and the evidence behind them (x of n, S(T) with CIs)."""
    results = endpoint_results(settings, registry, rules)
    metrics = _with_context(settings, registry, results, comparators_of(settings, registry))
    return metrics, evidence_from_results(results)


def analyse(settings: Settings, registry: Registry, criteria: Sequence[str] = (),
            data_name: str = DEMO_NAME) -> Analysis:
    """Endpoints for every cohort, then every cohort scored against the chosen rule files."""
    timings: dict[str, float] = {}
    choices = list(criteria) if criteria else list(settings.criteria)
    base = settings.source.parent if settings.source is not None else None
    _, chosen = resolve_criteria(choices, base)  # first: the rule files fix the stage sizes
    start = time.perf_counter()
    results = endpoint_results(settings, registry, chosen)
    timings["endpoints"] = time.perf_counter() - start
    start = time.perf_counter()
    comparators = comparators_of(settings, registry)
    metrics = with_outlook_metrics(_with_context(settings, registry, results, comparators),
                                   results, chosen.rule_sets)
    verdicts = tuple(score_registry(chosen, metrics, evidence_from_results(results),
                                    grade_closed_cohorts=settings.grade_closed_cohorts))
    timings["scoring"] = time.perf_counter() - start
    sizes = stage_sizes(chosen.rule_sets) or drup_stage_sizes()
    return Analysis(registry, results, chosen, verdicts, tuple(readiness(verdicts)), data_name,
                    {**endpoint_parameters(settings, run_parameters(settings, chosen)),
                     "stage_sizes": list(sizes)}, timings, comparators,
                    external_controls(metrics))


def _only(analysis: Analysis, only: Sequence[str]) -> list[str] | None:
    if not only:
        return None
    known = analysis.registry.cohorts["cohort_id"].astype(str).tolist()
    unknown = [c for c in only if c not in known]
    if unknown:
        hints = [f"{c!r}{did_you_mean(c, known, cutoff=0.5)}" for c in unknown]
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


def results_json(analysis: Analysis, only: list[str] | None, evaluated: str = "",
                 population: Mapping[str, GroupRecords] | None = None) -> dict[str, object]:
    """What results.json holds; ``population``: every group's records when already counted."""
    import json
    from dataclasses import asdict

    from dossier.endpoints.population import ALL_COHORTS, population_records
    from dossier.render.methods_text import data_cutoff, patients_cutoff
    from dossier.render.scorecard import scorecards
    from dossier.render.sections import submission_record

    results = _results_of(analysis, only)
    verdicts = [v for v in analysis.verdicts if only is None or v.cohort_id in only]
    flags = [r for r in analysis.readiness if only is None or r.cohort_id in only]
    return {
        "software": {"dossier": __version__},
        "data": analysis.data_name,
        "data_cutoff": data_timestamp(analysis.registry).date().isoformat(),
        "parameters": analysis.parameters,
        "criteria": [{"id": r.id, "framework": r.framework, "version": r.version,
                      "effective": r.effective} for r in analysis.rules.rule_sets],
        "results": json.loads(results_bytes(results.reset_index(drop=True), ".json")),
        "verdicts": [v.to_dict() for v in verdicts],
        "readiness": [r.to_dict() for r in flags],
        "external_controls": [c.record() for cid, c in analysis.controls.items()
                              if only is None or cid in only],
        "scorecards": [asdict(card) for card in scorecards(
            verdicts, analysis.rules.rule_sets, evaluated,
            patients_cutoff(analysis.registry.patients))],
        "population": population_records(analysis.registry.patients, only,
                                         analysis.registry.adverse_events)
        if population is None else {name: records for name, records in population.items()
                                    if only is None or name == ALL_COHORTS or name in only},
        "submission": submission_record(results=results, registry=analysis.registry,
                                        verdicts=verdicts, rule_files=analysis.rules.rule_sets,
                                        cutoff=data_cutoff(analysis.registry), only=only),
        "outlook": outlook_json(results, analysis.registry.cohorts, analysis.rules.rule_sets),
    }


_SOURCE_ROLES = {"patients": "data", "cohorts": "cohorts", "mapping": "adam_mapping"}
"""The manifest role of a registry source by its report role (ADaM datasets: adam_dataset)."""


def _files_under(folder: Path | None) -> list[Path]:
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted((p for p in Path(folder).rglob("*") if p.is_file()),
                  key=lambda p: p.relative_to(folder).as_posix())


def input_files(settings: Settings, registry: Registry, *, templates: Path | None = None,
                docx_reference: Path | None = None, narrative: Path | None = None
                ) -> list[tuple[str, Path]]:
    """Every file that influenced a build, as (role, path), for the manifest.

    The registry's own files as its validation report names them (the patient file or each
    ADaM dataset read, the cohort metadata, also when found beside the data, the ADaM mapping),
    then ``dossier.toml``, the Word template, each file of ``--templates`` and the earlier
    ``dossier.qmd`` whose narrative is carried over. Rule files are listed apart (criteria).
    """
    found: list[tuple[str, Path]] = []
    for source in registry.report.sources:
        if source.path is not None and Path(source.path).is_file():
            found.append((_SOURCE_ROLES.get(source.role, "adam_dataset"), Path(source.path)))
    if settings.source is not None and Path(settings.source).is_file():
        found.append(("config", Path(settings.source)))
    if settings.comparators is not None and Path(settings.comparators).is_file():
        found.append(("comparators", Path(settings.comparators)))
    if docx_reference is not None:
        found.append(("docx_reference", Path(docx_reference)))
    found += [("template", p) for p in _files_under(templates)]
    if narrative is not None and narrative.is_file():
        found.append(("narrative", narrative))
    return found


def _named_inputs(settings: Settings, data: Path | None, cohorts: Path | None,
                  adam: Path | None, adam_map: Path | None, criteria: Sequence[str],
                  templates: Path | None, docx_reference: Path | None) -> list[Path]:
    """The files and folders a build will read, as known before reading (never replaced)."""
    named = [data, cohorts, adam, adam_map, settings.data, settings.cohorts, settings.adam,
             settings.adam_map, settings.adverse_events, settings.source, settings.comparators,
             templates, docx_reference]
    named += [Path(c) for c in criteria if Path(c).exists()]
    for path in (data, settings.data):
        if path is not None:
            named.append(sidecar_metadata(Path(path)))
    return [Path(p) for p in named if p is not None]


DATA_FILES = {"results.json": "json", "dossier.xlsx": "xlsx"}
"""The data files a build writes (see :mod:`dossier.render.data_files`), by format."""


def _workbook_job(job: DataFiles, pool: PdfWorkers | None) -> Future | None:
    """Start writing dossier.xlsx (the longer of the data files): in a PDF worker process
    when the build started them, so that it runs while this process prepares the PDFs; else
    here and now. None when the build writes no workbook."""
    if job.xlsx_path is None:
        return None
    job = replace(job, json_path=None)
    if pool is not None:
        return pool.executor.submit(write_data_files, job)
    future: Future = Future()
    future.set_result(write_data_files(job))
    return future


def _pdf_workers(n_cohorts: int) -> contextlib.AbstractContextManager[PdfWorkers]:
    """The PDF worker processes of a dossier of ``n_cohorts`` cohorts, started now."""
    from dossier.render.pdf import default_workers, pdf_workers

    return pdf_workers(default_workers(n_cohorts))


def _wait_for(background: ThreadPoolExecutor) -> None:
    """Wait until the background writer has stopped, even when a signal interrupts the wait.

    The temporary folder is removed only after this, so no write lands in (or recreates) a
    folder being cleaned up.
    """
    interrupted: BaseException | None = None
    while True:
        try:
            background.shutdown(wait=True)
            break
        except KeyboardInterrupt as exc:  # the first signal; later ones are ignored
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def build_dossier(settings: Settings, *, data: Path | None = None, cohorts: Path | None = None,
                  criteria: Sequence[str] = (), only: Sequence[str] = (),
                  destination: Path | None = None, formats: Sequence[str] = DEFAULT_FORMATS,
                  templates: Path | None = None, registry: Registry | None = None,
                  adam: Path | None = None, adam_map: Path | None = None,
                  progress: Progress | None = None, docx_reference: Path | None = None,
                  engine: str = "weasyprint", patient_key: Path | None = None,
                  force: bool = False, since: Path | None = None, cache: bool = True
                  ) -> tuple[Path, dict[str, float]]:
    """Build the dossier folder and return its path and the time each stage took (seconds).

    The folder is written next to its destination and moved into place only when every output
    is complete; a failure leaves any earlier dossier untouched. ``docx_reference`` is the Word
    template of ``dossier.docx`` (and of Quarto's Word output). ``engine="quarto"`` writes the
    Quarto project and renders it with Quarto (HTML, Word and PDF in ``quarto/_output/``); its
    PDF is then ``dossier.pdf`` (no per-cohort PDFs). The narrative written in the earlier
    dossier's ``quarto/dossier.qmd`` is carried into the new one and into ``dossier.docx``.

    The destination is replaced only when it is empty, new or a dossier dossier wrote; ``force``
    allows any other folder, except one holding an input (see
    :func:`dossier.render.ownership.check_destination`); the refusal comes before any work.
    SIGINT, SIGTERM and SIGHUP stop the build cleanly (worker processes ended, temporary folder
    removed) and raise :class:`dossier.render.staging.BuildInterrupted`.

    Patient ids are shown as ``settings.patient_ids`` says (the renderers see only a copy of the
    registry with codes, or none); ``patient_key`` writes the codes' key outside the folder
    (an existing file only with ``force``). ``since`` (an earlier dossier folder or patient
    file) adds what changed since it: changes.json, a Changes sheet and a "Changes since"
    section at the front of the PDF (see :mod:`dossier.changes`).

    A destination that holds a dossier with its cache (:mod:`dossier.build_cache`) is rebuilt
    from it: every output copied when nothing that can change one changed, else only the PDF
    parts whose content changed laid out again; ``cache=False`` reads no cache. The folder is
    the same either way.
    """
    # the PDF worker processes (entered by _build when it needs them) end before the signals
    # are handed back
    with stop_cleanly_on_signals(), contextlib.ExitStack() as workers:
        return _build(settings, data=data, cohorts=cohorts, criteria=criteria, only=only,
                      destination=destination, formats=formats, templates=templates,
                      registry=registry, adam=adam, adam_map=adam_map, progress=progress,
                      docx_reference=docx_reference, engine=engine, force=force,
                      patient_key=patient_key, since=since, cache=cache, workers=workers)


def _build(settings: Settings, *, data: Path | None, cohorts: Path | None,
           criteria: Sequence[str], only: Sequence[str], destination: Path | None,
           formats: Sequence[str], templates: Path | None, registry: Registry | None,
           adam: Path | None, adam_map: Path | None, progress: Progress | None,
           docx_reference: Path | None, engine: str, force: bool,
           patient_key: Path | None, since: Path | None = None, cache: bool = True,
           workers: contextlib.ExitStack | None = None) -> tuple[Path, dict[str, float]]:
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

    path = data if data is not None else (settings.data if adam is None else None)
    adam_dir = adam if adam is not None else (settings.adam if path is None else None)
    data_name = str(path or adam_dir or DEMO_NAME)
    target = Path(destination) if destination is not None else default_destination(
        settings, Path(data_name).name)
    named = _named_inputs(settings, data, cohorts, adam, adam_map, criteria, templates,
                          docx_reference)
    if since is not None and Path(since).is_file():
        named.append(Path(since))
    check_destination(target, force=force, inputs=named)  # refuse before any work
    weasy_pdfs = "pdf" in formats and engine == "weasyprint"
    earlier_zip = earlier_cache(target) if cache else None
    earlier = None
    if since is not None:  # read before the build replaces it (it may be the --out folder)
        from dossier.changes.snapshot import load_snapshot

        earlier = load_snapshot(Path(since), settings, criteria)
    start = time.perf_counter()
    if registry is None:
        registry = load(settings, data, cohorts, adam, adam_map)
    timings["read"] = time.perf_counter() - start
    report("read", 1, steps)
    workers = workers if workers is not None else contextlib.ExitStack()
    pool: PdfWorkers | None = None
    if weasy_pdfs and (earlier_zip is None or data_changed(target, registry.sha256)):
        # no earlier output can be reused: the workers' server imports WeasyPrint on the core
        # the endpoints leave idle (else they start once the build key says they are needed;
        # an idle server would slow a build that only copies)
        pool = workers.enter_context(_pdf_workers(
            len(dict.fromkeys(only)) if only else len(registry.cohorts)))
    analysis = analyse(settings, registry, criteria, data_name)
    timings.update(analysis.timings)
    report("endpoints and scoring", 3, steps)
    chosen = _only(analysis, only)
    changes = None
    if earlier is not None:
        from dossier.changes.compare import compare
        from dossier.changes.snapshot import from_analysis

        changes = compare(earlier, from_analysis(analysis, Path(data_name).name, chosen),
                          chosen)

    build_time = build_timestamp(data_timestamp(registry))
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
        "data cut-off": data_cutoff(registry),
        "build date": build_time.date().isoformat(), "software": f"dossier {__version__}",
        "criteria": ", ".join(f"{r.id} ({r.version})" for r in analysis.rules.rule_sets),
        # the sheet names the field; the sentence without its own "Patient identifiers:" lead
        "patient identifiers": identifiers.partition(": ")[2],
    }
    earlier_qmd = target / QUARTO_FOLDER / "dossier.qmd"  # its narrative is carried over
    uses_narrative = "docx" in formats or "qmd" in formats or engine == "quarto"
    inputs = input_files(settings, registry, templates=templates, docx_reference=docx_reference,
                         narrative=earlier_qmd if uses_narrative else None)
    rule_files = [r.path for r in analysis.rules.rule_sets]
    key = build_key(
        inputs=[*inputs, *(("criteria", path) for path in rule_files)],
        frames={"patients": registry.patients, "cohorts": registry.cohorts,
                "adverse_events": registry.adverse_events, "results": analysis.results},
        records={"settings": repr(settings), "data": data_name, "sha256": registry.sha256,
                 "report": repr(registry.report), "formats": sorted(formats), "engine": engine,
                 "only": chosen, "files": file_names, "identifiers": identifiers,
                 "build_info": build_info, "build_time": build_time.isoformat(),
                 "parameters": analysis.parameters,
                 "verdicts": [v.to_dict() for v in analysis.verdicts],
                 "readiness": [r.to_dict() for r in analysis.readiness],
                 "controls": {cid: c.record() for cid, c in analysis.controls.items()},
                 "changes": changes, "templates": templates is not None,
                 "docx_reference": docx_reference is not None})
    reuse = earlier_zip is not None and cached_build_key(earlier_zip) == key
    needs_context = bool({"pdf", "docx", "qmd"} & set(formats)) or engine == "quarto"

    def make_context(memo: Memo) -> dict[str, object]:
        from dossier.render.context import build_context

        start = time.perf_counter()
        context = build_context(
            results=analysis.results, verdicts=analysis.verdicts, registry=shown,
            rule_files=analysis.rules.rule_sets, parameters=analysis.parameters,
            title=settings.title, build_time=build_time, software_version=__version__,
            data_sha256=registry.sha256, data_name=data_name, only=chosen,
            patient_ids=identifiers, comparators=analysis.comparators,
            controls=analysis.controls, km_full_followup=settings.km_full_followup, memo=memo)
        if changes is not None:
            from dossier.changes.text import changes_view

            context["changes"] = changes_view(
                changes, {str(c["id"]): str(c["anchor"]) for c in context["cohorts"]})
        timings["context"] = time.perf_counter() - start
        return context

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

    protected = [*named, *rule_files, *(p for role, p in inputs if role != "narrative")]
    with DossierBundle(target, force=force, inputs=protected) as bundle:
        start = time.perf_counter()
        copied = reuse_outputs(target, bundle, skip=()) if reuse else None
        if copied is not None:  # nothing changed: the earlier outputs, checked, as they were
            timings["reused"] = time.perf_counter() - start
            report(f"reused {len(copied)} unchanged outputs", steps, steps)
        else:
            # the PDFs are laid out by worker processes in a background thread while the other
            # outputs are written; the folder is committed or removed only once it has stopped
            background = ThreadPoolExecutor(max_workers=1)
            try:
                if weasy_pdfs and pool is None:  # they import WeasyPrint while the context is made
                    pool = workers.enter_context(_pdf_workers(len(cohort_ids)))
                part_cache = PartCache(earlier_zip, bundle.path(CACHE_NAME), {"key": key})
                paths = {f: bundle.path(name) if f in formats else None
                         for name, f in DATA_FILES.items()}
                data_job = DataFiles(
                    analysis, chosen, shown, build_info, build_time, changes, paths["json"],
                    paths["xlsx"], population_tables(registry, part_cache.memo)
                    if any(paths.values()) else None)
                workbook = _workbook_job(data_job, pool)
                context = make_context(part_cache.memo) if needs_context else None
                pdfs: Future | None = None
                if weasy_pdfs:
                    from dossier.render.pdf import write_pdfs

                    submitted = threading.Event()
                    pdfs = background.submit(timed, "pdf", lambda: write_pdfs(
                        context, bundle.temporary_folder, templates_dir=templates,
                        cohort_file_names=file_names, progress=tick, cache=part_cache,
                        pdf_variant=settings.pdf_variant, pool=pool, submitted=submitted))
                    # the JSON below would take turns with the PDFs' HTML on this process
                    while not submitted.wait(0.05) and not pdfs.done():
                        pass
                if changes is not None:
                    bundle.write_json("changes.json", changes)
                if data_job.json_path is not None:  # here, while the workers lay out
                    timings.update(write_data_files(replace(data_job, xlsx_path=None)))
                    tick("results.json")
                if workbook is not None:
                    timings.update(workbook.result())
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
                            bundle.write_bytes("dossier.pdf",
                                               (rendered / "dossier.pdf").read_bytes())
                            tick("dossier.pdf (Quarto)")
                if pdfs is not None:
                    pdfs.result()
            finally:
                try:
                    _wait_for(background)
                finally:
                    workers.close()  # the processes end once the background writer has stopped
            if not weasy_pdfs:
                part_cache.write()
        bundle.finish_manifest(
            inputs=inputs, criteria_files=rule_files,
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
