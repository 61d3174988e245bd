"""Read a registry table (CSV, Excel .xlsx, Parquet) into raw cells indexed by the user's row.

Reading is kept apart from checking: a reader only turns a file into a frame of cells as the
user wrote them (no type conversion beyond what the file format itself carries), indexed by the
row number the user sees, so that every later issue can point at "row 14, column pfs_days".

Row numbers ("as the user counts them"):

- CSV and Excel: the spreadsheet row; the header is row 1 and the first patient row 2. Blank
  lines are skipped but still counted, so the numbers match what a spreadsheet shows.
- Parquet has no rows to look at: the record number, the first record being 1.

Missing values: only an empty (or all-blank) cell is missing. CSV is read with
``keep_default_na=False, na_values=[""]`` semantics, so the text "NA", "N/A", "null" or "."
stays text: in a text column (patient_id, drug, ...) it is a value like any other (a tumour type
may be called "NA"); in a number, date, boolean, event or category column it is an invalid value
and is reported as such, with the hint to leave the cell blank. Guessing that "NA" means missing
would silently drop data that might have been a typing slip; the report makes the fix one step.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from dossier.errors import InputError
from dossier.registry.schema import FALSE_WORDS, PATIENT_COLUMNS, TIME_FIELDS, TRUE_WORDS, Column
from dossier.suggest import closest, did_you_mean

SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet",
            ".pq": "parquet"}
"""File suffixes dossier reads, by format. Old binary Excel (.xls) is not supported."""

Numbering = Literal["spreadsheet", "record", "line"]

_NUMBERING_TEXT = {
    "spreadsheet": "row = spreadsheet row (header = row 1, first data row = row 2)",
    "record": "row = record number (first record = 1)",
    "line": "row = line in the file where the entry starts",
}


class ReadError(InputError, ValueError):
    """A file that cannot be read as a table; the message names the file and the reason.

    ``rule`` is the report's short id: "file_not_found", "unsupported_format" or
    "unreadable_file".
    """

    def __init__(self, message: str, rule: str = "unreadable_file") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class SourceFile:
    """A file (or in-memory table) issues point into, and how its rows are numbered."""

    name: str
    role: str  # "patients" | "cohorts"
    numbering: Numbering
    path: Path | None = None

    @property
    def legend(self) -> str:
        """One line telling the reader how to find a reported row in this file."""
        return f"{self.name} ({self.role}): {_NUMBERING_TEXT[self.numbering]}"


@dataclass(frozen=True, eq=False)  # holds DataFrames: compare by identity
class RawTable:
    """Cells as read, with the source column names; the index is the user's row number."""

    frame: pd.DataFrame
    source: SourceFile


def time_columns() -> tuple[Column, ...]:
    """The date and days columns of every time field, declared like the other patient columns."""
    cols: list[Column] = []
    for tf in TIME_FIELDS:
        cols.append(Column(tf.date_column, "date", f"{tf.meaning} As a date.", unit="date"))
        cols.append(Column(tf.days_column, "number", f"{tf.meaning} As days since treatment_start.",
                           unit="days", minimum=0))
    return tuple(cols)


def patient_columns() -> tuple[Column, ...]:
    """Every patient column in schema order, time fields (date and days forms) last."""
    return PATIENT_COLUMNS + time_columns()


# ---------------------------------------------------------------------------------------------
# Reading files


def numbering_for(path: Path) -> Numbering:
    """How rows of a file with this suffix are numbered in reports."""
    return "record" if SUFFIXES.get(path.suffix.lower()) == "parquet" else "spreadsheet"


def read_table(path: Path | str, role: str = "patients", sheet: str | None = None) -> RawTable:
    """Read a CSV, .xlsx or Parquet file into raw cells, indexed by user row.

    ``sheet`` names the workbook sheet to read; without it a workbook's single sheet, or the
    single sheet whose header carries the ``role``'s columns, is read (see :func:`choose_sheet`).
    Raises ReadError naming the file for a missing file, an unsupported suffix, a NUL byte, a
    formula without a saved value, or a file the format's reader rejects.
    """
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted({s for s in SUFFIXES if s != ".txt"}))
        raise ReadError(f"{path.name}: unsupported file type {path.suffix or '(no suffix)'!r}; "
                        f"dossier reads {known}", "unsupported_format")
    if not path.is_file():
        raise ReadError(f"{path}: file not found", "file_not_found")
    try:
        if fmt == "csv":
            frame = _read_csv(path)
        elif fmt == "xlsx":
            frame = _read_xlsx(path, role, sheet)
        else:
            frame = _read_parquet(path)
    except ReadError:
        raise
    except Exception as exc:  # the format libraries raise many types; all mean "unreadable"
        raise ReadError(f"{path.name}: cannot be read as {fmt.upper()}: {exc}") from exc
    return RawTable(frame, SourceFile(path.name, role, numbering_for(path), path))


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path.name}: not UTF-8 text (byte {exc.start}); save it as "
                        "'CSV UTF-8' and read it again") from exc
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if "\x00" in text:
        _refuse_nul(path, text, _sniff_delimiter(first))
    body = pd.read_csv(io.StringIO(text), sep=_sniff_delimiter(first), header=None, dtype=str,
                       keep_default_na=False, na_values=[""], skip_blank_lines=False,
                       quoting=csv.QUOTE_MINIMAL)
    records = [[None if _blank(v) else v for v in row] for row in body.itertuples(index=False)]
    return _frame_from_records(records, start_row=1)


