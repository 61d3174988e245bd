"""Per-patient response derivations on the hand-made cohort C1 (see _endpoint_cohorts.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _endpoint_cohorts import HAND_DOR, canonical, hand_cohort

from dossier.endpoints.parameters import EndpointParameters, ExceptionalResponderRule
from dossier.endpoints.response import (
    derive_outcomes,
    parameters_json,
    rate_endpoints,
)


def who(frame: pd.DataFrame, mask: np.ndarray) -> set[str]:
    """Patient numbers ('P01', ...) where the mask is true."""
    return {pid.split("-")[-1] for pid in frame["patient_id"][mask]}


@pytest.fixture
def c1() -> pd.DataFrame:
    return hand_cohort()


def test_clinical_benefit_is_confirmed_response_or_sd_of_at_least_16_weeks(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.clinical_benefit) == {"P01", "P09", "P02", "P04", "P05", "P10"}
    assert who(c1, o.clinical_benefit).isdisjoint(who(c1, ~o.evaluable))


def test_unconfirmed_partial_response_is_stable_disease_not_an_objective_response(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.confirmed_response) == {"P01", "P09"}
    assert who(c1, o.complete_response) == {"P01"}
    assert "P02" in who(c1, o.stable_disease)
    assert who(c1, o.disease_control) == {"P01", "P02", "P03", "P04", "P05", "P09", "P10"}


@pytest.mark.parametrize(
    ("sd_weeks", "expected"),
    [
        (14, {"P01", "P09", "P02", "P03", "P04", "P05", "P10"}),  # 98 days: P03's 100 counts
        (16, {"P01", "P09", "P02", "P04", "P05", "P10"}),  # 112 days, P04 exactly on it
        (20, {"P01", "P09", "P05", "P10"}),  # 140 days: P02 (130) and P04 (112) drop out
    ],
)
def test_sd_weeks_moves_the_clinical_benefit_cut_off(c1, sd_weeks, expected):
    o = derive_outcomes(c1, EndpointParameters(sd_weeks=sd_weeks))
    assert who(c1, o.clinical_benefit) == expected


def test_durable_sd_and_the_16_week_sds_that_last_24_weeks(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.durable_sd) == {"P05", "P10"}
    assert who(c1, o.sd_benefit_window) == {"P02", "P04", "P05", "P10"}
    assert who(c1, o.sd_lasting) == {"P05", "P10"}
    assert who(c1, o.clinical_benefit_durable) == {"P01", "P09", "P05", "P10"}


def test_duration_of_response_runs_from_first_response_to_pfs_end_for_confirmed_responders(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.dor_population) == {"P01", "P09"}
    assert o.dor_days[o.dor_population].tolist() == HAND_DOR[0]
    assert o.dor_event[o.dor_population].tolist() == HAND_DOR[1]
    assert np.isnan(o.dor_days[~o.dor_population]).all()


def test_confirmed_responder_without_response_date_is_left_out_of_duration_of_response(c1):
    c1.loc[c1["patient_id"] == "C1-P09", "response_days"] = np.nan
    o = derive_outcomes(c1)
    assert who(c1, o.dor_population) == {"P01"}
    assert who(c1, o.confirmed_response) == {"P01", "P09"}


def test_exceptional_responder_default_is_confirmed_cr_or_pfs_beyond_24_months(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.exceptional) == {"P01", "P10", "P12"}
    assert ExceptionalResponderRule().describe() == (
        "confirmed CR or PFS > 24 months (730.5 days)"
    )


def test_exceptional_responder_definition_is_a_parameter(c1):
    six_months = EndpointParameters(exceptional_pfs_months=6)
    assert who(c1, derive_outcomes(c1, six_months).exceptional) == {
        "P01", "P05", "P09", "P10", "P12"}
    pfs_only = EndpointParameters(exceptional_complete_response=False, exceptional_pfs_months=24)
    assert who(c1, derive_outcomes(c1, pfs_only).exceptional) == {"P10", "P12"}
    cr_only = EndpointParameters(exceptional_pfs_months=None)
    assert who(c1, derive_outcomes(c1, cr_only).exceptional) == {"P01"}
    with pytest.raises(ValueError, match="complete response or a PFS limit"):
        ExceptionalResponderRule(complete_response=False, pfs_months=None)


def test_pfs_ratio_counts_exactly_1_3_as_success_among_patients_with_a_prior_pfs(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.with_prior_pfs) == {"P01", "P02", "P04", "P06"}  # P05's prior 0 ignored
    assert who(c1, o.pfs_ratio_success) == {"P01", "P02"}
    assert o.pfs_ratio[o.with_prior_pfs].tolist() == [2.0, 1.3, 112 / 90, 50 / 60]
    stricter = derive_outcomes(c1, EndpointParameters(pfs_ratio_threshold=1.5))
    assert who(c1, stricter.pfs_ratio_success) == {"P01"}


def test_grade_3_trae_counts_patients_with_a_recorded_grade(c1):
    o = derive_outcomes(c1)
    assert who(c1, o.ae_recorded) == set(who(c1, o.treated)) - {"P03", "P08", "P12"}
    assert who(c1, o.severe_trae) == {"P01", "P05", "P07", "P11"}


def test_progression_free_at_6_months_leaves_out_patients_censored_earlier(c1):
    o = derive_outcomes(c1)
    assert "P03" not in who(c1, o.pfs_rate_known)  # censored at 100 days
    assert who(c1, o.progression_free_at_rate) == {"P01", "P05", "P09", "P10", "P12"}


def test_event_exactly_at_6_months_is_progression_but_censoring_there_is_progression_free():
    six_months = 6 * 30.4375
    frame = canonical([
        {"patient_id": "A", "response_evaluable": True, "best_response": "PD",
         "pfs_days": six_months, "pfs_event": 1},
        {"patient_id": "B", "response_evaluable": True, "best_response": "SD",
         "pfs_days": six_months, "pfs_event": 0},
    ])
    o = derive_outcomes(frame)
    assert o.pfs_rate_known.tolist() == [True, True]
    assert o.progression_free_at_rate.tolist() == [False, True]


def test_missing_response_column_is_named():
    frame = hand_cohort().drop(columns=["best_response"])
    with pytest.raises(ValueError, match="best_response"):
        derive_outcomes(frame)


def test_absent_optional_columns_count_as_not_recorded():
    frame = hand_cohort().drop(columns=["worst_ae_grade", "prior_pfs_days", "response_days"])
    o = derive_outcomes(frame)
    assert not o.ae_recorded.any()
    assert not o.with_prior_pfs.any()
    assert not o.dor_population.any()


@pytest.mark.parametrize("field", ["sd_weeks", "durable_weeks", "pfs_ratio_threshold"])
def test_non_positive_cut_offs_are_refused(field):
    with pytest.raises(ValueError, match=field):
        EndpointParameters(**{field: 0})


def test_response_rates_come_with_both_denominators():
    pairs = [(r.endpoint, r.denominator) for r in rate_endpoints()]
    for endpoint in ("cbr", "cbr_durable", "orr", "dcr", "durable_sd", "exceptional",
                     "pfs_rate"):
        assert (endpoint, "evaluable") in pairs
        assert (endpoint, "treated") in pairs
    assert ("sd_lasting", "sd_benefit_window") in pairs
    assert ("severe_trae", "treated") in pairs
    assert ("pfs_ratio", "with_prior_pfs") in pairs
    assert len(pairs) == len(set(pairs))


def test_rate_definitions_state_the_cut_offs_they_use():
    definitions = {(r.endpoint, r.denominator): r for r in rate_endpoints(
        EndpointParameters(sd_weeks=20, durable_weeks=30))}
    cbr = definitions["cbr", "evaluable"]
    assert "SD >= 20 weeks (140 days)" in cbr.definition
    assert json.loads(cbr.parameters_json) == {"sd_weeks": 20}
    assert json.loads(definitions["sd_lasting", "sd_benefit_window"].parameters_json) == {
        "durable_weeks": 30, "sd_weeks": 20}


def test_parameters_json_is_compact_sorted_and_writes_whole_numbers_plainly():
    assert parameters_json({"sd_weeks": 16.0, "ci": "log", "level": 0.95, "b": None}) == (
        '{"b":null,"ci":"log","level":0.95,"sd_weeks":16}'
    )
