"""Check a patient registry against the declared schema and report every problem at once.

Validation is lazy, as in pandera: nothing stops at the first problem; each one becomes an
:class:`Issue` that names the file, the row as the user counts it, the column, the value and a
short rule id, so a data manager can fix a whole file in one pass. Errors stop the analysis;
warnings (small cohorts, absent optional columns, ...) are printed but do not.

The checks run in three layers:

1. columns: required columns present (with "did you mean" for a misspelt one), no column twice;
2. cells: each value read as its declared kind (date, number, boolean, ...) and then checked
   against the declared allowed values and bounds by a pandera schema built from
   ``dossier.registry.schema`` (lazy validation; its failure cases become Issues);
3. rows: what one column says about another (PFS after death, a response after progression,
   date and days disagreeing, duplicate patient ids, ...) and cohort sizes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from rich.markup import escape
from rich.table import Table

from dossier.registry.readers import (
    DATE_YEARS,
    INVALID,
    ColumnMatch,
    RawTable,
    SourceFile,
    closest_name,
    is_blank,
    match_columns,
    parse_boolean,
    parse_category,
    parse_date,
    parse_event,
    parse_number,
    parse_text,
    patient_columns,
    show_value,
)
from dossier.registry.schema import (
    COHORT_KEYS,
    EARLIEST_PLAUSIBLE_YEAR,
    FIRST_ASSESSMENT_WINDOW_DAYS,
    FUTURE_TOLERANCE_DAYS,
    MAX_PLAUSIBLE_DAYS,
    TIME_FIELDS,
    Column,
    default_cohort_id,
)
from dossier.resources import drup_stage_sizes

Severity = Literal["error", "warning"]


DAYS_TOLERANCE = 0.5
"""A date and a days value for the same time agree when they differ by at most half a day."""

_MISSING_WORDS = {"na", "n/a", "#n/a", "nan", "null", "none", ".", "-", "missing", "unknown",
                  "nd", "nk"}


@dataclass(frozen=True)
class Issue:
    """One problem in one place: which file, row (as the user counts it), column and value."""

    severity: Severity
    rule: str
    message: str
    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    patient_id: str | None = None

    @property
    def location(self) -> str:
        """'registry.csv row 5, column pfs_days' (the parts that apply)."""
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Decision:
    """How an input was mapped or derived, for the report and the methods section.

    Not a problem: a statement of what dossier did with the data (ADaM input states every
    mapping choice: which variable became which column, which records were used, and why).
    """

    topic: str
    text: str
    file: str = ""
    column: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    """Every issue found in a registry (errors first), with how each file numbers its rows."""

    issues: tuple[Issue, ...] = ()
    sources: tuple[SourceFile, ...] = ()
    n_patients: int = 0
    n_cohorts: int = 0
    decisions: tuple[Decision, ...] = ()  # how the input was mapped (ADaM); empty otherwise

    @classmethod
    def of(cls, issues: Sequence[Issue], sources: Sequence[SourceFile], n_patients: int = 0,
           n_cohorts: int = 0, decisions: Sequence[Decision] = ()) -> ValidationReport:
        """Build a report, ordering issues by severity, file and row (stable within a row)."""
        order = {s.name: i for i, s in enumerate(sources)}
        ranked = sorted(issues, key=lambda i: (i.severity != "error", order.get(i.file, 99),
                                               -1 if i.row is None else i.row))
        return cls(tuple(ranked), tuple(sources), n_patients, n_cohorts, tuple(decisions))

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings do not fail a registry)."""
        return not self.errors

    def summary(self) -> str:
        """'registry.csv: 1,610 patients, 87 cohorts, 0 errors, 2 warnings'."""
        name = self.sources[0].name if self.sources else "registry"
        return (f"{name}: {_count(self.n_patients, 'patient')}, "
                f"{_count(self.n_cohorts, 'cohort')}, {_count(len(self.errors), 'error')}, "
                f"{_count(len(self.warnings), 'warning')}")

    def legend(self) -> list[str]:
        """How each file's rows are numbered, one line per file."""
        return [s.legend for s in self.sources]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts, files with their row numbering, and every issue."""
        return {
            "ok": self.ok,
            "n_patients": self.n_patients,
            "n_cohorts": self.n_cohorts,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "files": [{"file": s.name, "role": s.role, "row_numbering": s.numbering,
                       "legend": s.legend} for s in self.sources],
            "issues": [asdict(i) for i in self.issues],
        } | ({"decisions": [asdict(d) for d in self.decisions]} if self.decisions else {})

    def decisions_table(self) -> Table:
        """The mapping decisions (ADaM input) as a rich table: topic, file, column, decision."""
        table = Table(show_lines=False, expand=False, title="Mapping decisions")
        table.add_column("topic", no_wrap=True)
        table.add_column("file", overflow="fold")
        table.add_column("column", overflow="fold", max_width=24)
        table.add_column("decision", overflow="fold", min_width=40)
        for d in self.decisions:
            table.add_row(escape(d.topic), escape(d.file), escape(d.column or ""), escape(d.text))
        return table

    def to_table(self, limit: int | None = None) -> Table:
        """The issues as a rich table (errors first); ``limit`` caps the rows shown.

        The file column is shown only when the report covers more than one file.
        """
        with_file = len({s.name for s in self.sources} | {i.file for i in self.issues}) > 1
        table = Table(show_lines=False, expand=False)
        table.add_column("severity", no_wrap=True)
        if with_file:
            table.add_column("file", overflow="fold")
        table.add_column("row", justify="right", no_wrap=True)
        table.add_column("column", overflow="fold", max_width=28)
        table.add_column("value", overflow="fold", max_width=24)
        table.add_column("rule", no_wrap=True)
        table.add_column("message", overflow="fold", min_width=30)
        shown = self.issues if limit is None else self.issues[:limit]
        for i in shown:
            style = "bold red" if i.severity == "error" else "yellow"
            cells = [f"[{style}]{i.severity}[/]"] + ([i.file] if with_file else [])
            cells += ["" if i.row is None else str(i.row), i.column or "",
                      "" if i.value is None else i.value, i.rule, i.message]
            table.add_row(*(escape(c) if k else c for k, c in enumerate(cells)))
        return table


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class IssueLog:
    """Collects issues for one source file while the checks run."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.items: list[Issue] = []
        self.patient_ids: dict[int, str] = {}

    def add(self, severity: Severity, rule: str, message: str, row: int | None = None,
            column: str | None = None, value: object = None) -> None:
        shown = value if isinstance(value, str) or value is None else show_value(value)
        pid = self.patient_ids.get(row) if row is not None else None
        self.items.append(Issue(severity, rule, message, self.source.name,
                                None if row is None else int(row), column, shown, pid))

    def error(self, rule: str, message: str, row: int | None = None, column: str | None = None,
              value: object = None) -> None:
        self.add("error", rule, message, row, column, value)

    def warning(self, rule: str, message: str, row: int | None = None,
                column: str | None = None, value: object = None) -> None:
        self.add("warning", rule, message, row, column, value)


