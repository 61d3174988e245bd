"""The dossier workbook: plain tables as an Excel file a reviewer can filter, sort and trust.

Each :class:`SheetSpec` becomes one sheet: optional note lines, then a bold, frozen header row
with an autofilter, then the frame's rows. Proportions are shown as ``0.0%``, months as ``0.0``,
counts as ``0``; verdict columns are coloured by conditional formatting (the cell keeps its
text). Text always stays text: a value such as ``=HYPERLINK(...)`` or ``+1`` is stored as a
string, never a formula, and one that starts like a formula is marked as typed text
(``quotePrefix``), so editing it cannot turn it into one (CSV/formula injection). The file
is byte-for-byte reproducible: fixed document properties and zip entry timestamps, entries in
sorted order.

This module formats; it computes no statistic.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import Rule
from openpyxl.packaging.core import DocumentProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from dossier.formula_cells import starts_like_formula
from dossier.render.xlsx_cells import SheetCells, UnsupportedValueError, all_sheet_data, splice

PERCENT_FORMAT = "0.0%"
MONTH_FORMAT = "0.0"
INTEGER_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

PAPER_A4 = 9
"""Excel's paper size code for A4."""

MIN_WIDTH, MAX_WIDTH = 8.0, 60.0
"""Column widths (in characters) are taken from the content and kept within these bounds."""

MAX_CELL_TEXT = 32_767
MAX_ROWS = 1_048_576

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E2F3", end_color="FFD9E2F3")
NOTE_FONT = Font(italic=True, color="FF555555")

VERDICT_STYLES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("met",), "FFC6EFCE", "FF006100"),                            # green
    (("not met",), "FFFFC7CE", "FF9C0006"),                        # red
    (("pending", "immature"), "FFFFEB9C", "FF9C5700"),             # amber
    (("not assessable", "not applicable"), "FFE7E6E6", "FF3A3A3A"),  # grey
    (("trial success, below dossier's payer screen",), "FFF8CBAD", "FF833C0B"),  # orange
)
"""Verdict texts (matched whole, ignoring case and surrounding spaces) -> fill, font colour."""

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_FIXED_ZIP_MODE = 0o100644 << 16  # a regular file, rw-r--r--, whatever the platform


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of the workbook: a table and how its columns are shown.

    ``percent_columns`` hold proportions (0-1) shown as ``0.0%``; ``month_columns`` are shown
    as ``0.0``; ``integer_columns`` as ``0`` (a non-whole value there is an error, never rounded
    away); ``verdict_columns`` are coloured by their verdict text. ``notes`` are lines written
    above the table, e.g. "Months = days / 30.4375; CIs Clopper-Pearson exact". The frame's
    index is not written (reset it first to keep it).
    """

    name: str
    frame: pd.DataFrame
    percent_columns: Sequence[str] = ()
    month_columns: Sequence[str] = ()
    integer_columns: Sequence[str] = ()
    verdict_columns: Sequence[str] = ()
    notes: Sequence[str] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    """Column -> unit, written into the header as "pfs_months (months)"; percent columns
    default to "proportion" and month columns to "months"."""

    def header(self, column: str) -> str:
        """The header cell of a column: its name, with its unit in brackets when it has one."""
        unit = self.units.get(column) or (
            "proportion" if column in self.percent_columns
            else "months" if column in self.month_columns else "")
        return f"{column} ({unit})" if unit else column


def sheet_title(name: str, taken: set[str] | None = None) -> str:
    """An Excel-valid, unique sheet name: at most 31 characters, none of ``[]:*?/\\``.

    Forbidden characters become ``_``; leading/trailing apostrophes and spaces are stripped;
    an empty name becomes "Sheet"; "History" (reserved by Excel) becomes "History_". A name
    already in ``taken`` (case-insensitive, as Excel compares) gets " (2)", " (3)" ... and the
    result is added to ``taken``.
    """
    title = _SHEET_FORBIDDEN.sub("_", str(name)).strip(" '")[:31].strip(" '") or "Sheet"
    if title.lower() == "history":
        title = "History_"
    used = {t.lower() for t in taken} if taken is not None else set()
    base, counter = title, 2
    while title.lower() in used:
        tag = f" ({counter})"
        title = base[: 31 - len(tag)].rstrip(" '") + tag
        counter += 1
    if taken is not None:
        taken.add(title)
    return title


def clean_text(value: str) -> str:
    """Text as it can live in an XML cell: characters XML 1.0 forbids are removed."""
    return _ILLEGAL_XML.sub("", value)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is None else moment.astimezone(dt.UTC).replace(tzinfo=None)


def cell_value(value: object) -> object:
    """A table value as openpyxl should store it (numbers, bools, dates, text or ``None``).

    NaN, None, ``pd.NA`` and NaT become ``None`` (an empty cell); numpy scalars become Python
    numbers; infinities become the text ``inf``/``-inf`` (Excel has no infinite number);
    timezone-aware times are converted to UTC (Excel has no time zones); anything else is text.
    """
    kind = type(value)  # the common plain types first: this runs once per cell
    if kind is str:
        return clean_text(value)  # type: ignore[arg-type]
    if kind is int:
        return value
    if kind is float:
        return None if value != value else value if abs(value) != math.inf else (  # type: ignore[operator]
            "inf" if value > 0 else "-inf")  # type: ignore[operator]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return number
    if isinstance(value, pd.Timestamp):
        return _naive_utc(value.to_pydatetime())
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, dt.datetime):
        return _naive_utc(value)
    if isinstance(value, dt.date | dt.time):
        return value
    return clean_text(str(value))


_CELL_TYPES = {str: "s", int: "n", float: "n", bool: "b"}
"""openpyxl's data type of each plain value type (its ``_TYPES``); strings are always "s" here."""


