"""ADaM subject-level mapping: ADSL subjects, their ADTTE times and their ADAE worst grade.

A :class:`SubjectMapper` turns the datasets into one set of patient cells per treated ADSL
subject, remembering for each cell the ADaM file, row and variable it came from (so that any
later check can point there) and stating each mapping choice as a :class:`Decision`. The rules
are listed in docs/adam.md; the response part (ADRS) is in ``dossier.registry.adam_response``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from dossier.registry.adam_mapping import (
    BASELINE_VARIABLES,
    DEFAULT_DRUG_VARIABLES,
    NOT_SPECIFIED,
    SOURCE_COLUMNS,
    AdamMapping,
    ColumnSource,
)
from dossier.registry.readers import (
    INVALID,
    RawTable,
    is_blank,
    parse_date,
    parse_number,
    parse_text,
    show_value,
)
from dossier.registry.schema import DAYS_PER_MONTH
from dossier.registry.validate import Decision, Issue, IssueLog

DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": 365.25}
_UNIT_WORDS = {"days": ("DAYS", "DAY", "D"), "weeks": ("WEEKS", "WEEK", "WK", "WKS", "W"),
               "months": ("MONTHS", "MONTH", "MO", "MOS"), "years": ("YEARS", "YEAR", "YR", "Y")}
UNITS = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
"""AVALU spellings dossier understands, to a unit of DAYS_PER_UNIT."""

SAS_EPOCH = pd.Timestamp("1960-01-01")
"""Day 0 of SAS dates and datetimes (a .xpt date without a date format is days since it)."""


class Dataset:
    """One ADaM dataset: raw cells, variables looked up case-insensitively, and its issues."""

    def __init__(self, table: RawTable, role: str) -> None:
        self.table, self.role = table, role
        self.log = IssueLog(table.source)
        self.xpt = table.source.path is not None and table.source.path.suffix.lower() == ".xpt"
        self._names = {str(c).strip().upper(): i for i, c in enumerate(table.frame.columns)}

    @property
    def name(self) -> str:
        return self.table.source.name

    def has(self, variable: str | None) -> bool:
        return variable is not None and variable.upper() in self._names

    def first(self, *variables: str | None) -> str | None:
        """The first of the variables the dataset has, as the mapping spells it."""
        return next((v for v in variables if self.has(v)), None)

    def cells(self, variable: str) -> pd.Series:
        return self.table.frame.iloc[:, self._names[variable.upper()]]

    def require(self, *variables: str) -> bool:
        """Log an error for each variable the dataset lacks; True when it has them all."""
        missing = [v for v in variables if not self.has(v)]
        for v in missing:
            self.log.error("missing_required_column", f"{self.role} has no variable {v}", None, v)
        return not missing

    def date(self, variable: str, value: object) -> Any:
        """A date cell; in .xpt a number without a date format is a SAS date (days since
        1960-01-01), or seconds for a ...DTM variable."""
        if self.xpt and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                return None
            unit = "s" if variable.upper().endswith("DTM") else "D"
            value = SAS_EPOCH + pd.to_timedelta(value, unit=unit)
        return parse_date(value)


@dataclass(frozen=True)
class Origin:
    """Where a mapped cell came from: file, row, variable, value, and what it is in words."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    what: str


@dataclass
class Subject:
    """One ADSL subject being mapped: the patient cells so far and where each came from."""

    pid: str
    row: int
    treated: bool
    start: pd.Timestamp | None = None
    cells: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)  # columns whose source error is reported

    def set(self, column: str, value: Any, origin: Origin) -> None:
        self.cells[column] = value
        self.origins[column] = origin


@dataclass(frozen=True)
class Time:
    """One ADTTE record in days: time, event (1 - CNSR), analysis date, where it came from."""

    days: float
    event: int
    date: pd.Timestamp | None
    origin: Origin
    event_origin: Origin


def origin_of(ds: Dataset, row: int | None, variable: str | None, what: str) -> Origin:
    """The Origin of a cell of ``ds`` (its value as the report shows it)."""
    value = None
    if row is not None and variable is not None and ds.has(variable):
        value = show_value(ds.cells(variable).loc[row])
    return Origin(ds.name, row, variable, value, what)