# ---------------------------------------------------------------------------------------------
# Cells: read each value as its declared kind, then check allowed values and bounds (pandera)

_PARSE_RULE = {"date": "invalid_date", "number": "invalid_number", "integer": "invalid_number",
               "boolean": "invalid_boolean", "event": "invalid_event_flag"}
_ALLOWED_RULE = {"best_response": "unknown_response_code", "stage": "invalid_stage"}


def _parse_message(col: Column, value: object) -> str:
    what = {
        "date": "a date written YYYY-MM-DD (day-first or month-first dates are not guessed)",
        "number": "a number" + (f" of {col.unit}" if col.unit else ""),
        "integer": "a whole number",
        "boolean": "1/0, true/false, yes/no, y/n or t/f",
        "event": "1 (event) or 0 (censored)",
    }[col.kind]
    text = f"{col.name} must be {what}; got {show_value(value)!r}"
    if col.kind == "date" and _looks_like_date(value):
        text = (f"{col.name} {show_value(value)} is not a calendar date in the years "
                f"{DATE_YEARS[0]}-{DATE_YEARS[1]}")
    if isinstance(value, str) and value.strip().lower() in _MISSING_WORDS:
        text += "; leave the cell blank for a missing value"
    return text


def _looks_like_date(value: object) -> bool:
    if isinstance(value, dt.date | np.datetime64):
        return True
    return isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value.strip()) is not None


