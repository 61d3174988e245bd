"""Real ADaM files (pharmaverseadam, random.cdisc.data) read with --adam give R's endpoints.

The registries are mapped from the reference CSVs (tests/reference/data) exactly as a user
would map them (docs/adam.md); Kaplan-Meier estimates on their pfs_days / os_days must equal
R survival's on the ADTTE records (tests/reference/expected.json), the response rates R's
binom.test on the sponsor's BOR / CBOR, and the RECIST derivation from the visit responses
admiralonco's BOR and CBOR.
The same data written to SAS transport (.xpt) must read back to the same registry.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _adam_factories import (
    PHARMAVERSE,
    PHARMAVERSE_MAPPING,
    RANDOM_CDISC,
    RANDOM_MAPPING,
    REFERENCE,
    expected_json,
    load_reference,
    write_dataset,
)

from dossier.endpoints.km import kaplan_meier, km_at_times, km_quantile
from dossier.endpoints.parameters import EndpointParameters
from dossier.endpoints.rates import clopper_pearson
from dossier.endpoints.response import derive_outcomes
from dossier.registry.adam_bor import Visit, derive_best_response
from dossier.registry.load import Registry
from dossier.registry.schema import DAYS_PER_MONTH

REL_TOL = 1e-9


def read_csv(path: Path) -> pd.DataFrame:
    """As the reference README says: only an empty cell is missing ("NA" is a value)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def pharmaverse(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return load_reference(PHARMAVERSE, PHARMAVERSE_MAPPING, tmp_path_factory.mktemp("pv"))


@pytest.fixture(scope="module")
def random_cdisc(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return load_reference(RANDOM_CDISC, RANDOM_MAPPING, tmp_path_factory.mktemp("rc"))


def _km_cases() -> list[dict]:
    return [c for c in expected_json()["km"]
            if c["id"].split("_")[0] in ("pharmaverse", "cadtte")
            and c["filter"]["PARAMCD"][0] in ("OS", "PFS")]


def _close(got: float | None, want: float | None) -> bool:
    if want is None or got is None:
        return got is None and want is None
    return math.isclose(got, want, rel_tol=REL_TOL, abs_tol=1e-12)


@pytest.mark.parametrize("case", _km_cases(), ids=lambda c: c["id"])
def test_km_on_mapped_registry_equals_r(case, pharmaverse, random_cdisc):
    registry = pharmaverse if case["id"].startswith("pharmaverse") else random_cdisc
    patients = registry.patients
    if "ARMCD" in case["filter"]:
        patients = patients[patients["drug"].isin(case["filter"]["ARMCD"])]
    kind = case["filter"]["PARAMCD"][0].lower()
    divisor = case["time_divisor"]
    km = kaplan_meier(patients[f"{kind}_days"] / divisor, patients[f"{kind}_event"])
    assert (km.n, km.n_events) == (case["n"], case["n_events"])
    curve = case["curve"]
    np.testing.assert_allclose(km.time, curve["time"], rtol=REL_TOL)
    np.testing.assert_array_equal(km.n_risk, curve["n_risk"])
    np.testing.assert_allclose(km.surv, curve["surv"], rtol=REL_TOL)
    expected = {"median": case["median"], **case["quantiles"]}
    for name, p in (("median", 0.5), ("p25", 0.25), ("p75", 0.75)):
        for conf in ("log-log", "log"):
            got = km_quantile(km, p, conf_type=conf)
            want = expected[name]
            assert _close(got.estimate, want["estimate"]), (name, conf)
            assert _close(got.lower, want["ci"][conf]["lower"]), (name, conf)
            assert _close(got.upper, want["ci"][conf]["upper"]), (name, conf)
    times = [t["time"] for t in case["at_times"]]
    for got, want in zip(km_at_times(km, times, conf_type="log-log"), case["at_times"],
                         strict=True):
        assert (got.n_risk, got.n_event_cum) == (want["n_risk"], want["n_event_cum"])
        assert _close(got.surv, want["surv"])
        assert _close(got.lower, want["ci"]["log-log"]["lower"])


def test_pfs_in_months_equals_r_on_days_over_30_4375(random_cdisc):
    case = next(c for c in expected_json()["km"] if c["id"] == "cadtte_pfs_months_all")
    patients = random_cdisc.patients
    km = kaplan_meier(patients["pfs_days"] / DAYS_PER_MONTH, patients["pfs_event"])
    assert km.n == case["n"]
    assert _close(km_quantile(km, 0.5).estimate, case["median"]["estimate"])


RATE_IDS = [
    "pharmaverse_orr_randomized", "pharmaverse_orr_ARMCD_Pbo", "pharmaverse_orr_ARMCD_Xan_Lo",
    "pharmaverse_orr_ARMCD_Xan_Hi", "pharmaverse_dcr_randomized", "pharmaverse_dcr_ARMCD_Pbo",
    "pharmaverse_dcr_ARMCD_Xan_Lo", "pharmaverse_dcr_ARMCD_Xan_Hi",
    "pharmaverse_corr_randomized", "pharmaverse_corr_ARMCD_Pbo",
    "pharmaverse_corr_ARMCD_Xan_Lo", "pharmaverse_corr_ARMCD_Xan_Hi",
    "pharmaverse_orr_bor_not_missing", "cadrs_orr_all", "cadrs_cr_all", "cadrs_orr_ARMA",
    "cadrs_cr_ARMA", "cadrs_orr_ARMB", "cadrs_cr_ARMB", "cadrs_orr_ARMC", "cadrs_cr_ARMC",
]


def _outcome(rate_id: str, patients: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(denominator, numerator) masks of a reference rate in dossier's columns."""
    bor = patients["best_response"].astype(object)
    confirmed = patients["response_confirmed"].fillna(False).astype(bool)
    kind = rate_id.split("_")[1]
    numerator = {
        "orr": bor.isin(["CR", "PR"]),  # BOR CR/PR, confirmation not required
        "dcr": bor.isin(["CR", "PR", "SD"]),  # NON-CR/NON-PD is mapped to SD
        "corr": bor.isin(["CR", "PR"]) & confirmed,  # CBOR CR/PR
        "cr": bor.eq("CR") & confirmed,  # cadrs: BESRSPI is the confirmed response
    }[kind]
    if rate_id.startswith("cadrs_orr"):
        numerator = numerator & confirmed
    denominator = (patients["response_evaluable"] if rate_id.endswith("not_missing")
                   else pd.Series(True, index=patients.index))
    return denominator, numerator & denominator


@pytest.mark.parametrize("rate_id", RATE_IDS)
def test_response_rates_equal_r(rate_id, pharmaverse, random_cdisc):
    case = next(r for r in expected_json()["rates"] if r["id"] == rate_id)
    registry = pharmaverse if rate_id.startswith("pharmaverse") else random_cdisc
    patients = registry.patients
    if "ARMCD" in case["filter"]:
        patients = patients[patients["drug"].isin(case["filter"]["ARMCD"])]
    denominator, numerator = _outcome(rate_id, patients)
    rate = clopper_pearson(int(numerator.sum()), int(denominator.sum()))
    assert (rate.x, rate.n) == (case["x"], case["n"])
    assert _close(rate.lower, case["lower"]) and _close(rate.upper, case["upper"])


RESPONSE_ORACLE = json.loads((REFERENCE / "response_expected.json").read_text(encoding="utf-8"))
CLINICAL_BENEFIT = [
    pytest.param(study["id"], cut, id=f"{study['id']}-sd_weeks={cut['sd_weeks']:.6g}")
    for study in RESPONSE_ORACLE["studies"] for cut in study["clinical_benefit"]
]


@pytest.mark.parametrize(("study", "cut"), CLINICAL_BENEFIT)
def test_clinical_benefit_rate_at_each_sd_cut_off_equals_r(study, cut, pharmaverse, random_cdisc):
    """tests/reference/response_oracle.R: CBR at 16 weeks and at cut-offs on SD patients' PFS."""
    patients = (pharmaverse if study == "pharmaverse" else random_cdisc).patients
    outcomes = derive_outcomes(patients, EndpointParameters(sd_weeks=cut["sd_weeks"]))
    evaluable = outcomes.evaluable
    x, n = int(outcomes.clinical_benefit[evaluable].sum()), int(evaluable.sum())
    assert (x, n) == (cut["x"], cut["n"]), f"{cut['on_boundary']} patient(s) on the cut-off"
    rate = clopper_pearson(x, n)
    for name in ("estimate", "lower", "upper"):
        assert _close(getattr(rate, name), cut[name]), name


def test_the_sd_cut_offs_put_patients_exactly_on_the_boundary():
    """Without a patient on the cut-off, ">=" and ">" would give the same counts."""
    for study in RESPONSE_ORACLE["studies"]:
        assert any(cut["on_boundary"] > 0 for cut in study["clinical_benefit"]), study["id"]


def test_screen_failures_are_not_patients(pharmaverse):
    adsl = read_csv(PHARMAVERSE / "adsl.csv")
    treated = adsl.loc[adsl["ARMCD"] != "Scrnfail", "USUBJID"]
    assert sorted(pharmaverse.patients["patient_id"]) == sorted(treated)
    population = next(d for d in pharmaverse.report.decisions if d.topic == "population")
    assert "254 of 306 ADSL subjects" in population.text
    assert "Scrnfail 52" in population.text


def test_report_states_the_sponsors_day_count(pharmaverse):
    pfs = next(d for d in pharmaverse.report.decisions if d.topic == "PFS")
    assert "AVAL = ADT - STARTDT + 1 (both days counted): 254" in pfs.text
    assert (pfs.file, pfs.column) == ("adtte_onco.csv", "AVAL")


def test_pfs_censored_after_os_is_a_warning_at_its_adtte_row(pharmaverse):
    issue = next(i for i in pharmaverse.report.issues if i.rule == "pfs_longer_than_os")
    adtte = read_csv(PHARMAVERSE / "adtte_onco.csv")
    index = adtte.index[(adtte["USUBJID"] == "01-701-1115") & (adtte["PARAMCD"] == "PFS")][0]
    assert (issue.severity, issue.file, issue.row, issue.column, issue.value) == (
        "warning", "adtte_onco.csv", index + 2, "AVAL", "64")
    assert issue.patient_id == "01-701-1115"


def _visits_by_subject(adrs: pd.DataFrame, adsl: pd.DataFrame) -> dict[str, list[Visit]]:
    randomised = dict(zip(adsl["USUBJID"], pd.to_datetime(adsl["RANDDT"]), strict=True))
    ovr = adrs[(adrs["PARAMCD"] == "OVR") & (adrs["ANL01FL"] == "Y")]
    out: dict[str, list[Visit]] = {}
    for pid, adt, avalc in zip(ovr["USUBJID"], pd.to_datetime(ovr["ADT"]), ovr["AVALC"],
                               strict=True):
        out.setdefault(pid, []).append(Visit(float((adt - randomised[pid]).days), avalc))
    return out


def test_derived_bor_equals_admiralonco_for_every_subject():
    adrs, adsl = read_csv(PHARMAVERSE / "adrs_onco.csv"), read_csv(PHARMAVERSE / "adsl.csv")
    visits = _visits_by_subject(adrs, adsl)
    reference = {s["USUBJID"]: s["derived"] for s in expected_json()["bor_reference"]["subjects"]}
    assert sorted(visits) == sorted(reference)
    for pid, derived in reference.items():
        got = derive_best_response(visits[pid])
        assert (got.bor, got.cbor) == (derived["BOR"], derived["CBOR"]), pid
    sponsor = adrs[adrs["PARAMCD"].isin(["BOR", "CBOR"])].pivot(
        index="USUBJID", columns="PARAMCD", values="AVALC")
    for pid, row in sponsor.iterrows():
        got = derive_best_response(visits.get(pid, []))
        assert (got.bor, got.cbor) == (row["BOR"], row["CBOR"]), pid


def test_derived_bor_counts_by_arm_equal_admiralonco():
    adrs, adsl = read_csv(PHARMAVERSE / "adrs_onco.csv"), read_csv(PHARMAVERSE / "adsl.csv")
    visits = _visits_by_subject(adrs, adsl)
    for counts in expected_json()["bor_reference"]["bor_counts_by_arm"]:
        subjects = adsl.loc[adsl["ARMCD"] == counts["ARMCD"], "USUBJID"]
        got = pd.Series([derive_best_response(visits.get(p, [])).bor for p in subjects])
        assert len(got) == counts["n"]
        for category in ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING"):
            assert int((got == category).sum()) == counts[category], (counts["ARMCD"], category)


def test_registry_from_visits_equals_registry_from_sponsor_bor(pharmaverse, tmp_path):
    derived = load_reference(PHARMAVERSE, PHARMAVERSE_MAPPING + (
        "adrs:\n  source: visits\n  reference_date: RANDDT\n"), tmp_path)
    columns = ["patient_id", "response_evaluable", "best_response", "response_confirmed"]
    pd.testing.assert_frame_equal(derived.patients[columns], pharmaverse.patients[columns])
    by_id = derived.patients.set_index("patient_id")
    for subject in expected_json()["bor_reference"]["subjects"]:
        bor, cbor = subject["derived"]["BOR"], subject["derived"]["CBOR"]
        best = cbor if cbor in ("CR", "PR") else bor
        expected = {"NON-CR/NON-PD": "SD"}.get(best, best)
        assert by_id.loc[subject["USUBJID"], "best_response"] == expected
    source = next(d for d in derived.report.decisions if "derived from the visit" in d.text)
    assert "8 subjects" in source.text and "28 days" in source.text


def test_duration_of_response_equals_the_sponsors_rsd(pharmaverse):
    adtte = read_csv(PHARMAVERSE / "adtte_onco.csv")
    rsd = adtte[adtte["PARAMCD"] == "RSD"].set_index("USUBJID")["AVAL"]
    patients = pharmaverse.patients.set_index("patient_id").loc[rsd.index]
    dor = patients["pfs_days"] - patients["response_days"]
    pd.testing.assert_series_equal(dor, rsd.astype(float), check_names=False)


def _xpt_frame(path: Path) -> pd.DataFrame:
    """A CSV export as a SAS programmer would have it: dates as dates, numbers as numbers."""
    frame = read_csv(path)
    for column in frame.columns:
        if column.endswith("DT"):
            frame[column] = [None if pd.isna(v) else pd.Timestamp(v).date()
                             for v in frame[column]]
    return frame


def test_pharmaverse_as_xpt_reads_back_to_the_same_registry(pharmaverse, tmp_path):
    folder = tmp_path / "xpt"
    folder.mkdir()
    for name in ("adsl", "adtte_onco", "adrs_onco"):
        write_dataset(_xpt_frame(PHARMAVERSE / f"{name}.csv"), folder / f"{name}.xpt")
    from_xpt = load_reference(folder, PHARMAVERSE_MAPPING, tmp_path)
    assert from_xpt.report.summary().startswith("adsl.xpt: 254 patients, 3 cohorts, 0 errors")
    expected = pharmaverse.patients.assign(row=pharmaverse.patients["row"] - 1)  # records
    pd.testing.assert_frame_equal(from_xpt.patients, expected)
    assert from_xpt.sha256 != pharmaverse.sha256


def test_results_table_from_adam_registry_carries_rs_values(pharmaverse):
    from dossier.endpoints.compute import compute_endpoints

    results = compute_endpoints(pharmaverse.patients)
    for arm in ("Pbo", "Xan_Lo", "Xan_Hi"):
        case = next(c for c in expected_json()["km"] if c["id"] == f"pharmaverse_pfs_ARMCD_{arm}")
        row = results[(results["group"] == f"{arm} | Solid tumours | not recorded")
                      & (results["endpoint"] == "pfs") & (results["statistic"] == "median")]
        assert row["estimate"].item() * DAYS_PER_MONTH == pytest.approx(
            case["median"]["estimate"], rel=REL_TOL)
    corr = next(r for r in expected_json()["rates"] if r["id"] == "pharmaverse_corr_randomized")
    orr = results[(results["group_by"] == "all") & (results["endpoint"] == "orr")
                  & (results["denominator"] == "treated")]
    assert (orr["x"].item(), orr["n"].item()) == (corr["x"], corr["n"])
    assert orr["lower"].item() == pytest.approx(corr["lower"], rel=REL_TOL)
    assert orr["upper"].item() == pytest.approx(corr["upper"], rel=REL_TOL)
    drup = next(s for s in RESPONSE_ORACLE["studies"] if s["id"] == "pharmaverse")
    at_16_weeks = next(c for c in drup["clinical_benefit"] if c["sd_weeks"] == 16)
    cbr = results[(results["group_by"] == "all") & (results["endpoint"] == "cbr")
                  & (results["denominator"] == "evaluable")]
    assert (cbr["x"].item(), cbr["n"].item()) == (at_16_weeks["x"], at_16_weeks["n"])
    assert cbr["upper"].item() == pytest.approx(at_16_weeks["upper"], rel=REL_TOL)
