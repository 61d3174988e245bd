"""Small SVG primitives shared by dossier's figures: escaping, fixed number format, a builder.

Figures are drawn in a coordinate system of points (1 user unit = 1 pt, 1/72 inch) and carry
their physical size in millimetres, so a font size of 8 is 8 pt when the figure is embedded at
its natural width (about 170 mm, an A4 page minus margins). Output is deterministic: numbers are
written with two decimals, nothing depends on time, randomness or dictionary order, and no
``id`` is emitted (two figures inlined in one HTML page can never clash).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
"""Generic font stack; DejaVu Sans ships with WeasyPrint's usual Linux installs."""

MM_PER_PT = 25.4 / 72.0
FIGURE_WIDTH_PT = 480.0
"""Natural figure width: 480 pt = 169.33 mm, the text width of an A4 page with 20 mm margins."""

CHAR_WIDTH_EM = 0.6
"""Average advance of a DejaVu Sans glyph in em (deliberately generous, so text never overflows)."""

# Okabe & Ito (2008) colour-blind-safe palette, in the order curves receive them.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 2", "8 3 2 3")
INK = "#222222"
GRID = "#DDDDDD"
MUTED = "#555555"

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def num(value: float) -> str:
    """Format a coordinate with exactly two decimals ("-0.00" is written "0.00")."""
    text = f"{float(value):.2f}"
    return "0.00" if text == "-0.00" else text


def escape_text(value: object) -> str:
    """Escape text for element content; characters XML 1.0 forbids are dropped."""
    text = _ILLEGAL_XML.sub("", str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: object) -> str:
    """Escape text for a double-quoted attribute value."""
    return escape_text(value).replace('"', "&quot;").replace("'", "&#39;")


def text_width(text: str, size: float) -> float:
    """Estimated rendered width of ``text`` at font ``size`` (pt); an upper-ish bound."""
    return len(text) * size * CHAR_WIDTH_EM


def truncate(text: str, size: float, max_width: float) -> str:
    """Shorten ``text`` with an ellipsis so that it fits ``max_width`` at font ``size``."""
    text = str(text)
    if text_width(text, size) <= max_width:
        return text
    keep = max(int(max_width / (size * CHAR_WIDTH_EM)) - 1, 1)
    return text[:keep].rstrip() + "…"


def wrap(text: str, size: float, max_width: float, max_lines: int = 2) -> list[str]:
    """Break ``text`` at spaces into at most ``max_lines`` lines that fit ``max_width``."""
    words = str(text).split()
    if not words:
        return [""]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [truncate(line, size, max_width) for line in lines]


@dataclass(frozen=True)
class LinearScale:
    """Map a data interval linearly onto a drawing interval (the one x or y function of a plot)."""

    domain_lo: float
    domain_hi: float
    range_lo: float
    range_hi: float

    def __call__(self, value: float) -> float:
        span = self.domain_hi - self.domain_lo
        fraction = (float(value) - self.domain_lo) / span if span else 0.0
        return self.range_lo + fraction * (self.range_hi - self.range_lo)


def month_tick_step(x_max: float) -> float:
    """Tick spacing for a time axis in months: 3 up to 2 years, 6 up to 6 years, then 12."""
    if x_max <= 24:
        return 3.0
    if x_max <= 72:
        return 6.0
    return 12.0


def nice_tick_step(x_max: float, target: int = 8) -> float:
    """A 1-2-5 tick spacing giving about ``target`` intervals over ``[0, x_max]``."""
    if x_max <= 0:
        return 1.0
    raw = x_max / target
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def ticks_upto(x_max: float, step: float) -> list[float]:
    """Multiples of ``step`` from 0 to ``x_max`` inclusive (with float-noise tolerance)."""
    count = math.floor(x_max / step + 1e-9)
    return [round(i * step, 9) for i in range(count + 1)]


def round_up(value: float, step: float) -> float:
    """Smallest multiple of ``step`` that is >= ``value`` (and > 0)."""
    if value <= 0:
        return step
    return math.ceil(value / step - 1e-9) * step


def tick_text(value: float) -> str:
    """Axis-label text of a tick value: integers without decimals, otherwise up to 2 decimals."""
    if abs(value - round(value)) < 1e-9:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


