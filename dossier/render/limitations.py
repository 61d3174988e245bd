"""Limitations and certainty of one cohort's evidence, generated from its data and verdicts.

Each limitation is a sentence built from the cohort's own numbers: a small cohort, a confidence
interval spanning a framework's threshold (the clauses' and verdicts' certainty fields, when the
engine filled them), immature endpoints, unconfirmed responses, the single-arm design and an
external comparator. Nothing here judges added value; it says what limits the certainty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dossier.render.bibliography import Bibliography
from dossier.render.formatting import count_text, is_missing, percent_text
from dossier.scoring.verdicts import NOT_APPLICABLE, Verdict


def _flag(value: object) -> bool:
    return not (value is pd.NA or is_missing(value)) and bool(value)


def unconfirmed_responses(patients: pd.DataFrame) -> int:
    """Patients with a best response of CR or PR that was not confirmed."""
    if patients.empty or "best_response" not in patients.columns:
        return 0
    bor = patients["best_response"].astype(str)
    confirmed = (patients["response_confirmed"].map(_flag)
                 if "response_confirmed" in patients.columns
                 else pd.Series(False, index=patients.index))
    return int((bor.isin(("CR", "PR")) & ~confirmed).sum())


def _small_cohort(evaluable: int, full_size: int, ci_width: float | None) -> str:
    width = ("" if ci_width is None else
             f"; the 95% confidence interval of its clinical benefit rate is "
             f"{ci_width * 100:.0f} percentage points wide")
    return (f"Small cohort: {count_text(evaluable)} response-evaluable patients, fewer than "
            f"the {count_text(full_size)} the design judges{width}.")


def _certainty_lines(verdicts: Sequence[Verdict], infos: Mapping[str, Mapping[str, object]]
                     ) -> list[str]:
    """Only what decided a verdict: an uncertain verdict's deciding clause (its reason names the
    CI that spans the threshold), and insufficient evidence; rows that did not decide the
    verdict (a lower grade's band, say) are no limitation of it."""
    out: list[str] = []
    for verdict in verdicts:
        if verdict.verdict == NOT_APPLICABLE:
            continue
        short = str(infos.get(verdict.criteria_id, {}).get("short") or verdict.title)
        certainty = getattr(verdict, "certainty", "")
        reason = getattr(verdict, "certainty_reason", "")
        if certainty == "uncertain":
            out.append(f"{short}: the verdict ({verdict.verdict}) is uncertain"
                       + (f": {reason}." if reason else "."))
        elif certainty == "insufficient evidence":
            out.append(f"{short}: insufficient evidence" + (f" ({reason})." if reason else "."))
    return out


def _comparator_line(pico: Mapping[str, object], verdicts: Sequence[Verdict]) -> str:
    external = pico.get("comparator_kind") in ("external", "metadata")
    used = [v for v in verdicts if getattr(v, "comparator", None)]
    if not external and not used:
        return ""
    source = str(pico.get("comparator_source") or "")
    return ("External comparator: the control figures come from other patients "
            f"({pico.get('comparator')}{'; ' + source if source else ''}), not from a "
            "randomised control arm; differences in population, era and assessment may bias "
            "any comparison.")


def cohort_limitations(*, evaluable: int, full_size: int, ci_width: float | None,
                       patients: pd.DataFrame, followup: Sequence[Mapping[str, str]],
                       verdicts: Sequence[Verdict], infos: Mapping[str, Mapping[str, Any]],
                       pico: Mapping[str, object], bib: Bibliography) -> list[str]:
    """The cohort's limitations as sentences, most basic first."""
    out = [("Single-arm design: every patient received the study drug and no one a "
            "concurrent control, so effects on time-to-event endpoints cannot be separated from "
            "the natural course of the disease; response rates are the more direct measure "
            f"of activity {bib.cite('drup-2019')}.")]
    if evaluable < full_size:
        out.append(_small_cohort(evaluable, full_size, ci_width))
    out.extend(_certainty_lines(verdicts, infos))
    immature = [f"{row['endpoint'].lower()} ({row['why']})" for row in followup
                if row.get("mature") == "immature"]
    if immature:
        out.append(f"Immature endpoints: {'; '.join(immature)}. Their estimates may still "
                   "change with longer follow-up.")
    unconfirmed = unconfirmed_responses(patients)
    if unconfirmed:
        total = len(patients)
        out.append(f"Unconfirmed responses: {count_text(unconfirmed)} "
                   f"patient{'s' if unconfirmed != 1 else ''} "
                   f"({percent_text(unconfirmed / total) if total else '0%'} of treated) had a "
                   "complete or partial response that was not confirmed by a repeat assessment; "
                   "as RECIST 1.1 requires for single-arm studies they count as stable disease "
                   f"{bib.cite('recist-1.1')}: not as objective responses, and as clinical "
                   "benefit only when they stayed free of progression long enough.")
    comparator = _comparator_line(pico, verdicts)
    if comparator:
        out.append(comparator)
    return out
