"""WeasyPrint's side of the PDF build: lay out one HTML document, write it, say where things are.

A :class:`LaidOut` is a written PDF plus what joining it to others needs and the PDF no longer
says plainly: its bookmarks, its anchors and its internal links, in PDF points. Internal links
are left out of the written file (their target may lie in another part) and drawn again by
:mod:`dossier.render.pdf_join` once every page has its place.

The stylesheet is parsed once per process and handed to every layout: parsed again from an
inline ``<style>`` for every part, it would cost about as much as laying a short part out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from dossier.render.fetch import LocalOnlyFetcher

# CSS px -> PDF points (WeasyPrint draws 96 px to the inch, PDF counts 72 points)
PT_PER_PX = 0.75

# The page numbers ("Page x of y") and the running footer (software version, data file hash)
# are drawn after the parts are joined: a part does not know where it will start nor how many
# pages the whole will have, and leaving out what changes with the data file keeps a part the
# same when only other cohorts' rows changed (a rebuild then reuses it). The parts leave the
# footer's boxes empty; a stamp document of blank pages draws only the page numbers, and a
# one-page footer document only the footer, with the same stylesheet, so both land where a
# whole-document layout would put them.
PART_RULES = ("@page { @bottom-right { content: none !important; } "
              "@bottom-left { content: none !important; } }")
_ONLY = """
@page {
  @top-left { content: none !important; } @top-center { content: none !important; }
  @top-right { content: none !important; } @bottom-center { content: none !important; }
  @%s { content: none !important; }
}
html, body { margin: 0; padding: 0; }
"""
STAMP_RULES = _ONLY % "bottom-left" + """
.stamp-page { height: 0; margin: 0; }
.stamp-page + .stamp-page { break-before: page; }
"""
FOOTER_RULES = _ONLY % "bottom-right" + """
body > * { display: none !important; }
"""
# The data file's hash is drawn the same way over the placeholders the cover and the methods
# leave for it (see templates/_data_sha256.html.j2): a one-page overlay with nothing else on it
MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner",
                "right-top", "right-middle", "right-bottom", "bottom-right-corner",
                "bottom-right", "bottom-center", "bottom-left", "bottom-left-corner",
                "left-bottom", "left-middle", "left-top")
OVERLAY_RULES = ("@page { " + " ".join(f"@{box} {{ content: none !important; }}"
                                        for box in MARGIN_BOXES) + " }")


@dataclass(frozen=True)
class Bookmark:
    """An outline entry: its level (1 = top), label and place (page index, x, y in points)."""

    level: int
    label: str
    page: int
    x: float
    y: float


@dataclass(frozen=True)
class Link:
    """An internal link: the anchor it points to and its clickable rectangle in points."""

    page: int
    target: str
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class Anchor:
    """Where an element with an id starts (page index, x, y in points)."""

    name: str
    page: int
    x: float
    y: float


@dataclass(frozen=True)
class LaidOut:
    """A part written as a PDF, with its bookmarks, anchors and internal links."""

    path: Path
    pages: int
    bookmarks: tuple[Bookmark, ...] = ()
    links: tuple[Link, ...] = ()
    anchors: tuple[Anchor, ...] = ()
    refused: tuple[str, ...] = ()


def identifier(*texts: str) -> bytes:
    """A PDF file identifier derived from its sources (HTML, or the parts' identifiers), so
    that it is the same on every build."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32].encode("ascii")


def stamp_html(pages: int) -> str:
    """An HTML document of ``pages`` empty pages (their margin boxes carry the numbers)."""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
            + '<div class="stamp-page"></div>' * pages + "</body></html>")