class SvgCanvas:
    """Accumulate SVG elements in drawing order and serialise them as one document."""

    def __init__(self, width: float, height: float, title: str) -> None:
        self.width = width
        self.height = height
        self.title = title
        self._parts: list[str] = []

    def raw(self, markup: str) -> None:
        """Append pre-built markup (callers escape their own text)."""
        self._parts.append(markup)

    def open_group(self, css_class: str, **attrs: str) -> None:
        self._parts.append(f"<g{_attrs({'class': css_class, **attrs})}>")

    def close_group(self) -> None:
        self._parts.append("</g>")

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = INK,
             width: float = 0.75, dash: str = "", css_class: str = "") -> None:
        attrs = {"class": css_class, "x1": num(x1), "y1": num(y1), "x2": num(x2),
                 "y2": num(y2), "stroke": stroke, "stroke-width": num(width),
                 "stroke-dasharray": dash}
        self._parts.append(f"<line{_attrs(attrs)}/>")

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str, stroke: str = "",
             css_class: str = "", tooltip: str = "") -> None:
        attrs = {"class": css_class, "x": num(x), "y": num(y), "width": num(max(w, 0.0)),
                 "height": num(max(h, 0.0)), "fill": fill, "stroke": stroke}
        if stroke:
            attrs["stroke-width"] = "0.50"
        self._element("rect", attrs, tooltip)

    def path(self, d: str, *, stroke: str = "none", fill: str = "none", width: float = 1.0,
             dash: str = "", css_class: str = "", fill_opacity: float | None = None,
             tooltip: str = "") -> None:
        attrs = {"class": css_class, "d": d, "fill": fill, "stroke": stroke}
        if stroke != "none":
            attrs["stroke-width"] = num(width)
            attrs["stroke-linejoin"] = "miter"
        attrs["stroke-dasharray"] = dash
        if fill_opacity is not None:
            attrs["fill-opacity"] = num(fill_opacity)
        self._element("path", attrs, tooltip)

    def text(self, x: float, y: float, content: str, *, size: float = 8.0,
             anchor: str = "start", fill: str = INK, weight: str = "", css_class: str = "",
             rotate: bool = False, tooltip: str = "") -> None:
        """Draw one line of text; ``y`` is the baseline. ``content`` is escaped here."""
        attrs = {"class": css_class, "x": num(x), "y": num(y), "font-size": num(size),
                 "text-anchor": "" if anchor == "start" else anchor, "fill": fill,
                 "font-weight": weight}
        if rotate:
            attrs["transform"] = f"rotate(-90 {num(x)} {num(y)})"
        body = escape_text(content)
        if tooltip:
            body = f"<title>{escape_text(tooltip)}</title>{body}"
        self._parts.append(f"<text{_attrs(attrs)}>{body}</text>")

    def _element(self, tag: str, attrs: dict[str, str], tooltip: str) -> None:
        if tooltip:
            self._parts.append(f"<{tag}{_attrs(attrs)}><title>{escape_text(tooltip)}</title>"
                               f"</{tag}>")
        else:
            self._parts.append(f"<{tag}{_attrs(attrs)}/>")

    def to_svg(self) -> str:
        """The complete ``<svg>`` element: physical size in mm, viewBox in points."""
        head = _attrs({
            "xmlns": "http://www.w3.org/2000/svg",
            "width": f"{num(self.width * MM_PER_PT)}mm",
            "height": f"{num(self.height * MM_PER_PT)}mm",
            "viewBox": f"0 0 {num(self.width)} {num(self.height)}",
            "font-family": FONT_FAMILY,
            "role": "img",
        })
        body = "\n".join(self._parts)
        return (f"<svg{head}>\n<title>{escape_text(self.title)}</title>\n"
                f'<rect x="0" y="0" width="{num(self.width)}" height="{num(self.height)}" '
                f'fill="#FFFFFF"/>\n{body}\n</svg>\n')


def _attrs(attrs: dict[str, str]) -> str:
    """Serialise attributes in the given order, skipping empty values."""
    return "".join(f' {key}="{escape_attr(value)}"' for key, value in attrs.items() if value)


def step_path(points: Sequence[tuple[float, float]], end_x: float) -> str:
    """SVG path data for a right-continuous step function, in drawing coordinates.

    ``points`` are (x, y) vertices, sorted by x, where the function takes the value y from x
    onwards; the first one is the start. The path moves horizontally to each x ('H'), drops
    vertically to the new level ('V') and finally runs horizontally to ``end_x``. Points that do
    not change the (formatted) level are skipped, so there is one vertex per visible drop.
    """
    if not points:
        return ""
    x0, y0 = points[0]
    d = [f"M{num(x0)} {num(y0)}"]
    level = num(y0)
    at_x = num(x0)
    for x, y in points[1:]:
        if num(y) == level:
            continue
        if num(x) != at_x:
            d.append(f"H{num(x)}")
            at_x = num(x)
        d.append(f"V{num(y)}")
        level = num(y)
    if num(end_x) != at_x:
        d.append(f"H{num(end_x)}")
    return " ".join(d)


def legend_rows(labels: Sequence[str], size: float, sample_width: float,
                max_width: float) -> list[list[int]]:
    """Flow legend entries (sample + label) into rows no wider than ``max_width``."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for index, label in enumerate(labels):
        width = sample_width + 4 + text_width(label, size) + 14
        if rows[-1] and used + width > max_width:
            rows.append([])
            used = 0.0
        rows[-1].append(index)
        used += width
    return rows
