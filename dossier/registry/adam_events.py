"""ADaM ADAE as adverse events per event: each treatment-emergent record becomes one row of the
adverse-event file (registry/adverse_events.py) and is checked there, at its ADAE row.

Variables (CDISC ADAE): USUBJID (or the mapping's subject variable), AESOC or AEBODSYS, AEDECOD,
the grade (ATOXGRN, ATOXGR, AETOXGR, as the mapping's ``adae.grade`` lists), AESER, the
causality (``adae.causality``: related / not related by the mapping's word lists), AEACN =
DRUG WITHDRAWN for a discontinuation, and ASTDT (or AESTDTC) for the onset. With a TRTEMFL
variable only records flagged Y are counted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dossier.registry.adam_mapping import AdamMapping
from dossier.registry.readers import RawTable, is_blank, parse_text

WITHDRAWN = "DRUG WITHDRAWN"
"""The CDISC AEACN term for an event that led to permanent discontinuation of the drug."""


def _first(frame: pd.DataFrame, *names: str) -> str | None:
    by_key = {str(c).upper(): str(c) for c in frame.columns}
    return next((by_key[n.upper()] for n in names if n.upper() in by_key), None)


def _related(value: object, mapping: AdamMapping) -> object:
    text = parse_text(value)
    if text is None:
        return None
    if text.upper() in mapping.related:
        return "1"
    if text.upper() in mapping.not_related:
        return "0"
    return text  # neither: reported by the AE checks as not a yes/no value, at its row


def adae_events(raw: RawTable, mapping: AdamMapping) -> RawTable | None:
    """The ADAE records as adverse-event rows, keeping the ADAE file and its row numbers;
    None when ADAE has no organ class or no preferred term (then only the worst grade per
    patient is read from it, by registry/adam_subjects.py)."""
    frame = raw.frame
    if _first(frame, "AESOC", "AEBODSYS") is None or _first(frame, "AEDECOD", "AETERM") is None:
        return None
    flag = _first(frame, mapping.emergent_flag)
    if flag is not None:
        keep = [str(parse_text(v) or "").upper() == "Y" for v in frame[flag]]
        frame = frame[keep]
    columns: dict[str, object] = {}
    for target, names in (("patient_id", (mapping.subject,)), ("soc", ("AESOC", "AEBODSYS")),
                          ("pt", ("AEDECOD", "AETERM")), ("grade", tuple(mapping.grade)),
                          ("serious", ("AESER",)), ("onset_date", ("ASTDT", "AESTDTC"))):
        found = _first(frame, *names)
        if found is not None:
            columns[target] = frame[found]
    cause = _first(frame, *mapping.causality)
    if cause is not None:
        columns["related"] = frame[cause].map(lambda v: _related(v, mapping))
    action = _first(frame, "AEACN")
    if action is not None:
        columns["discontinued"] = frame[action].map(
            lambda v: None if is_blank(v) else ("1" if str(v).strip().upper() == WITHDRAWN
                                                else "0"))
    out = pd.DataFrame(columns, index=frame.index, dtype=object)
    return RawTable(out, raw.source)


def adae_path(directory: Path, mapping: AdamMapping) -> Path | None:
    """The ADAE file of an ADaM folder, when there is one."""
    from dossier.registry.adam import find_datasets

    found, _ = find_datasets(directory, mapping)
    return found.get("adae")
