"""Pandoc markdown from the dossier context: the common ground of the Word and Quarto outputs.

The Jinja2 templates ``dossier.md.j2`` (for pandoc -> DOCX) and ``dossier.qmd.j2`` (a Quarto
document) print context values that are already formatted text (``dossier.render.context``).
Every value is escaped for pandoc markdown on the way out (Jinja2 ``finalize``), so a cohort id
holding ``<script>``, ``*``, ``|`` or ``$`` prints as those characters: markdown syntax can only
come from the template itself or from a value marked :class:`RawMarkdown` (figure lines, the
narrative a user wrote). Figures are collected while a template renders (:class:`FigureSink`)
and written afterwards as SVG (vector, for Word 2016+ and HTML) and PNG (for older readers).

Narrative sections are fenced divs ``::: {#narrative-<id> .narrative}`` ... ``:::``; their text
is read from the previous document (:func:`read_narrative`) and carried into the new one.
"""

from __future__ import annotations

import hashlib
import html
import multiprocessing
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2

from dossier.render.bundle import safe_file_name
from dossier.render.html import template_dirs
from dossier.render.sandbox import reported, sandboxed_environment

TEXT_WIDTH_MM = 166.0
"""Text width of the bundled reference document (A4 less 2 x 22 mm): figures wider than this
are scaled to the full width, narrower ones keep their size (as a percentage of it)."""
PNG_DPI = 150.0
"""Resolution of the PNG copy of each figure: sharp on screen and paper, ~50 KB a figure."""
COMMENT = ("{##", "##}")
"""Jinja2 comment delimiters of the markdown templates: "{#" opens pandoc's ``{#id}``."""
NARRATIVE_CLASS = "narrative"
NARRATIVE_PREFIX = "narrative-"

# Characters with a meaning wherever they stand in a line of pandoc markdown (escapes, code,
# strong/emphasis, links, tables, attributes and shortcodes, maths, sub/superscript, strikeout,
# smart quotes: ' and " would print as curly quotes); all_symbols_escapable makes "\c" the
# literal c. The others below are escaped only where they could mean something.
_ALWAYS = frozenset('\\`*[]{}|$^~"\'')
_ORDERED = re.compile(r"^(\(?)(\d+|[A-Za-z]|[ivxlcdmIVXLCDM]+)([.)])(?=\s|$)")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SVG_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
OWN_FIGURE_NUMBER = re.compile(r"^Figure ((?:[A-Z]|\d+)\.\d+)\.\s+")
"""The number the PDF puts at the head of a figure's title: "Figure 3.1. ", "Figure C.2. "."""
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)mm"[^>]*?\bheight="([\d.]+)mm"')
_LEAD = "\x00"
"""Stands for the backslash of a block-marker escape until :func:`render_markdown` knows
whether the value starts a block (kept) or sits inside a line, e.g. a table cell (dropped)."""
_BLOCK_START = re.compile(r"(^|\n)((?:[ \t]*(?:[-+*]|\d+[.)]|>)[ \t]+)*[ \t]*)" + _LEAD)


class RawMarkdown(str):
    """Text the templates print as is: markdown the code made, never data."""

    __slots__ = ()


def _needs_escape(body: str, k: int) -> bool:
    """Whether ``body[k]`` could mean markdown where it stands (context-sensitive rules)."""
    char = body[k]
    before = body[k - 1] if k else ""
    after = body[k + 1] if k + 1 < len(body) else ""
    if char in _ALWAYS:
        return True
    if char == "_":  # intraword underscores never make emphasis
        return not (before.isalnum() and after.isalnum())
    if char == "<":  # a tag, comment, processing instruction or autolink
        return after == "" or after.isalpha() or after in "/!?" or ">" in body[k:]
    if char == "&":  # an entity: &amp; &#39;
        return (after.isalnum() or after == "#") and ";" in body[k:]
    if char == "@":  # a citation: @smith2020, [-@key]
        return not before.isalnum()
    if char == "#":  # a heading's closing sequence at the end (an opener: _lead_escape)
        return body[k:].strip("# ") == ""
    if char in "-.":  # smart dashes and ellipses
        return bool(k) and before == char
    return False


