"""The ADaM mapping file: which ADaM variables and parameters become which dossier columns.

Sponsors name the cohort keys (drug, tumour type, alteration) differently and some studies use
other parameter codes, so these choices live in a small YAML file (``--adam-map``), documented
in ``docs/adam.md``. Every key is optional; without a file the CDISC defaults below apply. An
unknown key is an error naming its line (a typo must not silently fall back to a default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dossier.errors import InputError
from dossier.registry.adam_bor import Windows
from dossier.registry.validate import Issue
from dossier.suggest import did_you_mean
from dossier.yamlfile import FileCheckError, LineDict, load_yaml

DATASETS = ("adsl", "adtte", "adrs", "adae")
"""The ADaM datasets dossier reads (ADSL and ADTTE required, ADRS and ADAE optional)."""

SOURCE_COLUMNS = ("drug", "tumour_type", "alteration", "cohort_id", "rare_cancer", "stage",
                  "prior_lines", "prior_pfs_days", "age", "sex", "ecog", "tumour_subtype",
                  "diagnosis_date")
"""dossier patient columns filled from an ADSL variable or a constant (``columns:``)."""

BASELINE_VARIABLES = {"age": ("AGE",), "sex": ("SEX",),
                      "ecog": ("ECOGBL", "ECOG", "BECOG", "ECOG0", "PSBL")}
"""Without a mapping, a baseline column is the first of these ADSL variables present (CDISC AGE
and SEX; ECOG has no standard ADSL name, so the usual sponsor names are tried)."""

DEFAULT_DRUG_VARIABLES = ("TRT01A", "TRT01P", "ARM")
"""Without a mapping, the drug is the first of these ADSL variables present."""

NOT_SPECIFIED = "not specified"

RELATED = ("Y", "YES", "RELATED", "POSSIBLE", "POSSIBLY RELATED", "PROBABLE", "PROBABLY RELATED",
           "DEFINITE", "DEFINITELY RELATED", "RELATED TO STUDY DRUG")
NOT_RELATED = ("N", "NO", "NOT RELATED", "UNRELATED", "UNLIKELY", "UNLIKELY RELATED", "NONE",
               "NOT APPLICABLE")


@dataclass(frozen=True)
class ColumnSource:
    """Where one dossier column comes from: an ADSL variable, or one value for every patient."""

    variable: str | None = None
    value: object = None
    line: int | None = None  # the mapping file line that set it (None = built-in default)

    @property
    def is_constant(self) -> bool:
        return self.variable is None and self.value is not None

    def describe(self) -> str:
        """'ADSL ARMCD' or 'the value "Solid tumours" for every patient'."""
        if self.variable is not None:
            return f"ADSL {self.variable}"
        return f"the value {self.value!r} for every patient"


_DEFAULT_COLUMNS = {
    "tumour_type": ColumnSource(value=NOT_SPECIFIED),
    "alteration": ColumnSource(value=NOT_SPECIFIED),
    "rare_cancer": ColumnSource(value=False),
    "stage": ColumnSource(value="1"),
}


@dataclass(frozen=True)
class AdamMapping:
    """Every mapping choice, with CDISC / admiralonco defaults (docs/adam.md lists them)."""

    files: Mapping[str, str] = field(default_factory=dict)
    # adsl
    subject: str = "USUBJID"
    treatment_start: str = "TRTSDT"
    death_date: str | None = "DTHDT"
    last_alive_date: str | None = "LSTALVDT"
    population_flag: str | None = None
    # columns (absent key = built-in default; drug then defaults to DEFAULT_DRUG_VARIABLES)
    columns: Mapping[str, ColumnSource] = field(default_factory=lambda: dict(_DEFAULT_COLUMNS))
    # adtte
    pfs: str = "PFS"
    os: str = "OS"
    dor: str | None = None
    unit: str = "days"
    censor_codes: str = "binary"  # "binary": CNSR 0/1; "positive": any CNSR >= 1 is censored
    # adrs
    source: str = "auto"  # "auto" | "sponsor" | "visits"
    bor: str | None = "BOR"
    cbor: str | None = "CBOR"
    visits: str | None = "OVR"
    record_flag: str | None = "ANL01FL"
    reference_date: str = "TRTSDT"
    windows: Windows = field(default_factory=Windows)
    evaluable: str = "assessed"  # "assessed" | "treated" | "flag"
    evaluable_flag: str | None = None
    response_date: str = "auto"  # "auto" | "none"
    # adae
    emergent_flag: str | None = "TRTEMFL"
    causality: tuple[str, ...] = ("AREL", "AEREL")
    related: tuple[str, ...] = RELATED
    not_related: tuple[str, ...] = NOT_RELATED
    grade: tuple[str, ...] = ("ATOXGRN", "ATOXGR", "AETOXGR")
    # where it came from
    path: Path | None = None
    lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The mapping file's name as reports show it ('built-in defaults' without a file)."""
        return self.path.name if self.path is not None else "built-in defaults"

    def line(self, key: str) -> int | None:
        """The line of 'section.key' in the mapping file, if the file sets it."""
        return self.lines.get(key)