def _put(ws: Worksheet, row: int, column: int, value: object):
    """Write one value; strings are forced to stay strings (openpyxl makes '=...' a formula).

    Text that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is also marked
    ``quotePrefix``: Excel's "text, typed with a leading '", so it stays text even when a
    reviewer edits the cell (OWASP's single quote, the way XLSX stores it; the value is exact).
    Text, numbers and booleans get their cell directly, as openpyxl's ``ws.cell`` and value
    setter would make it (their checks done by :func:`cell_value`): that way took half the
    time of a workbook of 300,000 cells. Other values (empty, dates) go openpyxl's own way.
    """
    kind = _CELL_TYPES.get(type(value))
    if kind is None or (kind == "s" and (len(value) > MAX_CELL_TEXT  # type: ignore[arg-type]
                                         or _ILLEGAL_XML.search(value))):  # type: ignore[arg-type]
        cell = ws.cell(row=row, column=column)
        cell.value = value
    else:
        cell = Cell(ws, row=row, column=column)
        cell._value = value
        ws._add_cell(cell)
    if isinstance(value, str):
        cell.data_type = "s"
        if starts_like_formula(value):
            cell.quotePrefix = True
    elif kind is not None:
        cell.data_type = kind
    return cell


def _display_length(value: object, number_format: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        if value.isprintable():  # no line break of any kind: one line
            return len(value)
        return max((len(line) for line in value.splitlines()), default=0)
    if isinstance(value, bool):
        return 5
    if isinstance(value, dt.datetime):
        return len(DATETIME_FORMAT) if (value.hour, value.minute, value.second) != (0, 0, 0) else 10
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, int | float):
        if number_format == PERCENT_FORMAT:
            return len(f"{value:.1%}")
        if number_format == MONTH_FORMAT:
            return len(f"{value:.1f}")
        if number_format == INTEGER_FORMAT:
            return len(f"{value:.0f}")
        return min(len(repr(value)), 12)  # Excel's General shows about 11 significant characters
    return len(str(value))


