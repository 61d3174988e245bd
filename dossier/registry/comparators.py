"""External (historical) controls per tumour type and line of therapy: read, check, look up.

A comparators file (YAML or CSV, format in ``docs/comparators.md``) gives, for a tumour type and
optionally a line of therapy, what patients achieve on the standard of care: median PFS and OS
in months, ORR in percent, where each figure comes from (citation and URL) and what kind of
evidence it is. Every problem in the file is reported at once, each with file, line (YAML) or
row (CSV, header = row 1) and key; the first one is the message of the :class:`ComparatorFileError`
raised (an :class:`~dossier.errors.InputError`), all of them are in its ``problems``.

A comparison against such a control is unanchored and naive: ``UNANCHORED_LABEL`` and
``UNANCHORED_CAVEAT`` are the words every verdict built on one carries.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from dossier.errors import InputError
from dossier.registry.readers import closest_name
from dossier.yamlfile import FileCheckError, LineDict, LineList, line_of, load_yaml

__all__ = [
    "UNANCHORED_CAVEAT",
    "UNANCHORED_LABEL",
    "Comparator",
    "ComparatorFileError",
    "Comparators",
    "Evidence",
    "LineOfTherapy",
    "find_comparator",
    "normalise_tumour_type",
    "read_comparators",
]

UNANCHORED_LABEL = "vs external control (unanchored, naive comparison)"
UNANCHORED_CAVEAT = (
    "The control is external: its patients were not randomised against this cohort and may "
    "differ in prognosis, line of therapy, assessment schedule and era. The EU HTA "
    "methodological guidance restricts unanchored comparisons such as this one; read the "
    "verdict as context, not as an estimate of relative effect."
)

FIGURES = ("median_pfs_months", "median_os_months", "orr_percent")
TEXT_KEYS = ("tumour_type", "treatment", "note")
ENTRY_KEYS = ("tumour_type", "line", *FIGURES, "evidence", "treatment", "source", "note")
SOURCE_KEYS = ("citation", "url")
CSV_COLUMNS = ("tumour_type", "line", *FIGURES, "evidence", "treatment", "citation", "url",
               "note")
TOP_KEYS = ("comparators", "description")
_LINE_FROM = re.compile(r"^\s*(\d+)\s*\+\s*$")
_URL = re.compile(r"^https?://\S+$")
_ANY_LINE_WORDS = ("any", "all")


class Evidence(Enum):
    """What kind of evidence a control figure is; the value is the key a file uses."""

    PUBLISHED_TRIAL = "published_trial"
    REGISTRY = "registry"
    EXPERT_ESTIMATE = "expert_estimate"
    ILLUSTRATIVE = "illustrative"

    @property
    def label(self) -> str:
        """The kind of evidence as a report names it."""
        return {
            "published_trial": "published standard-of-care trial",
            "registry": "registry",
            "expert_estimate": "expert estimate",
            "illustrative": "illustrative figure, not evidence",
        }[self.value]

    @property
    def needs_url(self) -> bool:
        """Published trials and registries must say where the figures can be checked."""
        return self in (Evidence.PUBLISHED_TRIAL, Evidence.REGISTRY)


@dataclass(frozen=True)
class LineOfTherapy:
    """Which lines of therapy an entry covers: exactly ``line``, from ``from_line`` on, or any.

    The line of therapy of a patient is their number of prior systemic lines plus one.
    """

    line: int | None = None
    from_line: int | None = None

    @property
    def any(self) -> bool:
        return self.line is None and self.from_line is None

    @property
    def label(self) -> str:
        """'2', '3+' or 'any', as the file writes it."""
        if self.line is not None:
            return str(self.line)
        return "any" if self.from_line is None else f"{self.from_line}+"

    def covers(self, line: int | None) -> bool:
        """Whether a cohort in ``line`` (None: unknown) is covered by this entry."""
        if self.any:
            return True
        if line is None:
            return False
        return line == self.line if self.line is not None else line >= self.from_line


@dataclass(frozen=True)
class Comparator:
    """One external control: a tumour type, the lines it covers, its figures and their source.

    Figures are None when the source does not give them. ``file`` and ``where`` (line or row)
    say where the entry was read, for traceability in the dossier.
    """

    tumour_type: str
    lines: LineOfTherapy
    median_pfs_months: float | None
    median_os_months: float | None
    orr_percent: float | None
    evidence: Evidence
    citation: str | None
    url: str | None
    treatment: str | None
    note: str | None
    file: str
    where: int

    @property
    def orr(self) -> float | None:
        """ORR as a proportion (the unit of dossier's rates)."""
        return None if self.orr_percent is None else self.orr_percent / 100.0

    def record(self) -> dict[str, Any]:
        """Plain data for the results and the renderers (JSON-ready)."""
        return {
            "tumour_type": self.tumour_type, "line": self.lines.label,
            "median_pfs_months": self.median_pfs_months,
            "median_os_months": self.median_os_months, "orr_percent": self.orr_percent,
            "evidence": self.evidence.value, "evidence_label": self.evidence.label,
            "treatment": self.treatment, "citation": self.citation, "url": self.url,
            "note": self.note, "source_file": self.file, "source_line": self.where,
        }


class ComparatorFileError(InputError):
    """A comparators file with problems: the first one as the message, all in ``problems``."""

    def __init__(self, problems: Sequence[InputError], unit: str = "row") -> None:
        self.unit = unit  # "line" and "key" for YAML; "row" and "column" for CSV
        first = problems[0]
        more = len(problems) - 1
        hint = first.hint if not more else (
            f"{more} more problem{'s' if more > 1 else ''} in this file; see docs/comparators.md")
        super().__init__(first.message, file=first.file, row=first.row, column=first.column,
                         hint=hint)
        self.problems = tuple(problems)

    @property
    def where(self) -> str:
        """'file, line 4, key median_pfs_months' (YAML) or 'file, row 4, column ...' (CSV)."""
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"{self.unit} {self.row}")
        if self.column:
            parts.append(f"{'key' if self.unit == 'line' else 'column'} {self.column!r}")
        return ", ".join(parts)


