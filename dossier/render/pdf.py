"""The PDF dossier and the cohort PDFs: HTML -> WeasyPrint (CSS paged media) -> PDF.

Nothing is fetched from the network: the URL fetcher serves ``data:`` URLs and files inside
the template folders only and records every other URL it refused. Output is deterministic:
the document dates come from the build time in the context, and the PDF identifiers are hashes
of the HTML.

Speed: WeasyPrint's layout is nearly the whole cost, so every page is laid out once, in
parallel worker processes. The dossier is laid out in parts (cover and contents, summary,
methods, the index of cohorts, each cohort's section, the comparison, the appendix, each
cohort's patient listing, the validation warnings); each part starts a page anyway, so the
pages are those of a single layout. pikepdf then joins the parts
(:mod:`dossier.render.pdf_join`): it stamps "Page x of y" and the running footer (laid out
once) over every page, rebuilds the bookmarks and links, and the contents get their page
numbers from a last layout of the front pages. A cohort's PDF is its cover and one-page
methods, its section's and its listing's pages, and its references, each a part of its own:
complete on its own, with its own page numbers, and its section and listing laid out by nobody
a second time. No part holds what changes with the data file alone: its hash is in the
running footer and in an overlay of its own, drawn over the placeholders the covers and the
methods leave for it. So a part whose content did not change is the same part on a rebuild,
taken from the cache of the last build (:mod:`dossier.render.pdf_cache`). A folder of the user's
templates that replaces the document templates or the stylesheet is laid out whole instead,
one document at a time (still in parallel), since only the bundled ones are known to keep
every part on its own pages.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import itertools
import multiprocessing
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dossier.render.fetch import LocalOnlyFetcher
from dossier.render.html import (
    STYLESHEET,
    TEMPLATES,
    overridden,
    render_html,
    render_part,
    stylesheet,
    template_dirs,
)
from dossier.render.pdf_cache import PartCache, copy_entry, environment_key
from dossier.render.pdf_join import Piece, anchor_pages, join
from dossier.render.pdf_layout import LaidOut, Layouter, identifier
from dossier.render.pdf_variant import PDF_VARIANTS, check_variant

__all__ = ["COHORT_FOLDER", "DOSSIER_PDF", "PDF_VARIANTS", "LocalOnlyFetcher", "PdfWorkers",
           "default_workers", "html_to_pdf", "pdf_workers", "render_html", "source_date_epoch",
           "write_pdfs"]

DOSSIER_PDF = "dossier.pdf"
COHORT_FOLDER = "cohorts"
# the dossier's parts in page order; "cohort" and "listing" stand for every cohort's section
# and patient listing
DOSSIER_PARTS = ("front", "summary", "methods", "index", "cohort", "comparison", "appendix",
                 "listing", "warnings")
PER_COHORT = ("cohort", "listing")
# replacing any of these makes the documents' parts unknown: they are then laid out whole
WHOLE_IF_REPLACED = (TEMPLATES["dossier"], TEMPLATES["cohort"], "_base.html.j2",
                     "_toc.html.j2", STYLESHEET)
FRONT_ATTEMPTS = 3
SHA256_ANCHOR = "stamp-sha256"
"""The anchor of the data file's hash in its overlay (templates/dossier.html.j2, "sha256")."""
Progress = Callable[[str], None]