def _column_formats(spec: SheetSpec, headers: list[str]) -> dict[str, str]:
    formats: dict[str, str] = {}
    groups = (("percent_columns", PERCENT_FORMAT), ("month_columns", MONTH_FORMAT),
              ("integer_columns", INTEGER_FORMAT), ("verdict_columns", ""))
    for attribute, number_format in groups:
        for column in getattr(spec, attribute):
            if column not in headers:
                raise ValueError(f"sheet {spec.name!r}: {attribute} names {column!r}, which is "
                                 f"not a column of the table ({', '.join(headers)})")
            if column in formats and attribute != "verdict_columns":
                raise ValueError(f"sheet {spec.name!r}: column {column!r} has two number formats")
            if number_format:
                formats[column] = number_format
    return formats


def _verdict_rules(ws: Worksheet, column: int, first_row: int, last_row: int) -> None:
    letter = get_column_letter(column)
    ref = f"{letter}{first_row}:{letter}{last_row}"
    anchor = f"{letter}{first_row}"
    for texts, fill, font in VERDICT_STYLES:
        tests = [f'LOWER(TRIM({anchor}))="{text}"' for text in texts]
        formula = tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"
        style = DifferentialStyle(font=Font(color=font),
                                  fill=PatternFill(fill_type="solid", start_color=fill,
                                                   end_color=fill, bgColor=fill))
        ws.conditional_formatting.add(
            ref, Rule(type="expression", formula=[formula], dxf=style, stopIfTrue=True))


def _quoted(value: object) -> bool:
    return isinstance(value, str) and starts_like_formula(value)


def _style_note(quoted: bool) -> Callable[[Cell], None]:
    def style(cell: Cell) -> None:
        if quoted:
            cell.quotePrefix = True
        cell.font = NOTE_FONT
    return style


def _style_header(quoted: bool) -> Callable[[Cell], None]:
    def style(cell: Cell) -> None:
        if quoted:
            cell.quotePrefix = True
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="top")
    return style


def _style_data(quoted: bool, number_format: str | None, value: object = None
                ) -> Callable[[Cell], None]:
    def style(cell: Cell) -> None:
        if isinstance(value, dt.date):  # openpyxl gives (and registers) its date format first
            cell.value = value
        if quoted:
            cell.quotePrefix = True
        if number_format:
            cell.number_format = number_format
    return style


def _value_format(value: object, number_format: str | None) -> str | None:
    """The number format a value's cell gets: its column's for numbers, a date's own."""
    if isinstance(value, int | float) and not isinstance(value, bool) and number_format:
        return number_format
    if isinstance(value, dt.datetime):
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0,) * 4
        return DATE_FORMAT if midnight else DATETIME_FORMAT
    if isinstance(value, dt.date):
        return DATE_FORMAT
    return None


