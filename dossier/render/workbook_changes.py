"""The workbook's Changes sheet: what changed since the earlier data cut, one row per change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from dossier.changes.text import COLUMNS, change_rows, heading, lead
from dossier.render.xlsx import SheetSpec


def changes_sheet(document: Mapping[str, Any]) -> SheetSpec:
    """The Changes sheet: the rows of the PDF's "Changes since" section, with its lead."""
    frame = pd.DataFrame.from_records(change_rows(document), columns=list(COLUMNS))
    return SheetSpec("Changes", frame, notes=(heading(document), lead(document),
                                              *document.get("notes", [])))