def _lead_escape(body: str) -> bool:
    """Whether the value's first character would open a block at the start of a line."""
    char, rest = body[0], body[1:]
    if char in "-+*":  # a list item ("- x"); "--"/"-1" are not
        return rest[:1] in ("", " ")
    if char == "=":  # a setext underline
        return body.rstrip().strip("=") == ""
    return char in ">%#:"  # quote, title block, heading, definition/div/table caption


def _escape(value: object, lead: str) -> str:
    if value is None:
        return ""
    if isinstance(value, RawMarkdown):
        return str(value)
    text = _SPACE.sub(" ", _CONTROL.sub("", str(value)))
    body = text.lstrip(" ")
    if not body:
        return text
    out = [("\\" + c) if _needs_escape(body, k) else c for k, c in enumerate(body)]
    if body[:6].lower() == "table:":  # after a table, "Table: x" would be its caption
        out[5] = "\\:"
    if _lead_escape(body) and not out[0].startswith("\\"):
        out[0] = lead + body[0]
    escaped = _ORDERED.sub(lambda m: ("\\(" if m.group(1) else "") + m.group(2) + "\\"
                           + m.group(3), "".join(out))
    return text[:len(text) - len(body)] + escaped


def md_escape(value: object) -> str:
    """``value`` as literal text in pandoc markdown (one line: whitespace runs become a space).

    Escapes only what could mean something where it stands, so the markdown stays readable:
    always backslash, backtick, ``* [ ] { } | $ ^ ~ " '`` (smart quotes would curl ' and ");
    ``_`` unless between letters or digits; ``<`` where it could open a tag or autolink; ``&``
    before an entity name; ``@`` that could cite; ``#`` that could open or close a heading;
    the second of ``--`` and ``..`` (smart dashes, ellipses); and a block marker at the start
    (``- x``, ``>``, ``1.``, ``: x``, ``:::``). "50.0% (29.1-70.9)", ">= 16 weeks" inside a
    line, "O_x", "+1" pass unchanged.
    """
    return _escape(value, "\\")


def resolve_block_escapes(text: str) -> str:
    """Keep a value's block-marker escape only where the value starts a block (a line, list
    item or quote); inside a line, e.g. a table cell or after other text, drop it."""
    text = _BLOCK_START.sub(lambda m: m.group(1) + m.group(2) + "\\", text)
    return text.replace(_LEAD, "")


def yaml_markdown(value: object) -> str:
    """A YAML single-quoted scalar whose content pandoc reads as (escaped) markdown."""
    return "'" + md_escape(value).replace("'", "''") + "'"


def code_block(lines: Sequence[str] | str) -> RawMarkdown:
    """A fenced code block holding ``lines`` verbatim, its fence longer than any backtick run."""
    text = lines if isinstance(lines, str) else "\n".join(lines)
    text = _CONTROL.sub("", text)
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return RawMarkdown(f"{fence}\n{text}\n{fence}")


_GAP = re.compile(r" {2,}")


def listing_columns(header: str, lines: Sequence[str]) -> list[tuple[int, int]]:
    """Column spans of a fixed-width listing: runs of text between gaps that are blank (two
    spaces or more) on the header and every line, as the listing's columns are separated."""
    width = max([len(header)] + [len(line) for line in lines])
    used = bytearray(width)
    for line in [header, *lines]:
        for k, char in enumerate(line):
            if char != " ":
                used[k] = 1
    mask = "".join("x" if u else " " for u in used)
    spans, start = [], 0
    for gap in _GAP.finditer(mask.rstrip()):
        spans.append((start, gap.start()))
        start = gap.end()
    spans.append((start, len(mask.rstrip())))
    return [(a, b) for a, b in spans if b > a]


