"""Speed of ``dossier build`` stage by stage, against the straightforward way to the same outputs.

Run:  python benchmarks/build.py [--scale 1,10] [--repeat 1] [--skip-naive] [--cohorts K]
                                 [--naive-cohorts K] [--no-breakdown] [--breakdown-cohorts K]
                                 [--no-rebuild]

For each scale (1 = the demo registry, 1,610 patients; s = ``demo_registry(1610 * s)``):

dossier's way
    ``build_dossier`` end to end (PDF, XLSX and JSON: the default outputs), with the stages
    timed inside that one run: endpoints and scoring (``analyse``'s own timings), figures (the
    calls of the SVG figure functions made by ``build_context``), the rest of the context,
    JSON, XLSX, HTML (every Jinja2 render ``write_pdfs`` makes) and the PDF phase (the rest of
    ``write_pdfs``: its worker processes laying out and writing the PDFs with WeasyPrint).
the straightforward way, same data, same process, one core
    lifelines ``KaplanMeierFitter`` per group for PFS, OS and DoR (median, its CI, landmarks;
    the rates are not redone, so this stage is a lower bound); a matplotlib figure per plot
    (KM PFS, KM OS and swimmer per cohort, forest plots) as a PNG ``data:`` URI put in the
    context where the SVG would be; the same templates; one WeasyPrint pass over the whole
    dossier, then every cohort PDF (cover + methods + cohort) laid out again from scratch;
    the same XLSX and JSON. ``--naive-cohorts K`` times K evenly spaced cohort PDFs and scales
    linearly to all (said so in the output).
breakdown (one process)
    ``write_pdfs(workers=1)`` with WeasyPrint's steps timed: layout, painting (SVG figures
    apart), font subsetting and the rest of ``write_pdf``; and the cost of starting workers.

rebuilds (benchmarks/rebuild.py; ``--no-rebuild`` skips them)
    a clean build of the demo written as files, then rebuilds into the same folder with
    nothing changed and after one cohort's rows changed, checked byte for byte against a
    clean build of the changed data.

Targets (2 cores, the demo): the whole build >= 4x faster than the straightforward way, and
everything but WeasyPrint's layout of the final pages <= 20% of the build. Registry generation
and validation come before both and are timed apart. Times are wall-clock, best of
``--repeat``; other load shows in them, so the load average is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Only the standard library at the top: the PDF workers are spawned processes that import this
# script again, and must not pay for matplotlib or lifelines.

DEMO_PATIENTS = 1610
PNG_DPI = 150
SPEED_TARGET = 4.0
OUTSIDE_TARGET = 0.20


# --------------------------------------------------------------------------- timing tools


class Clock:
    """Seconds and calls per key, accumulated by functions wrapped in place (``patch``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def timed(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1
        return wrapper

    @contextlib.contextmanager
    def patch(self, owner: object, names: Sequence[str], key: str | None = None
              ) -> Iterator[None]:
        """Time every call of ``owner.<name>`` (a module or class attribute) until exit."""
        saved = {name: owner.__dict__[name] for name in names}
        for name, fn in saved.items():
            setattr(owner, name, self.timed(key or name, fn))
        try:
            yield
        finally:
            for name, fn in saved.items():
                setattr(owner, name, fn)


@contextlib.contextmanager
def replaced(owner: object, values: dict[str, Any]) -> Iterator[None]:
    """Replace attributes of a module until exit (the straightforward way's figure stubs)."""
    saved = {name: getattr(owner, name) for name in values}
    for name, value in values.items():
        setattr(owner, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(owner, name, value)


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Run:
    """Stage times (seconds) of one build, in table order, and notes on how they were taken."""

    stages: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    meanwhile: dict[str, float] = field(default_factory=dict)  # inside the PDF phase
    total: float = math.nan
    pdf_phase: float = math.nan
    output_bytes: int = 0


def figure_functions(module: Any) -> tuple[list[str], list[str]]:
    """The functions of ``dossier.render.figures`` that ``module`` calls: (all, drawing).

    Drawing functions return the SVG (their names end in ``_svg``); the others pick the data
    and the axes out of the results table for them.
    """
    from dossier.render import figures

    found = [name for name in figures.__all__
             if callable(module.__dict__.get(name)) and not isinstance(module.__dict__[name], type)]
    return found, [name for name in found if name.endswith("_svg")]


# --------------------------------------------------------------------------- the data


def make_registry(scale: int, cohorts: int) -> Any:
    """The demo registry (scale 1) or ``demo_registry(1610 * scale)``, validated."""
    from dossier.registry.demo import demo_registry
    from dossier.registry.load import registry_from_frames

    patients, meta = demo_registry() if scale == 1 else demo_registry(DEMO_PATIENTS * scale)
    if cohorts:
        keep = sorted(patients["cohort_id"].astype(str).unique())[:cohorts]
        patients = patients[patients["cohort_id"].astype(str).isin(keep)]
        meta = meta[meta["cohort_id"].astype(str).isin(keep)]
    return registry_from_frames(patients, meta, name="demo" if scale == 1 else f"demo x{scale}")


def settings() -> Any:
    from dossier.config import Settings

    return Settings()


# --------------------------------------------------------------------------- dossier's way


def dossier_run(registry: Any, work: Path) -> Run:
    """``build_dossier`` end to end, its figure functions and HTML renders timed inside it."""
    from dossier.build import build_dossier
    from dossier.render import context as context_module
    from dossier.render import pdf as pdf_module

    clock = Clock()
    target = work / "dossier"
    every, drawing = figure_functions(context_module)
    with clock.patch(context_module, every, "figures"), \
            clock.patch(context_module, drawing, "drawn"), \
            clock.patch(pdf_module, ["render_part", "render_html"], "html"):
        start = time.perf_counter()
        _, timings = build_dossier(settings(), registry=registry, destination=target,
                                   formats=("pdf", "xlsx", "json"))
        total = time.perf_counter() - start
    figures, html = clock.seconds["figures"], clock.seconds["html"]
    # the PDFs are laid out by worker processes while this process renders their HTML and
    # writes the XLSX and JSON: those happen inside the PDF phase, which is measured whole
    pdf_phase = timings["pdf"]
    run = Run(total=total, pdf_phase=pdf_phase, output_bytes=folder_bytes(target))
    run.stages = {
        "endpoints": timings["endpoints"],
        "scoring": timings["scoring"],
        "figures": figures,
        "context (text)": timings["context"] - figures,
        "PDF phase": pdf_phase,
    }
    run.stages["other"] = total - sum(run.stages.values())
    run.meanwhile = {"HTML": html, "XLSX": timings["xlsx"], "JSON": timings["json"]}
    n_cohorts = len(registry.cohorts)
    run.notes = {
        "endpoints": "compute_endpoints: every endpoint",
        "figures": f"{clock.calls['drawn']} SVG",
        "HTML": f"{clock.calls['html']} renders",
        "PDF phase": f"{plural(pdf_module.default_workers(n_cohorts), 'worker')} laying out "
                     "and joining; HTML, XLSX, JSON meanwhile",
        "other": "bundle, manifest, hashes",
    }
    return run


# --------------------------------------------------------------------------- straightforward


def months(days: Any) -> Any:
    from dossier.registry.schema import DAYS_PER_MONTH

    return days.astype(float) / DAYS_PER_MONTH


def naive_endpoints(patients: Any) -> dict[tuple[str, str], Any]:
    """A lifelines fitter per group (pooled, each cohort) and endpoint: median, CI, landmarks."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    responders = patients[patients["best_response"].isin(["CR", "PR"])
                          & patients["response_confirmed"].fillna(False).astype(bool)
                          & patients["response_days"].notna()]
    dor = responders.assign(dor_days=responders["pfs_days"] - responders["response_days"])
    dor = dor[dor["dor_days"] >= 0]
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for endpoint, frame, time_col, event_col in (
                ("pfs", patients, "pfs_days", "pfs_event"),
                ("os", patients, "os_days", "os_event"),
                ("dor", dor, "dor_days", "pfs_event")):
            groups = [("all", frame), *frame.groupby(frame["cohort_id"].astype(str))]
            for group, rows in groups:
                if rows.empty:
                    continue
                kmf = KaplanMeierFitter().fit(months(rows[time_col]),
                                              rows[event_col].astype(int), label=endpoint)
                _ = kmf.median_survival_time_
                median_survival_times(kmf.confidence_interval_)
                kmf.survival_function_at_times([6.0, 12.0, 24.0])
                fitted[(endpoint, group)] = kmf
    return fitted


def png_uri(figure: Any) -> str:
    import base64
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def naive_km(kmf: Any, title: str, y_label: str) -> str:
    import matplotlib.pyplot as plt
    from lifelines.plotting import add_at_risk_counts

    from dossier.render.svg import FIGURE_WIDTH_PT

    figure, ax = plt.subplots(figsize=(FIGURE_WIDTH_PT / 72, 3.6))
    kmf.plot_survival_function(ax=ax, ci_show=True, show_censors=True,
                               censor_styles={"ms": 4})
    ax.set(title=title, xlabel="Months since start of treatment", ylabel=y_label, ylim=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_at_risk_counts(kmf, ax=ax, rows_to_show=["At risk"])
    figure.tight_layout()
    return png_uri(figure)


def naive_swimmer(patients: Any, title: str, reference: Sequence[tuple[float, str]]) -> str:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from dossier.render.figures_swimmer import MAX_LANES, NOT_EVALUABLE, RESPONSE_COLOURS
    from dossier.render.svg import FIGURE_WIDTH_PT

    colours = {code: colour for code, colour, _ in RESPONSE_COLOURS}
    shown = patients.sort_values("pfs_days", ascending=False).head(MAX_LANES)
    lanes = list(range(len(shown)))
    figure, ax = plt.subplots(figsize=(FIGURE_WIDTH_PT / 72, 1.6 + 0.11 * len(shown)))
    ax.barh(lanes, months(shown["pfs_days"]), height=0.6,
            color=[colours.get(str(b), NOT_EVALUABLE[1]) for b in shown["best_response"]])
    response = months(shown["response_days"])
    ax.scatter(response, lanes, marker="D", s=10, color="black", zorder=3)
    ongoing = shown["pfs_event"].astype(int) == 0
    ax.scatter(months(shown["pfs_days"])[ongoing] + 0.3,
               [y for y, o in zip(lanes, ongoing, strict=True) if o], marker=">", s=12,
               color="black")
    for value, text in reference:
        ax.axvline(value, linestyle="--", color="grey", linewidth=0.8)
        ax.text(value, -1, text, fontsize=6, color="grey")
    ax.set_yticks(lanes, labels=[str(p) for p in shown["patient_id"]], fontsize=5)
    ax.invert_yaxis()
    ax.set(title=title, xlabel="Months since start of treatment")
    ax.legend(handles=[Patch(color=c, label=text) for _, c, text in RESPONSE_COLOURS],
              fontsize=6, loc="lower right")
    figure.tight_layout()
    return png_uri(figure)


def naive_forest(rows: Sequence[tuple[str, float, float, float]], title: str,
                 thresholds: Sequence[tuple[float, str]]) -> str:
    import matplotlib.pyplot as plt

    from dossier.render.svg import FIGURE_WIDTH_PT

    figure, ax = plt.subplots(figsize=(FIGURE_WIDTH_PT / 72, 1.2 + 0.16 * len(rows)))
    y = list(range(len(rows)))
    est = [100 * r[1] for r in rows]
    ax.errorbar(est, y, xerr=[[e - 100 * r[2] for e, r in zip(est, rows, strict=True)],
                              [100 * r[3] - e for e, r in zip(est, rows, strict=True)]],
                fmt="s", markersize=3, color="black", linewidth=0.8)
    for value, text in thresholds:
        ax.axvline(100 * value, linestyle="--", color="grey", linewidth=0.8, label=text)
    ax.set_yticks(y, labels=[r[0] for r in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set(title=title, xlabel="rate (%)", xlim=(0, 100))
    ax.legend(fontsize=6)
    figure.tight_layout()
    return png_uri(figure)


def naive_figures(context: dict[str, Any], registry: Any, results: Any,
                  fitted: dict[tuple[str, str], Any]) -> int:
    """Draw every figure with matplotlib and put the PNGs where the context holds the SVGs."""
    import matplotlib

    matplotlib.use("Agg")
    from dossier.registry.schema import DAYS_PER_MONTH, DAYS_PER_WEEK
    from dossier.render.context import FOREST_ROWS_PER_FIGURE, ORR_THRESHOLDS

    patients = registry.patients
    reference = [(w * DAYS_PER_WEEK / DAYS_PER_MONTH, f"{w:g} weeks") for w in (16, 24)]
    drawn = 0
    for cohort in context["cohorts"]:
        cid, n = cohort["id"], cohort["number"]
        cohort["km_svgs"] = [naive_km(fitted[(e, cid)], f"Cohort {n}: {name.lower()}",
                                      f"{name} (probability)")
                             for e, name in (("pfs", "Progression-free survival"),
                                             ("os", "Overall survival")) if (e, cid) in fitted]
        cohort["swimmer_svg"] = naive_swimmer(
            patients[patients["cohort_id"].astype(str) == cid],
            f"Cohort {n}: time on treatment", reference)
        drawn += len(cohort["km_svgs"]) + 1
    rates = results[(results["group_by"] == "cohort_id") & (results["statistic"] == "rate")
                    & (results["denominator"] == "evaluable")]
    labels = {c["id"]: f"{c['number']}. {c['drug']}: {c['alteration']}"
              for c in context["cohorts"]}
    for endpoint, thresholds in (("cbr", ((5 / 24, "DRUP stage 2"),)), ("orr", ORR_THRESHOLDS)):
        chosen = rates[rates["endpoint"] == endpoint]
        rows = [(labels[g], e, lo, hi) for g, e, lo, hi in zip(
            chosen["group"], chosen["estimate"].fillna(0), chosen["lower"].fillna(0),
            chosen["upper"].fillna(0), strict=True) if g in labels]
        chunks = max(1, math.ceil(len(rows) / FOREST_ROWS_PER_FIGURE))
        size = max(1, math.ceil(len(rows) / chunks))
        context["comparison"][f"forest_{endpoint}"] = [
            naive_forest(rows[k * size:(k + 1) * size], f"{endpoint.upper()} by cohort",
                         thresholds) for k in range(chunks)]
        drawn += chunks
    return drawn


def naive_renderer() -> Callable[..., str]:
    """The dossier's templates in a fresh environment whose figure filter passes PNG URIs on."""
    from markupsafe import Markup

    from dossier.render import html
    from dossier.render.svg import FIGURE_WIDTH_PT

    env = html._environment.__wrapped__(tuple(html.template_dirs()))
    env.filters["svg_data_uri"] = lambda uri: uri  # already a data:image/png URI
    css = env.loader.get_source(env, html.STYLESHEET)[0]
    stylesheet = Markup(css + f"\n.figure img {{ width: {FIGURE_WIDTH_PT:g}pt; }}\n")
    values = {"stylesheet": stylesheet, "pdf_part": "full", "toc_pages": None}

    def render(context: dict[str, Any], cohort: dict[str, Any] | None = None) -> str:
        if cohort is None:
            return env.get_template(html.TEMPLATES["dossier"]).render({**context, **values})
        return env.get_template(html.TEMPLATES["cohort"]).render(
            {**context, **values, "cohort": cohort})
    return render


def weasyprint_once(html: str, target: Path) -> int:
    """One WeasyPrint pass from scratch (new fonts, new fetcher): lay out and write; pages."""
    import weasyprint

    from dossier.render.fetch import LocalOnlyFetcher
    from dossier.render.html import template_dirs

    dirs = template_dirs()
    document = weasyprint.HTML(string=html, base_url=dirs[0].as_uri() + "/",
                               url_fetcher=LocalOnlyFetcher(dirs)).render()
    document.write_pdf(target)
    return len(document.pages)


def spread(n: int, k: int) -> list[int]:
    """k indices spread evenly over range(n) (all of them when k is 0 or >= n)."""
    if k <= 0 or k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [n // 2]


def naive_run(registry: Any, work: Path, naive_cohorts: int) -> Run:
    """The straightforward way, stage by stage, in this process."""
    from dossier import __version__
    from dossier.build import analyse, data_timestamp, results_json
    from dossier.render import context as context_module
    from dossier.render.bundle import build_timestamp, dumps_json
    from dossier.render.workbook import write_dossier_workbook

    run, clock = Run(), time.perf_counter
    out = work / "naive"
    (out / "cohorts").mkdir(parents=True)
    chosen = settings()
    analysis = analyse(chosen, registry)  # the results table the templates and sheets show
    run.stages["scoring"] = analysis.timings["scoring"]

    start = clock()
    fitted = naive_endpoints(registry.patients)
    run.stages["endpoints"] = clock() - start
    run.notes["endpoints"] = f"lifelines: {len(fitted)} KM fits only"

    # the context without dossier's figures: the SVG functions return "", and the time spent
    # picking figure data out of the results table is taken off (this way has no use for it)
    build_time = build_timestamp(data_timestamp(registry))
    every, drawing = figure_functions(context_module)
    unused = Clock()
    start = clock()
    with replaced(context_module, dict.fromkeys(drawing, lambda *a, **k: "")), \
            unused.patch(context_module, [n for n in every if n not in drawing], "data"):
        context = context_module.build_context(
            results=analysis.results, verdicts=analysis.verdicts, registry=registry,
            rule_files=analysis.rules.rule_sets, parameters=analysis.parameters,
            title=chosen.title, build_time=build_time, software_version=__version__,
            data_sha256=registry.sha256, data_name=analysis.data_name)
    run.stages["context (text)"] = clock() - start - unused.seconds["data"]

    start = clock()
    drawn = naive_figures(context, registry, analysis.results, fitted)
    run.stages["figures"] = clock() - start
    run.notes["figures"] = f"{drawn} matplotlib PNG"

    render = naive_renderer()
    start = clock()
    html = render(context)
    run.stages["HTML"] = clock() - start
    start = clock()
    pages = weasyprint_once(html, out / "dossier.pdf")
    dossier_pdf = clock() - start

    cohorts = context["cohorts"]
    sample = spread(len(cohorts), naive_cohorts)
    html_s = pdf_s = 0.0
    cohort_pages = 0
    for i in sample:
        start = clock()
        page = render(context, cohorts[i])
        html_s += clock() - start
        start = clock()
        cohort_pages += weasyprint_once(page, out / "cohorts" / f"{i}.pdf")
        pdf_s += clock() - start
    scale = len(cohorts) / max(len(sample), 1)
    run.stages["HTML"] += html_s * scale
    run.stages["PDF layout + write"] = dossier_pdf + pdf_s * scale
    scaled = "" if len(sample) == len(cohorts) else \
        f", {len(sample)} of {len(cohorts)} cohort PDFs timed and scaled x{scale:.2f}"
    run.notes["PDF layout + write"] = (f"1 process; dossier.pdf {dossier_pdf:.1f} s "
                                       f"({pages} pages){scaled}")
    run.notes["HTML"] = "scaled" if scaled else ""
    run.notes["dossier_pages"] = str(pages)
    run.notes["cohort_pdf"] = (f"{pdf_s / max(len(sample), 1):.2f} s per cohort PDF "
                               f"({cohort_pages / max(len(sample), 1):.0f} pages)")

    start = clock()
    write_dossier_workbook(
        out / "dossier.xlsx", results=analysis.results, verdicts=analysis.verdicts,
        readiness=analysis.readiness, rule_sets=analysis.rules.rule_sets,
        patients=registry.patients, registry_cohorts=registry.cohorts, report=registry.report,
        build_info={"data source": analysis.data_name}, created=build_time)
    run.stages["XLSX"] = clock() - start
    start = clock()
    (out / "results.json").write_text(dumps_json(results_json(analysis, None)),
                                      encoding="utf-8")
    run.stages["JSON"] = clock() - start
    run.stages["other"] = 0.0
    run.total = sum(run.stages.values())
    run.pdf_phase = run.stages["PDF layout + write"]
    run.output_bytes = folder_bytes(out)
    return run


# --------------------------------------------------------------------------- breakdown


def _probe(_: int) -> float:
    """What a PDF worker pays before its first page: importing WeasyPrint and dossier's PDF."""
    start = time.perf_counter()
    from weasyprint.text.fonts import FontConfiguration

    import dossier.render.pdf  # noqa: F401

    FontConfiguration()
    return time.perf_counter() - start


def font_subsetter() -> str:
    """Which library WeasyPrint subsets embedded fonts with (HarfBuzz when it can find it)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset is not None and harfbuzz.hb_version_atleast(4, 1, 0):
        return "HarfBuzz"
    return "fontTools (libharfbuzz-subset not found)"


STEPS = ("layout", "paint", "svg", "fonts", "write_pdf", "pages", "pdfs")


def breakdown(registry: Any, work: Path, sample: int, workers: int, build: Run) -> None:
    """``write_pdfs`` in one process with WeasyPrint's steps timed, and the cost of workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import weasyprint.document
    import weasyprint.images
    import weasyprint.pdf

    from dossier import __version__
    from dossier.build import analyse, data_timestamp
    from dossier.render import pdf, pdf_layout
    from dossier.render.bundle import build_timestamp, safe_file_name
    from dossier.render.context import build_context

    analysis = analyse(settings(), registry)
    context = build_context(
        results=analysis.results, verdicts=analysis.verdicts, registry=registry,
        rule_files=analysis.rules.rule_sets, parameters=analysis.parameters,
        title=settings().title, build_time=build_timestamp(data_timestamp(registry)),
        software_version=__version__, data_sha256=registry.sha256,
        data_name=analysis.data_name)
    n_all = len(context["cohorts"])
    if 0 < sample < n_all:
        context["cohorts"] = [context["cohorts"][i] for i in spread(n_all, sample)]
    taken: set[str] = set()
    names = {c["id"]: safe_file_name(c["id"], taken) for c in context["cohorts"]}
    clock = Clock()
    kinds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    longest: dict[str, float] = defaultdict(float)
    run_task, write = pdf._Worker.run, weasyprint.document.Document.write_pdf

    def timed_run(self: Any, job: Any) -> Any:
        before, start = dict(clock.seconds), time.perf_counter()
        try:
            return run_task(self, job)
        finally:
            kind = {"_Part": "parts (layout)", "_Join": "joins (pypdf)",
                    "_Stamp": "page-number stamps",
                    "_Whole": "whole documents"}[type(job.work).__name__]
            elapsed = time.perf_counter() - start
            for step in STEPS[:-1]:
                kinds[kind][step] += clock.seconds[step] - before.get(step, 0.0)
            kinds[kind]["pdfs"] += 1
            kinds[kind]["total"] += elapsed
            longest[kind] = max(longest[kind], elapsed)

    def counted_write(self: Any, *args: Any, **kwargs: Any) -> Any:
        clock.seconds["pages"] += len(self.pages)
        return write(self, *args, **kwargs)

    with clock.patch(pdf_layout.Layouter, ["render"], "layout"), \
            clock.patch(pdf, ["render_part", "render_html"], "HTML"), \
            clock.patch(weasyprint.document.Page, ["paint"], "paint"), \
            clock.patch(weasyprint.images.SVGImage, ["draw"], "svg"), \
            clock.patch(weasyprint.pdf, ["build_fonts_dictionary"], "fonts"), \
            replaced(pdf._Worker, {"run": timed_run}), \
            replaced(weasyprint.document.Document, {"write_pdf": clock.timed(
                "write_pdf", counted_write)}):
        start = time.perf_counter()
        pdf.write_pdfs(context, work / "breakdown", cohort_file_names=names, workers=1)
        total = time.perf_counter() - start
    which = f"{len(context['cohorts'])} of {n_all} cohorts" if len(context["cohorts"]) < n_all \
        else f"all {n_all} cohorts"
    print(f"\n-- where the PDF time goes: write_pdfs(workers=1), {which}, one process; "
          f"fonts subset by {font_subsetter()}")
    print(f"   {'':<18}{'layout':>8}{'paint':>8}{'(SVG)':>8}{'fonts':>8}{'rest':>8}"
          f"{'total':>8}{'pages':>7}{'jobs':>6}{'longest job':>13}")
    for kind, k in kinds.items():
        rest = k["total"] - k["layout"] - k["paint"] - k["fonts"]
        print(f"   {kind:<18}{k['layout']:8.2f}{k['paint']:8.2f}{k['svg']:8.2f}"
              f"{k['fonts']:8.2f}{rest:8.2f}{k['total']:8.2f}{k['pages']:7.0f}"
              f"{k['pdfs']:6.0f}{longest[kind]:12.2f}s")
    s = clock.seconds
    rest = total - s["layout"] - s["paint"] - s["fonts"] - s["HTML"]
    print(f"   {'all (s)':<18}{s['layout']:8.2f}{s['paint']:8.2f}{s['svg']:8.2f}"
          f"{s['fonts']:8.2f}{rest:8.2f}{total:8.2f}"
          f"{s['pages']:7.0f}{sum(k['pdfs'] for k in kinds.values()):6.0f}"
          f"   (+ Jinja2 HTML {s['HTML']:.2f} s)")
    print(f"   {'share of total':<18}" + "".join(
        f"{100 * v / total:7.0f}%" for v in (s["layout"], s["paint"], s["svg"], s["fonts"],
                                             rest)))
    bound = max(max(longest.values()), total / workers)
    print(f"   with {plural(workers, 'worker')} the PDF phase cannot beat "
          f"max(longest task, total / {workers}) = {bound:.1f} s")
    if not 0 < sample < n_all:
        speed_up = total / build.pdf_phase
        print(f"   the build's PDF phase took {build.pdf_phase:.1f} s, {speed_up:.2f}x faster "
              "than one process (other load on the machine lowers this)")
    layout_part = s["layout"] / (total - s["HTML"])
    strict = 1 - build.pdf_phase * layout_part / build.total
    print(f"   strict reading (only WeasyPrint's layout counts; its PDF writing, the joins "
          f"and the outputs written meanwhile do not): "
          f"layout is {100 * layout_part:.0f}% of the one-process PDF work, so about "
          f"{100 * strict:.0f}% of the build is outside layout (target <= "
          f"{100 * OUTSIDE_TARGET:.0f}%: {'MET' if strict <= OUTSIDE_TARGET else 'NOT MET'})")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        imports = list(pool.map(_probe, range(workers)))
    started = time.perf_counter() - start
    print(f"   starting {plural(workers, 'spawned worker')}: {started:.2f} s wall "
          f"(imports {', '.join(f'{t:.2f}' for t in imports)} s each)")


# --------------------------------------------------------------------------- report


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.total)


def report(scale: int, ours: Run, naive: Run | None, n_patients: int, n_cohorts: int
           ) -> dict[str, bool | None]:
    """Print the stage table and the verdict on both targets (None: not checked)."""
    print(f"\n-- scale {scale}: {n_patients:,} patients, {n_cohorts} cohorts  "
          f"[{load_average()}]")
    head = f"   {'stage':<22}{'dossier s':>11}{'straightfwd s':>15}{'ratio':>8}   notes"
    print(head)
    print("   " + "-" * (len(head) + 20))
    rows = [*ours.stages, *(f"  {m} (meanwhile)" for m in ours.meanwhile), "total"]
    for stage in rows:
        name = stage.strip().removesuffix(" (meanwhile)")
        mine = ours.total if stage == "total" else ours.stages.get(stage, ours.meanwhile.get(name))
        other = math.nan if naive is None else (
            naive.total if stage == "total" else naive.stages.get(
                "PDF layout + write" if name == "PDF phase" else name, math.nan))
        ratio = other / mine if mine > 0 and not math.isnan(other) and other > 0 else math.nan
        notes = "; ".join(n for n in (ours.notes.get(name, ""), "" if naive is None else
                                      naive.notes.get(name, "")) if n)
        other_text = "" if math.isnan(other) else f"{other:15.2f}"
        ratio_text = "" if math.isnan(ratio) else f"{ratio:7.1f}x"
        print(f"   {stage:<22}{mine:11.2f}{other_text:>15}{ratio_text:>8}   {notes}")
    if naive is not None:
        print(f"   output size: dossier {ours.output_bytes / 1e6:.1f} MB, straightforward "
              f"{naive.output_bytes / 1e6:.1f} MB (cohort PDFs not all written when scaled); "
              f"straightforward cohort PDF: {naive.notes['cohort_pdf']}")
    outside = ours.total - ours.pdf_phase
    share = outside / ours.total
    print(f"\n   share of the build outside the PDF phase (the workers' WeasyPrint layout, "
          f"writing and joining; this process's HTML, XLSX, JSON meanwhile): "
          f"{outside:.1f} s of {ours.total:.1f} s = {100 * share:.1f}% "
          f"(target <= {100 * OUTSIDE_TARGET:.0f}%): "
          f"{'MET' if share <= OUTSIDE_TARGET else 'NOT MET'}")
    met: dict[str, bool | None] = {"share": share <= OUTSIDE_TARGET, "speed": None}
    if naive is not None:
        speed = naive.total / ours.total
        print(f"   whole build vs the straightforward way: {naive.total:.1f} s / "
              f"{ours.total:.1f} s = {speed:.2f}x faster (target >= {SPEED_TARGET:g}x): "
              f"{'MET' if speed >= SPEED_TARGET else 'NOT MET'}")
        met["speed"] = speed >= SPEED_TARGET
    else:
        print("   speed target not checked (--skip-naive)")
    if scale != 1:
        print("   (the targets are stated for the demo, scale 1; shown here for reference)")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1,10",
                        help="registry sizes, comma-separated: 1 = demo, s = 1,610 x s patients")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per approach")
    parser.add_argument("--skip-naive", action="store_true",
                        help="time dossier's way only")
    parser.add_argument("--cohorts", type=int, default=0,
                        help="keep only the first K cohorts of the registry (quick run)")
    parser.add_argument("--naive-cohorts", type=int, default=0,
                        help="time K straightforward cohort PDFs and scale (0 = all)")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the one-process breakdown of the PDF time")
    parser.add_argument("--no-rebuild", action="store_true",
                        help="skip the rebuilds from the cache (benchmarks/rebuild.py)")
    parser.add_argument("--breakdown-cohorts", type=int, default=0,
                        help="breakdown on K evenly spaced cohorts (0 = all)")
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scale.split(",") if s.strip()]
    if not scales or min(scales) < 1 or args.repeat < 1:
        parser.error("--scale takes positive integers and --repeat at least 1")

    import weasyprint

    from dossier import __version__
    from dossier.render.pdf import default_workers

    print(f"dossier {__version__}, python {sys.version.split()[0]}, WeasyPrint "
          f"{weasyprint.__version__} (fonts subset by {font_subsetter()}), "
          f"{os.cpu_count()} CPUs, {load_average()}")
    verdicts: dict[str, bool | None] = {}
    for scale in scales:
        start = time.perf_counter()
        registry = make_registry(scale, args.cohorts)
        n_patients, n_cohorts = len(registry.patients), len(registry.cohorts)
        print(f"\n== scale {scale}: {n_patients:,} patients, {n_cohorts} cohorts "
              f"(registry generated and validated in {time.perf_counter() - start:.1f} s, "
              "outside both timings)")
        ours_runs, naive_runs = [], []
        for k in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="dossier-bench-") as work:
                ours_runs.append(dossier_run(registry, Path(work)))
            print(f"   dossier run {k + 1}: {ours_runs[-1].total:.1f} s  [{load_average()}]")
        if not args.skip_naive:
            for k in range(args.repeat):
                with tempfile.TemporaryDirectory(prefix="dossier-bench-") as work:
                    naive_runs.append(naive_run(registry, Path(work), args.naive_cohorts))
                print(f"   straightforward run {k + 1}: {naive_runs[-1].total:.1f} s  "
                      f"[{load_average()}]")
        met = report(scale, best(ours_runs), best(naive_runs) if naive_runs else None,
                     n_patients, n_cohorts)
        if scale == 1:
            verdicts = met
        if not args.no_breakdown:
            with tempfile.TemporaryDirectory(prefix="dossier-bench-") as work:
                breakdown(registry, Path(work), args.breakdown_cohorts,
                          default_workers(n_cohorts), best(ours_runs))
    rebuilt: dict[str, bool] = {}
    if not args.no_rebuild:
        from rebuild import rebuild_report  # beside this script

        print("\n== rebuilds from the cache (the demo registry as files)")
        with tempfile.TemporaryDirectory(prefix="dossier-bench-") as work:
            rebuilt = rebuild_report(Path(work))
    if verdicts:
        words = {True: "MET", False: "NOT MET", None: "not checked (--skip-naive)"}
        print(f"\ntargets for the demo: outside the PDF phase <= {100 * OUTSIDE_TARGET:.0f}%: "
              f"{words[verdicts['share']]}; >= {SPEED_TARGET:g}x the straightforward way: "
              f"{words[verdicts['speed']]}")
    if rebuilt:
        words = {True: "MET", False: "NOT MET"}
        print(f"targets for the rebuilds: one cohort changed <= 15% of a clean build: "
              f"{words[rebuilt['one']]}; nothing changed <= 5%: {words[rebuilt['nothing']]}; "
              f"byte-identical to a clean build: {words[rebuilt['identical']]}")
    print(load_average())
    return 0


if __name__ == "__main__":
    sys.exit(main())