class Layouter:
    """Lays out HTML in this process, keeping fonts and parsed stylesheets between documents."""

    def __init__(self, dirs: Sequence[Path], fetcher: LocalOnlyFetcher | None = None,
                 pdf_variant: str | None = None) -> None:
        self.dirs = tuple(dirs)
        # WeasyPrint's options of every written PDF: the variant (e.g. "pdf/a-2b"), if any
        self.options = {} if pdf_variant is None else {"pdf_variant": pdf_variant}
        self.base_url = Path(self.dirs[0]).as_uri() + "/"
        self.fonts = FontConfiguration()
        self.fetcher = fetcher if fetcher is not None else LocalOnlyFetcher(self.dirs)
        self._css: dict[str, weasyprint.CSS] = {}

    def css(self, text: str) -> weasyprint.CSS:
        """``text`` parsed once (keyed by its hash) with this process's fonts and fetcher."""
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key not in self._css:
            self._css[key] = weasyprint.CSS(string=text, base_url=self.base_url,
                                            url_fetcher=self.fetcher, font_config=self.fonts)
        return self._css[key]

    def render(self, html: str, stylesheets: Sequence[str] = ()) -> weasyprint.Document:
        """Lay ``html`` out, with ``stylesheets`` (CSS text) after its own styles."""
        return weasyprint.HTML(string=html, base_url=self.base_url,
                               url_fetcher=self.fetcher).render(
            font_config=self.fonts, stylesheets=[self.css(text) for text in stylesheets])

    def whole(self, html: str, target: Path) -> LaidOut:
        """Lay out a complete document (its stylesheet inline) and write it as is."""
        start = len(self.fetcher.refused)
        document = self.render(html)
        target.parent.mkdir(parents=True, exist_ok=True)
        document.write_pdf(target, pdf_identifier=identifier(html), **self.options)
        return LaidOut(target, len(document.pages), refused=tuple(self.fetcher.refused[start:]))

    def part(self, html: str, stylesheet: str, target: Path, rules: str = PART_RULES
             ) -> LaidOut:
        """Lay out one part of a document without its page numbers; write it; say where
        its bookmarks, anchors and internal links are."""
        start = len(self.fetcher.refused)
        document = self.render(html, (stylesheet, rules))
        bookmarks, links, anchors = [], [], []
        for index, page in enumerate(document.pages):
            height = page.height
            for level, label, (x, y), _state in page.bookmarks:
                bookmarks.append(Bookmark(level, label, index, x * PT_PER_PX,
                                          (height - y) * PT_PER_PX))
            for name, (x1, y1, _x2, _y2) in page.anchors.items():
                anchors.append(Anchor(name, index, x1 * PT_PER_PX, (height - y1) * PT_PER_PX))
            kept = []
            for link in page.links:
                kind, target_name, (x1, y1, x2, y2), _box = link
                if kind != "internal":
                    kept.append(link)
                    continue
                links.append(Link(index, target_name,
                                  (x1 * PT_PER_PX, (height - y2) * PT_PER_PX,
                                   x2 * PT_PER_PX, (height - y1) * PT_PER_PX)))
            page.links[:] = kept
        target.parent.mkdir(parents=True, exist_ok=True)
        document.write_pdf(target, pdf_identifier=identifier(html), **self.options)
        return LaidOut(target, len(document.pages), tuple(bookmarks), tuple(links),
                       tuple(anchors), tuple(self.fetcher.refused[start:]))

    def overlay(self, html: str, stylesheet: str, target: Path) -> LaidOut:
        """One page with ``html``'s content and no margin boxes, its anchors said (they place
        it over the placeholders of the parts it is drawn on)."""
        laid_out = self.part(html, stylesheet, target, OVERLAY_RULES)
        if laid_out.pages != 1:
            raise RuntimeError(f"overlay: {laid_out.pages} pages, not 1")
        return laid_out

    def stamp(self, pages: int, stylesheet: str, target: Path) -> LaidOut:
        """``pages`` pages that carry nothing but "Page x of <pages>" where the footer has it."""
        html = stamp_html(pages)
        document = self.render(html, (stylesheet, STAMP_RULES))
        if len(document.pages) != pages:
            raise RuntimeError(f"page-number stamp: {len(document.pages)} pages, not {pages}")
        target.parent.mkdir(parents=True, exist_ok=True)
        document.write_pdf(target, pdf_identifier=identifier(html), **self.options)
        return LaidOut(target, pages)

    def footer(self, html: str, stylesheet: str, target: Path) -> LaidOut:
        """One page that carries nothing but the running footer of ``html``'s body."""
        document = self.render(html, (stylesheet, FOOTER_RULES))
        if len(document.pages) != 1:
            raise RuntimeError(f"running footer: {len(document.pages)} pages, not 1")
        target.parent.mkdir(parents=True, exist_ok=True)
        document.write_pdf(target, pdf_identifier=identifier(html), **self.options)
        return LaidOut(target, 1)