def subject_ids(ds: Dataset, variable: str) -> pd.Series:
    """The subject id of every row (None when blank); issues of ``ds`` then name them."""
    ids = ds.cells(variable).map(parse_text)
    ds.log.patient_ids = {int(r): v for r, v in ids.items() if v is not None}
    return ids


# ---------------------------------------------------------------------------------------------
# The mapping


class SubjectMapper:
    """Maps the datasets to patient cells, collecting issues and decisions on the way."""

    def __init__(self, data: dict[str, Dataset], mapping: AdamMapping) -> None:
        self.data, self.m = data, mapping
        self.decisions: list[Decision] = []
        self.subjects: dict[str, Subject] = {}
        self.issues: list[Issue] = []
        self.dor: dict[str, Time] = {}
        self.ignored: Counter[str] = Counter()  # records of subjects who were not treated
        self.failed_columns: set[str] = set()  # mapped to a variable ADSL lacks (reported)

    def decide(self, topic: str, text: str, file: str = "", column: str | None = None) -> None:
        self.decisions.append(Decision(topic, text, file, column))

    def known(self, ds: Dataset, row: int, pid: str | None, variable: str) -> Subject | None:
        """The treated subject of a record; an error when ADSL does not have the subject."""
        if pid is None:
            ds.log.error("missing_value", f"{variable} is blank; every {ds.role} record needs a "
                         "subject", row, variable)
            return None
        subject = self.subjects.get(pid)
        if subject is None:
            ds.log.error("subject_not_in_adsl", f"subject {pid} is in {ds.role} but not in ADSL",
                         row, variable, pid)
            return None
        if not subject.treated:
            self.ignored[ds.role] += 1
            return None
        return subject

    # -- ADSL ---------------------------------------------------------------------------------

    def adsl(self) -> bool:
        ds, m = self.data["adsl"], self.m
        start_var = m.treatment_start
        if not ds.has(start_var) and m.line("adsl.treatment_start") is None and ds.has("TRTSDTM"):
            start_var = "TRTSDTM"
        if not ds.require(m.subject, start_var):
            return False
        flag = m.population_flag
        if flag is not None and not ds.require(flag):
            return False
        ids, starts = subject_ids(ds, m.subject), ds.cells(start_var)
        excluded: Counter[str] = Counter()
        arm = ds.first("ARMCD", "ARM")
        for row, pid in ids.items():
            if pid is None:
                ds.log.error("missing_value", f"{m.subject} is blank", row, m.subject)
                continue
            if pid in self.subjects:
                ds.log.error("duplicate_patient_id", f"{m.subject} {pid} duplicates row "
                             f"{self.subjects[pid].row}", row, m.subject, pid)
                continue
            in_flag = flag is None or str(parse_text(ds.cells(flag).loc[row])).upper() == "Y"
            treated = not is_blank(starts.loc[row]) and in_flag
            subject = self.subjects[pid] = Subject(pid, int(row), treated)
            if not treated:
                excluded[str(parse_text(ds.cells(arm).loc[row])) if arm else "?"] += 1
                continue
            start = ds.date(start_var, starts.loc[row])
            if start is INVALID:
                ds.log.error("invalid_date", f"{start_var} must be a date; got "
                             f"{show_value(starts.loc[row])!r}", row, start_var,
                             starts.loc[row])
                subject.failed.add("treatment_start")
                start = None
            subject.start = start
            subject.set("patient_id", pid, origin_of(ds, row, m.subject, f"ADSL {m.subject}"))
            subject.set("treatment_start", start,
                        origin_of(ds, row, start_var, f"ADSL {start_var}"))
        treated = sum(s.treated for s in self.subjects.values())
        why = f"{start_var} given" + (f" and {flag} = Y" if flag else "")
        text = (f"{treated:,} of {len(self.subjects):,} ADSL subjects are treated ({why}) and "
                f"form the registry, one patient each; patient_id = {m.subject}, "
                f"treatment_start = {start_var}")
        if excluded:
            parts = ", ".join(f"{k} {v:,}" for k, v in sorted(excluded.items()))
            text += f". Excluded (not treated, e.g. screen failures), by {arm}: {parts}"
        self.decide("population", text, ds.name, start_var)
        self._columns(ds)
        return True

    def _columns(self, ds: Dataset) -> None:
        m = self.m
        for column in SOURCE_COLUMNS:
            source = m.columns.get(column, ColumnSource())
            defaults = {"drug": DEFAULT_DRUG_VARIABLES, **BASELINE_VARIABLES}.get(column)
            if defaults and source.variable is None and not source.is_constant:
                found = ds.first(*defaults)
                source = ColumnSource(variable=found) if found else source
            if source.variable is not None:
                if not ds.has(source.variable):
                    ds.log.error("missing_required_column", f"ADSL has no variable "
                                 f"{source.variable} (mapped to {column})", None, source.variable)
                    self.failed_columns.add(column)
                    continue
                cells = ds.cells(source.variable)
                for s in self.treated():
                    s.set(column, cells.loc[s.row], origin_of(ds, s.row, source.variable,
                                                            f"ADSL {source.variable}"))
            elif source.is_constant:
                where = Origin(m.name, source.line, f"columns.{column}", str(source.value),
                               f"mapping columns.{column}")
                for s in self.treated():
                    s.set(column, source.value, where)
            else:
                continue
            self.decide("columns", f"{column} = {source.describe()}"
                        + (" (built-in default)" if source.line is None else ""),
                        ds.name if source.variable else m.name, source.variable or column)
            if source.is_constant and source.value == NOT_SPECIFIED and source.line is None:
                ds.log.warning("column_not_mapped", f"{column} is not mapped: every patient gets "
                               f"{NOT_SPECIFIED!r}; set columns.{column} in the mapping file "
                               "(docs/adam.md)", None, column)

    def treated(self) -> list[Subject]:
        return [s for s in self.subjects.values() if s.treated]

    # -- ADTTE --------------------------------------------------------------------------------

    def adtte(self) -> dict[str, dict[str, Time]]:
        ds, m = self.data["adtte"], self.m
        if not ds.require(m.subject, "PARAMCD", "AVAL", "CNSR"):
            self.failed_columns.update({"pfs_days", "pfs_event", "os_days", "os_event"})
            return {}
        wanted = {m.pfs: "PFS", m.os: "OS"} | ({m.dor: "DOR"} if m.dor else {})
        times: dict[str, dict[str, Time]] = {p: {} for p in wanted}
        units: dict[str, dict[int, str]] = {p: {} for p in wanted}
        rows: dict[tuple[str, str], int] = {}
        ids, codes = subject_ids(ds, m.subject), ds.cells("PARAMCD").map(parse_text)
        unit_var, date_var = ds.first("AVALU"), ds.first("ADT", "ADTM")
        other: Counter[str] = Counter()
        for row, code in codes.items():
            if code is None:
                ds.log.error("missing_value", "PARAMCD is blank; every ADTTE record needs a "
                             "parameter code", row, "PARAMCD")
                continue
            if code not in wanted:
                other[code] += 1
                continue
            subject = self.known(ds, row, ids.loc[row], m.subject)
            if subject is None:
                continue
            if (subject.pid, code) in rows:
                ds.log.error("duplicate_record", f"a second {code} record for {subject.pid} (the "
                             f"first is row {rows[subject.pid, code]})", row, "PARAMCD", code)
                continue
            rows[subject.pid, code] = int(row)
            time = self._time(ds, row, code, wanted[code])
            if unit_var is not None and (word := parse_text(ds.cells(unit_var).loc[row])):
                if word.upper() not in UNITS:
                    ds.log.error("unknown_time_unit", f"AVALU {word!r} is not a time unit; use "
                                 "DAYS, WEEKS, MONTHS or YEARS", row, unit_var, word)
                    time = None
                else:
                    units[code][int(row)] = UNITS[word.upper()]
            if time is None:
                kind = wanted[code].lower()
                subject.failed.update({f"{kind}_days", f"{kind}_event"})
                continue
            date = ds.date(date_var, ds.cells(date_var).loc[row]) if date_var else None
            times[code][subject.pid] = replace(time, date=None if date is INVALID else date)
        self._units(ds, times, units, wanted)
        if other:
            self.decide("ADTTE", "parameters not used: " + ", ".join(
                f"{k} ({v:,} records)" for k, v in sorted(other.items())), ds.name, "PARAMCD")
        return {wanted[code]: recs for code, recs in times.items()}

    def _time(self, ds: Dataset, row: int, code: str, kind: str) -> Time | None:
        aval, cnsr = parse_number(ds.cells("AVAL").loc[row]), ds.cells("CNSR").loc[row]
        censor = parse_number(cnsr)
        ok = True
        if aval is None or aval is INVALID:
            shown = show_value(ds.cells("AVAL").loc[row])
            what = "blank" if aval is None else f"not a number: {shown!r}"
            ds.log.error("invalid_number", f"AVAL of {code} is {what}", row, "AVAL")
            ok = False
        elif aval < 0:
            ds.log.error("negative_days", f"AVAL {aval:g} of {code} is negative: a time cannot "
                         "be negative", row, "AVAL", aval)
            ok = False
        positive = self.m.censor_codes == "positive"
        valid = censor not in (None, INVALID) and (censor in (0.0, 1.0) or (
            positive and float(censor).is_integer() and censor > 1))
        if not valid:
            ds.log.error("invalid_censor_code", "CNSR must be 0 (event) or 1 (censored)"
                         + (" or another positive integer" if positive else "")
                         + f"; got {show_value(cnsr)!r}", row, "CNSR", cnsr)
            ok = False
        if not ok:
            return None
        return Time(float(aval), int(censor == 0), None,
                    origin_of(ds, row, "AVAL", f"ADTTE AVAL of PARAMCD {code}"),
                    origin_of(ds, row, "CNSR", f"1 - ADTTE CNSR of PARAMCD {code}"))

    def _units(self, ds: Dataset, times: dict[str, dict[str, Time]],
               units: dict[str, dict[int, str]], wanted: dict[str, str]) -> None:
        """One unit per parameter (AVALU, else adtte.unit); convert AVAL to days."""
        for code, by_row in units.items():
            counts = Counter(by_row.values())
            unit = counts.most_common(1)[0][0] if counts else self.m.unit
            usual = [r for r, u in by_row.items() if u == unit][:3]
            bad = {r for r, u in by_row.items() if u != unit}
            for row in sorted(bad):
                raw = show_value(ds.cells("AVALU").loc[row])
                ds.log.error("conflicting_units", f"AVALU {raw!r} of {code} conflicts with "
                             f"{unit} on the other {code} records (rows "
                             f"{', '.join(map(str, usual))}, ...): one parameter, one unit",
                             row, "AVALU", raw)
            scale = DAYS_PER_UNIT[unit]
            for pid, t in list(times[code].items()):
                if t.origin.row in bad:
                    del times[code][pid]
                    kind = wanted[code].lower()
                    self.subjects[pid].failed.update({f"{kind}_days", f"{kind}_event"})
                elif scale != 1.0:
                    times[code][pid] = replace(t, days=t.days * scale)
            if times[code]:
                self.decide(wanted[code], self._time_text(ds, code, unit, times[code],
                                                          bool(counts)), ds.name, "AVAL")

    def _time_text(self, ds: Dataset, code: str, unit: str, recs: dict[str, Time],
                   from_avalu: bool) -> str:
        source = "AVALU" if from_avalu else "adtte.unit; ADTTE gives no AVALU"
        text = (f"{code}: {len(recs):,} records; time = AVAL in {unit} (from {source})"
                + (f" x {DAYS_PER_UNIT[unit]:g} = days" if unit != "days" else "")
                + ", kept as the sponsor derived it; event = 1 - CNSR (CNSR 0 = event)")
        if ds.has("STARTDT") and ds.has("ADT"):
            counts: Counter[str] = Counter()
            for pid, t in recs.items():
                row = t.origin.row
                start, adt = (ds.date(v, ds.cells(v).loc[row]) for v in ("STARTDT", "ADT"))
                if isinstance(start, pd.Timestamp) and isinstance(adt, pd.Timestamp):
                    diff = parse_number(ds.cells("AVAL").loc[row]) - (adt - start).days
                    counts["AVAL = ADT - STARTDT + 1 (both days counted)" if diff == 1 else
                           "AVAL = ADT - STARTDT" if diff == 0 else "other"] += 1
                    s = self.subjects[pid].start
                    counts["STARTDT differs from the treatment start"] += int(
                        code != self.m.dor and s is not None and start != s)
            text += "; origin " + ", ".join(f"{k}: {v:,}" for k, v in counts.items() if v)
        else:
            text += "; ADTTE has no STARTDT and ADT, so the time origin is not stated in the data"
        return text

    def times(self, tte: dict[str, dict[str, Time]]) -> None:
        """PFS and OS cells of every treated subject (OS from ADSL dates without ADTTE OS)."""
        ds, m = self.data["adtte"], self.m
        self.dor = tte.get("DOR", {})
        if m.dor and not self.dor:
            ds.log.warning("no_parameter", f"ADTTE has no records with PARAMCD {m.dor} "
                           "(adtte.dor); response dates come from ADRS", None, "PARAMCD")
        for kind, code in (("PFS", m.pfs), ("OS", m.os)):
            records = tte.get(kind, {})
            if kind == "OS" and not records and self._os_from_adsl():
                continue
            present = sorted({c for c in ds.cells("PARAMCD").map(parse_text) if c}
                             if ds.has("PARAMCD") else ())
            if ds.has("PARAMCD") and code not in present:
                self.failed_columns.update({f"{kind.lower()}_days", f"{kind.lower()}_event"})
                ds.log.error("no_parameter", f"ADTTE has no records with PARAMCD {code}; "
                             f"PARAMCD values present: {', '.join(present) or 'none'} (set "
                             f"adtte.{kind.lower()} in the mapping file)", None, "PARAMCD")
            for s in self.treated():
                column = f"{kind.lower()}_days"
                if s.pid in records:
                    t = records[s.pid]
                    s.set(column, t.days, t.origin)
                    s.set(f"{kind.lower()}_event", t.event, t.event_origin)
                elif records and column not in s.failed:
                    self.data["adsl"].log.error(
                        "missing_time", f"treated subject {s.pid} has no {code} record in "
                        f"ADTTE (PARAMCD {code})", s.row, m.subject, s.pid)
                s.failed.update({column, f"{kind.lower()}_event"} - set(s.cells))
        self._check_deaths(tte.get("OS", {}))

    def _os_from_adsl(self) -> bool:
        """OS from ADSL death / last-alive dates when ADTTE has no OS; False if it cannot."""
        adsl, m = self.data["adsl"], self.m
        death, alive = adsl.first(m.death_date), adsl.first(m.last_alive_date)
        if alive is None:
            return False
        for s in self.treated():
            day = adsl.date(death, adsl.cells(death).loc[s.row]) if death else None
            var = death if isinstance(day, pd.Timestamp) else alive
            if var == alive:
                day = adsl.date(alive, adsl.cells(alive).loc[s.row])
            if not isinstance(day, pd.Timestamp) or s.start is None:
                adsl.log.error("missing_time", f"no OS record in ADTTE and no {alive} date in "
                               "ADSL", s.row, alive)
                s.failed.update({"os_days", "os_event"})
                continue
            origin = origin_of(adsl, s.row, var, f"ADSL {var} - treatment start")
            s.set("os_days", float((day - s.start).days), origin)
            s.set("os_event", int(var == death), origin)
        self.decide("OS", f"ADTTE has no PARAMCD {m.os}: OS = ADSL {death or '(no death date)'}"
                    f" (event) or {alive} (censored) minus treatment start, in days",
                    adsl.name, alive)
        return True

    def _check_deaths(self, os_records: dict[str, Time]) -> None:
        """Warn where ADTTE's OS event and ADSL's death date disagree."""
        adsl, m = self.data["adsl"], self.m
        if not os_records or not adsl.has(m.death_date):
            return
        for pid, t in os_records.items():
            died = not is_blank(adsl.cells(m.death_date).loc[self.subjects[pid].row])
            if died != bool(t.event):
                o = t.event_origin
                self.data["adtte"].log.warning(
                    "death_mismatch", f"OS CNSR is {o.value} but ADSL {m.death_date} is "
                    f"{'given' if died else 'blank'} for {pid}", o.row, "CNSR", o.value)

    # -- ADAE ---------------------------------------------------------------------------------

    def adae(self) -> None:
        ds, m = self.data.get("adae"), self.m
        blank = Origin("", None, None, None, "")
        if ds is None:
            self._no_grade(None, "no ADAE dataset")
            return
        grade_var, cause_var = ds.first(*m.grade), ds.first(*m.causality)
        if not ds.require(m.subject):
            return
        if grade_var is None or cause_var is None:
            what = (f"no CTCAE grade variable ({', '.join(m.grade)})" if grade_var is None
                    else f"no causality variable ({', '.join(m.causality)})")
            self._no_grade(ds, f"ADAE has {what}")
            return
        emergent = m.emergent_flag if ds.has(m.emergent_flag) else None
        ids = subject_ids(ds, m.subject)
        worst: dict[str, tuple[int, int]] = {}
        unknown: set[str] = set()
        assumed = 0
        for row, pid in ids.items():
            subject = self.known(ds, row, pid, m.subject)
            if subject is None:
                continue
            if emergent and str(parse_text(ds.cells(emergent).loc[row])).upper() != "Y":
                continue
            cause = parse_text(ds.cells(cause_var).loc[row])
            if cause is not None and cause.upper() in m.not_related:
                continue
            if cause is not None and cause.upper() not in m.related:
                ds.log.error("unknown_causality", f"{cause_var} {cause!r} is neither a related "
                             f"({', '.join(m.related[:4])}, ...) nor an unrelated value; add it "
                             "to adae.related or adae.not_related", row, cause_var, cause)
                subject.failed.add("worst_ae_grade")
                continue
            assumed += cause is None
            grade = _grade(ds.cells(grade_var).loc[row])
            if grade is INVALID:
                ds.log.error("invalid_grade", f"{grade_var} must be a CTCAE grade 1-5; got "
                             f"{show_value(ds.cells(grade_var).loc[row])!r}", row, grade_var,
                             ds.cells(grade_var).loc[row])
                subject.failed.add("worst_ae_grade")
            elif grade is None:
                unknown.add(subject.pid)
            elif grade > worst.get(subject.pid, (0, 0))[0]:
                worst[subject.pid] = (grade, int(row))
        for s in self.treated():
            if s.pid in worst:
                grade, row = worst[s.pid]
                s.set("worst_ae_grade", grade, origin_of(ds, row, grade_var,
                                                       f"worst ADAE {grade_var}"))
            elif s.pid in unknown:
                s.set("worst_ae_grade", None, blank)
            else:
                s.set("worst_ae_grade", 0, Origin(ds.name, None, None, None, "no related TEAE"))
        self.decide("adverse events", f"worst_ae_grade = highest {grade_var} among "
                    + (f"treatment-emergent ({emergent} = Y)" if emergent else
                       "all (no treatment-emergent flag in ADAE)")
                    + f" events related by {cause_var} (related: {', '.join(m.related)}); "
                    f"blank {cause_var} counts as related ({assumed:,} records); a treated "
                    "patient without such an event has grade 0; a patient whose related "
                    f"events have no grade is blank ({len(unknown - set(worst)):,}), one with "
                    "some graded is given the worst graded "
                    f"({len(unknown & set(worst)):,})", ds.name, grade_var)

    def _no_grade(self, ds: Dataset | None, why: str) -> None:
        text = (f"{why}: worst_ae_grade is left blank for every patient (not derived from "
                "severity); the grade >= 3 treatment-related AE rate cannot be computed")
        if ds is not None:
            ds.log.warning("no_ae_grade", text)
        else:
            self.issues.append(Issue("warning", "no_ae_grade", text, self.data["adsl"].name))
        self.decide("adverse events", text, ds.name if ds else "")
        for s in self.treated():
            s.set("worst_ae_grade", None, Origin("", None, None, None, why))


def _grade(value: object) -> Any:
    """A CTCAE grade 1-5 from a number (ATOXGRN) or text such as '3' or 'Grade 3'."""
    if is_blank(value):
        return None
    number = parse_number(value)
    if number is INVALID and isinstance(value, str):
        match = re.fullmatch(r"\s*(?:grade\s*)?(\d)\s*", value, flags=re.IGNORECASE)
        number = float(match.group(1)) if match else INVALID
    if number is INVALID or not float(number).is_integer() or not 1 <= number <= 5:
        return INVALID
    return int(number)