class MappingError(InputError, ValueError):
    """A mapping file that cannot be used; ``issues`` says where, line by line."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{i.location}: {i.message}" for i in issues))
        self.issues = issues


# section -> key -> kind
_KEYS: dict[str, dict[str, str]] = {
    "files": {name: "text" for name in DATASETS},
    "adsl": {"subject": "var", "treatment_start": "var", "death_date": "var?",
             "last_alive_date": "var?", "population_flag": "var?"},
    "columns": {name: "source" for name in SOURCE_COLUMNS},
    "adtte": {"pfs": "var", "os": "var", "dor": "var?", "unit": "unit",
              "censor_codes": "censor"},
    "adrs": {"source": "rsource", "bor": "var?", "cbor": "var?", "visits": "var?",
             "record_flag": "var?", "reference_date": "var", "confirmation_days": "days",
             "sd_min_days": "days", "max_ne_between": "count", "accept_sd_between": "bool",
             "evaluable": "evaluable", "response_date": "rdate"},
    "adae": {"emergent_flag": "var?", "causality": "vars", "related": "vars",
             "not_related": "vars", "grade": "vars"},
}
_CHOICES = {"unit": ("days", "weeks", "months", "years"), "censor": ("binary", "positive"),
            "rsource": ("auto", "sponsor", "visits"), "rdate": ("auto", "none")}
_WINDOW_KEYS = ("confirmation_days", "sd_min_days", "max_ne_between", "accept_sd_between")


def read_mapping(path: Path | str | None) -> AdamMapping:
    """Read a mapping file (YAML); None gives the defaults. Raises MappingError naming lines."""
    if path is None:
        return AdamMapping()
    path = Path(path)
    if not path.is_file():
        raise MappingError([Issue("error", "file_not_found", f"{path}: mapping file not found",
                                  path.name)])
    try:
        data = load_yaml(path)
    except FileCheckError as exc:  # bad YAML, a repeated key, an alias bomb: with the line
        problem = exc.problems[0]
        rule = "duplicate_key" if "duplicate key" in problem.message else "unreadable_file"
        raise MappingError([Issue("error", rule, problem.message, path.name,
                                  problem.line or None)]) from exc
    return parse_mapping(data or {}, _lines(data), path)


def _lines(data: Any) -> dict[str, int]:
    """'section' and 'section.key' -> line number (1-based) of the key in the YAML text."""
    lines: dict[str, int] = {}
    if not isinstance(data, LineDict):
        return lines
    for section, body in data.items():
        lines[str(section)] = data.line_of(section)
        if isinstance(body, LineDict):
            for key in body:
                lines[f"{section}.{key}"] = body.line_of(key)
    return lines


def parse_mapping(data: object, lines: Mapping[str, int] | None = None,
                  path: Path | None = None) -> AdamMapping:
    """Check and read the mapping's sections (a dict as YAML gives it); raise MappingError."""
    lines = dict(lines or {})
    name = path.name if path is not None else "mapping"
    issues: list[Issue] = []

    def error(key: str, message: str, rule: str = "invalid_mapping") -> None:
        issues.append(Issue("error", rule, message, name, lines.get(key), key))

    if not isinstance(data, dict):
        error("", "the mapping file must be a mapping of sections (adsl:, columns:, ...)")
        raise MappingError(issues)
    values: dict[str, Any] = {}
    columns = dict(_DEFAULT_COLUMNS)
    files: dict[str, str] = {}
    windows: dict[str, Any] = {}
    for section, body in data.items():
        section = str(section)
        if section not in _KEYS:
            error(section, f"unknown section {section!r}{did_you_mean(section, list(_KEYS))}; "
                  f"known sections: {', '.join(_KEYS)}", "unknown_key")
            continue
        if body is None:
            continue
        if not isinstance(body, dict):
            error(section, f"{section} must be a mapping of keys to values")
            continue
        for key, value in body.items():
            where = f"{section}.{key}"
            kind = _KEYS[section].get(str(key))
            if kind is None:
                error(where, f"unknown key {key!r} in {section}"
                      f"{did_you_mean(str(key), list(_KEYS[section]))}; known keys: "
                      f"{', '.join(_KEYS[section])}", "unknown_key")
                continue
            try:
                parsed = _parse(kind, value)
            except ValueError as exc:
                error(where, f"{where}: {exc}")
                continue
            if section == "files":
                files[str(key)] = parsed
            elif section == "columns":
                columns[str(key)] = replace(parsed, line=lines.get(where))
            elif str(key) in _WINDOW_KEYS:
                windows[str(key)] = parsed
            elif kind == "evaluable":
                values["evaluable"], values["evaluable_flag"] = parsed
            else:
                values[str(key)] = parsed
    if issues:
        raise MappingError(issues)
    return AdamMapping(files=files, columns=columns, windows=Windows(**windows), path=path,
                       lines=lines, **values)