def _parser(col: Column) -> Callable[[object], Any]:
    if col.kind == "date":
        return parse_date
    if col.kind in ("number", "integer"):
        return parse_number
    if col.kind == "event":
        return parse_event
    if col.kind == "boolean":
        return parse_boolean
    if col.kind == "category":
        return lambda v: parse_category(v, col.allowed)
    return parse_text


def _typed(values: list[Any], col: Column, index: pd.Index) -> pd.Series:
    if col.kind == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(
            "datetime64[ns]"), index=index, name=col.name)
    if col.kind in ("number", "integer", "event"):
        return pd.Series([np.nan if v is None else v for v in values], index=index,
                         dtype="float64", name=col.name)
    if col.kind == "boolean":
        return pd.Series(values, index=index, dtype="boolean", name=col.name)
    return pd.Series(values, index=index, dtype=object, name=col.name)


def empty_column(col: Column, index: pd.Index) -> pd.Series:
    """An all-missing column of the kind ``col`` declares (for an absent optional column)."""
    return _typed([None] * len(index), col, index)


def _bounds_rule(col: Column) -> str:
    if col.name == "response_days":
        return "response_before_treatment_start"
    if col.unit == "days" and col.minimum == 0 and col.maximum is None:
        return "negative_days"
    return "out_of_range"


def _bounds_message(col: Column, value: str | None) -> str:
    if col.name == "response_days":
        return f"response_days {value} is negative: the response is before treatment start"
    if col.name in {tf.days_column for tf in TIME_FIELDS}:
        return f"{col.name} {value} is negative: a time cannot fall before treatment start"
    if _bounds_rule(col) == "negative_days":
        return f"{col.name} {value} is negative: a duration cannot be negative"
    return f"{col.name} {value} is outside the allowed range ({col.allowed_text})"


@cache
def _value_checks(columns: tuple[Column, ...]) -> tuple[Any, dict[tuple[str, int], str]]:
    """The pandera schema for allowed values and bounds, and (column, check no.) -> rule id."""
    try:
        import pandera.pandas as pa
    except ImportError:  # pandera < 0.24 has no pandera.pandas namespace
        import pandera as pa  # type: ignore[no-redef]

    schema_columns: dict[str, Any] = {}
    rules: dict[tuple[str, int], str] = {}
    for col in columns:
        checks: list[tuple[str, Any]] = []
        if col.allowed:
            checks.append((_ALLOWED_RULE.get(col.name, "value_not_allowed"),
                           pa.Check.isin(list(col.allowed))))
        if col.kind == "event":
            checks.append(("invalid_event_flag", pa.Check.isin([0.0, 1.0])))
        if col.kind == "integer":
            checks.append(("not_integer", pa.Check(lambda s: s == np.floor(s))))
        if col.minimum is not None and col.maximum is not None:
            checks.append((_bounds_rule(col), pa.Check.in_range(col.minimum, col.maximum)))
        elif col.minimum is not None:
            checks.append((_bounds_rule(col), pa.Check.ge(col.minimum)))
        elif col.maximum is not None:
            checks.append((_bounds_rule(col), pa.Check.le(col.maximum)))
        if checks:
            schema_columns[col.name] = pa.Column(checks=[c for _, c in checks], nullable=True,
                                                 required=False)
            rules.update({(col.name, k): rule for k, (rule, _) in enumerate(checks)})
    return pa.DataFrameSchema(schema_columns), rules


def _value_message(rule: str, col: Column, value: str | None) -> str:
    text = _value_text(rule, col, value)
    if value is not None and value.strip().lower() in _MISSING_WORDS:
        text += "; leave the cell blank for a missing value"
    return text


def _value_text(rule: str, col: Column, value: str | None) -> str:
    if rule == "unknown_response_code":
        return (f"best_response {value!r} is not a RECIST 1.1 code; use one of "
                f"{', '.join(col.allowed)}")
    if rule in ("invalid_stage", "value_not_allowed"):
        return f"{col.name} {value!r} is not allowed; use one of {', '.join(col.allowed)}"
    if rule == "invalid_event_flag":
        return f"{col.name} must be 1 (event) or 0 (censored); got {value}"
    if rule == "not_integer":
        return f"{col.name} must be a whole number; got {value}"
    return _bounds_message(col, value)


