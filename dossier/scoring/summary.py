"""Summary files: the published results of a study, written by hand, scored like a cohort.

YAML: a list of entries (or ``studies:`` / ``cohorts:`` holding one), each with an ``id`` and a
``metrics`` mapping (optionally ``title``, ``source``, ``notes``)::

    studies:
      - id: keynote-158-msi
        source: https://doi.org/10.1200/JCO.19.02105
        metrics: {orr: 0.34, dor_median_months: NR, dor_followup_months: 37.5}

CSV: one row per entry, an ``id`` column and one column per metric (blank = not given); or the
long form with columns ``id, metric, value``. Metric names are those of contract E plus any
input a loaded rule file declares. Every problem is reported at once with file and line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dossier.scoring.metrics import (
    METRICS,
    RENAMED,
    MetricSpec,
    MetricValueError,
    normalise_value,
)
from dossier.suggest import did_you_mean
from dossier.yamlfile import (
    FileCheckError,
    LineDict,
    LineList,
    Problem,
    ProblemLog,
    load_yaml,
)

SummaryFileError = FileCheckError
"""A summary file that cannot be used; the message names the file and the line."""

ENTRY_KEYS = ("id", "title", "source", "notes", "metrics")
LIST_KEYS = ("studies", "cohorts", "entries")
CSV_TEXT_COLUMNS = ("id", "title", "source", "notes")


@dataclass(frozen=True)
class SummaryEntry:
    """One published study (or cohort) and its metrics, checked and in canonical form."""

    id: str
    metrics: dict[str, object]
    title: str = ""
    source: str = ""
    notes: str = ""
    line: int = 0
    file: str = field(default="", compare=False)


def _check_metrics(raw: Mapping[object, object], specs: Mapping[str, MetricSpec],
                   log: ProblemLog, line_of: Mapping[object, int], where: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in raw.items():
        line = line_of.get(name, 0)
        spec = specs.get(str(name))
        if spec is None and str(name) in RENAMED:
            log.add(line, f"{where}metric {name!r} is now called {RENAMED[str(name)]!r} (stage "
                    "counts are named by stage; the stage's size is the rule file's 'of:')")
            continue
        if spec is None:
            log.add(line, f"{where}unknown metric {name!r}{did_you_mean(str(name), list(specs))}")
            continue
        try:
            checked = normalise_value(spec, value)
        except MetricValueError as exc:
            log.add(line, f"{where}{exc}")
            continue
        if checked is not None:
            out[spec.name] = checked
    return out


def _yaml_entries(doc: object, path: Path, specs: Mapping[str, MetricSpec]) -> list[SummaryEntry]:
    log = ProblemLog(path)
    items = doc
    if isinstance(doc, LineDict):
        keys = [k for k in LIST_KEYS if k in doc]
        if len(keys) != 1 or len(doc) != 1:
            log.add(doc.line, f"a summary file is a list of entries, or one of "
                              f"{', '.join(LIST_KEYS)} holding that list")
            log.raise_if_any()
        items = doc[keys[0]]
    if not isinstance(items, LineList) or not items:
        log.add(getattr(items, "line", 0) or 1, "no entries: expected a list of mappings, each "
                                                 "with id and metrics")
        log.raise_if_any()
    out: list[SummaryEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):  # type: ignore[arg-type]
        line = items.line_of(index)  # type: ignore[union-attr]
        if not isinstance(item, LineDict):
            log.add(line, f"each entry must be a mapping with id and metrics, not {item!r}")
            continue
        for key in item:
            if key not in ENTRY_KEYS:
                hint = " (put metrics under 'metrics:')" if key in specs else \
                    did_you_mean(str(key), ENTRY_KEYS)
                log.add(item.line_of(key), f"unknown key {key!r} in an entry{hint}; "
                                           f"allowed: {', '.join(ENTRY_KEYS)}")
        ident = item.get("id")
        if not isinstance(ident, str | int) or isinstance(ident, bool) or not str(ident).strip():
            log.add(item.line_of("id"), "each entry needs an id (text)")
            continue
        ident = str(ident).strip()
        if ident in seen:
            log.add(item.line_of("id"), f"id {ident!r} is used twice (first on line "
                                        f"{seen[ident]})")
        seen.setdefault(ident, item.line_of("id"))
        metrics = item.get("metrics")
        if not isinstance(metrics, LineDict) or not metrics:
            log.add(item.line_of("metrics"), f"entry {ident!r} needs a metrics mapping "
                                             "(metric name: value)")
            continue
        checked = _check_metrics(metrics, specs, log, metrics.lines, f"entry {ident!r}: ")
        text = {k: str(item.get(k, "") or "") for k in ("title", "source", "notes")}
        out.append(SummaryEntry(ident, checked, line=line, file=str(path), **text))
    log.raise_if_any()
    return out


def _csv_entries(text: str, path: Path, specs: Mapping[str, MetricSpec]) -> list[SummaryEntry]:
    log = ProblemLog(path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        log.add(1, "empty file: expected a header row with id and metric columns")
        log.raise_if_any()
    header = [cell.strip() for cell in rows[0]]
    if "id" not in header:
        log.add(1, f"the header needs an 'id' column; found {', '.join(header)}")
        log.raise_if_any()
    long_form = set(header) == {"id", "metric", "value"}
    if not long_form:
        for column in header:
            if column and column not in CSV_TEXT_COLUMNS and column not in specs:
                known = list(specs)
                log.add(1, f"column {column!r} is now called {RENAMED[column]!r}" if column in
                        RENAMED else f"unknown column {column!r}{did_you_mean(column, known)}")
    grouped: dict[str, dict[str, object]] = {}
    lines: dict[str, int] = {}
    text_fields: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        ident = cells.get("id", "")
        if not ident:
            log.add(number, "row without an id")
            continue
        if long_form:
            name, value = cells.get("metric", ""), cells.get("value", "")
            metrics = grouped.setdefault(ident, {})
            if name in metrics:
                log.add(number, f"entry {ident!r}: metric {name!r} given twice")
            checked = _check_metrics({name: value}, specs, log, {name: number},
                                     f"entry {ident!r}: ")
            metrics.update(checked)
            lines.setdefault(ident, number)
            continue
        if ident in grouped:
            log.add(number, f"id {ident!r} is used twice (first on line {lines[ident]})")
            continue
        raw = {k: v for k, v in cells.items() if k not in CSV_TEXT_COLUMNS and k in specs}
        grouped[ident] = _check_metrics(raw, specs, log, dict.fromkeys(raw, number),
                                        f"entry {ident!r}, column ")
        lines[ident] = number
        text_fields[ident] = {k: cells.get(k, "") for k in ("title", "source", "notes")}
    if not grouped and not log.problems:
        log.add(1, "no entries below the header")
    log.raise_if_any()
    return [SummaryEntry(ident, metrics, line=lines[ident], file=str(path),
                         **text_fields.get(ident, {}))
            for ident, metrics in grouped.items()]


def read_summary(path: str | Path, specs: Mapping[str, MetricSpec] | None = None
                 ) -> list[SummaryEntry]:
    """Read a YAML or CSV summary file into checked entries.

    Parameters
    ----------
    path
        ``.yaml`` / ``.yml`` or ``.csv``.
    specs
        Metric names allowed (default: contract E and dossier's extensions); pass
        ``RuleBook.metric_specs()`` so inputs declared by rule files are accepted too.

    Raises
    ------
    SummaryFileError
        Listing every problem with the file and line.
    """
    path = Path(path)
    specs = dict(specs) if specs is not None else dict(METRICS)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _yaml_entries(load_yaml(path), path, specs)
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise SummaryFileError(path, [Problem(0, f"cannot read the file: {exc.strerror}")]) \
                from exc
        return _csv_entries(text, path, specs)
    raise SummaryFileError(path, [Problem(0, "a summary file must be .yaml, .yml or .csv")])