def _refuse_nul(path: Path, text: str, delimiter: str) -> None:
    """A NUL byte inside a field truncates it in most readers: refuse it, with row and column."""
    lines = text.split("\n")
    header = next(csv.reader([lines[0].rstrip("\r")], delimiter=delimiter), [])
    places = []
    for number, line in enumerate(lines, start=1):
        if "\x00" not in line:
            continue
        fields = next(csv.reader([line.rstrip("\r").replace("\x00", "\ufffd")],
                                 delimiter=delimiter), [])
        hit = next((j for j, f in enumerate(fields) if "\ufffd" in f), None)
        column = header[hit].strip() if hit is not None and hit < len(header) else None
        places.append(f"row {number}, column {column or (hit or 0) + 1}")
    shown = "; ".join(places[:5]) + (f"; and {len(places) - 5} more" if len(places) > 5 else "")
    raise ReadError(f"{path.name}: a NUL byte (\\x00) inside a field at {shown}; it would cut "
                    "the value short: remove it (the file may be damaged or not really CSV)",
                    "nul_byte")


MAX_LISTED_CELLS = 10
"""How many cells an error about formula cells lists by name before it says 'and N more'."""


def _read_xlsx(path: Path, role: str, sheet: str | None) -> pd.DataFrame:
    import openpyxl

    # Formulas are read from their saved (cached) values; a second, formula-aware pass finds
    # formula cells without one (a workbook written by a program and never opened in Excel).
    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        if not values.worksheets:
            raise ReadError(f"{path.name}: the workbook has no sheets")
        name = choose_sheet(path, {ws.title: _header(ws) for ws in values.worksheets}, role,
                            sheet)
        records = [list(r) for r in values[name].iter_rows(min_row=1, values_only=True)]
        _refuse_uncached_formulas(path, name, formulas[name], records)
    finally:
        values.close()
        formulas.close()
    return _frame_from_records(records, start_row=1)


def _header(sheet: Any) -> list[Any]:
    """The first non-blank row of a sheet (its header), or [] for an empty sheet."""
    for row in sheet.iter_rows(min_row=1, max_row=50, values_only=True):
        if not all(_blank(v) for v in row):
            return list(row)
    return []


_KEY_COLUMN = {"patients": "patient_id", "cohorts": "cohort_id"}


def _role_columns(role: str) -> tuple[Column, ...]:
    from dossier.registry.schema import COHORT_COLUMNS

    return COHORT_COLUMNS if role == "cohorts" else patient_columns()


def choose_sheet(path: Path, headers: dict[str, list[Any]], role: str,
                 sheet: str | None) -> str:
    """The sheet to read: the one named (``--sheet``), the only one, or the only one whose
    header carries the role's key column (patient_id, cohort_id) and two more of its columns.

    Several candidates, or none in a workbook of several sheets (a README first, say), is an
    error that lists the sheets: dossier never guesses which sheet holds the data.
    """
    names = list(headers)
    listed = ", ".join(repr(n) for n in names)
    if sheet is not None:
        if sheet in headers:
            return sheet
        by_key = {n.strip().lower(): n for n in names}
        if sheet.strip().lower() in by_key:
            return by_key[sheet.strip().lower()]
        raise ReadError(f"{path.name}: no sheet {sheet!r}{did_you_mean(sheet, names)}; the "
                        f"workbook has {listed}", "sheet_not_found")
    if len(names) == 1:
        return names[0]
    columns = _role_columns(role)
    key = _KEY_COLUMN.get(role, "patient_id")
    candidates = []
    for name, header in headers.items():
        match = match_columns([str(h) for h in header if not _blank(h)], columns)
        if key in match.mapping and len(match.mapping) >= 3:
            candidates.append(name)
    if len(candidates) == 1:
        return candidates[0]
    what = "patient" if role == "patients" else "cohort"
    if candidates:
        raise ReadError(f"{path.name}: sheets {', '.join(repr(c) for c in candidates)} all "
                        f"carry {what} columns; choose one with --sheet NAME (or [study] sheet "
                        "in dossier.toml)", "ambiguous_sheet")
    raise ReadError(f"{path.name}: no sheet carries the {what} columns ({key} and others) in "
                    f"its first row; the workbook has {listed}; choose one with --sheet NAME "
                    "(or [study] sheet in dossier.toml)", "sheet_not_found")