def check_cells(cells: dict[str, pd.Series], columns: Sequence[Column], index: pd.Index,
                log: IssueLog) -> pd.DataFrame:
    """Read every cell as its column's kind and check it; invalid cells become missing.

    ``cells`` maps canonical names to the raw source cells; declared columns not in it come back
    all-missing. Required columns must not have blank cells.
    """
    import pandera.errors as pa_errors

    typed: dict[str, pd.Series] = {}
    for col in columns:
        raw = cells.get(col.name)
        if raw is None:
            typed[col.name] = empty_column(col, index)
            continue
        parse = _parser(col)
        values: list[Any] = []
        for row, value in raw.items():
            parsed = parse(value)
            if parsed is INVALID:
                log.error(_PARSE_RULE[col.kind], _parse_message(col, value), row, col.name, value)
                parsed = None
            elif parsed is None and col.required:
                log.error("missing_value", f"{col.name} is required; the cell is blank", row,
                          col.name)
            values.append(parsed)
        typed[col.name] = _typed(values, col, index)
    frame = pd.DataFrame(typed, index=index)
    schema, rules = _value_checks(tuple(columns))
    try:
        schema.validate(frame[[c for c in schema.columns if c in cells]], lazy=True)
    except pa_errors.SchemaErrors as exc:
        for case in exc.failure_cases.to_dict("records"):
            rule = rules.get((case["column"], int(case["check_number"])))
            if rule is None or pd.isna(case["index"]):
                raise  # not a cell-level failure of a check declared above: a bug, not data
            row = int(case["index"])
            col = next(c for c in columns if c.name == case["column"])
            value = show_value(cells[col.name].loc[row])
            log.error(rule, _value_message(rule, col, value), row, col.name, value)
            frame.loc[row, col.name] = np.nan if col.kind in ("number", "integer",
                                                              "event") else None
    return frame


# ---------------------------------------------------------------------------------------------
# The patient file


@dataclass(frozen=True, eq=False)  # holds DataFrames: compare by identity
class PatientCheck:
    """Typed patient cells (index = user row) with derived days, the issues, and which
    canonical columns the file supplied."""

    frame: pd.DataFrame
    issues: tuple[Issue, ...]
    present: frozenset[str]

    @property
    def cohort_ids(self) -> list[str]:
        """Distinct cohort ids in order of first appearance."""
        return list(dict.fromkeys(v for v in self.frame["cohort_id"] if isinstance(v, str)))


_OPTIONAL_ABSENT = {
    "cohort_id": "cohorts are formed as '<drug> | <tumour_type> | <alteration>'",
    "best_response": "response rates cannot be computed",
    "response_confirmed": "objective responses cannot be told from unconfirmed ones",
    "worst_ae_grade": "the grade >= 3 adverse-event rate cannot be computed",
    "prior_lines": "results cannot be grouped by prior lines",
    "prior_pfs_days": "the PFS ratio cannot be computed",
}


def check_patients(raw: RawTable) -> PatientCheck:
    """Run every patient-file check; the returned frame has invalid cells set to missing."""
    log = IssueLog(raw.source)
    columns = patient_columns()
    match = match_columns(raw.frame.columns, columns)
    _check_columns(match, log)
    index = raw.frame.index
    cells = {canon: raw.frame.iloc[:, pos] for canon, pos in match.mapping.items()}
    if len(index) == 0:
        log.error("no_patients", "the file has no patient rows")
    if "patient_id" in cells:
        log.patient_ids = {r: t for r, v in cells["patient_id"].items()
                           if (t := parse_text(v)) is not None}
    frame = check_cells(cells, columns, index, log)
    _normalise_keys(frame, log)
    _check_plausible(frame, columns, log)
    _check_duplicates(frame, log)
    _derive_times(frame, cells, log)
    _check_times(frame, log)
    _check_future(frame, log)
    _check_responses(frame, cells, log)
    _check_early_progression(frame, log)
    _check_diagnosis(frame, log)
    _fill_cohorts(frame)
    _check_cohort_sizes(frame, cells, log)
    return PatientCheck(frame, tuple(log.items), frozenset(cells))