def normalise_tumour_type(name: str) -> str:
    """The key tumour types are matched on: case-folded, spaces trimmed and collapsed."""
    return " ".join(str(name).split()).casefold()


@dataclass(frozen=True)
class Comparators:
    """The checked entries of one comparators file, in file order."""

    entries: tuple[Comparator, ...]
    file: str

    def find(self, tumour_type: str, line: int | None = None) -> Comparator | None:
        """See :func:`find_comparator`."""
        return find_comparator(self.entries, tumour_type, line)


def find_comparator(
    entries: Iterable[Comparator], tumour_type: str, line: int | None = None
) -> Comparator | None:
    """The control for a cohort's tumour type and line of therapy, or None.

    Tumour types match exactly after :func:`normalise_tumour_type` (no fuzzy or hierarchical
    matching: "Colorectal cancer, MSS" does not fall back to "Colorectal cancer"). Among the
    entries of that tumour type, for a known ``line`` (1 = first line) the most specific wins:
    the entry for exactly that line, else the "N+" entry with the largest N <= line, else the
    entry for any line. For an unknown line (None) only an any-line entry applies: a figure for
    a given line is not used when the cohort's line is not known.
    """
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 1):
        raise ValueError(f"line of therapy must be a whole number >= 1 or None; got {line!r}")
    key = normalise_tumour_type(tumour_type)
    exact = start = anywhere = None
    for entry in entries:
        if normalise_tumour_type(entry.tumour_type) != key or not entry.lines.covers(line):
            continue
        if entry.lines.line is not None:
            exact = entry
        elif entry.lines.from_line is not None:
            if start is None or entry.lines.from_line > start.lines.from_line:
                start = entry
        else:
            anywhere = entry
    return exact or start or anywhere


# ------------------------------------------------------------------------------------- reading