def _plain_column(values: list[object], number_format: str | None) -> list[object] | None:
    """A column's cell values as :func:`cell_value` makes them, when the column is all text
    or all finite numbers (NaN: empty) and none needs a check of its own; else None (it is
    written cell by cell, where a value too long or not whole is refused)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        if max(map(len, values)) > MAX_CELL_TEXT:
            return None
        return values if _ILLEGAL_XML.search("".join(values)) is None else [  # type: ignore[arg-type]
            clean_text(v) for v in values]  # type: ignore[arg-type]
    if not values or not kinds <= {int, float}:
        return None
    plain = [None if v != v else v for v in values]  # NaN: an empty cell
    numbers = [v for v in plain if v is not None]
    if any(abs(v) == math.inf for v in numbers):  # type: ignore[arg-type]
        return None
    if number_format == INTEGER_FORMAT and not all(
            float(v).is_integer() for v in numbers):  # type: ignore[arg-type]
        return None
    return plain


def _put_plain(cells: SheetCells, values: list[object], first_row: int, column: int,
               number_format: str | None) -> None:
    """Put a column of :func:`_plain_column` values, styled as the cell-by-cell way would."""
    numbers_styled = bool(number_format)
    for row, value in enumerate(values, start=first_row):
        if value is None:
            cells.put(row, column, None)
        elif type(value) is str:
            if starts_like_formula(value):  # type: ignore[arg-type]
                cells.put(row, column, value, ("data", True, None, None),
                          _style_data(True, None, value))
            else:
                cells.put(row, column, value)
        elif numbers_styled:
            cells.put(row, column, value, ("data", False, number_format, None),
                      _style_data(False, number_format, value))
        else:
            cells.put(row, column, value)


def _write_sheet(ws: Worksheet, spec: SheetSpec, cells: SheetCells | None = None) -> None:
    """Write a sheet's table; into ``cells`` (written at save, see :mod:`xlsx_cells`) when
    given, else as openpyxl cells."""
    frame = spec.frame
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"sheet {spec.name!r}: frame must be a pandas DataFrame, "
                        f"got {type(frame).__name__}")
    headers = [str(c) for c in frame.columns]
    formats = _column_formats(spec, headers)
    header_row = len(spec.notes) + 2 if spec.notes else 1
    last_row = header_row + len(frame)
    if last_row > MAX_ROWS:
        raise ValueError(f"sheet {spec.name!r}: {len(frame)} rows do not fit in Excel "
                         f"({MAX_ROWS} rows per sheet)")
    for i, note in enumerate(spec.notes, start=1):
        text = clean_text(str(note))
        if cells is None:
            _put(ws, i, 1, text).font = NOTE_FONT
        else:
            quoted = _quoted(text)
            cells.put(i, 1, text, ("note", quoted), _style_note(quoted))
    if not headers:
        return
    widths = [float(len(spec.header(h))) + 2.0 for h in headers]  # + the filter button
    for j, header in enumerate(headers, start=1):
        text = clean_text(spec.header(header))
        if cells is None:
            cell = _put(ws, header_row, j, text)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(vertical="top")
        else:
            quoted = _quoted(text)
            cells.put(header_row, j, text, ("header", quoted), _style_header(quoted))
    for j, header in enumerate(headers, start=1):
        number_format = formats.get(header)
        values = frame.iloc[:, j - 1].tolist()
        plain = _plain_column(values, number_format) if cells is not None else None
        if plain is not None and cells is not None:
            _put_plain(cells, plain, header_row + 1, j, number_format)
            widths[j - 1] = max([widths[j - 1]] + [_display_length(v, number_format)
                                                   for v in plain])
            values = []  # written
        for i, raw in enumerate(values):
            value = cell_value(raw)
            row = header_row + 1 + i
            if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
                raise ValueError(f"sheet {spec.name!r}, row {row}, column {header!r}: text of "
                                 f"{len(value)} characters is longer than Excel's "
                                 f"{MAX_CELL_TEXT}")
            if (number_format == INTEGER_FORMAT and isinstance(value, float)
                    and not value.is_integer()):
                raise ValueError(f"sheet {spec.name!r}, row {row}, column {header!r}: "
                                 f"{value!r} is not a whole number (integer column)")
            value_format = _value_format(value, number_format)
            if cells is None:
                cell = _put(ws, row, j, value)
                if value_format:
                    cell.number_format = value_format
            else:
                quoted = _quoted(value)
                if quoted or value_format:
                    dated = type(value) if isinstance(value, dt.date) else None
                    cells.put(row, j, value, ("data", quoted, value_format, dated),
                              _style_data(quoted, value_format, value))
                else:
                    cells.put(row, j, value)
            widths[j - 1] = max(widths[j - 1], _display_length(value, number_format))
        if header in spec.verdict_columns and len(frame):
            _verdict_rules(ws, j, header_row + 1, last_row)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 1.0, MIN_WIDTH),
                                                               MAX_WIDTH)
    if cells is None:
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    else:
        cells.touch(header_row + 1, 1)
        ws.freeze_panes = f"A{header_row + 1}"
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{last_row}"
    _print_setup(ws, header_row)


def _print_setup(ws: Worksheet, header_row: int) -> None:
    """Landscape A4, fitted to one page wide (as many pages tall as needed), the header row
    printed on every page: a sheet prints as a reviewer can read it."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = False


