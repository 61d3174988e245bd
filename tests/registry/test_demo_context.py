"""The demo cohorts' Form 3 context: rare cancers by RARECARE, standard treatment, one override."""

from __future__ import annotations

import pytest

from dossier.registry.demo import demo_registry
from dossier.registry.demo_context import BASKET_RARE_SHARE, FORM3_JUSTIFICATIONS


@pytest.fixture(scope="module")
def cohorts():
    patients, table = demo_registry()
    share = patients.groupby("cohort_id")["rare_cancer"].mean()
    tumour = patients.groupby("cohort_id")["tumour_type"].first()
    return table.set_index("cohort_id").assign(rare_share=share, tumour=tumour)


def test_named_tumour_types_are_rare_by_rarecare_not_by_their_patients(cohorts):
    by = cohorts.groupby("tumour")["rare_indication"].agg(lambda s: set(s))
    for tumour in ("Colorectal cancer", "Colorectal cancer, MSS", "Pancreatic cancer",
                   "Squamous cell lung cancer"):
        assert by[tumour] == {False}, tumour
    for tumour in ("Biliary tract cancer", "Liposarcoma", "Soft-tissue sarcoma",
                   "Mucosal melanoma"):
        assert by[tumour] == {True}, tumour


def test_baskets_are_rare_when_most_of_their_patients_have_a_rare_cancer(cohorts):
    baskets = cohorts[cohorts["tumour"].str.startswith("Solid tumours")]
    assert len(baskets) == 44
    expected = baskets["rare_share"] >= BASKET_RARE_SHARE
    assert (baskets["rare_indication"] == expected).all()
    assert 0 < expected.sum() < len(baskets)  # both kinds occur


def test_only_tumour_types_without_a_standard_treatment_have_high_unmet_need(cohorts):
    unmet = cohorts.groupby("tumour")["no_effective_treatment"].agg(lambda s: set(s))
    assert unmet["Colorectal cancer"] == unmet["Pancreatic cancer"] == {False}
    assert unmet["Mucosal melanoma"] == unmet["Solid tumours"] == {True}


def test_one_cohort_carries_a_justification_and_the_gate_alone_would_refuse_it(cohorts):
    given = cohorts["form3_justification"].dropna()
    assert list(given.index) == list(FORM3_JUSTIFICATIONS)
    row = cohorts.loc[given.index[0]]
    assert not row["rare_indication"] and not row["no_effective_treatment"]
    assert "rare molecular subgroup" in given.iloc[0]