def _refuse_uncached_formulas(path: Path, name: str, formulas: Any,
                              records: list[list[Any]]) -> None:
    """Formula cells whose saved value is missing would read as blank: name them instead."""
    from openpyxl.utils import get_column_letter

    header = next((r for r in records if not all(_blank(v) for v in r)), [])
    missing: list[str] = []
    for i, row in enumerate(formulas.iter_rows(min_row=1)):
        for j, cell in enumerate(row):
            if getattr(cell, "data_type", None) != "f":
                continue
            cached = records[i][j] if i < len(records) and j < len(records[i]) else None
            if cached is None:
                column = header[j] if j < len(header) and not _blank(header[j]) else None
                col_text = f"column {column}" if column is not None else \
                    f"column {get_column_letter(j + 1)}"
                missing.append(f"{name}!{get_column_letter(j + 1)}{i + 1} (row {i + 1}, "
                               f"{col_text})")
    if missing:
        more = len(missing) - MAX_LISTED_CELLS
        shown = "; ".join(missing[:MAX_LISTED_CELLS]) + (f"; and {more} more" if more > 0 else "")
        raise ReadError(f"{path.name}: {len(missing)} formula cell(s) without a saved value: "
                        f"{shown}. dossier reads the value a formula last computed; open the "
                        "workbook in Excel or LibreOffice and save it, or paste the values",
                        "formula_without_value")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    frame = pq.read_table(path).to_pandas()
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()  # a stored pandas index (e.g. patient_id) is a column too
    frame = frame.astype(object).where(frame.notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return frame


def _frame_from_records(records: list[list[Any]], start_row: int) -> pd.DataFrame:
    """First non-blank record = header; later all-blank records are dropped but counted."""
    numbered = [(start_row + i, rec) for i, rec in enumerate(records)]
    numbered = [(n, rec) for n, rec in numbered if not all(_blank(v) for v in rec)]
    if not numbered:
        return pd.DataFrame(index=pd.Index([], dtype="int64", name="row"))
    _, header = numbered[0]
    body = numbered[1:]
    width = max([len(header)] + [len(rec) for _, rec in body])
    header = list(header) + [None] * (width - len(header))
    rows = [list(rec) + [None] * (width - len(rec)) for _, rec in body]
    names: list[str] = []
    keep: list[int] = []
    for j, name in enumerate(header):
        if _blank(name) and all(_blank(r[j]) for r in rows):
            continue  # an empty column without a header: nothing there
        keep.append(j)
        names.append("" if _blank(name) else str(name).strip())
    cells = [[r[j] for j in keep] for r in rows]
    frame = pd.DataFrame(cells, columns=pd.Index(names, dtype=object), dtype=object)
    frame.index = pd.Index([n for n, _ in body], dtype="int64", name="row")
    return frame.where(frame.notna(), None) if len(frame) else frame


def frame_table(frame: pd.DataFrame, name: str, role: str = "patients") -> RawTable:
    """Wrap an in-memory table (the demo registry, a test frame) as raw cells, record-numbered."""
    raw = frame.reset_index(drop=True).astype(object)
    raw = raw.where(raw.notna(), None)
    raw.columns = [str(c) for c in raw.columns]
    raw.index = pd.RangeIndex(1, len(raw) + 1, name="row")
    return RawTable(raw, SourceFile(name, role, "record"))


# ---------------------------------------------------------------------------------------------
# Column names


def normalise_name(name: object) -> str:
    """Compare column names case-insensitively, spaces, hyphens and dots counting as '_'."""
    text = re.sub(r"[\s\-.]+", "_", str(name).strip().lower())
    return re.sub(r"_+", "_", text).strip("_")


@dataclass(frozen=True)
class ColumnMatch:
    """Which source column supplies each canonical column, and which source columns are left."""

    names: tuple[str, ...]  # the source column names, in file order
    mapping: dict[str, int]  # canonical name -> position of its source column
    unknown: tuple[int, ...]  # positions of source columns that match nothing
    duplicates: tuple[tuple[str, int], ...]  # (canonical, position of a second source column)
    columns: tuple[Column, ...] = field(default=())

    def source_name(self, canonical: str) -> str:
        """The column name as the file spells it."""
        return self.names[self.mapping[canonical]]

    def suggest(self, canonical: str) -> str | None:
        """The unmatched source column that looks most like ``canonical`` (or an alias of it)."""
        col = next((c for c in self.columns if c.name == canonical), None)
        targets = [canonical, *(col.aliases if col else ())]
        by_key = {normalise_name(self.names[i]): self.names[i] for i in self.unknown}
        best: tuple[float, str] | None = None
        for target in targets:
            key = normalise_name(target)
            hit = closest(key, by_key, cutoff=0.75)
            if hit is None:
                continue
            score = difflib.SequenceMatcher(None, key, hit).ratio()
            if best is None or score > best[0]:
                best = (score, by_key[hit])
        return best[1] if best else None


def match_columns(source_names: Iterable[object], columns: Sequence[Column]) -> ColumnMatch:
    """Match source column names to canonical columns by name or alias, case-insensitively."""
    lookup: dict[str, str] = {}
    for col in columns:
        for key in (col.name, *col.aliases):
            lookup.setdefault(normalise_name(key), col.name)
    names = tuple(str(n) for n in source_names)
    mapping: dict[str, int] = {}
    unknown: list[int] = []
    duplicates: list[tuple[str, int]] = []
    for pos, name in enumerate(names):
        canonical = lookup.get(normalise_name(name)) if name.strip() else None
        if canonical is None:
            unknown.append(pos)
        elif canonical in mapping:
            duplicates.append((canonical, pos))
        else:
            mapping[canonical] = pos
    return ColumnMatch(names, mapping, tuple(unknown), tuple(duplicates), tuple(columns))


def closest_name(word: str, choices: Iterable[str]) -> str | None:
    """The canonical name a misspelt one most likely meant (difflib), or None."""
    keyed = {normalise_name(c): c for c in choices}
    hit = closest(normalise_name(word), keyed, cutoff=0.75)
    return keyed[hit] if hit is not None else None


# ---------------------------------------------------------------------------------------------
# Cells: one parser per declared kind. Each returns the value, None for a blank cell, or INVALID.


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()
"""Marker a cell parser returns for a value it cannot read as its column's kind."""

DATE_YEARS = (1900, 2199)
"""Dates outside these years are typing errors (0202-05-03), not trial dates."""

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def _blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, str):
        return not value.strip()
    return False