def _check_columns(match: ColumnMatch, log: IssueLog) -> None:
    for canonical, pos in match.duplicates:
        log.error("duplicate_column", f"columns {match.source_name(canonical)!r} and "
                  f"{match.names[pos]!r} both supply {canonical}; keep one", None, canonical)
    for col in patient_columns():
        if col.name in match.mapping or not (col.required or col.name in _OPTIONAL_ABSENT):
            continue
        if col.required:
            hint = match.suggest(col.name)
            text = f"required column {col.name} is missing"
            if hint:
                text += f"; did you mean {hint!r}? (rename that column to {col.name})"
            log.error("missing_required_column", text, None, col.name)
        else:
            log.warning("optional_column_absent", f"optional column {col.name} is absent: "
                        f"{_OPTIONAL_ABSENT[col.name]}", None, col.name)
    for tf in TIME_FIELDS:
        if tf.date_column in match.mapping or tf.days_column in match.mapping:
            continue
        pair = f"{tf.date_column}/{tf.days_column}"
        if tf.required:
            hint = match.suggest(tf.days_column) or match.suggest(tf.date_column)
            text = f"required time {tf.stem} is missing: give a {tf.date_column} or a " \
                   f"{tf.days_column} column"
            if hint:
                text += f"; did you mean {hint!r}?"
            log.error("missing_required_column", text, None, pair)
        else:
            log.warning("optional_column_absent", f"optional time {tf.stem} ({pair}) is absent: "
                        "duration of response cannot be computed", None, pair)
    known = [c.name for c in patient_columns()]
    for pos in match.unknown:
        name = match.names[pos]
        if not name.strip():
            log.warning("unknown_column", f"column {pos + 1} has no header; it is ignored")
            continue
        hint = closest_name(name, known)
        text = f"column {name!r} is not a dossier column; it is ignored"
        log.warning("unknown_column", text + (f" (did you mean {hint!r}?)" if hint else ""),
                    None, name)


def normalise_key(value: object) -> object:
    """A cohort key with surrounding and repeated inner spaces removed ('Erlotinib ' ->
    'Erlotinib'); anything that is not text is returned as it is."""
    return " ".join(value.split()) if isinstance(value, str) else value


MAX_LISTED_ROWS = 5
"""How many rows a message lists before it says 'and N more'."""


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
    more = len(rows) - MAX_LISTED_ROWS
    return f"row{'s' if len(rows) > 1 else ''} {shown}" + (f" and {more} more" if more > 0 else "")


def _normalise_keys(frame: pd.DataFrame, log: IssueLog) -> None:
    """Normalise spaces in the cohort keys; spellings differing only in case are errors.

    An error rather than a warning: which spelling is right (a gene, a variant, a brand) is
    the data manager's call, and a warning would still leave one cohort split in two.
    """
    for name in ("cohort_id", *COHORT_KEYS):
        frame[name] = frame[name].map(normalise_key).astype(object)
        spellings: dict[str, dict[str, list[int]]] = {}
        for row, value in frame[name].items():
            if isinstance(value, str):
                spellings.setdefault(value.casefold(), {}).setdefault(value, []).append(int(row))
        for variants in spellings.values():
            if len(variants) < 2:
                continue
            main = max(variants, key=lambda v: len(variants[v]))  # most rows; first on a tie
            for value, rows in variants.items():
                if value == main:
                    continue
                for row in rows:
                    log.error("key_case_mismatch", f"{name} {value!r} differs only in case from "
                              f"{main!r} ({_rows_text(variants[main])}); write it one way, or "
                              "the cohort is split in two", row, name, value)


def _check_plausible(frame: pd.DataFrame, columns: Sequence[Column], log: IssueLog) -> None:
    """Warnings for values that are possible but implausible (schema: warn_below/warn_above)."""
    for col in columns:
        if col.name not in frame or (col.warn_below is None and col.warn_above is None):
            continue
        values = frame[col.name].astype("float64")
        unit = f" {col.unit}" if col.unit else ""
        if col.warn_below is not None:
            for row in values.index[values < col.warn_below]:
                log.warning("implausible_value", f"{col.name} {values[row]:g} is below "
                            f"{col.warn_below:g}{unit}: implausible; check the value", row,
                            col.name, values[row])
        if col.warn_above is not None:
            for row in values.index[values > col.warn_above]:
                log.warning("implausible_value", f"{col.name} {values[row]:g} is above "
                            f"{col.warn_above:g}{unit}: implausible; check the value", row,
                            col.name, values[row])
    for col in columns:
        if col.kind != "date" or col.name not in frame:
            continue
        dates = frame[col.name]
        for row in dates.index[dates.dt.year < EARLIEST_PLAUSIBLE_YEAR]:
            log.warning("implausible_date", f"{col.name} {show_value(dates[row])} is before "
                        f"{EARLIEST_PLAUSIBLE_YEAR}: implausible for this registry; check the "
                        "year", row, col.name, dates[row])


