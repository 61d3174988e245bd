"""The cells of the dossier workbook written as the XML openpyxl would write, byte for byte, in a
fraction of its time.

openpyxl makes a Python object per cell and writes each through lxml: for the demo's 300,000
cells that was most of the workbook's time. Here a sheet's cells are kept as values with a
shared style, and its ``<sheetData>`` is written as text when the workbook is saved: the same
elements, attributes, escaping and style ids as openpyxl 3.1's writer (inline strings, ASCII
output with character references). Styles are made by openpyxl itself, once per combination,
in the order the cells first use them, so the style table is the same too. A value this
writer does not know (a time of day, a duration) raises :class:`UnsupportedValueError`; the
caller then writes the workbook openpyxl's own way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

MAX_TEXT = 32_767
"""openpyxl keeps the first this many characters of a text."""

EMPTY_DIMENSION = b'<dimension ref="A1:A1"/>'
EMPTY_DATA = b"<sheetData></sheetData>"
"""What openpyxl writes for a sheet without cells; replaced by the sheet's own."""


class UnsupportedValueError(TypeError):
    """A value the fast writer does not write; the workbook is written openpyxl's way."""


Styler = Callable[[Cell], None]
"""Sets a cell's style as the workbook code does (font, fill, number format ...)."""


class SheetCells:
    """One sheet's cells as values, each with the style openpyxl gave its first like cell."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.cells: dict[tuple[int, int], tuple[object, Any]] = {}
        self._styles: dict[object, Any] = {}

    def put(self, row: int, column: int, value: object, key: object = None,
            style: Styler | None = None) -> None:
        """Record a value; ``style`` sets the style of cells of kind ``key`` (run once, on a
        scratch cell, when the key is first seen, so openpyxl registers fonts, fills and
        number formats in the order the cells use them)."""
        if not (value is None or isinstance(value, str | int | float | dt.date)) or (
                isinstance(value, dt.datetime) and value.tzinfo is not None):
            raise UnsupportedValueError(f"no fast cell for {type(value).__name__}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            value = value[:MAX_TEXT]
        array = None
        if style is not None:
            if key not in self._styles:
                scratch = Cell(self.ws, row=row, column=column)
                style(scratch)
                self._styles[key] = scratch._style
            array = self._styles[key]
        self.cells[(row, column)] = (value, array)

    def touch(self, row: int, column: int) -> None:
        """An empty cell, as ``ws.cell(row, column)`` leaves (it counts in the dimension)."""
        self.cells.setdefault((row, column), (None, None))

    def dimension(self) -> bytes:
        """The ``<dimension>`` element of the sheet, as openpyxl computes it."""
        if not self.cells:
            return EMPTY_DIMENSION
        rows = [r for r, _ in self.cells]
        columns = [c for _, c in self.cells]
        ref = (f"{get_column_letter(min(columns))}{min(rows)}:"
               f"{get_column_letter(max(columns))}{max(rows)}")
        return f'<dimension ref="{ref}"/>'.encode("ascii")

    def sheet_data(self, style_id: Callable[[Any], int], epoch: dt.datetime) -> bytes:
        """The ``<sheetData>`` element; ``style_id`` registers a style (in cell order)."""
        parts: list[str] = ["<sheetData>"]
        letters: dict[int, str] = {}
        ids: dict[tuple[int, ...], int] = {}
        current = None
        for (row, column), (value, array) in sorted(self.cells.items()):
            if row != current:
                if current is not None:
                    parts.append("</row>")
                parts.append(f'<row r="{row}">')
                current = row
            styled = array is not None and any(array)
            if value is None and not styled:
                continue
            letter = letters.get(column) or letters.setdefault(column, get_column_letter(column))
            head = f'<c r="{letter}{row}"'
            if styled:
                key = tuple(array)
                if key not in ids:
                    ids[key] = style_id(array)
                head += f' s="{ids[key]}"'
            parts.append(_cell(head, value, epoch))
        if current is not None:
            parts.append("</row>")
        parts.append("</sheetData>")
        return "".join(parts).encode("ascii", "xmlcharrefreplace")


def _text(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _cell(head: str, value: object, epoch: dt.datetime) -> str:
    if value is None:
        return head + ' t="n"></c>'
    if isinstance(value, str):
        if value == "":
            return head + ' t="inlineStr"></c>'
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'{head} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'{head} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        value = to_excel(value, epoch)
    return f'{head} t="n"><v>{"%.16g" % value}</v></c>'  # noqa: UP031 (openpyxl's own)


def splice(sheet_xml: bytes, dimension: bytes, data: bytes) -> bytes:
    """A worksheet's XML as openpyxl wrote it without cells, with the sheet's cells put in."""
    if sheet_xml.count(EMPTY_DIMENSION) != 1 or sheet_xml.count(EMPTY_DATA) != 1:
        raise ValueError("unexpected worksheet XML from openpyxl: cannot put the cells in")
    return sheet_xml.replace(EMPTY_DIMENSION, dimension).replace(EMPTY_DATA, data)


def all_sheet_data(sheets: Iterable[SheetCells], style_id: Callable[[Any], int],
                   epoch: dt.datetime) -> list[tuple[bytes, bytes]]:
    """(dimension, sheetData) of every sheet, in workbook order (the order of style ids)."""
    return [(cells.dimension(), cells.sheet_data(style_id, epoch)) for cells in sheets]