def is_blank(value: object) -> bool:
    """True for a missing cell: None, NaN, NA, NaT or text of only spaces."""
    return _blank(value)


def show_value(value: object) -> str | None:
    """A cell as the report prints it (dates as ISO dates, whole floats without '.0')."""
    if _blank(value):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip() if isinstance(value, str) else str(value)


def parse_text(value: object) -> str | None:
    """Text as written, trimmed; Excel/Parquet numbers as plain digits (101, not 101.0)."""
    if _blank(value):
        return None
    return show_value(value)


def parse_number(value: object) -> Any:
    """A finite number: numeric cells, or text like 12, 12.5, 1e3 (no thousands separators)."""
    if _blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        return INVALID
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return number if math.isfinite(number) else INVALID
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value.strip())
        return number if math.isfinite(number) else INVALID
    return INVALID


def parse_event(value: object) -> Any:
    """An event flag read as a number (0/1 checked later); True/False cells count as 1/0."""
    if isinstance(value, bool | np.bool_):
        return float(bool(value))
    return parse_number(value)


def parse_boolean(value: object) -> Any:
    """1/0, true/false, yes/no, y/n, t/f (any case), boolean cells, or the numbers 1 and 0."""
    if _blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    number = parse_number(value)
    if number is not INVALID and number in (0.0, 1.0):
        return number == 1.0
    return INVALID


def parse_date(value: object) -> Any:
    """A calendar date: date cells, or ISO text YYYY-MM-DD (a time part is dropped), in the
    years DATE_YEARS.

    Day-first or month-first text (05/03/2020) is refused rather than guessed: the two readings
    differ by months, and every survival time is computed from these dates.
    """
    if _blank(value):
        return None
    stamp = None
    try:
        if isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
            stamp = pd.Timestamp(value)
            stamp = (stamp.tz_localize(None) if stamp.tzinfo else stamp).normalize()
        elif isinstance(value, dt.date):
            stamp = pd.Timestamp(value)
        elif isinstance(value, str) and (match := _ISO_DATE.match(value.strip())):
            stamp = pd.Timestamp(dt.date(*(int(g) for g in match.groups())))
    except (ValueError, OverflowError):  # 2020-02-30, or a year pandas cannot hold
        return INVALID
    if stamp is None or not DATE_YEARS[0] <= stamp.year <= DATE_YEARS[1]:
        return INVALID
    return stamp.as_unit("ns")


def parse_category(value: object, allowed: Sequence[str]) -> str | None:
    """A category matched case-insensitively (1.0 reads as 1); unknown text is kept as written."""
    text = parse_text(value)
    if text is None:
        return None
    if _NUMBER.match(text) and float(text).is_integer():
        text = str(int(float(text)))
    by_key = {a.lower(): a for a in allowed}
    return by_key.get(text.lower(), text)