def _today() -> pd.Timestamp:
    """The day of the run (dates after it are in the future)."""
    return pd.Timestamp(dt.date.today())


def _check_future(frame: pd.DataFrame, log: IssueLog) -> None:
    """Dates in the future are errors, written as dates or as treatment_start plus days."""
    latest = _today() + pd.Timedelta(days=FUTURE_TOLERANCE_DAYS)
    columns = ["treatment_start"] + [tf.date_column for tf in TIME_FIELDS]
    for name in columns:
        dates = frame[name]
        for row in dates.index[dates > latest]:
            log.error("date_in_future", f"{name} {show_value(dates[row])} is in the future "
                      f"(after {show_value(_today())}); a registry records what has happened",
                      row, name, dates[row])
    start = frame["treatment_start"]
    for tf in TIME_FIELDS:
        time = frame[f"{tf.stem}_time"]
        from_days = frame[f"{tf.stem}_time_column"] == tf.days_column
        when = start + pd.to_timedelta(time.clip(upper=MAX_PLAUSIBLE_DAYS), unit="D")
        # a time over MAX_PLAUSIBLE_DAYS or a future start is reported once, by its own rule
        plausible = (time <= MAX_PLAUSIBLE_DAYS) & (start <= latest)
        for row in when.index[from_days & plausible & (when > latest)]:
            log.error("date_in_future", f"treatment_start {show_value(start[row])} plus "
                      f"{tf.days_column} {frame.at[row, f'{tf.stem}_time']:g} is "
                      f"{show_value(when[row])}, in the future (after {show_value(_today())})",
                      row, tf.days_column, frame.at[row, f"{tf.stem}_time"])


def _check_early_progression(frame: pd.DataFrame, log: IssueLog) -> None:
    """PD is the response at the first assessment: a PFS time far beyond it is suspect."""
    evaluable = _true(frame["response_evaluable"])
    late = (frame["best_response"] == "PD").to_numpy(dtype=bool) & evaluable & \
        (frame["pfs_time"] > FIRST_ASSESSMENT_WINDOW_DAYS).to_numpy(dtype=bool)
    for row in frame.index[late]:
        column, value = _where(frame, "pfs", row)
        log.warning("pd_after_first_assessment", f"best response PD, but PFS is "
                    f"{frame.at[row, 'pfs_time']:g} days, longer than the first assessment "
                    f"window ({FIRST_ASSESSMENT_WINDOW_DAYS} days: first assessment at about 8 "
                    "weeks plus a 4-week window); check best_response and the PFS time", row,
                    column, value)


def _check_diagnosis(frame: pd.DataFrame, log: IssueLog) -> None:
    """A cancer is diagnosed before it is treated: diagnosis_date after treatment_start is wrong."""
    late = frame["diagnosis_date"] > frame["treatment_start"]
    for row in frame.index[late.to_numpy(dtype=bool)]:
        diagnosed, start = frame.at[row, "diagnosis_date"], frame.at[row, "treatment_start"]
        log.error("diagnosis_after_start", f"diagnosis_date {show_value(diagnosed)} is after "
                  f"treatment_start {show_value(start)}; a cancer is diagnosed before it is "
                  "treated", row, "diagnosis_date", diagnosed)


def _check_duplicates(frame: pd.DataFrame, log: IssueLog) -> None:
    first: dict[str, int] = {}
    for row, pid in frame["patient_id"].items():
        if pid is None:
            continue
        if pid in first:
            log.error("duplicate_patient_id", f"patient_id {pid!r} duplicates row {first[pid]}",
                      row, "patient_id", pid)
        else:
            first[pid] = int(row)