def _zip_time(created: dt.datetime) -> tuple[int, int, int, int, int, int]:
    moment = _naive_utc(created)
    moment = min(max(moment, dt.datetime(1980, 1, 1)), dt.datetime(2107, 12, 31, 23, 59, 58))
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _normalise_package(data: bytes, core_xml: bytes, created: dt.datetime,
                       cells: Mapping[str, tuple[bytes, bytes]] | None = None) -> bytes:
    """Rewrite openpyxl's zip so that the same workbook always gives the same bytes.

    Entries are sorted by name with one fixed timestamp and mode; ``docProps/core.xml`` is
    rewritten with the fixed properties (openpyxl stamps "modified" with the clock when it
    saves). A carriage return in sheet text is written ``&#13;``: a raw one would be read back
    as a line feed (XML end-of-line handling), changing the text. ``cells`` holds, by entry
    name, the dimension and cells of worksheets openpyxl wrote without them.
    """
    date_time = _zip_time(created)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in sorted(source.namelist()):
            content = source.read(name)
            if name == "docProps/core.xml":
                content = core_xml
            elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                if cells and name in cells:
                    content = splice(content, *cells[name])
                content = content.replace(b"\r", b"&#13;")
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = _FIXED_ZIP_MODE
            target.writestr(info, content)
    return out.getvalue()


def _filled_workbook(sheets: Sequence[SheetSpec], fast: bool
                     ) -> tuple[Workbook, list[SheetCells] | None]:
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    recorded: list[SheetCells] | None = [] if fast else None
    for spec in sheets:
        ws = workbook.create_sheet(sheet_title(spec.name, taken))
        cells = SheetCells(ws) if recorded is not None else None
        _write_sheet(ws, spec, cells)
        if recorded is not None and cells is not None:
            recorded.append(cells)
    return workbook, recorded


def write_workbook(sheets: Sequence[SheetSpec], path_or_buffer: str | Path | BinaryIO, *,
                   title: str, created: dt.datetime) -> None:
    """Write ``sheets`` to an .xlsx file (a path, or a binary file object) deterministically.

    ``title`` goes into the document properties; ``created`` is both the created and modified
    time of the document and the timestamp of every zip entry, so the same input always gives
    the same bytes. Sheet names are made Excel-valid and unique with :func:`sheet_title`.
    The cells are written by :mod:`dossier.render.xlsx_cells` (the same bytes as openpyxl's,
    faster), or openpyxl's own way when a value needs it.
    """
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    try:
        workbook, recorded = _filled_workbook(sheets, fast=True)
    except UnsupportedValueError:
        workbook, recorded = _filled_workbook(sheets, fast=False)
    cells: dict[str, tuple[bytes, bytes]] = {}
    if recorded is not None:  # style ids registered in sheet and cell order, as openpyxl does
        written = all_sheet_data(recorded, workbook._cell_styles.add, workbook.epoch)
        cells = {f"xl/worksheets/sheet{i}.xml": parts for i, parts in enumerate(written, 1)}
    stamp = _naive_utc(created).replace(microsecond=0)
    properties = DocumentProperties(creator="dossier", lastModifiedBy="dossier",
                                    title=clean_text(title), created=stamp, modified=stamp)
    workbook.properties = properties
    core_xml = tostring(properties.to_tree())  # before saving: openpyxl stamps "modified"
    raw = io.BytesIO()
    workbook.save(raw)
    data = _normalise_package(raw.getvalue(), core_xml, created, cells)
    if isinstance(path_or_buffer, str | Path):
        Path(path_or_buffer).write_bytes(data)
    else:
        path_or_buffer.write(data)