def listing_table(listing: Mapping[str, object]) -> RawMarkdown:
    """A patient listing as a pipe table (a Word table whose header repeats on every page).

    Cuts the listing's fixed-width ``header`` and ``lines`` (``context.patient_listing``) at
    the blank gaps between columns (:func:`listing_columns`).
    Numeric columns (header ending "months" or "grade") are right-aligned; every cell is
    escaped. Should the columns not come apart cleanly, the listing stays fixed-width text.
    """
    header = str(listing["header"])
    lines = [str(line) for line in listing["lines"]]  # type: ignore[attr-defined]
    spans = listing_columns(header, lines)
    names = [header[a:b].strip() for a, b in spans]
    if names != _GAP.split(header.strip()):  # a value with a column-wide gap: keep it as text
        return code_block([header, *lines])
    rows = [[line[a:b].strip() for a, b in spans] for line in lines]
    right = [n.lower().endswith(("months", "grade")) for n in names]
    weights = [max(6, min(14, max([len(n)] + [len(r[k]) for r in rows]) + 2))
               for k, n in enumerate(names)]
    out = ["| " + " | ".join(md_escape(n) for n in names) + " |",
           "|" + "|".join(("-" * w + ":") if r else (":" + "-" * w)
                          for w, r in zip(weights, right, strict=True)) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return RawMarkdown("\n".join(out))


# --------------------------------------------------------------------------- figures


def svg_title(svg: str) -> str:
    """The ``<title>`` a figure carries (what it shows, e.g. "Cohort 1: overall survival"),
    without the number the PDF gives it ("Figure 3.1. "): Word and Quarto number their own."""
    found = _SVG_TITLE.search(svg)
    return OWN_FIGURE_NUMBER.sub("", html.unescape(found.group(1)).strip()) if found else ""


def without_own_number(svg: str) -> str:
    """The figure with the PDF's number ("Figure 3.1. ") taken off its drawn and its
    ``<title>`` text, for documents that number figures themselves (Word, Quarto)."""
    found = _SVG_TITLE.search(svg)
    own = OWN_FIGURE_NUMBER.match(html.unescape(found.group(1)).strip()) if found else None
    if own is None:
        return svg
    prefix = re.escape(own.group(0))
    svg = re.sub(r"(<title>)" + prefix, r"\1", svg, count=1)
    return re.sub(r'(<text class="figure-title"[^>]*>)' + prefix, r"\1", svg, count=1)


def svg_size_mm(svg: str) -> tuple[float, float]:
    """The width and height (mm) that a dossier figure declares on its ``<svg>`` element."""
    found = _SVG_SIZE.search(svg)
    if found is None:
        raise ValueError("figure SVG lacks width/height in mm on its <svg> element")
    return float(found.group(1)), float(found.group(2))


def svg_to_png(svg: str, dpi: float = PNG_DPI) -> bytes:
    """Rasterise a figure with resvg (a self-contained wheel: no system library needed)."""
    try:
        import resvg_py
    except ImportError as exc:  # pragma: no cover - a dependency of dossier
        raise RuntimeError("figures for Word and Quarto need resvg-py: pip install resvg-py") \
            from exc
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, dpi=dpi))


_PNGS: dict[str, bytes] = {}
PNG_CACHE_SIZE = 1024
PARALLEL_FROM = 24
"""Figures from which PNGs are drawn by a pool of processes (resvg holds the GIL: ~50 ms each)."""


def pngs_of(svgs: Sequence[str], *, workers: int | None = None) -> list[bytes]:
    """The PNG of each SVG, drawn once per build (cached by content) and in parallel if many.

    ``workers`` processes (default: the cores, at most 4, when there are
    :data:`PARALLEL_FROM` figures or more to draw; 1 draws them in this process).
    """
    keys = [hashlib.sha256(s.encode("utf-8")).hexdigest() for s in svgs]
    todo = {k: s for k, s in zip(keys, svgs, strict=True) if k not in _PNGS}
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(todo) >= PARALLEL_FROM else 1
    if workers > 1 and len(todo) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            drawn = list(pool.map(svg_to_png, todo.values(), chunksize=4))
    else:
        drawn = [svg_to_png(s) for s in todo.values()]
    if len(_PNGS) + len(todo) > PNG_CACHE_SIZE:
        _PNGS.clear()
    found = {**_PNGS, **dict(zip(todo, drawn, strict=True))}
    _PNGS.update(dict(zip(todo, drawn, strict=True)))
    return [found[k] for k in keys]