def _given(cells: dict[str, pd.Series], name: str, index: pd.Index) -> pd.Series:
    """True where the source has a non-blank cell in column ``name``."""
    if name not in cells:
        return pd.Series(False, index=index)
    return cells[name].map(lambda v: not is_blank(v)).astype(bool)


def _derive_times(frame: pd.DataFrame, cells: dict[str, pd.Series], log: IssueLog) -> None:
    """Turn each time into days since treatment_start (days column first, else the date)."""
    start = frame["treatment_start"]
    for tf in TIME_FIELDS:
        date_col, days_col = tf.date_column, tf.days_column
        from_date = (frame[date_col] - start).dt.days.astype("float64")
        days = frame[days_col].copy()
        before = from_date < 0
        rule = ("response_before_treatment_start" if tf.stem == "response"
                else "date_before_treatment_start")
        for row in from_date.index[before]:
            log.error(rule, f"{date_col} {show_value(frame.at[row, date_col])} is before "
                      f"treatment_start {show_value(start[row])}", row, date_col,
                      frame.at[row, date_col])
        from_date[before] = np.nan
        mismatch = from_date.notna() & days.notna() & ((from_date - days).abs() > DAYS_TOLERANCE)
        for row in days.index[mismatch]:
            log.error("time_mismatch", f"{days_col} is {days[row]:g} but {date_col} "
                      f"{show_value(frame.at[row, date_col])} is {from_date[row]:g} days after "
                      f"treatment_start {show_value(start[row])}; they must agree", row,
                      days_col, days[row])
        combined = days.where(days.notna(), from_date)
        combined[mismatch] = np.nan
        source = pd.Series(np.where(days.notna(), days_col, date_col), index=frame.index)
        frame[f"{tf.stem}_time"] = combined
        frame[f"{tf.stem}_time_column"] = source
        if tf.required and (date_col in cells or days_col in cells):
            given = _given(cells, date_col, frame.index) | _given(cells, days_col, frame.index)
            for row in frame.index[~given]:
                log.error("missing_time", f"neither {date_col} nor {days_col} is given; "
                          f"{tf.stem.upper()} needs one of them", row, f"{date_col}/{days_col}")


def _where(frame: pd.DataFrame, stem: str, row: int) -> tuple[str, Any]:
    column = frame.at[row, f"{stem}_time_column"]
    return column, frame.at[row, column]


def _check_times(frame: pd.DataFrame, log: IssueLog) -> None:
    for tf in TIME_FIELDS:
        t = frame[f"{tf.stem}_time"]
        for row in t.index[t > MAX_PLAUSIBLE_DAYS]:
            column, value = _where(frame, tf.stem, row)
            days = f"{t[row]:,.0f}" if t[row] < 1e9 else f"{t[row]:.3g}"
            log.error("implausible_duration", f"{tf.stem} time is {days} days "
                      f"({t[row] / 365.25:.3g} years) after treatment start; more than 20 years "
                      "is taken for a data-entry error", row, column, value)
    pfs, os_, resp = frame["pfs_time"], frame["os_time"], frame["response_time"]
    for row in pfs.index[pfs > os_]:
        column, value = _where(frame, "pfs", row)
        if frame.at[row, "os_event"] == 1:
            log.error("progression_after_death", f"PFS time {pfs[row]:g} days is after death "
                      f"at OS time {os_[row]:g} days (os_event = 1)", row, column, value)
        else:
            log.error("pfs_longer_than_os", f"PFS time {pfs[row]:g} days is longer than OS "
                      f"time {os_[row]:g} days (last contact); PFS cannot exceed OS",
                      row, column, value)
    for row in resp.index[resp > pfs]:
        column, value = _where(frame, "response", row)
        event = frame.at[row, "pfs_event"]
        if event == 1:
            log.error("response_after_progression", f"response at {resp[row]:g} days is after "
                      f"progression at {pfs[row]:g} days", row, column, value)
        elif event == 0:
            log.error("response_after_pfs_censoring", f"response at {resp[row]:g} days is after "
                      f"PFS was censored at {pfs[row]:g} days (the last tumour assessment)",
                      row, column, value)


