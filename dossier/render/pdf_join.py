"""pypdf's side of the PDF build: join laid-out parts into one PDF and number its pages.

Each part was laid out on its own by WeasyPrint (:mod:`dossier.render.pdf_layout`), so the
joined file gets from here what a single layout would have given it: one page sequence, a page
number stamped in the footer of every page ("Page x of y"), the outline (bookmarks) rebuilt
from the parts' headings, every internal link pointing at its target's page, a named
destination per anchor, and the document information of the first part.

The page numbers are a stamp document's pages, each wrapped as a form XObject and drawn over
the page after its own content (inside ``q``/``Q``, so nothing of the page's graphics state
leaks into it). Nothing of the page's content stream is parsed or rewritten.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.annotations import Link as LinkAnnotation
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    Destination,
    DictionaryObject,
    Fit,
    IndirectObject,
    NameObject,
    TextStringObject,
)

from dossier.render.pdf_layout import LaidOut

LOGGER = logging.getLogger(__name__)
STAMP_NAME = "/DossierPageNumber"
FOOTER_NAME = "/DossierFooter"


@dataclass(frozen=True)
class Piece:
    """Pages ``start`` to ``stop`` (exclusive; None = to the end) of a laid-out part.

    ``top_level`` re-levels the piece's bookmarks so that its highest one sits at that level
    (a cohort's section heads the outline of its own PDF, but sits under "Cohorts" in the
    dossier's); None keeps the levels as laid out.
    """

    part: LaidOut
    start: int = 0
    stop: int | None = None
    top_level: int | None = None

    @property
    def indices(self) -> range:
        """The part's page indices this piece takes."""
        return range(self.start, self.part.pages if self.stop is None else self.stop)


def page_starts(pieces: Sequence[Piece]) -> list[int]:
    """The 0-based index in the joined PDF of each piece's first page."""
    starts, at = [], 0
    for piece in pieces:
        starts.append(at)
        at += len(piece.indices)
    return starts


def _places(pieces: Sequence[Piece]) -> dict[str, tuple[int, float, float]]:
    """Where each anchor of the joined pages is: (0-based page index, x, y in points).

    The first anchor of a name wins, as in a single layout.
    """
    found: dict[str, tuple[int, float, float]] = {}
    for piece, start in zip(pieces, page_starts(pieces), strict=True):
        for anchor in piece.part.anchors:
            if anchor.page in piece.indices and anchor.name not in found:
                found[anchor.name] = (start + anchor.page - piece.start, anchor.x, anchor.y)
    return found


def anchor_pages(pieces: Sequence[Piece], first_page: int = 1) -> dict[str, int]:
    """Page number (counting from ``first_page``) of every anchor in the joined pages."""
    return {name: page + first_page for name, (page, _, _) in _places(pieces).items()}


class _Readers:
    """One PdfReader per part file, opened once per joined PDF."""

    def __init__(self) -> None:
        self._open: dict[Path, PdfReader] = {}

    def __call__(self, path: Path) -> PdfReader:
        if path not in self._open:
            self._open[path] = PdfReader(path)
        return self._open[path]


def _stamp_form(writer: PdfWriter, stamp: PageObject) -> DecodedStreamObject:
    """A stamp page as a form XObject owned by ``writer``."""
    form = DecodedStreamObject()
    contents = stamp.get_contents()
    form.set_data(contents.get_data() if contents is not None else b"")
    resources = stamp.get("/Resources")
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject(stamp.mediabox),
        NameObject("/Resources"): (resources.get_object().clone(writer)
                                   if resources is not None else DictionaryObject()),
    })
    return form


def _draw_over(writer: PdfWriter, page: PageObject,
               forms: Sequence[tuple[str, IndirectObject]]) -> None:
    """Draw each form (name, indirect reference) over ``page`` after its content, each in
    its own graphics state."""
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    # a page's resources may be shared with other pages: give this page its own copy
    resources = DictionaryObject(resources)
    xobjects = resources.get("/XObject")
    xobjects = DictionaryObject(xobjects.get_object()) if xobjects is not None \
        else DictionaryObject()
    drawn = b""
    for name, form in forms:
        xobjects[NameObject(name)] = form
        drawn += b"q " + name.encode("ascii") + b" Do Q\n"
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(b"\nQ\n" + drawn)
    contents = page.get("/Contents")
    # private API: a stream must be an indirect object, and pypdf has no public call for one
    streams = ArrayObject([writer._add_object(before)])
    if contents is not None:
        resolved = contents.get_object()
        if isinstance(resolved, ArrayObject):
            streams.extend(resolved)
        else:
            streams.append(contents)
    streams.append(writer._add_object(after))
    page[NameObject("/Contents")] = streams


