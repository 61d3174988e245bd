"""pikepdf's side of the PDF build: join laid-out parts into one PDF and number its pages.

Each part was laid out on its own by WeasyPrint (:mod:`dossier.render.pdf_layout`), so the
joined file gets from here what a single layout would have given it: one page sequence, a page
number stamped in the footer of every page ("Page x of y"), the outline (bookmarks) rebuilt
from the parts' headings, every internal link pointing at its target's page, a named
destination per anchor, the document information (and, for a PDF/A variant, the XMP metadata
and output intent) of the first part, and each font embedded once
(:mod:`dossier.render.pdf_fonts`).

The page numbers are a stamp document's pages, each wrapped as a form XObject and drawn over
the page after its own content (inside ``q``/``Q``, so nothing of the page's graphics state
leaks into it). An overlay (the data file's hash) is drawn the same way, moved onto each
placeholder a part left for it: an anchor named after the overlay's own anchor plus a suffix
(``stamp-sha256-cover`` for the overlay's ``stamp-sha256``). Nothing of the page's content
stream is parsed or rewritten. qpdf (through pikepdf) copies and writes the objects: several
times faster than doing it in Python.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, ObjectStreamMode, OutlineItem, Pdf

from dossier.render.pdf_fonts import share_fonts
from dossier.render.pdf_layout import LaidOut

LOGGER = logging.getLogger(__name__)
STAMP_NAME = "/DossierPageNumber"
FOOTER_NAME = "/DossierFooter"
OVERLAY_NAME = "/DossierOverlay"
SLOT_PREFIX = "stamp-"
"""Anchors of placeholders (and of the overlays drawn over them): not link targets."""
PRINT_FLAG = 4  # an annotation's /F bit 3: printed (PDF/A requires it)


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
            if anchor.name.startswith(SLOT_PREFIX):
                continue
            if anchor.page in piece.indices and anchor.name not in found:
                found[anchor.name] = (start + anchor.page - piece.start, anchor.x, anchor.y)
    return found


def anchor_pages(pieces: Sequence[Piece], first_page: int = 1) -> dict[str, int]:
    """Page number (counting from ``first_page``) of every anchor in the joined pages."""
    return {name: page + first_page for name, (page, _, _) in _places(pieces).items()}


class _Sources:
    """Each part file opened once per joined PDF (and closed with it)."""

    def __init__(self) -> None:
        self._open: dict[Path, Pdf] = {}

    def __call__(self, path: Path) -> Pdf:
        if path not in self._open:
            self._open[path] = pikepdf.open(path)
        return self._open[path]

    def close(self) -> None:
        for pdf in self._open.values():
            pdf.close()


def _form(out: Pdf, source: Pdf, index: int) -> pikepdf.Stream:
    """Page ``index`` of ``source`` as a form XObject owned by ``out``."""
    form = pikepdf.Page(source.pages[index]).as_form_xobject()
    return out.copy_foreign(form)


Drawn = tuple[str, pikepdf.Stream, tuple[float, float] | None]
"""A form drawn over a page: its resource name, the form, and where its origin goes (None:
on the page's)."""


def _draw_over(out: Pdf, page: pikepdf.Page, forms: Sequence[Drawn]) -> None:
    """Draw each form over ``page`` after its content, each in its own graphics state."""
    resources = page.obj.get("/Resources")
    # a page's resources may be shared with other pages: give this page its own copy
    resources = Dictionary() if resources is None else Dictionary(dict(resources.items()))
    xobjects = resources.get("/XObject")
    xobjects = Dictionary() if xobjects is None else Dictionary(dict(xobjects.items()))
    drawn = b""
    for name, form, shift in forms:
        xobjects[name] = form
        moved = b"" if shift is None else f"1 0 0 1 {shift[0]:.4f} {shift[1]:.4f} cm ".encode()
        drawn += b"q " + moved + name.encode("ascii") + b" Do Q\n"
    resources.XObject = xobjects
    page.obj.Resources = resources
    page.contents_add(out.make_stream(b"q\n"), prepend=True)
    page.contents_add(out.make_stream(b"\nQ\n" + drawn))


def _xyz(out: Pdf, page: int, x: float, y: float) -> Array:
    """A destination: page ``page`` (0-based) with (x, y) at its top left, zoom unchanged."""
    return Array([out.pages[page].obj, Name.XYZ, x, y, 0])


def _outline(out: Pdf, pieces: Sequence[Piece], starts: Sequence[int]) -> None:
    """The bookmarks of every piece as one outline tree (a level nests under the last
    shallower one)."""
    with out.open_outline() as outline:
        stack: list[tuple[int, OutlineItem]] = []
        for piece, start in zip(pieces, starts, strict=True):
            marks = [b for b in piece.part.bookmarks if b.page in piece.indices]
            shift = 0
            if piece.top_level is not None and marks:
                shift = piece.top_level - min(b.level for b in marks)
            for mark in marks:
                level = mark.level + shift
                while stack and stack[-1][0] >= level:
                    stack.pop()
                item = OutlineItem(mark.label, _xyz(out, start + mark.page - piece.start,
                                                    mark.x, mark.y))
                (stack[-1][1].children if stack else outline.root).append(item)
                stack.append((level, item))


def _links(out: Pdf, pieces: Sequence[Piece], starts: Sequence[int]) -> None:
    """Every internal link whose target is in the joined pages, and a named destination per
    anchor; links to pages left out (a cohort PDF has no appendix) are dropped."""
    targets = _places(pieces)
    if targets:
        names = pikepdf.NameTree.new(out)
        for name, (page, x, y) in targets.items():
            names[name] = _xyz(out, page, x, y)
        out.Root.Names = Dictionary(Dests=names.obj)
    for piece, start in zip(pieces, starts, strict=True):
        for link in piece.part.links:
            if link.page not in piece.indices:
                continue
            if link.target not in targets:
                LOGGER.debug("link to #%s dropped: its target is not in this PDF", link.target)
                continue
            page = out.pages[start + link.page - piece.start]
            annotation = out.make_indirect(Dictionary(
                Type=Name.Annot, Subtype=Name.Link, Rect=Array(list(link.rect)),
                Border=Array([0, 0, 0]), F=PRINT_FLAG, Dest=_xyz(out, *targets[link.target])))
            if "/Annots" not in page.obj:
                page.obj.Annots = Array()
            page.obj.Annots.append(annotation)


def _print_flags(out: Pdf) -> None:
    """Every annotation printed (PDF/A: no annotation may be hidden from print)."""
    for page in out.pages:
        for annotation in page.obj.get("/Annots", ()):
            flags = int(annotation.get("/F", 0))
            annotation.F = (flags | PRINT_FLAG) & ~0b11  # not invisible, not hidden


def _document(out: Pdf, first: Pdf, metadata: Mapping[str, str]) -> None:
    """The first part's document information (with ``metadata`` over it), language, and
    for a PDF/A variant its XMP metadata (kept consistent with the information), output
    intents and marking."""
    info = Dictionary({key: value for key, value in first.docinfo.items()}) \
        if "/Info" in first.trailer else Dictionary()
    for key, value in (metadata or {}).items():
        info[key] = pikepdf.String(value)
    out.docinfo = out.make_indirect(info)
    root = first.Root
    if "/Lang" in root:
        out.Root.Lang = pikepdf.String(str(root.Lang))
    for key in ("/OutputIntents", "/MarkInfo"):
        if key in root:
            out.Root[key] = out.copy_foreign(first.make_indirect(root[key]))
    if "/Metadata" in root:
        out.Root.Metadata = out.copy_foreign(root.Metadata)
        xmp_names = {"/Title": "dc:title", "/Subject": "dc:description"}
        changed = {xmp_names[k]: v for k, v in (metadata or {}).items() if k in xmp_names}
        if changed:
            with out.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
                for name, value in changed.items():
                    xmp[name] = value


def _slots(pieces: Sequence[Piece], overlays: Mapping[str, LaidOut]
           ) -> dict[int, list[tuple[str, float, float]]]:
    """The placeholders on each joined page (by 0-based index): (overlay anchor, x, y)."""
    found: dict[int, list[tuple[str, float, float]]] = {}
    for piece, start in zip(pieces, page_starts(pieces), strict=True):
        for anchor in piece.part.anchors:
            if not anchor.name.startswith(SLOT_PREFIX) or anchor.page not in piece.indices:
                continue
            owner = [name for name in overlays if anchor.name.startswith(name + "-")]
            if not owner:
                raise ValueError(f"{piece.part.path.name}: no overlay for the placeholder "
                                 f"#{anchor.name}")
            found.setdefault(start + anchor.page - piece.start, []).append(
                (owner[0], anchor.x, anchor.y))
    return found


def _overlay_forms(out: Pdf, sources: _Sources, overlays: Mapping[str, LaidOut]
                   ) -> dict[str, tuple[str, pikepdf.Stream, float, float]]:
    """Each overlay as a form (resource name, form, and where its own anchor is)."""
    forms = {}
    for number, (name, overlay) in enumerate(sorted(overlays.items()), start=1):
        place = [a for a in overlay.anchors if a.name == name and a.page == 0]
        if not place:
            raise ValueError(f"{overlay.path.name}: the overlay has no anchor #{name}")
        forms[name] = (f"{OVERLAY_NAME}{number}", _form(out, sources(overlay.path), 0),
                       place[0].x, place[0].y)
    return forms


def join(pieces: Sequence[Piece], stamp: LaidOut, target: Path, *, identifier: bytes,
         metadata: Mapping[str, str] | None = None, footer: LaidOut | None = None,
         overlays: Mapping[str, LaidOut] | None = None, share: bool = True) -> Path:
    """Write the pages of ``pieces`` in order to ``target``, page-numbered by ``stamp``.

    ``stamp`` has exactly as many pages as the pieces together; ``footer`` (one page), when
    given, is drawn over every page; ``overlays`` (one-page documents by the name of the
    anchor that places them) are drawn over the placeholders the parts leave for them;
    ``metadata`` overrides entries of the first piece's document information (e.g.
    "/Title", "/Subject"); ``share`` embeds each font once (False keeps every part's own
    subsets).
    """
    total = sum(len(piece.indices) for piece in pieces)
    if stamp.pages != total:
        raise ValueError(f"{target.name}: a stamp of {stamp.pages} pages for {total} pages")
    sources = _Sources()
    try:
        out = Pdf.new()
        stamps = sources(stamp.path)
        shared: list[Drawn] = [] if footer is None else [  # one form, drawn on every page
            (FOOTER_NAME, _form(out, sources(footer.path), 0), None)]
        slots = _slots(pieces, overlays or {})
        forms = _overlay_forms(out, sources, overlays or {}) if slots else {}
        for piece in pieces:
            source = sources(piece.part.path)
            out.pages.extend(source.pages[piece.indices.start:piece.indices.stop])
        for index, page in enumerate(out.pages):
            placed: list[Drawn] = []
            for name, x, y in slots.get(index, ()):
                resource, form, own_x, own_y = forms[name]
                placed.append((resource, form, (x - own_x, y - own_y)))
            _draw_over(out, page, [*shared, (STAMP_NAME, _form(out, stamps, index), None),
                                   *placed])
        starts = page_starts(pieces)
        _outline(out, pieces, starts)
        _links(out, pieces, starts)
        first = sources(pieces[0].part.path)
        _document(out, first, metadata or {})
        if "/Metadata" in first.Root:
            _print_flags(out)
        if share:
            share_fonts(out)
        # the file identifier, derived from the content, keeps builds byte-identical
        out.trailer.ID = Array([pikepdf.String(identifier), pikepdf.String(identifier)])
        target.parent.mkdir(parents=True, exist_ok=True)
        out.save(target, min_version=first.pdf_version, fix_metadata_version=False,
                 object_stream_mode=ObjectStreamMode.generate, compress_streams=True,
                 deterministic_id=True)
    finally:
        sources.close()
    return target