def read_comparators(path: str | Path) -> Comparators:
    """Read and check a comparators file (.yaml / .yml or .csv).

    Raises :class:`ComparatorFileError` (an InputError) listing every problem, each with file,
    line or row, and key; nothing is returned from a file with any problem.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise InputError(f"a comparators file must be YAML (.yaml, .yml) or CSV (.csv), not "
                         f"{suffix or 'a file without suffix'}", file=path,
                         hint="see docs/comparators.md")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("comparators file not found", file=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path, hint="save the file as UTF-8") from None
    problems = _Problems(path.name, "row" if suffix == ".csv" else "line")
    raw = _yaml_entries(text, problems) if suffix != ".csv" else _csv_entries(text, problems)
    entries = [e for e in (_entry(where, values, problems) for where, values in raw) if e]
    _check_duplicates(entries, problems)
    if not raw and not problems.items:
        problems.add(None, None, "the file lists no comparators")
    problems.raise_if_any()
    return Comparators(tuple(entries), path.name)


class _Problems:
    def __init__(self, file: str, unit: str) -> None:
        self.file = file
        self.unit = unit  # "line" (YAML) or "row" (CSV, header = row 1)
        self.items: list[InputError] = []

    def add(self, where: int | None, key: str | None, message: str,
            hint: str | None = None) -> None:
        self.items.append(InputError(message, file=self.file, row=where, column=key, hint=hint))

    def raise_if_any(self) -> None:
        if self.items:
            raise ComparatorFileError(self.items, self.unit)


@dataclass(frozen=True)
class _At:
    """A YAML value with the line it starts on (mappings: {key: _At}, lists: [_At])."""

    value: Any
    line: int


def _located(value: Any, line: int) -> _At:
    """The shared loader's LineDict / LineList tree as _At values, each at ``line``: a list
    item where it is listed (an alias too), a plain value at its key's line, a nested block
    where it starts."""
    if isinstance(value, LineDict):
        return _At({key: _located(item, item.line if isinstance(item, LineDict | LineList)
                                  else value.line_of(key))
                    for key, item in value.items()}, line)
    if isinstance(value, LineList):
        return _At([_located(item, value.line_of(i)) for i, item in enumerate(value)], line)
    return _At(value, line)




def _yaml_entries(text: str, problems: _Problems) -> list[tuple[int, dict[str, _At]]]:
    try:
        data = load_yaml(problems.file, text)
    except FileCheckError as exc:  # not YAML, a repeated key, an alias bomb: with its line
        for problem in exc.problems:
            problems.add(problem.line or None, None, problem.message)
        return []
    if data is None:
        return []
    root = _located(data, line_of(data) or 1)
    if not isinstance(root.value, dict) or "comparators" not in root.value:
        problems.add(root.line, None, "expected a mapping with the key 'comparators:' holding "
                     "a list of entries", hint="see docs/comparators.md")
        return []
    for key, at in root.value.items():
        if key not in TOP_KEYS:
            problems.add(at.line, str(key), f"unknown top-level key {key!r}; expected "
                         f"{' or '.join(TOP_KEYS)}")
    items = root.value["comparators"]
    if not isinstance(items.value, list):
        problems.add(items.line, "comparators", "'comparators' must be a list of entries "
                     "(each starting with '- tumour_type: ...')")
        return []
    out = []
    for item in items.value:
        if not isinstance(item.value, dict):
            problems.add(item.line, None, "each comparator must be a mapping of keys to values")
            continue
        values = dict(item.value)
        source = values.pop("source", None)
        if source is not None:
            if isinstance(source.value, dict):
                for key, at in source.value.items():
                    if key in SOURCE_KEYS:
                        values[key] = at
                    else:
                        _unknown(problems, at.line, f"source.{key}", SOURCE_KEYS, "source.")
            else:
                problems.add(source.line, "source", "'source' must hold 'citation:' and 'url:'")
        for key in ("citation", "url"):
            if key in item.value:
                problems.add(item.value[key].line, str(key),
                             f"'{key}' belongs under 'source:'")
        out.append((item.line, values))
    return out


def _csv_entries(text: str, problems: _Problems) -> list[tuple[int, dict[str, _At]]]:
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    for i, name in enumerate(header):
        if name not in CSV_COLUMNS:
            _unknown(problems, 1, name or f"column {i + 1}", CSV_COLUMNS, "")
        elif name in header[:i]:
            problems.add(1, name, f"column {name!r} appears twice")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.add(number, None, f"{len(row)} cells in a row under {len(header)} "
                         "column names")
        values = {name: _At(cell.strip(), number) for name, cell in zip(header, row, strict=False)
                  if name in CSV_COLUMNS and cell.strip() != ""}
        out.append((number, values))
    return out


def _unknown(problems: _Problems, where: int, key: str, known: Sequence[str], prefix: str) -> None:
    hint = closest_name(key.removeprefix(prefix), known)
    problems.add(where, key, f"unknown key {key!r}" + (f"; did you mean {prefix}{hint!r}?" if hint
                 else f"; known keys: {', '.join(prefix + k for k in known)}"))


def _entry(where: int, values: dict[str, _At], problems: _Problems) -> Comparator | None:
    before = len(problems.items)
    for key, at in values.items():
        if key not in (*ENTRY_KEYS, *SOURCE_KEYS):
            _unknown(problems, at.line, str(key), ENTRY_KEYS, "")
    text = {k: _text(values.get(k), k, problems) for k in (*TEXT_KEYS, *SOURCE_KEYS)}
    if text["tumour_type"] is None and "tumour_type" not in values:
        problems.add(where, "tumour_type", "every comparator needs a tumour_type")
    lines = _lines(values.get("line"), problems)
    figures = {k: _figure(values.get(k), k, problems) for k in FIGURES}
    if all(k not in values for k in FIGURES):
        problems.add(where, None, f"give at least one of {', '.join(FIGURES)}")
    evidence = _evidence(values.get("evidence"), where, problems)
    if evidence is not None and evidence is not Evidence.ILLUSTRATIVE:
        if text["citation"] is None and "citation" not in values:
            problems.add(where, "source.citation", f"a {evidence.label} needs a citation",
                         hint="or mark the entry 'evidence: illustrative'")
        if evidence.needs_url and text["url"] is None and "url" not in values:
            problems.add(where, "source.url", f"a {evidence.label} needs the URL of its source",
                         hint="or mark the entry 'evidence: illustrative'")
    url = values.get("url")
    if text["url"] is not None and not _URL.match(text["url"]):
        problems.add(url.line, "source.url", f"{text['url']!r} is not a web address "
                     "(http:// or https://)")
    if len(problems.items) > before or evidence is None or lines is None:
        return None
    return Comparator(tumour_type=" ".join(text["tumour_type"].split()), lines=lines,
                      evidence=evidence, citation=text["citation"], url=text["url"],
                      treatment=text["treatment"], note=text["note"], file=problems.file,
                      where=where, **figures)


def _text(at: _At | None, key: str, problems: _Problems) -> str | None:
    if at is None:
        return None
    if not isinstance(at.value, str) or not at.value.strip():
        problems.add(at.line, key, f"{key} must be text, not {_shown(at.value)}")
        return None
    return at.value.strip()


def _shown(value: Any) -> str:
    return "empty" if value is None or value == "" else repr(value)


def _figure(at: _At | None, key: str, problems: _Problems) -> float | None:
    if at is None:
        return None
    value = at.value
    if isinstance(value, str):  # CSV cells are text
        try:
            value = float(value)
        except ValueError:
            value = at.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.add(at.line, key, f"{key} must be a number, not {_shown(at.value)}",
                     hint="leave it out when the source does not give it")
        return None
    value = float(value)
    if key == "orr_percent" and not 0.0 <= value <= 100.0:
        problems.add(at.line, key, f"orr_percent is a percentage between 0 and 100, not {value:g}")
        return None
    if key != "orr_percent" and not value > 0.0:
        problems.add(at.line, key, f"{key} must be a positive number of months, not {value:g}")
        return None
    return value


def _lines(at: _At | None, problems: _Problems) -> LineOfTherapy | None:
    if at is None:
        return LineOfTherapy()
    value = at.value
    if isinstance(value, str):
        text = value.strip()
        if text.casefold() in _ANY_LINE_WORDS:
            return LineOfTherapy()
        if text.isdigit():
            value = int(text)
        elif (match := _LINE_FROM.match(text)) is not None:
            start = int(match.group(1))
            if start >= 1:
                return LineOfTherapy(from_line=start)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return LineOfTherapy(line=value)
    problems.add(at.line, "line", f"line must be a line of therapy such as 2 (second line), "
                 f"'3+' (third line or later) or 'any', not {_shown(value)}")
    return None


def _evidence(at: _At | None, where: int, problems: _Problems) -> Evidence | None:
    kinds = ", ".join(e.value for e in Evidence)
    if at is None:
        problems.add(where, "evidence", f"every comparator needs 'evidence:', one of {kinds}")
        return None
    word = str(at.value).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Evidence(word)
    except ValueError:
        problems.add(at.line, "evidence", f"evidence must be one of {kinds}, not "
                     f"{_shown(at.value)}")
        return None


def _check_duplicates(entries: Sequence[Comparator], problems: _Problems) -> None:
    seen: dict[tuple[str, str], Comparator] = {}
    for entry in entries:
        key = (normalise_tumour_type(entry.tumour_type), entry.lines.label)
        if key in seen and seen[key].where == entry.where:  # one entry listed twice via *alias
            problems.add(entry.where, "tumour_type", f"the comparator for "
                         f"{entry.tumour_type!r}, line {entry.lines.label}, is listed twice "
                         "(a YAML alias repeats it)",
                         hint="keep one entry per tumour type and line")
        elif key in seen:
            problems.add(entry.where, "tumour_type", f"a second comparator for "
                         f"{entry.tumour_type!r}, line {entry.lines.label}: the first is at "
                         f"{problems.unit} {seen[key].where}",
                         hint="keep one entry per tumour type and line")
        else:
            seen[key] = entry
