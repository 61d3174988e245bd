"""compute_endpoints: hand-checked rates, the Kaplan-Meier rows, groupings and guard clauses."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from _endpoint_cohorts import (
    HAND,
    HAND_G3_TRAE,
    HAND_PFS_RATIO,
    HAND_SD_LASTING,
    hand_cohort,
    random_cohorts,
)
from scipy.stats import binomtest

import dossier.endpoints.compute as compute_module
from dossier.endpoints.compute import compute_endpoints, prior_lines_band
from dossier.endpoints.km import kaplan_meier, km_at_times, km_quantile, median_followup
from dossier.endpoints.results import COLUMNS, select

DAYS_PER_MONTH = 30.4375


def one(table: pd.DataFrame, **keys: object) -> pd.Series:
    rows = select(table, **keys)
    assert len(rows) == 1, f"{keys}: {len(rows)} rows"
    return rows.iloc[0]


def rate(table: pd.DataFrame, endpoint: str, denominator: str, group: str = "C1") -> pd.Series:
    return one(table, group_by="cohort_id", group=group, endpoint=endpoint, statistic="rate",
               denominator=denominator)


def assert_clopper_pearson(row: pd.Series, x: int, n: int) -> None:
    assert (row["x"], row["n"]) == (x, n)
    assert row["estimate"] == x / n
    ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
    assert row["lower"] == pytest.approx(ci.low, abs=1e-9)
    assert row["upper"] == pytest.approx(ci.high, abs=1e-9)
    assert (row["status"], row["unit"]) == ("ok", "proportion")
    assert "Clopper-Pearson" in row["method"]


@pytest.fixture(scope="module")
def c1_table() -> pd.DataFrame:
    return compute_endpoints(hand_cohort())


@pytest.mark.parametrize("endpoint", sorted(HAND))
def test_hand_cohort_rates_have_exact_counts_and_clopper_pearson_limits(c1_table, endpoint):
    x_eval, n_eval, x_treated, n_treated = HAND[endpoint]
    assert_clopper_pearson(rate(c1_table, endpoint, "evaluable"), x_eval, n_eval)
    assert_clopper_pearson(rate(c1_table, endpoint, "treated"), x_treated, n_treated)


def test_hand_cohort_sd_lasting_trae_and_pfs_ratio_use_their_own_denominators(c1_table):
    assert_clopper_pearson(rate(c1_table, "sd_lasting", "sd_benefit_window"), *HAND_SD_LASTING)
    assert_clopper_pearson(rate(c1_table, "severe_trae", "treated"), *HAND_G3_TRAE)
    assert_clopper_pearson(rate(c1_table, "pfs_ratio", "with_prior_pfs"), *HAND_PFS_RATIO)


def test_patient_counts_give_treated_evaluable_and_rare(c1_table):
    keys = {"group_by": "cohort_id", "group": "C1", "endpoint": "patients"}
    assert one(c1_table, statistic="treated", **keys)["estimate"] == 12
    evaluable = one(c1_table, statistic="evaluable", **keys)
    assert (evaluable["estimate"], evaluable["n"], evaluable["denominator"]) == (10, 12, "treated")
    assert one(c1_table, statistic="rare", denominator="treated", **keys)["estimate"] == 0


def test_rare_cancers_are_counted_among_treated_and_among_evaluable():
    frame = hand_cohort()
    # P01 and P02 are evaluable, P11 is not: 3 rare among treated, 2 among evaluable
    frame["rare_cancer"] = frame["patient_id"].isin(["C1-P01", "C1-P02", "C1-P11"])
    table = compute_endpoints(frame)
    keys = {"group_by": "cohort_id", "group": "C1", "endpoint": "patients", "statistic": "rare"}
    treated = one(table, denominator="treated", **keys)
    evaluable = one(table, denominator="evaluable", **keys)
    assert (treated["estimate"], treated["n"]) == (3, 12)
    assert (evaluable["estimate"], evaluable["n"]) == (2, 10)


def test_sd_weeks_changes_the_clinical_benefit_rate_and_is_recorded():
    table = compute_endpoints(hand_cohort(), sd_weeks=20)
    row = rate(table, "cbr", "evaluable")
    assert_clopper_pearson(row, 4, 10)
    assert json.loads(row["parameters"]) == {"sd_weeks": 20}
    assert "SD >= 20 weeks (140 days)" in row["method"]


def test_exceptional_responder_definition_changes_the_rate_and_is_stated():
    table = compute_endpoints(hand_cohort(), exceptional_pfs_months=6)
    assert_clopper_pearson(rate(table, "exceptional", "evaluable"), 4, 10)
    assert_clopper_pearson(rate(table, "exceptional", "treated"), 5, 12)
    row = rate(table, "exceptional", "treated")
    assert json.loads(row["parameters"])["exceptional_pfs_months"] == 6
    assert "confirmed CR or PFS > 6 months (182.625 days)" in row["method"]
    pfs_only = compute_endpoints(hand_cohort(), exceptional_complete_response=False)
    assert_clopper_pearson(rate(pfs_only, "exceptional", "evaluable"), 1, 10)


def test_pfs_ratio_threshold_is_a_parameter():
    table = compute_endpoints(hand_cohort(), pfs_ratio_threshold=1.5)
    assert_clopper_pearson(rate(table, "pfs_ratio", "with_prior_pfs"), 1, 4)


def test_no_prior_pfs_at_all_gives_a_no_patients_row_not_an_error():
    table = compute_endpoints(hand_cohort().assign(prior_pfs_days=np.nan))
    row = rate(table, "pfs_ratio", "with_prior_pfs")
    assert (row["status"], row["x"], row["n"]) == ("no_patients", 0, 0)
    assert math.isnan(row["estimate"]) and math.isnan(row["lower"])


def test_duration_of_response_median_follows_r_when_the_curve_stays_at_one_half(c1_table):
    # responders: 344 days censored, 166 days event -> S = 0.5 from 166 to the last time 344;
    # R's quantile.survfit returns the midpoint (166 + 344) / 2 = 255 days
    keys = {"group_by": "cohort_id", "group": "C1", "endpoint": "dor"}
    n_row = one(c1_table, statistic="n", **keys)
    assert (n_row["estimate"], n_row["x"], n_row["denominator"]) == (2, 1, "responders")
    median = one(c1_table, statistic="median", **keys)
    assert median["estimate"] == pytest.approx(255 / DAYS_PER_MONTH, rel=1e-12)
    assert (median["unit"], median["status"]) == ("months", "ok")


@pytest.mark.parametrize("ci", ["log-log", "log", "plain"])
def test_time_to_event_rows_hold_what_the_kaplan_meier_core_reports(ci):
    frame = random_cohorts(120, 2)
    table = compute_endpoints(frame, ci=ci)
    group = frame[frame["cohort_id"] == "K001"]
    time, event = group["pfs_days"].to_numpy(), group["pfs_event"].to_numpy()
    km = kaplan_meier(time, event)
    keys = {"group_by": "cohort_id", "group": "K001", "endpoint": "pfs"}
    for statistic, p in (("median", 0.5), ("q25", 0.25), ("q75", 0.75)):
        row = one(table, statistic=statistic, **keys)
        q = km_quantile(km, p, ci)
        for column, value in (("estimate", q.estimate), ("lower", q.lower), ("upper", q.upper)):
            expected = math.nan if value is None else value / DAYS_PER_MONTH
            assert row[column] == pytest.approx(expected, nan_ok=True, rel=1e-12)
    survival = select(table, statistic="survival", **keys)
    marks = km_at_times(km, np.array([3, 6, 12, 24]) * DAYS_PER_MONTH, ci)
    assert survival["time"].tolist() == [3, 6, 12, 24]
    assert survival["estimate"].tolist() == [m.surv for m in marks]
    assert survival["n"].tolist() == [m.n_risk for m in marks]
    curve = select(table, statistic="curve", **keys)
    lower, upper = km.band(ci)
    np.testing.assert_allclose(curve["time"], km.time / DAYS_PER_MONTH, rtol=1e-15)
    np.testing.assert_array_equal(curve["estimate"], km.surv)
    np.testing.assert_array_equal(curve["lower"], lower)
    np.testing.assert_array_equal(curve["upper"], upper)
    np.testing.assert_array_equal(curve["n"], km.n_risk)
    np.testing.assert_array_equal(curve["x"], km.n_event)
    os_followup = one(table, group_by="cohort_id", group="K001", endpoint="os",
                      statistic="followup")
    reverse = median_followup(group["os_days"].to_numpy(), group["os_event"].to_numpy(), ci)
    assert os_followup["status"] == "ok"
    assert os_followup["estimate"] == pytest.approx(reverse.estimate / DAYS_PER_MONTH, rel=1e-12)
    assert os_followup["x"] == (group["os_event"] == 0).sum()  # censored = reverse-KM events


def test_number_at_risk_every_3_months_to_the_last_observation(c1_table):
    rows = select(c1_table, group_by="cohort_id", group="C1", endpoint="pfs", statistic="n_risk")
    # PFS times 20 ... 800 days; 800 days = 26.3 months -> 0, 3, ..., 27
    assert rows["time"].tolist() == [3.0 * k for k in range(10)]
    pfs = hand_cohort()["pfs_days"].to_numpy()
    expected = [int((pfs >= t * DAYS_PER_MONTH).sum()) for t in rows["time"]]
    assert rows["estimate"].tolist() == expected
    assert rows["estimate"].iloc[0] == 12 and rows["estimate"].iloc[-1] == 0


def test_landmark_beyond_follow_up_is_not_estimable_and_unreached_median_is_not_reached():
    table = compute_endpoints(hand_cohort(), landmarks_months=(12, 36))  # OS censored at 900 d
    keys = {"group_by": "all", "group": "all", "endpoint": "os"}
    twelve, thirty_six = select(table, statistic="survival", **keys).itertuples()
    assert (twelve.estimate, twelve.status) == (1.0, "ok")
    assert thirty_six.status == "not_estimable" and math.isnan(thirty_six.estimate)
    median = one(table, statistic="median", **keys)
    assert median["status"] == "not_reached" and math.isnan(median["estimate"])


def test_method_states_ci_type_and_censoring_rule():
    table = compute_endpoints(hand_cohort(), ci="log")
    method = one(table, group_by="all", endpoint="pfs", statistic="median")["method"]
    assert "pointwise CI log (Greenwood)" in method
    assert "Brookmeyer-Crowley" in method
    assert "days / 30.4375" in method
    assert "censored at the last known progression-free date" in method
    os_method = one(table, group_by="all", endpoint="os", statistic="median")["method"]
    assert "censored at the last known alive date" in os_method
    assert json.loads(one(table, group_by="all", endpoint="os", statistic="median")[
        "parameters"]) == {"ci": "log", "level": 0.95}


def test_cohort_without_responders_has_no_patients_rows_for_duration_of_response():
    frame = hand_cohort().assign(response_confirmed=pd.array([False] * 12, dtype="boolean"))
    table = compute_endpoints(frame)
    dor = select(table, group_by="cohort_id", group="C1", endpoint="dor")
    assert set(dor["status"]) == {"no_patients"}
    assert set(dor["statistic"]) == {"n", "events", "censored", "median", "q25", "q75",
                                     "survival", "followup"}


def without_group(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["group_by", "group"]).reset_index(drop=True)


def test_pooled_rows_equal_computing_on_the_whole_frame_as_one_cohort():
    frame = pd.concat([hand_cohort("C1"), random_cohorts(60, 3)], ignore_index=True)
    table = compute_endpoints(frame)
    pooled = select(table, group_by="all", group="all")
    single = compute_endpoints(frame.assign(cohort_id="X"))
    cohort = select(single, group_by="cohort_id", group="X")
    first_n = cohort["denominator"].str.startswith("stage")  # per-cohort stage rows only
    assert not pooled["denominator"].str.startswith("stage").any()
    pd.testing.assert_frame_equal(without_group(pooled), without_group(cohort[~first_n]))


def test_by_drug_groups_equal_computing_each_drug_alone():
    frame = random_cohorts(200, 6)
    table = compute_endpoints(frame, by=["drug"])
    drugs = select(table, group_by="drug")
    assert list(dict.fromkeys(drugs["group"])) == ["alpha", "beta", "gamma"]
    for drug in ("alpha", "beta", "gamma"):
        alone = compute_endpoints(frame[frame["drug"] == drug].reset_index(drop=True))
        pd.testing.assert_frame_equal(
            without_group(select(drugs, group=drug)),
            without_group(select(alone, group_by="all")),
        )


def test_groupings_come_pooled_then_cohorts_then_requested_order():
    table = compute_endpoints(random_cohorts(80, 3), by=["tumour_type", "drug", "cohort_id"])
    assert list(dict.fromkeys(table["group_by"])) == ["all", "cohort_id", "tumour_type", "drug"]
    assert list(dict.fromkeys(select(table, group_by="cohort_id")["group"])) == [
        "K000", "K001", "K002"]


def test_prior_lines_band_groups_0_1_2_and_3_or_more():
    lines = pd.Series([0, 1, 2, 3, 7, None], dtype="Int64")
    assert prior_lines_band(lines).tolist() == ["0-1", "0-1", "2", "3+", "3+", "missing"]
    frame = random_cohorts(100, 2)
    table = compute_endpoints(frame, by=["prior_lines_band"])
    treated = select(table, group_by="prior_lines_band", endpoint="patients",
                     statistic="treated")
    lines = frame["prior_lines"]
    assert dict(zip(treated["group"], treated["estimate"], strict=True)) == {
        "0-1": (lines <= 1).sum(), "2": (lines == 2).sum(), "3+": (lines >= 3).sum()}


def test_boolean_grouping_uses_true_and_false_as_group_names():
    table = compute_endpoints(random_cohorts(50, 2), by=["rare_cancer"])
    assert set(select(table, group_by="rare_cancer")["group"]) == {"False", "True"}


def test_unknown_by_column_is_named_with_the_available_columns():
    with pytest.raises(ValueError, match=r"'histology'.*available: .*drug.*prior_lines_band"):
        compute_endpoints(hand_cohort(), by=["histology"])


def test_bad_ci_type_is_refused():
    with pytest.raises(ValueError, match="ci must be one of log-log, log, plain"):
        compute_endpoints(hand_cohort(), ci="logit")


def test_missing_pfs_time_is_reported_with_patient_and_row():
    frame = hand_cohort()
    frame.loc[3, "pfs_days"] = np.nan
    with pytest.raises(ValueError, match=r"pfs_days.*C1-P04 \(row 5\)"):
        compute_endpoints(frame)


def test_table_has_the_contract_columns_for_an_empty_registry():
    table = compute_endpoints(hand_cohort().iloc[:0])
    assert list(table.columns) == list(COLUMNS)
    assert one(table, group_by="all", endpoint="patients", statistic="treated")["status"] == (
        "no_patients")


@pytest.mark.slow
def test_sharing_groups_between_worker_processes_gives_the_identical_table(monkeypatch):
    monkeypatch.setattr(compute_module, "MIN_GROUPS_PER_WORKER", 2)
    frame = random_cohorts(300, 40)
    serial = compute_endpoints(frame, by=["drug"])
    shared = compute_endpoints(frame, by=["drug"], workers=2)
    pd.testing.assert_frame_equal(serial, shared)


def test_events_and_censored_counts_are_rows_of_their_own(c1_table):
    keys = {"group_by": "cohort_id", "group": "C1", "endpoint": "pfs"}
    n = one(c1_table, statistic="n", **keys)
    events = one(c1_table, statistic="events", **keys)
    censored = one(c1_table, statistic="censored", **keys)
    # hand cohort C1: 12 treated, PFS censored for P01, P03, P05, P10, P12
    assert (n["estimate"], events["estimate"], censored["estimate"]) == (12, 7, 5)