def _outline(writer: PdfWriter, pieces: Sequence[Piece], starts: Sequence[int]) -> None:
    """The bookmarks of every piece as one outline tree (a level nests under the last
    shallower one)."""
    stack: list[tuple[int, object]] = []
    for piece, start in zip(pieces, starts, strict=True):
        marks = [b for b in piece.part.bookmarks if b.page in piece.indices]
        shift = 0
        if piece.top_level is not None and marks:
            shift = piece.top_level - min(b.level for b in marks)
        for mark in marks:
            level = mark.level + shift
            while stack and stack[-1][0] >= level:
                stack.pop()
            parent = stack[-1][1] if stack else None
            item = writer.add_outline_item(
                title=mark.label, page_number=start + mark.page - piece.start,
                parent=parent, fit=Fit.xyz(left=mark.x, top=mark.y, zoom=0))  # type: ignore[arg-type]
            stack.append((level, item))


def _links(writer: PdfWriter, pieces: Sequence[Piece], starts: Sequence[int]) -> None:
    """Every internal link whose target is in the joined pages, and a named destination per
    anchor; links to pages left out (a cohort PDF has no appendix) are dropped."""
    targets = _places(pieces)
    for name, (page, x, y) in targets.items():
        writer.add_named_destination_object(_destination(writer, name, page, x, y))
    for piece, start in zip(pieces, starts, strict=True):
        for link in piece.part.links:
            if link.page not in piece.indices:
                continue
            if link.target not in targets:
                LOGGER.debug("link to #%s dropped: its target is not in this PDF", link.target)
                continue
            page, x, y = targets[link.target]
            writer.add_annotation(start + link.page - piece.start, LinkAnnotation(
                rect=link.rect, target_page_index=page, fit=Fit.xyz(left=x, top=y, zoom=0)))


def _destination(writer: PdfWriter, name: str, page: int, x: float, y: float):

    return Destination(TextStringObject(name), writer.pages[page].indirect_reference,
                       Fit.xyz(left=x, top=y, zoom=0))


def join(pieces: Sequence[Piece], stamp: LaidOut, target: Path, *, identifier: bytes,
         metadata: Mapping[str, str] | None = None, footer: LaidOut | None = None) -> Path:
    """Write the pages of ``pieces`` in order to ``target``, page-numbered by ``stamp``.

    ``stamp`` has exactly as many pages as the pieces together; ``footer`` (one page), when
    given, is drawn over every page; ``metadata`` overrides entries of the first piece's
    document information (e.g. "/Title").
    """
    readers = _Readers()
    total = sum(len(piece.indices) for piece in pieces)
    if stamp.pages != total:
        raise ValueError(f"{target.name}: a stamp of {stamp.pages} pages for {total} pages")
    writer = PdfWriter()
    stamps = readers(stamp.path).pages
    shared = [] if footer is None else [  # one form object, drawn on every page
        (FOOTER_NAME, writer._add_object(_stamp_form(writer, readers(footer.path).pages[0])))]
    for piece in pieces:
        source = readers(piece.part.path).pages
        for index in piece.indices:
            page = writer.add_page(source[index])
            number = writer._add_object(_stamp_form(writer, stamps[len(writer.pages) - 1]))
            _draw_over(writer, page, [*shared, (STAMP_NAME, number)])
    starts = page_starts(pieces)
    _outline(writer, pieces, starts)
    _links(writer, pieces, starts)
    first = readers(pieces[0].part.path)
    info = dict(first.metadata or {})
    info.update(metadata or {})
    writer.add_metadata(info)
    language = first.trailer["/Root"].get("/Lang")
    if language is not None:
        writer._root_object[NameObject("/Lang")] = language
    # private API: the file identifier, derived from the content, keeps builds byte-identical
    writer._ID = ArrayObject([ByteStringObject(identifier), ByteStringObject(identifier)])
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        writer.write(handle)
    return target