@contextlib.contextmanager
def source_date_epoch(epoch: str | None) -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` while PDFs are written, then restore it.

    fontTools (when WeasyPrint subsets fonts with it) stamps every embedded font subset with
    the current time unless this variable (the reproducible-builds convention) gives one.
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


def html_to_pdf(html: str, target: Path, *, templates_dir: Path | None = None,
                fetcher: LocalOnlyFetcher | None = None, epoch: str | None = None) -> Path:
    """Lay out a complete HTML document with WeasyPrint and write the PDF to ``target``.

    ``epoch`` (seconds since 1970, the build time) makes the embedded fonts reproducible.
    """
    layouter = Layouter(template_dirs(templates_dir), fetcher)
    with source_date_epoch(epoch):
        layouter.whole(html, Path(target))
    return Path(target)


# --------------------------------------------------------------------------- worker jobs


@dataclass(frozen=True)
class _Whole:
    """Lay out a complete document and write it."""

    html: str
    target: Path


@dataclass(frozen=True)
class _Part:
    """Lay out one part (the stylesheet given apart) and write it without page numbers."""

    html: str
    css: str
    target: Path


@dataclass(frozen=True)
class _Stamp:
    """Lay out a page-number stamp of ``pages`` pages."""

    pages: int
    css: str
    target: Path


@dataclass(frozen=True)
class _Footer:
    """Lay out the one page of the running footer (drawn over every joined page)."""

    html: str
    css: str
    target: Path


@dataclass(frozen=True)
class _Overlay:
    """Lay out the one page of the data file's hash (drawn over the parts' placeholders)."""

    html: str
    css: str
    target: Path


@dataclass(frozen=True)
class _Join:
    """Join pieces of laid-out parts into one PDF, page-numbered by ``stamp``, the running
    footer drawn over every page."""

    pieces: tuple[Piece, ...]
    target: Path
    identifier: bytes
    stamp: LaidOut
    footer: LaidOut
    overlay: LaidOut
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Job:
    dirs: tuple[Path, ...]
    epoch: str | None
    work: _Whole | _Part | _Join | _Stamp | _Footer | _Overlay
    pdf_variant: str | None = None  # e.g. "pdf/a-2b": every PDF the worker writes


class _Worker:
    """One process's layouter (fonts and parsed stylesheets kept between jobs)."""

    def __init__(self, dirs: Sequence[Path], pdf_variant: str | None = None) -> None:
        self.layouter = Layouter(dirs, pdf_variant=pdf_variant)

    def run(self, job: _Job) -> LaidOut:
        work = job.work
        with source_date_epoch(job.epoch):
            if isinstance(work, _Whole):
                return self.layouter.whole(work.html, work.target)
            if isinstance(work, _Part):
                return self.layouter.part(work.html, work.css, work.target)
            if isinstance(work, _Stamp):
                return self.layouter.stamp(work.pages, work.css, work.target)
            if isinstance(work, _Footer):
                return self.layouter.footer(work.html, work.css, work.target)
            if isinstance(work, _Overlay):
                return self.layouter.overlay(work.html, work.css, work.target)
            total = sum(len(piece.indices) for piece in work.pieces)
            join(work.pieces, work.stamp, work.target, identifier=work.identifier,
                 metadata=dict(work.metadata), footer=work.footer,
                 overlays={SHA256_ANCHOR: work.overlay})
            return LaidOut(work.target, total)


_WORKERS: dict[tuple[tuple[Path, ...], str | None], _Worker] = {}


def _run_job(job: _Job) -> LaidOut:
    """Entry point of a worker process (one _Worker per template folder, kept between jobs)."""
    worker = _WORKERS.get((job.dirs, job.pdf_variant))
    if worker is None:
        worker = _WORKERS[(job.dirs, job.pdf_variant)] = _Worker(job.dirs, job.pdf_variant)
    return worker.run(job)


class _InProcess:
    """The executor of ``workers=1``: runs each job as it is submitted."""

    def __init__(self) -> None:
        self.worker: _Worker | None = None

    def submit(self, fn: Callable[[Any], Any], job: Any) -> Future:
        """Run ``fn(job)`` now; a layout job with this executor's own worker (kept)."""
        future: Future = Future()
        try:
            if fn is _run_job:
                if self.worker is None:
                    self.worker = _Worker(job.dirs, job.pdf_variant)
                future.set_result(self.worker.run(job))
            else:
                future.set_result(fn(job))
        except BaseException as error:  # handed to the caller, as a process pool would
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        del wait, cancel_futures


PRELOAD = ("dossier.render.pdf", "dossier.render.data_files", "dossier.build",
           "dossier.render.workbook")
"""What the worker processes' parent imports once (WeasyPrint, pandas, openpyxl): a worker
forked from it starts at once, where a spawned one spent a second of a core importing."""


def _worker_context() -> multiprocessing.context.BaseContext:
    """Processes forked from a server that imported :data:`PRELOAD` and nothing else (no
    thread, no font or layout state: what WeasyPrint's libraries could not survive a fork
    of), on Linux; elsewhere spawned, each importing for itself (macOS's system libraries are
    not safe to fork even so, Windows cannot fork)."""
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


@contextlib.contextmanager
def _executor(workers: int) -> Iterator[ProcessPoolExecutor | _InProcess]:
    if workers == 1:
        yield _InProcess()
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context())
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _started() -> None:
    """A worker's first job: nothing (starting the process imports WeasyPrint)."""


@dataclass(frozen=True)
class PdfWorkers:
    """Processes that lay out PDFs (see :func:`pdf_workers`), handed to :func:`write_pdfs`."""

    executor: ProcessPoolExecutor | _InProcess
    count: int


@contextlib.contextmanager
def pdf_workers(count: int) -> Iterator[PdfWorkers]:
    """``count`` worker processes, starting now (1: this process lays out, none started).

    They are forked from a server that imports WeasyPrint, pandas and openpyxl once (see
    :data:`PRELOAD`), seconds of a core: a build starts them before it prepares what
    they will lay out, so that the imports run on the cores it leaves idle, and a thread (not
    the build) waits for them.
    """
    if count < 1:
        raise ValueError(f"workers must be >= 1, not {count}")
    with _executor(count) as executor:
        starting = None
        if isinstance(executor, ProcessPoolExecutor):
            # a forked process waits for its server to have imported everything: a thread
            # waits for it, not the build
            starting = threading.Thread(target=_start, args=(executor, count), daemon=True,
                                        name="dossier-pdf-workers")
            starting.start()
        try:
            yield PdfWorkers(executor, count)
        finally:
            if starting is not None:
                starting.join()


def _start(executor: ProcessPoolExecutor, count: int) -> None:
    """Start ``count`` processes: each submission to an all-busy pool starts one."""
    for _ in range(count):
        executor.submit(_started)


# job priorities: what the last steps of dossier.pdf wait for, then the parts, then the
# cohort PDFs' joins (small, they fill the other workers while dossier.pdf is joined)
CRITICAL, PART, COHORT_JOIN = 0, 1, 2


@dataclass
class _Schedule:
    """Jobs waiting (by priority, then in order of submission) and in flight.

    Only ``slots`` jobs are handed to the pool at once, so that a job submitted later with a
    higher priority (the contents, the dossier's join) overtakes the ones still waiting. A job
    that has finished frees its slot at the next submission, not only once ``finished`` is
    read: a rebuild submits every part before it reads any result.
    """

    pool: ProcessPoolExecutor | _InProcess
    dirs: tuple[Path, ...]
    epoch: str | None
    slots: int
    cache: PartCache | None = None
    pending: dict[Future, tuple[object, str | None]] = field(default_factory=dict)
    done: list[tuple[Future, tuple[object, str | None]]] = field(default_factory=list)
    waiting: list[tuple[int, int, object, object, str | None]] = field(default_factory=list)
    ready: list[tuple[object, LaidOut]] = field(default_factory=list)
    order: Iterator[int] = field(default_factory=itertools.count)
    pdf_variant: str | None = None

    def submit(self, key: object, work: _Whole | _Part | _Join | _Stamp | _Footer | _Overlay,
               priority: int = PART, cache_key: str | None = None) -> None:
        """Queue ``work``; with a ``cache_key`` the cache's entry is taken instead, if any."""
        if cache_key is not None and self.cache is not None:
            cached = self.cache.get(cache_key, str(key))
            if cached is not None:
                if isinstance(work, _Join | _Whole):  # an output: put where it belongs
                    cached = copy_entry(cached, work.target)
                self.ready.append((key, cached))
                return
        heapq.heappush(self.waiting, (priority, next(self.order), key, work, cache_key))
        self._feed()  # at once: the workers lay out while the other parts' HTML is rendered

    def _feed(self) -> None:
        for future in [f for f in self.pending if f.done()]:  # a finished job frees its slot
            self.done.append((future, self.pending.pop(future)))
        while self.waiting and len(self.pending) < self.slots:
            _, _, key, work, cache_key = heapq.heappop(self.waiting)
            job = _Job(self.dirs, self.epoch, work, self.pdf_variant)  # type: ignore[arg-type]
            self.pending[self.pool.submit(_run_job, job)] = (key, cache_key)

    def finished(self) -> Iterator[tuple[object, LaidOut]]:
        """Each job's key and result as jobs finish (a failed job raises here); entries taken
        from the cache come first."""
        self._feed()
        while self.ready or self.pending or self.done:
            while self.ready:
                yield self.ready.pop(0)
                self._feed()
            if not self.done:
                if not self.pending:
                    continue
                wait(list(self.pending), return_when=FIRST_COMPLETED)
                self._feed()
            while self.done:
                future, (key, cache_key) = self.done.pop(0)
                result = future.result()
                if cache_key is not None and self.cache is not None:
                    self.cache.put(cache_key, result)
                yield key, result
                self._feed()


# --------------------------------------------------------------------------- the plans


class _Placeholder(dict):
    """Contents page numbers before the parts are laid out: the same width for every entry."""

    def __missing__(self, key: str) -> str:
        return "999"


@dataclass
class _Plan:
    """What one ``write_pdfs`` call lays out and joins, and what it has got so far."""

    context: Mapping[str, object]
    templates_dir: Path | None
    out_dir: Path
    scratch: Path
    targets: dict[str, Path]  # cohort id -> its PDF
    progress: Progress | None
    cache: PartCache | None = None
    css: str = ""
    parts: dict[object, LaidOut] = field(default_factory=dict)
    sources: dict[object, str] = field(default_factory=dict)  # part -> identifier of its HTML
    keys: dict[object, str] = field(default_factory=dict)  # part -> its cache key
    refused: dict[object, tuple[str, ...]] = field(default_factory=dict)
    joined: set[object] = field(default_factory=set)
    front_assumed: dict[int, int] = field(default_factory=dict)
    front: LaidOut | None = None
    front_attempt: int = 0
    footer: LaidOut | None = None
    overlay: LaidOut | None = None
    stamps: dict[int, LaidOut] = field(default_factory=dict)
    stamps_asked: set[int] = field(default_factory=set)
    submitted: threading.Event = field(default_factory=threading.Event)
    """Set once every part (or whole document) is handed to the workers."""

    @property
    def cohort_ids(self) -> list[str]:
        return [c["id"] for c in self.context["cohorts"]]  # type: ignore[attr-defined]

    @functools.cached_property
    def _citing(self) -> frozenset[str]:
        """The cohorts whose pages cite references (their PDFs end with them)."""
        return frozenset(c["id"] for c in self.context["cohorts"]  # type: ignore[attr-defined]
                         if c["submission"]["references"])

    def _cited(self, cohort_id: str) -> bool:
        return cohort_id in self._citing

    def report(self, target: Path) -> None:
        if self.progress is not None:
            self.progress(target.relative_to(self.out_dir).as_posix())

    def _key(self, plan_key: object, kind: str, *texts: object) -> str | None:
        """The cache key of a job (None without a cache), remembered under ``plan_key``."""
        if self.cache is None:
            return None
        self.keys[plan_key] = key = self.cache.key(kind, *texts)
        return key

    # ---- whole documents (user templates)

    def run_whole(self, schedule: _Schedule) -> None:
        dossier_html = render_html(self.context, templates_dir=self.templates_dir)
        schedule.submit("dossier", _Whole(dossier_html, self.out_dir / DOSSIER_PDF),
                        cache_key=self._key("dossier", "whole", dossier_html))
        for cid in self.cohort_ids:
            html = render_html(self.context, templates_dir=self.templates_dir, part="cohort",
                               cohort_id=cid)
            schedule.submit(("cohort-pdf", cid), _Whole(html, self.targets[cid]),
                            cache_key=self._key(("cohort-pdf", cid), "whole", html))
        self.submitted.set()
        for key, laid_out in schedule.finished():
            self.refused[key] = laid_out.refused
            self.report(laid_out.path)

    # ---- parts (the bundled templates)

    def _part(self, schedule: _Schedule, key: object, document: str, pdf_part: str,
              cohort_id: str | None = None, toc_pages: Mapping[str, object] | None = None,
              priority: int = PART) -> None:
        html = render_part(self.context, templates_dir=self.templates_dir, document=document,
                           pdf_part=pdf_part, cohort_id=cohort_id, inline_css=False,
                           toc_pages=toc_pages)
        self.sources[key] = identifier(html).decode("ascii")
        name = key if isinstance(key, str) else "-".join(map(str, key))
        target = self.scratch / f"part-{hashlib.sha256(name.encode()).hexdigest()[:16]}.pdf"
        schedule.submit(key, _Part(html, self.css, target), priority,
                        self._key(key, "part", html, self.css))

    def _stamp(self, schedule: _Schedule, pages: int, priority: int) -> None:
        """Have a page-number stamp of ``pages`` pages laid out (once per size)."""
        if pages in self.stamps_asked:
            return
        self.stamps_asked.add(pages)
        schedule.submit(("stamp", pages), _Stamp(
            pages, self.css, self.scratch / f"stamp-{pages}.pdf"), priority,
            self._key(("stamp", pages), "stamp", pages, self.css))

    def _dossier_pieces(self, front: LaidOut | None) -> list[Piece]:
        pieces = [] if front is None else [Piece(front)]
        for name in DOSSIER_PARTS[1:]:
            if name in PER_COHORT:
                pieces += [Piece(self.parts[(name, cid)]) for cid in self.cohort_ids]
            else:
                pieces.append(Piece(self.parts[name]))
        return pieces

    def _body_ready(self) -> bool:
        needed: list[object] = [n for n in DOSSIER_PARTS if n != "front" and n not in PER_COHORT]
        needed += [(n, cid) for n in PER_COHORT for cid in self.cohort_ids] + [("front", 0)]
        return all(key in self.parts for key in needed)

    def _front(self, schedule: _Schedule, attempt: int, front_pages: int) -> None:
        """Lay out the cover and contents with page numbers for ``front_pages`` front pages."""
        self.front_assumed[attempt] = front_pages
        self._stamp(schedule, self._total(front_pages), CRITICAL)
        toc_pages = anchor_pages(self._dossier_pieces(None), first_page=front_pages + 1)
        self._part(schedule, ("front", attempt), "dossier", "front", toc_pages=toc_pages,
                   priority=CRITICAL)

    def _join(self, schedule: _Schedule, key: object, plan_keys: Sequence[object],
              pieces: Sequence[Piece], target: Path, source: bytes, stamp: int,
              metadata: tuple[tuple[str, str], ...], priority: int) -> None:
        """Join ``pieces`` (of the parts ``plan_keys``) into ``target``."""
        assert self.footer is not None and self.overlay is not None
        metadata = (*metadata, ("/Subject", str(self.context["meta"]["description"])))  # type: ignore[index]
        cache_key = None
        if self.cache is not None:
            cache_key = self._key(
                key, "join", source, metadata, self.keys[("stamp", stamp)], self.keys["footer"],
                self.keys["sha256"], *(f"{self.keys[k]}:{p.start}:{p.stop}:{p.top_level}"
                                       for k, p in zip(plan_keys, pieces, strict=True)))
        schedule.submit(key, _Join(tuple(pieces), target, source, self.stamps[stamp],
                                   self.footer, self.overlay, metadata), priority, cache_key)
        self.joined.add(key)

    def _join_cohort(self, schedule: _Schedule, cid: str) -> None:
        """Join cohort ``cid``'s PDF once its parts, the footer and its stamp are there."""
        plan_keys = [("cover", cid), ("methods", cid), ("cohort", cid), ("listing", cid)]
        if self._cited(cid):
            plan_keys.append(("tail", cid))
        if (self.footer is None or self.overlay is None or ("cohort-pdf", cid) in self.joined
                or not all(k in self.parts for k in plan_keys)):
            return
        pieces = tuple(Piece(self.parts[k], top_level=1 if k[0] in PER_COHORT else None)
                       for k in plan_keys)
        total = sum(len(piece.indices) for piece in pieces)
        if total not in self.stamps:
            self._stamp(schedule, total, COHORT_JOIN)
            return
        meta = self.context["meta"]
        title = f"{meta['title']}: {cid}"  # type: ignore[index]
        source = identifier(*(self.sources[k] for k in plan_keys), self.sources["footer"],
                            self.sources["sha256"], cid)
        self._join(schedule, ("cohort-pdf", cid), plan_keys, pieces, self.targets[cid], source,
                   total, (("/Title", title),), COHORT_JOIN)

    def run_parts(self, schedule: _Schedule) -> None:
        self.css = stylesheet(self.templates_dir)
        footer = render_part(self.context, templates_dir=self.templates_dir,
                             document="dossier", pdf_part="footer", inline_css=False)
        self.sources["footer"] = identifier(footer).decode("ascii")
        schedule.submit("footer", _Footer(footer, self.css, self.scratch / "footer.pdf"),
                        CRITICAL, self._key("footer", "footer", footer, self.css))
        sha256 = render_part(self.context, templates_dir=self.templates_dir,
                             document="dossier", pdf_part="sha256", inline_css=False)
        self.sources["sha256"] = identifier(sha256).decode("ascii")
        schedule.submit("sha256", _Overlay(sha256, self.css, self.scratch / "sha256.pdf"),
                        CRITICAL, self._key("sha256", "overlay", sha256, self.css))
        # the longest parts first, so that no worker is left with a long one at the end
        for name in ("summary", "comparison", "methods", "appendix"):
            self._part(schedule, name, "dossier", name)
        self._part(schedule, "index", "dossier", "index")
        self._part(schedule, "warnings", "dossier", "warnings")
        self._part(schedule, ("front", 0), "dossier", "front", toc_pages=_Placeholder())
        for cid in self.cohort_ids:
            self._part(schedule, ("cohort", cid), "dossier", "cohort", cohort_id=cid)
        for cid in self.cohort_ids:  # a listing is laid out once for both PDFs
            self._part(schedule, ("listing", cid), "dossier", "listing", cohort_id=cid)
        for cid in self.cohort_ids:
            kinds = ("cover", "methods", "tail") if self._cited(cid) else ("cover", "methods")
            for kind in kinds:
                self._part(schedule, (kind, cid), "cohort", kind, cohort_id=cid)
        self.submitted.set()
        for key, laid_out in schedule.finished():
            kind = key[0] if isinstance(key, tuple) else key
            if kind in ("dossier", "cohort-pdf"):
                self.report(laid_out.path)
                continue
            if kind in ("stamp", "footer", "sha256"):
                if kind == "stamp":
                    self.stamps[key[1]] = laid_out  # type: ignore[index]
                elif kind == "footer":
                    self.footer = laid_out
                else:
                    self.overlay = laid_out
                for cid in self.cohort_ids:
                    self._join_cohort(schedule, cid)
                self._join_dossier(schedule)
                continue
            self.parts[key] = laid_out
            if kind != "front":
                self.refused[key] = laid_out.refused
            if isinstance(key, tuple) and kind in ("cover", "methods", "tail", *PER_COHORT):
                self._join_cohort(schedule, key[1])
            if kind == "front" and key[1] > 0:  # type: ignore[index]
                attempt = key[1]  # type: ignore[index]
                if laid_out.pages == self.front_assumed[attempt]:
                    self.refused[key] = laid_out.refused
                    self.front, self.front_attempt = laid_out, attempt
                    self._join_dossier(schedule)
                elif attempt < FRONT_ATTEMPTS:
                    self._front(schedule, attempt + 1, laid_out.pages)
                else:
                    raise RuntimeError("the contents' page numbers did not settle after "
                                       f"{FRONT_ATTEMPTS} layouts of the front pages")
            elif not self.front_assumed and self._body_ready():
                self._front(schedule, 1, self.parts[("front", 0)].pages)
        missing = [k for k in ["dossier", *(("cohort-pdf", c) for c in self.cohort_ids)]
                   if k not in self.joined]
        if missing:
            raise RuntimeError(f"not joined: {', '.join(map(str, missing))}")

    def _total(self, front_pages: int) -> int:
        return front_pages + sum(len(p.indices) for p in self._dossier_pieces(None))

    def _join_dossier(self, schedule: _Schedule) -> None:
        """Join dossier.pdf once its front pages have settled and its stamp is laid out."""
        if (self.front is None or self.footer is None or self.overlay is None
                or "dossier" in self.joined):
            return
        total = self._total(self.front.pages)
        if total not in self.stamps:
            return
        pieces = self._dossier_pieces(self.front)
        plan_keys: list[object] = [("front", self.front_attempt)]
        for name in DOSSIER_PARTS[1:]:
            plan_keys += ([(name, cid) for cid in self.cohort_ids] if name in PER_COHORT
                          else [name])
        keys = [k for k in self.sources  # the body's parts (the front follows from them)
                if not (isinstance(k, tuple) and k[0] in ("front", "cover", "methods", "tail"))]
        source = identifier(*[self.sources[k] for k in sorted(keys, key=str)])
        self._join(schedule, "dossier", plan_keys, pieces, self.out_dir / DOSSIER_PDF, source,
                   total, (), CRITICAL)


# --------------------------------------------------------------------------- the entry point


def default_workers(n_cohorts: int) -> int:
    """Processes for :func:`write_pdfs`: one for a handful of cohorts, else up to the cores.

    Starting a worker (a Python process importing WeasyPrint) costs about half a second,
    more than a small dossier's whole layout.
    """
    if n_cohorts < 6:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def write_pdfs(context: Mapping[str, object], out_dir: Path, *,
               templates_dir: Path | None = None, cohort_file_names: Mapping[str, str],
               fetcher: LocalOnlyFetcher | None = None, workers: int | None = None,
               progress: Progress | None = None, cache: PartCache | None = None,
               pdf_variant: str | None = None, pool: PdfWorkers | None = None,
               submitted: threading.Event | None = None) -> dict[str, Path]:
    """Write ``out_dir/dossier.pdf`` and one ``out_dir/cohorts/<name>.pdf`` per cohort.

    Parameters
    ----------
    cohort_file_names : file stem per cohort id (e.g. from ``bundle.safe_file_name``).
    fetcher : collects the URLs that were refused (a fresh one is used when None).
    workers : processes laying out PDFs in parallel (default :func:`default_workers`);
        1 lays everything out in this process. The PDFs are the same either way.
    pool : workers already started (:func:`pdf_workers`), used instead of ``workers``.
    progress : called with each written PDF's path under ``out_dir`` as it is written.
    cache : the parts of the last build to reuse, and where this build's go (written before
        returning); see :mod:`dossier.render.pdf_cache`. The PDFs are the same either way.
    pdf_variant : a PDF/A variant of :data:`PDF_VARIANTS` (None: a plain PDF).
    submitted : set once every part is handed to the workers: a caller with other work for
        this process waits for it (or for the call to end), so as not to slow the HTML.

    Returns
    -------
    dict : the written paths, under "dossier" and each cohort id.
    """
    out_dir = Path(out_dir)
    pdf_variant = check_variant(pdf_variant)
    dirs = tuple(template_dirs(templates_dir))
    cohorts = list(context["cohorts"])  # type: ignore[call-overload]
    missing = [c["id"] for c in cohorts if c["id"] not in cohort_file_names]
    if missing:
        raise ValueError(f"no file name given for cohort(s) {', '.join(map(repr, missing))}")
    if pool is not None:
        workers = pool.count
    workers = default_workers(len(cohorts)) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, not {workers}")
    targets = {c["id"]: out_dir / COHORT_FOLDER / f"{cohort_file_names[c['id']]}.pdf"
               for c in cohorts}
    out_dir.mkdir(parents=True, exist_ok=True)
    whole = bool(overridden(templates_dir, WHOLE_IF_REPLACED)) or not cohorts
    started = contextlib.nullcontext(pool) if pool is not None else pdf_workers(workers)
    with tempfile.TemporaryDirectory(prefix=".pdf-parts-", dir=out_dir) as scratch, \
            started as running:
        if cache is not None:  # every option that changes a laid-out part's bytes goes in
            cache.scratch = Path(scratch)
            cache.environment = environment_key(
                _epoch(context), {"templates": dirs, "pdf_variant": pdf_variant})
        plan = _Plan(context, templates_dir, out_dir, Path(scratch), targets, progress, cache,
                     submitted=submitted if submitted is not None else threading.Event())
        schedule = _Schedule(running.executor, dirs, _epoch(context),
                             1 if workers == 1 else workers + 1,
                             cache, pdf_variant=pdf_variant)
        try:
            if whole:
                plan.run_whole(schedule)
            else:
                plan.run_parts(schedule)
            if cache is not None:
                cache.write()
        finally:
            if cache is not None:
                cache.close()
    if fetcher is not None:
        fetcher.refused.extend(url for key in sorted(plan.refused, key=str)
                               for url in plan.refused[key])
    return {"dossier": out_dir / DOSSIER_PDF, **targets}
