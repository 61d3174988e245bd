"""The workbook's Cover and Data dictionary sheets: what the file was made from, and what each
input column means.

The Cover names the data (source, SHA-256, cut-off), the build (date, dossier version) and
every rule file with its version and SHA-256, and says "synthetic demo data, not for
submission" when the data is the demo. The Data dictionary is generated from
:mod:`dossier.registry.schema`, as ``docs/data-dictionary.md`` is, so the two never differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from dossier.registry.schema import (
    COHORT_COLUMNS,
    DAYS_PER_MONTH,
    PATIENT_COLUMNS,
    TIME_FIELDS,
    Column,
)
from dossier.render.xlsx import SheetSpec

DEMO_SOURCE = "demo"
SYNTHETIC = "synthetic demo data, not for submission"
COVER_ITEMS = (("title", "Title"), ("data source", "Data source"),
               ("data SHA-256", "Data SHA-256"), ("data cut-off", "Data cut-off"),
               ("build date", "Build date"), ("software", "Software version"),
               ("patient identifiers", "Patient identifiers"))
"""Build-information keys shown on the Cover, in this order, with the words it shows."""


def _file_sha256(path: object) -> str:
    try:
        return hashlib.sha256(Path(str(path)).read_bytes()).hexdigest()
    except OSError:
        return "not available (file not readable)"


def cover_sheet(build_info: Mapping[str, str], rule_sets: Sequence[object],
                sheet_names: Sequence[str]) -> SheetSpec:
    """The Cover: data, build, versions of dossier and of each rule file, and the sheets."""
    synthetic = str(build_info.get("data source", "")) == DEMO_SOURCE
    rows: list[dict[str, str]] = []
    if synthetic:
        rows.append({"item": "Data status", "value": SYNTHETIC})
    for key, words in COVER_ITEMS:
        if key in build_info:
            rows.append({"item": words, "value": str(build_info[key])})
    for rule_set in rule_sets:
        get = (rule_set.get if isinstance(rule_set, Mapping)
               else lambda key, default="", r=rule_set: getattr(r, key, default))
        name = str(get("short", "") or get("id", ""))
        rows.append({"item": f"Criteria: {name}",
                     "value": f"{get('framework', '')} {get('version', '')} (effective "
                              f"{get('effective', '') or 'not stated'}); id {get('id', '')}; "
                              f"SHA-256 {_file_sha256(get('path', ''))}"})
    for name in sheet_names:
        rows.append({"item": "Sheet", "value": name})
    notes = [SYNTHETIC.upper()] if synthetic else []
    notes.append("Every number in this workbook is copied from the analysis-results table; "
                 "the PDF dossier shows the same numbers.")
    return SheetSpec("Cover", pd.DataFrame(rows, columns=["item", "value"]), notes=notes)


def _dictionary_row(file: str, column: Column) -> dict[str, str]:
    return {"file": file, "column": column.name, "type": column.kind,
            "unit": column.unit or "-", "allowed values": column.allowed_text,
            "required": "required" if column.required else "optional",
            "meaning": column.meaning, "aliases": ", ".join(column.aliases)}


def dictionary_sheet() -> SheetSpec:
    """The registry data dictionary: one row per input column (patient file, cohort file)."""
    rows = [_dictionary_row("patient file", c) for c in PATIENT_COLUMNS]
    for field in TIME_FIELDS:
        need = "one of the pair required" if field.required else "optional (one of the pair)"
        rows.append({"file": "patient file", "column": field.date_column, "type": "date",
                     "unit": "date", "allowed values": "ISO date YYYY-MM-DD", "required": need,
                     "meaning": f"{field.meaning} As a date.", "aliases": ""})
        rows.append({"file": "patient file", "column": field.days_column, "type": "number",
                     "unit": "days", "allowed values": ">= 0", "required": need,
                     "meaning": f"{field.meaning} As days since treatment_start.",
                     "aliases": ""})
    rows += [_dictionary_row("cohort metadata", c) for c in COHORT_COLUMNS]
    columns = ["file", "column", "type", "unit", "allowed values", "required", "meaning",
               "aliases"]
    return SheetSpec("Data dictionary", pd.DataFrame(rows, columns=columns),
                     notes=("The columns dossier reads (patient file and cohort metadata), as "
                            "in the data dictionary of the documentation. One month is "
                            f"{DAYS_PER_MONTH:g} days.",))
