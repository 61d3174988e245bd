"""ESMO-MCBS Form 3 applies to orphan diseases / high unmet need only, with a stated override."""

from __future__ import annotations

import pandas as pd
import pytest
from _scoring_helpers import builtin_book

from dossier.scoring.engine import score_cohorts
from dossier.scoring.external_control import add_justifications, label_verdicts

FORM3 = "esmo-mcbs-v1.1-form3"
# median PFS 7 months: preliminary grade 3 whenever the form applies
GRADE3 = {"pfs_median_months": 7.0, "orr": 0.05, "g34_tox_wellbeing_rate": 0.1}
WHY = "KRAS p.G12C: about 1-2% of pancreatic cancers, a randomised study cannot be run"


def form3(metrics: dict[str, object], justification: str | None = None):
    cohorts = pd.DataFrame({"cohort_id": ["c"], "form3_justification": [justification]})
    values, _ = add_justifications({"c": metrics}, cohorts)
    book = builtin_book()
    verdicts = label_verdicts(score_cohorts([book.get(FORM3)], values), book.rule_sets, values)
    [verdict] = verdicts
    return verdict


def gate(verdict, gate_id: str = "orphan-or-unmet-need"):
    [clause] = [c for c in verdict.clauses if c.op == "gate" and c.rule == gate_id]
    return clause


@pytest.mark.parametrize("context", [
    {"rare_indication": True, "no_effective_treatment": False},
    {"rare_indication": False, "no_effective_treatment": True},
    {"rare_indication": True, "no_effective_treatment": True},
])
def test_a_rare_cancer_or_high_unmet_need_opens_the_form(context):
    verdict = form3({**GRADE3, **context})
    assert (verdict.verdict, verdict.grade) == ("met", 3)
    assert gate(verdict).state == "applies"
    assert not any("justification" in n for n in verdict.notes)


def test_neither_rare_nor_unmet_need_is_not_applicable_with_the_reason():
    verdict = form3({**GRADE3, "rare_indication": False, "no_effective_treatment": False})
    assert verdict.verdict == "not applicable" and verdict.grade is None
    [reason] = verdict.reasons
    assert reason.startswith("Form 3 is for single-arm studies in orphan diseases or diseases "
                             "with high unmet need; this cohort is neither a rare cancer")
    clause = gate(verdict)
    assert clause.state == "does not apply"
    assert clause.observed_text == ("rare indication no; no effective treatment no; Form 3 "
                                    "applied on a stated justification not given")


def test_a_stated_justification_applies_the_form_and_is_shown_with_the_verdict():
    verdict = form3({**GRADE3, "rare_indication": False, "no_effective_treatment": False}, WHY)
    assert (verdict.verdict, verdict.grade) == ("met", 3)
    note = f"applied on the justification given in the cohort metadata: {WHY}"
    assert note in verdict.notes
    assert gate(verdict).state == "applies" and gate(verdict).note == note
    assert verdict.to_dict()["notes"][-1] == note


def test_a_justification_is_not_claimed_when_the_context_alone_opens_the_form():
    verdict = form3({**GRADE3, "rare_indication": True, "no_effective_treatment": False}, WHY)
    assert verdict.verdict == "met"
    assert not any("justification" in n for n in verdict.notes)


def test_an_unknown_context_applies_the_form_and_says_it_was_not_checked():
    verdict = form3(dict(GRADE3))
    assert (verdict.verdict, verdict.grade) == ("met", 3)
    assert ("applicability (orphan-or-unmet-need) not checked: rare indication and no "
            "effective treatment not given in the cohort metadata; the rules were applied "
            "without that check") in verdict.notes


def test_a_randomised_control_arm_still_sends_a_study_to_forms_2a_2b():
    verdict = form3({**GRADE3, "rare_indication": True, "control_pfs_median_months": 4.0})
    assert verdict.verdict == "not applicable"
    assert gate(verdict, "single-arm").state == "does not apply"


def test_an_external_control_keeps_a_single_arm_cohort_in_form_3():
    verdict = form3({**GRADE3, "rare_indication": True, "control_pfs_median_months": 4.0,
                     "control_is_external": True})
    assert (verdict.verdict, verdict.grade) == ("met", 3)
    assert gate(verdict, "single-arm").state == "applies"