@dataclass(frozen=True)
class Figure:
    """One figure of the document: its file stem, SVG text and caption."""

    name: str
    svg: str
    caption: str
    number: int

    @property
    def width_percent(self) -> float:
        """Width as a percentage of the text width (100 for a figure as wide as the page)."""
        width, _ = svg_size_mm(self.svg)
        return round(min(100.0, 100.0 * width / TEXT_WIDTH_MM), 1)


@dataclass
class FigureSink:
    """Collects figures and numbers captions while a template renders.

    ``quarto=True`` labels figures and tables (``#fig-...``, ``#tbl-...``) and lets Quarto
    number them; otherwise captions are numbered here ("Figure 3.", "Table 7."), since pandoc
    alone does not number them in Word. Image paths are ``figures/<name>.<extension>``;
    ``extension=""`` leaves the suffix off so Quarto's ``default-image-extension`` picks SVG or
    PNG per output format.
    """

    quarto: bool = False
    extension: str = "png"
    folder: str = "figures"
    figures: list[Figure] = field(default_factory=list)
    tables: int = 0
    _names: set[str] = field(default_factory=set)

    def _unique(self, name: str) -> str:
        return safe_file_name(name, self._names).lower()

    def figure(self, svg: str, name: str, caption: str) -> RawMarkdown:
        """The markdown image line of a figure (and records the figure to be written)."""
        figure = Figure(self._unique(name), without_own_number(svg), str(caption),
                        len(self.figures) + 1)
        self.figures.append(figure)
        path = f"{self.folder}/{figure.name}" + (f".{self.extension}" if self.extension else "")
        width = f'width="{figure.width_percent:g}%"'
        if self.quarto:
            return RawMarkdown(f"![{md_escape(caption)}]({path}){{#fig-{figure.name} {width}}}")
        text = md_escape(f"Figure {figure.number}. {caption}")
        return RawMarkdown(f"![{text}]({path}){{{width}}}")

    def table(self, name: str, caption: str) -> RawMarkdown:
        """The caption line that follows a pipe table."""
        self.tables += 1
        if self.quarto:
            label = safe_file_name(name.replace(".", "-"), self._names).lower()
            return RawMarkdown(f": {md_escape(caption)} {{#tbl-{label}}}")
        return RawMarkdown(": " + md_escape(f"Table {self.tables}. {caption}"))

    def write(self, folder: Path, *, svg: bool = True, png: bool = True,
              workers: int | None = None) -> list[Path]:
        """Write every figure as ``<name>.svg`` and/or ``<name>.png`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        if svg:
            for figure in self.figures:
                path = folder / f"{figure.name}.svg"
                path.write_text(figure.svg, encoding="utf-8")
                written.append(path)
        if png:
            drawn = pngs_of([f.svg for f in self.figures], workers=workers)
            for figure, data in zip(self.figures, drawn, strict=True):
                path = folder / f"{figure.name}.png"
                path.write_bytes(data)
                written.append(path)
        return written


# --------------------------------------------------------------------------- narrative


_OPEN = re.compile(r"^(:{3,})\s*(\{[^}]*\}|[\w-]+)?\s*:*\s*$")
_CLOSE = re.compile(r"^:{3,}\s*$")
_NARRATIVE_OPEN = re.compile(
    r"^:{3,}\s*\{(?=[^}]*\.narrative\b)[^}]*#(" + NARRATIVE_PREFIX + r"[\w.:-]+)[^}]*\}\s*$")


def read_narrative(path: Path | None) -> dict[str, str]:
    """The narrative sections of an earlier document, by div id, with their text verbatim.

    A narrative section is a fenced div with class ``narrative`` and an id starting
    ``narrative-``; divs the user nested inside it are kept as part of its text. A missing
    file gives no sections; an unclosed section is an error naming the file and line, since
    carrying on would drop what the user wrote.
    """
    if path is None or not Path(path).is_file():
        return {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    k = 0
    fence = re.compile(r"^(`{3,}|~{3,})")
    while k < len(lines):
        opened = _NARRATIVE_OPEN.match(lines[k])
        if not opened:
            k += 1
            continue
        ident, start, depth, code = opened.group(1), k, 1, ""
        k += 1
        body: list[str] = []
        while k < len(lines):
            line = lines[k]
            marker = fence.match(line)
            if code:
                if marker and marker.group(1)[0] == code[0] and len(marker.group(1)) >= len(code):
                    code = ""
            elif marker:
                code = marker.group(1)
            elif _CLOSE.match(line):
                depth -= 1
                if depth == 0:
                    break
            elif _OPEN.match(line) and line.rstrip(": ").strip(":").strip():
                depth += 1
            body.append(line)
            k += 1
        else:
            raise ValueError(f"{path}, line {start + 1}: narrative section {ident!r} is not "
                             "closed with a ':::' line; fix it so a rebuild can keep it")
        found.setdefault(ident, "\n".join(body).strip("\n"))
        k += 1
    return found


PROMPT = "*\\[{}\\]*"
"""How an unwritten narrative section reads: its prompt, in brackets and italics."""
_PROMPT = re.compile(r"\*\\\[[^\n]*\\\]\*")


def is_prompt(text: str) -> bool:
    """True for a narrative section nobody wrote in: only the prompt dossier put there."""
    return _PROMPT.fullmatch(text.strip()) is not None


@dataclass
class NarrativeSink:
    """Hands templates each narrative section: the kept text, or a prompt to write it."""

    kept: Mapping[str, str] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)

    def section(self, key: str, prompt: str) -> RawMarkdown:
        """The fenced div of narrative section ``key`` (e.g. "unmet-need")."""
        ident = NARRATIVE_PREFIX + safe_file_name(key).lower()
        if ident in self.used:
            raise ValueError(f"narrative section {ident!r} appears twice in the template")
        self.used.append(ident)
        text = self.kept.get(ident)
        if text is None or is_prompt(text):
            text = PROMPT.format(md_escape(prompt))
        return RawMarkdown(f"::: {{#{ident} .{NARRATIVE_CLASS}}}\n{text}\n:::")

    def orphans(self) -> list[dict[str, str]]:
        """Kept sections the template no longer places (a cohort left the data, say)."""
        return [{"id": k, "text": RawMarkdown(f"::: {{#{k} .{NARRATIVE_CLASS}}}\n{v}\n:::")}
                for k, v in self.kept.items() if k not in self.used and not is_prompt(v)]


def narrative_key(cohort_id: str) -> str:
    """The stable narrative key of a cohort: its id made safe, plus a hash that keeps it unique
    ("cohort-dabrafenib_BRAF_V600E-1a2b3c"), so a cohort keeps its text when others come or go.
    """
    digest = hashlib.sha1(str(cohort_id).encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"cohort-{safe_file_name(cohort_id)[:48]}-{digest[:6]}"


# --------------------------------------------------------------------------- templates


def _finalize(value: object) -> str:
    return _escape(value, _LEAD)


@lru_cache(maxsize=8)
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = sandboxed_environment(
        dirs, autoescape=False, finalize=_finalize,
        comment_start_string=COMMENT[0], comment_end_string=COMMENT[1],
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["yaml"] = lambda v: RawMarkdown(yaml_markdown(v))
    env.filters["code_block"] = code_block
    env.filters["listing_table"] = listing_table
    env.filters["anchor"] = lambda v: RawMarkdown(re.sub(r"[^\w.:-]", "-", str(v)))
    env.filters["narrative_key"] = narrative_key
    env.filters["svg_title"] = svg_title
    env.filters["comment"] = lambda v: RawMarkdown(re.sub(r"-{2,}", "-", str(v)).replace(">", ""))
    return env


def markdown_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The markdown templates' Jinja2 environment: user folder first, sandboxed, every value
    escaped."""
    return _environment(tuple(template_dirs(templates_dir)))


def render_markdown(template: str, context: Mapping[str, object], *,
                    templates_dir: Path | None = None, figures: FigureSink,
                    narrative: NarrativeSink, extra: Mapping[str, object] | None = None) -> str:
    """Render ``template`` with the context, collecting figures and narrative sections."""
    env = markdown_environment(templates_dir)
    data = {**context, "figure": figures.figure, "table_caption": figures.table,
            "narrative": narrative.section, "orphaned_narrative": narrative.orphans,
            "quarto": figures.quarto, **(extra or {})}
    with reported(template_dirs(templates_dir), template):
        return resolve_block_escapes(env.get_template(template).render(data))