def _variable(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or " " in value.strip():
        raise ValueError(f"expected an ADaM variable or parameter name, not {value!r}")
    return value.strip()


def _parse(kind: str, value: object) -> Any:
    if kind == "var?":
        return None if value is None else _variable(value)
    if kind == "var":
        return _variable(value)
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a file name, not {value!r}")
        return value.strip()
    if kind == "vars":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise ValueError(f"expected a list of names, not {value!r}")
        return tuple(str(v).strip().upper() for v in items)
    if kind in _CHOICES:
        text = str(value).strip().lower()
        if text not in _CHOICES[kind]:
            raise ValueError(f"must be one of {', '.join(_CHOICES[kind])}, not {value!r}")
        return text
    if kind in ("days", "count"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"expected a number >= 0, not {value!r}")
        if kind == "count" and float(value) != int(value):
            raise ValueError(f"expected a whole number, not {value!r}")
        return int(value) if kind == "count" else float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, not {value!r}")
        return value
    if kind == "evaluable":
        return _evaluable(value)
    return _source(value)  # kind == "source"


def _evaluable(value: object) -> tuple[str, str | None]:
    if isinstance(value, dict) and list(value) == ["flag"]:
        return "flag", _variable(value["flag"])
    if isinstance(value, str) and value.strip().lower() in ("assessed", "treated"):
        return value.strip().lower(), None
    raise ValueError(f"expected assessed, treated or {{flag: VARIABLE}}, not {value!r}")


def _source(value: object) -> ColumnSource:
    if value is None:
        return ColumnSource()
    if isinstance(value, str):
        return ColumnSource(variable=_variable(value))
    if isinstance(value, dict) and list(value) == ["variable"]:
        return ColumnSource(variable=_variable(value["variable"]))
    if isinstance(value, dict) and list(value) == ["value"]:
        constant = value["value"]
        if constant is None or isinstance(constant, dict | list):
            raise ValueError(f"a constant must be a single value, not {constant!r}")
        return ColumnSource(value=constant)
    raise ValueError(f"expected an ADSL variable name, {{variable: NAME}} or {{value: CONSTANT}}, "
                     f"not {value!r}")
