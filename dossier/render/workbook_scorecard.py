"""The workbook's Scorecards sheet: each cohort's ESMO-MCBS scorecard, one line per step.

Lines run as ESMO's scorecards read: the preliminary grade (with the row of the form that set
it, by id and in words), each adjustment (applied, not applied or unresolved, and why), then
the final grade. Grades and changes are numbers; the rule ids stay here and in the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dossier.render.scorecard import Scorecard, scorecards
from dossier.render.xlsx import SheetSpec
from dossier.scoring.verdicts import Verdict

COLUMNS = ["cohort_no", "cohort_id", "criteria", "form", "esmo_mcbs_version", "comparator",
           "endpoint", "step", "rule_id", "item", "observed", "change", "state", "reason",
           "grade", "grade_text", "verdict", "certainty", "evaluated", "data_cutoff"]


def scorecard_records(card: Scorecard, number: int | None) -> list[dict[str, object]]:
    """The lines of one scorecard: preliminary grade, each adjustment, final grade."""
    base = {"cohort_no": number, "cohort_id": card.cohort_id, "criteria": card.criteria_id,
            "form": card.form, "esmo_mcbs_version": card.version,
            "comparator": card.comparator, "endpoint": card.endpoint, "verdict": card.verdict,
            "certainty": card.certainty, "evaluated": card.evaluated,
            "data_cutoff": card.data_cutoff}
    blank = {"rule_id": "", "item": "", "observed": "", "change": None, "state": "",
             "reason": "", "grade": None, "grade_text": ""}
    lines = [{**base, **blank, "step": "preliminary grade", "rule_id": card.rule_id,
              "item": card.criterion or "none of the form's rows", "observed": card.observed,
              "grade": card.preliminary_grade, "grade_text": card.preliminary_text}]
    for a in card.adjustments:
        lines.append({**base, **blank, "step": "adjustment", "rule_id": a.id, "item": a.label,
                      "change": a.change, "state": a.state, "reason": a.reason})
    lines.append({**base, **blank, "step": "final grade", "grade": card.final_grade,
                  "grade_text": card.final_text})
    return lines


def scorecard_sheet(verdicts: Sequence[Verdict], rule_sets: Sequence[object],
                    cohort_ids: Sequence[str], evaluated: str, data_cutoff: str) -> SheetSpec:
    """The Scorecards sheet; ``cohort_ids`` in the PDF's order give the cohort numbers."""
    numbers = {cid: i for i, cid in enumerate(cohort_ids, start=1)}
    records = [line for card in scorecards(verdicts, rule_sets, evaluated, data_cutoff)
               for line in scorecard_records(card, numbers.get(card.cohort_id))]
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    for column in ("cohort_no", "change", "grade"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return SheetSpec("Scorecards", frame, integer_columns=("cohort_no", "change", "grade"),
                     units={"cohort_no": "as in the PDF"},
                     notes=("ESMO-MCBS scorecards as ESMO publishes them: form and version, "
                            "the endpoint evaluated, the preliminary grade and the row of the "
                            "form that set it, each adjustment, the final grade, and the date "
                            f"of the evaluation (the build date; data cut-off {data_cutoff}).",
                            "A blank grade with grade_text 'no grade' means no row of the form "
                            "was reached; 'to ... (unresolved)' that a value is missing."))
