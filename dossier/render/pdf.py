"""The PDF dossier: Jinja2 templates -> HTML -> WeasyPrint (CSS paged media) -> PDF.

Templates come from the bundled ``templates/`` folder, with a user's folder searched first so
any template or the stylesheet can be overridden. Autoescaping is on: text from the data (a
cohort id holding ``<script>``) is printed as text. Nothing is fetched from the network: the
URL fetcher serves ``data:`` URLs and files inside the template folders only and records every
other URL it refused. Output is deterministic: the document dates come from the build time in
the context, and the PDF identifier is a hash of the HTML.

Speed: WeasyPrint's layout is the whole cost, so it is done once per page where it can be.
Every cohort PDF shares the same methods pages; they are laid out once per page total (their
footers say "Page x of y") and joined to each cohort's cover and section with
``Document.copy``. The dossier and the cohort PDFs are laid out by worker processes in parallel.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import mimetypes
import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import weasyprint
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from dossier.resources import resource_dir

STYLESHEET = "dossier.css"
TEMPLATES = {"dossier": "dossier.html.j2", "cohort": "cohort.html.j2"}
DOSSIER_PDF = "dossier.pdf"
COHORT_FOLDER = "cohorts"
BLANK_MARKER = "<!--dossier:blank-pages-->"
BLANK_PAGE = '<div class="blank-page" style="break-before: page; height: 0"></div>'
COHORTS_PER_TASK = 3
LOGGER = logging.getLogger(__name__)


# --------------------------------------------------------------------------- no network


class LocalOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that never touches the network.

    ``data:`` URLs are decoded and ``file:`` URLs are served when the file lies inside one of
    ``allowed_dirs`` (the template folders); every other URL is refused, logged and appended
    to :attr:`refused`, so a caller (or a test) can tell that something tried.
    """

    def __init__(self, allowed_dirs: Sequence[Path]) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "file"))
        self.allowed_dirs = tuple(Path(d).resolve() for d in allowed_dirs)
        self.refused: list[str] = []

    def _refuse(self, url: str, why: str) -> ValueError:
        self.refused.append(url)
        LOGGER.warning("refused to fetch %s: %s", url, why)
        return ValueError(f"dossier fetches no external resources: {url} ({why})")

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise self._refuse(url, "only data: URLs and files in the templates folder")
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        if not any(path.is_relative_to(d) for d in self.allowed_dirs):
            raise self._refuse(url, "file outside the templates folder")
        if not path.is_file():
            raise self._refuse(url, "no such file")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})


# --------------------------------------------------------------------------- templates


def template_dirs(templates_dir: Path | None = None) -> list[Path]:
    """Where templates are looked up, first match wins: the user's folder, then the bundled."""
    bundled = resource_dir("templates")
    if templates_dir is None:
        return [bundled]
    user = Path(templates_dir)
    if not user.is_dir():
        raise FileNotFoundError(f"templates folder not found: {user}")
    return [user, bundled]


def svg_data_uri(svg: str) -> str:
    """An SVG figure as a ``data:`` URI for ``<img src>``.

    WeasyPrint draws an SVG image with its own parser; inlined, every SVG node would join the
    HTML cascade, which about doubles the layout time.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@lru_cache(maxsize=8)
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs])
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["svg_data_uri"] = svg_data_uri
    return env


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: user templates first (ChoiceLoader), autoescape on."""
    return _environment(tuple(template_dirs(templates_dir)))


def _stylesheet(env: jinja2.Environment) -> Markup:
    """The stylesheet's text, inlined as is (CSS is not HTML: escaping would break quotes)."""
    source, path, _ = env.loader.get_source(env, STYLESHEET)  # type: ignore[union-attr]
    if "</style" in source.lower():
        raise ValueError(f"{path}: a stylesheet must not contain '</style'")
    return Markup(source)


def _cohort(context: Mapping[str, object], cohort_id: str | None) -> Mapping[str, object]:
    for cohort in context["cohorts"]:  # type: ignore[attr-defined]
        if cohort["id"] == cohort_id:
            return cohort
    raise ValueError(f"cohort {cohort_id!r} is not in the dossier context")


def _render(context: Mapping[str, object], templates_dir: Path | None, part: str,
            cohort_id: str | None, pdf_part: str) -> str:
    if part not in TEMPLATES:
        raise ValueError(f"part must be one of {', '.join(TEMPLATES)}, not {part!r}")
    env = environment(templates_dir)
    extra: dict[str, object] = {"stylesheet": _stylesheet(env)}
    if part == "cohort":
        extra.update(cohort=_cohort(context, cohort_id), pdf_part=pdf_part,
                     blank_pages=Markup(BLANK_MARKER))
    return env.get_template(TEMPLATES[part]).render({**context, **extra})


