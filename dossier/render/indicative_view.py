"""The indicative verdict of a "not applicable" verdict, as the cohort section shows it.

A rule file's gate marked ``indicative`` (PASKWIL's EMA registration) keeps the verdict "not
applicable" for off-label cohorts; the engine adds what the rules would give if the gate held.
This turns that into the words of one verdict line (PDF, Word); empty when there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dossier.scoring.verdicts import Verdict

INDICATIVE_TAG = "Indicative verdict if assessed"
INDICATIVE_NOTE = "shown for information only; the verdict stays not applicable"
INDICATIVE_SHEET_NOTE = ("indicative_verdict, indicative_outcome, indicative_certainty: for a "
                         "verdict not applicable only because the drug lacks EMA registration "
                         "(or another gate marked indicative), the verdict the criteria would "
                         "give if it held; information only.")


def indicative_view(verdict: Verdict, words: Callable[[Sequence[str]], list[str]]
                    ) -> dict[str, object]:
    """The indicative verdict's headline, certainty and deciding clauses in readers' words
    (``words`` turns metric ids into labels); an empty dict when the verdict has none."""
    if not verdict.indicative_verdict:
        return {}
    head = verdict.indicative_verdict
    if verdict.indicative_outcome and verdict.indicative_outcome != head:
        head += f" ({verdict.indicative_outcome})"
    grade = verdict.indicative_grade_text
    if grade and "grade" not in verdict.indicative_outcome:
        head += f"; grade {grade}"
    certainty = ""
    if verdict.indicative_certainty and verdict.indicative_certainty != verdict.indicative_verdict:
        certainty = verdict.indicative_certainty
        if verdict.indicative_certainty_reason:
            certainty += f": {verdict.indicative_certainty_reason}"
    shown = verdict.indicative_certainty_reason if certainty else ""
    why = [r for r in verdict.indicative_reasons if r != shown]
    return {"tag": INDICATIVE_TAG, "head": head, "note": INDICATIVE_NOTE,
            "certainty": certainty, "deciding": words(verdict.indicative_deciding),
            "why": words(why)}