def _true(series: pd.Series) -> np.ndarray:
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _check_responses(frame: pd.DataFrame, cells: dict[str, pd.Series], log: IssueLog) -> None:
    index = frame.index
    evaluable = _true(frame["response_evaluable"])
    not_evaluable = _true(~frame["response_evaluable"].astype("boolean"))
    bor = frame["best_response"]
    responder = bor.isin(["CR", "PR"]).to_numpy() & evaluable
    if "best_response" not in cells:
        if evaluable.any():
            log.error("missing_required_column", f"column best_response is missing but "
                      f"{evaluable.sum():,} patients are response-evaluable (it is required "
                      "when response_evaluable = 1)", None, "best_response")
    else:
        blank = ~_given(cells, "best_response", index).to_numpy()
        for row in index[evaluable & blank]:
            log.error("evaluable_without_response", "the patient is response-evaluable but "
                      "best_response is blank; give CR, PR, SD, PD or NE (or set "
                      "response_evaluable = 0)", row, "best_response")
        stated = bor.isin(["CR", "PR", "SD", "PD"]).to_numpy()  # NE fits a non-evaluable row
        for row in index[not_evaluable & stated]:
            log.warning("response_not_evaluable", f"best_response {bor[row]} is given for a "
                        "patient who is not response-evaluable; it is ignored", row,
                        "best_response", bor[row])
    confirmed = frame["response_confirmed"]
    if "response_confirmed" not in cells:
        if responder.any():
            log.error("missing_required_column", f"column response_confirmed is missing but "
                      f"{responder.sum():,} patients have CR or PR (confirmation is required "
                      "for CR and PR)", None, "response_confirmed")
    else:
        blank = ~_given(cells, "response_confirmed", index).to_numpy()
        for row in index[responder & blank]:
            log.error("missing_confirmation", f"best_response {bor[row]} needs "
                      "response_confirmed (1 = confirmed by a repeat assessment >= 4 weeks "
                      "later, 0 = not confirmed)", row, "response_confirmed")
    given = (_given(cells, "response_date", index) | _given(cells, "response_days", index))
    given_arr = given.to_numpy()
    pair = "response_date/response_days"
    counted = responder & ~_true(~confirmed.astype("boolean"))  # confirmed or unknown
    for row in index[counted & ~given_arr]:
        log.warning("missing_response_date", f"no response date for a {bor[row]}: the "
                    "duration of response cannot be computed for this patient", row, pair)
    stated = (evaluable & bor.notna().to_numpy()) | not_evaluable
    for row in index[given_arr & ~responder & stated]:
        column, value = _where(frame, "response", row)
        what = f"best response {bor[row]}" if evaluable[index.get_loc(row)] else \
            "a patient who is not response-evaluable"
        log.warning("response_time_ignored", f"a response time is given for {what}; it is "
                    "ignored (duration of response counts CR and PR only)", row, column, value)


def _fill_cohorts(frame: pd.DataFrame) -> None:
    """Blank cohort ids become '<drug> | <tumour_type> | <alteration>' (all three known)."""
    filled = []
    for cid, drug, tumour, alt in zip(frame["cohort_id"], frame["drug"], frame["tumour_type"],
                                      frame["alteration"], strict=True):
        if cid is None and None not in (drug, tumour, alt):
            cid = default_cohort_id(drug, tumour, alt)
        filled.append(cid)
    frame["cohort_id"] = pd.Series(filled, index=frame.index, dtype=object)


def _check_cohort_sizes(frame: pd.DataFrame, cells: dict[str, pd.Series], log: IssueLog) -> None:
    if "response_evaluable" not in cells or frame.empty:
        return
    counts = (pd.DataFrame({"cohort": frame["cohort_id"],
                            "evaluable": _true(frame["response_evaluable"])})
              .dropna(subset=["cohort"]).groupby("cohort", sort=False)["evaluable"].sum())
    stage_one = drup_stage_sizes()[0]  # DRUP's stage 1, as its rule file says
    for cohort, n in counts.items():
        if n < stage_one:
            log.warning("small_cohort", f"cohort {cohort!r} has {int(n)} response-evaluable "
                        f"patient{'' if n == 1 else 's'}, fewer than the {stage_one} of "
                        "DRUP stage 1; its estimates are very uncertain", None, "cohort_id",
                        cohort)