def render_html(context: Mapping[str, object], *, templates_dir: Path | None = None,
                part: str = "dossier", cohort_id: str | None = None) -> str:
    """The HTML of the whole dossier (``part="dossier"``) or of one cohort's PDF ("cohort").

    The stylesheet is inlined and figures are ``data:`` URIs, so the HTML is complete on its
    own.
    """
    return _render(context, templates_dir, part, cohort_id, "full")


# --------------------------------------------------------------------------- layout


@contextlib.contextmanager
def source_date_epoch(epoch: str | None) -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` while PDFs are written, then restore it.

    fontTools stamps every embedded font subset with the current time unless this variable
    (the reproducible-builds convention) gives one; the build time keeps the bytes stable.
    """
    if epoch is None:
        yield
        return
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def _epoch(context: Mapping[str, object]) -> str | None:
    meta = context.get("meta")
    return str(meta["build_epoch"]) if isinstance(meta, Mapping) and "build_epoch" in meta \
        else None


def _identifier(html: str) -> bytes:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")


def _layout(html: str, dirs: Sequence[Path], fetcher: LocalOnlyFetcher,
            fonts: FontConfiguration) -> weasyprint.Document:
    return weasyprint.HTML(string=html, base_url=Path(dirs[0]).as_uri() + "/",
                           url_fetcher=fetcher).render(font_config=fonts)


def html_to_pdf(html: str, target: Path, *, templates_dir: Path | None = None,
                fetcher: LocalOnlyFetcher | None = None,
                font_config: FontConfiguration | None = None, epoch: str | None = None) -> Path:
    """Lay out ``html`` with WeasyPrint and write the PDF to ``target``.

    ``epoch`` (seconds since 1970, the build time) makes the embedded fonts reproducible.
    """
    dirs = template_dirs(templates_dir)
    fetcher = fetcher if fetcher is not None else LocalOnlyFetcher(dirs)
    document = _layout(html, dirs, fetcher, font_config or FontConfiguration())
    target.parent.mkdir(parents=True, exist_ok=True)
    with source_date_epoch(epoch):
        document.write_pdf(target, pdf_identifier=_identifier(html))
    return target


@dataclass(frozen=True)
class _CohortJob:
    """One cohort PDF: its full HTML, and (when the methods can be shared) its section HTML."""

    target: Path
    html: str
    section_html: str | None


@dataclass(frozen=True)
class _Task:
    """Work for one process: the dossier, or some cohort PDFs sharing one methods part."""

    dirs: tuple[Path, ...]
    epoch: str | None = None
    dossier: tuple[str, Path] | None = None
    methods_html: str | None = None
    cohorts: tuple[_CohortJob, ...] = ()


class _Worker:
    """Lays out PDFs in one process; keeps the fonts and the methods pages between tasks."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.dirs = tuple(dirs)
        self.fonts = FontConfiguration()
        self.fetcher = LocalOnlyFetcher(dirs)
        self._methods: dict[tuple[str, int], weasyprint.Document] = {}

    def methods(self, html: str, total: int | None) -> weasyprint.Document:
        """Cover + methods, padded with blank pages to ``total`` pages (None: no padding)."""
        key = (hashlib.sha256(html.encode("utf-8")).hexdigest(), total or 0)
        if key not in self._methods:
            blanks = 0 if total is None else max(total - len(self.methods(html, None).pages), 0)
            self._methods[key] = _layout(html.replace(BLANK_MARKER, BLANK_PAGE * blanks),
                                         self.dirs, self.fetcher, self.fonts)
        return self._methods[key]

    def cohort(self, job: _CohortJob, methods_html: str | None) -> None:
        """Write one cohort PDF, reusing the laid-out methods pages when it safely can."""
        job.target.parent.mkdir(parents=True, exist_ok=True)
        if methods_html is not None and job.section_html is not None:
            front = self.methods(methods_html, None)
            skipped = len(front.pages) - 1  # the methods pages, between cover and section
            section = _layout(job.section_html.replace(BLANK_MARKER, BLANK_PAGE * skipped),
                              self.dirs, self.fetcher, self.fonts)
            padded = self.methods(methods_html, len(section.pages))
            if len(padded.pages) == len(section.pages) and len(section.pages) > skipped + 1:
                pages = [section.pages[0], *padded.pages[1:1 + skipped],
                         *section.pages[1 + skipped:]]
                section.copy(pages).write_pdf(job.target, pdf_identifier=_identifier(job.html))
                return
        document = _layout(job.html, self.dirs, self.fetcher, self.fonts)
        document.write_pdf(job.target, pdf_identifier=_identifier(job.html))

    def run(self, task: _Task) -> list[str]:
        """Do one task; return the URLs refused while doing it."""
        start = len(self.fetcher.refused)
        with source_date_epoch(task.epoch):
            if task.dossier is not None:
                html, target = task.dossier
                target.parent.mkdir(parents=True, exist_ok=True)
                _layout(html, self.dirs, self.fetcher, self.fonts).write_pdf(
                    target, pdf_identifier=_identifier(html))
            for job in task.cohorts:
                self.cohort(job, task.methods_html)
        return self.fetcher.refused[start:]


_WORKERS: dict[tuple[Path, ...], _Worker] = {}


def _run_task(task: _Task) -> list[str]:
    """Entry point of a worker process (one _Worker per template folder, kept between tasks)."""
    worker = _WORKERS.get(task.dirs)
    if worker is None:
        worker = _WORKERS[task.dirs] = _Worker(task.dirs)
    return worker.run(task)


def default_workers(n_cohorts: int) -> int:
    """Processes for :func:`write_pdfs`: one for a handful of cohorts, else up to the cores."""
    if n_cohorts < 2 * COHORTS_PER_TASK:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def write_pdfs(context: Mapping[str, object], out_dir: Path, *,
               templates_dir: Path | None = None, cohort_file_names: Mapping[str, str],
               fetcher: LocalOnlyFetcher | None = None,
               workers: int | None = None) -> dict[str, Path]:
    """Write ``out_dir/dossier.pdf`` and one ``out_dir/cohorts/<name>.pdf`` per cohort.

    Parameters
    ----------
    cohort_file_names : file stem per cohort id (e.g. from ``bundle.safe_file_name``).
    fetcher : collects the URLs that were refused (a fresh one is used when None).
    workers : processes laying out PDFs in parallel (default :func:`default_workers`);
        1 lays everything out in this process. The PDFs are the same either way.

    Returns
    -------
    dict : the written paths, under "dossier" and each cohort id.
    """
    out_dir = Path(out_dir)
    dirs = tuple(template_dirs(templates_dir))
    cohorts = list(context["cohorts"])  # type: ignore[call-overload]
    missing = [c["id"] for c in cohorts if c["id"] not in cohort_file_names]
    if missing:
        raise ValueError(f"no file name given for cohort(s) {', '.join(map(repr, missing))}")
    # the methods are shared only when the cohort document is ours (a user's cohort.html.j2
    # may lay its parts out in any order, so it is rendered whole)
    own_layout = not any((d / TEMPLATES["cohort"]).is_file() for d in dirs[:-1])
    methods_html = None
    if own_layout and cohorts:
        methods_html = _render(context, templates_dir, "cohort", cohorts[0]["id"], "methods")
    jobs = []
    for cohort in cohorts:
        cid = cohort["id"]
        html = _render(context, templates_dir, "cohort", cid, "full")
        section = _render(context, templates_dir, "cohort", cid, "section") if own_layout \
            else None
        jobs.append(_CohortJob(out_dir / COHORT_FOLDER / f"{cohort_file_names[cid]}.pdf",
                               html, section))
    dossier_pdf = out_dir / DOSSIER_PDF
    epoch = _epoch(context)
    tasks = [_Task(dirs, epoch, dossier=(_render(context, templates_dir, "dossier", None, "full"),
                                  dossier_pdf))]
    tasks += [_Task(dirs, epoch, methods_html=methods_html,
                    cohorts=tuple(jobs[k:k + COHORTS_PER_TASK]))
              for k in range(0, len(jobs), COHORTS_PER_TASK)]
    workers = default_workers(len(jobs)) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, not {workers}")
    if workers == 1:
        worker = _Worker(dirs)
        refused = [url for task in tasks for url in worker.run(task)]
    else:
        # spawn, not fork: WeasyPrint's libraries (pango, fontconfig) are not fork-safe
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            refused = [url for found in pool.map(_run_task, tasks) for url in found]
    if fetcher is not None:
        fetcher.refused.extend(refused)
    written = {"dossier": dossier_pdf}
    written.update({cohort["id"]: job.target for cohort, job in zip(cohorts, jobs, strict=True)})
    return written
