"""Per-patient response endpoints: clinical benefit, ORR, DCR, stable-disease duration, DoR.

Each patient row of the canonical frame (contract A) becomes a set of yes/no outcomes and a
duration of response; :mod:`dossier.endpoints.compute` counts them per group and attaches exact
Clopper-Pearson intervals. The rules follow DRUP and RECIST 1.1:

* a **confirmed response** is a best overall response of CR or PR with ``response_confirmed``;
* an **unconfirmed** CR/PR is stable disease (RECIST 1.1 with confirmation required: the BOR of
  an unconfirmed response is SD, as admiralonco's confirmed BOR makes it);
* the **duration of stable disease** is the PFS time from treatment start (progression or
  censoring), so "SD >= 16 weeks" means ``pfs_days >= 16 * 7`` for a patient with SD;
* **clinical benefit** (DRUP primary endpoint) = confirmed CR/PR, or SD lasting >= ``sd_weeks``;
* **duration of response** runs from the first documented CR/PR (``response_days``) to the end
  of PFS, with the PFS event as its event, among confirmed responders.

Only response-evaluable patients can have a response outcome, so a rate "among treated" has the
same numerator as "among evaluable" and a larger denominator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dossier.endpoints.labels import denominator_label, rate_label
from dossier.endpoints.parameters import (
    EndpointParameters,
    number_text,
)
from dossier.registry.schema import DAYS_PER_MONTH

RESPONSE_COLUMNS = (
    "response_evaluable",
    "best_response",
    "response_confirmed",
    "pfs_days",
    "pfs_event",
)
"""Columns a frame must have for the response endpoints; others default to all-missing."""

OPTIONAL_COLUMNS = ("response_days", "worst_ae_grade", "prior_pfs_days")

STAGE_POPULATION = "evaluable_stage"
"""``evaluable_stage<k>``: the first patients of a cohort that stage k (1, 2, ...) is judged on."""
STAGE_DENOMINATOR = "stage{k}_evaluable"
"""The results table's denominator of a stage's rows (``stage1_evaluable``)."""

ENROLMENT_ORDER = (
    "order of enrolment within the cohort = treatment_start, ties broken by patient_id"
)


@dataclass(frozen=True)
class PatientOutcomes:
    """Derived outcomes, one entry per input row (numpy arrays aligned with the frame).

    Boolean arrays are outcomes or populations; ``dor_days``/``dor_event`` hold the duration of
    response (NaN / 0 outside ``dor_population``); ``pfs_ratio`` is NaN without a prior PFS.
    """

    treated: np.ndarray
    evaluable: np.ndarray
    confirmed_response: np.ndarray
    complete_response: np.ndarray
    stable_disease: np.ndarray
    disease_control: np.ndarray
    clinical_benefit: np.ndarray
    clinical_benefit_durable: np.ndarray
    durable_sd: np.ndarray
    sd_benefit_window: np.ndarray
    sd_lasting: np.ndarray
    pfs_rate_known: np.ndarray
    pfs_rate_evaluable_known: np.ndarray
    progression_free_at_rate: np.ndarray
    ae_recorded: np.ndarray
    severe_trae: np.ndarray
    exceptional: np.ndarray
    with_prior_pfs: np.ndarray
    pfs_ratio: np.ndarray
    pfs_ratio_success: np.ndarray
    dor_population: np.ndarray
    dor_days: np.ndarray
    dor_event: np.ndarray
    stage_evaluable: np.ndarray
    """Shape (patients, stages): among the first ``stage_sizes[k]`` evaluable of the cohort."""
    start_unknown: np.ndarray
    stage_sizes: tuple[int, ...] = ()
    """The stage sizes of the loaded staged rule file (DRUP: read from its ``of:``)."""

    def __len__(self) -> int:
        return int(self.treated.shape[0])

    def flags(self, name: str) -> np.ndarray:
        """An outcome or population by name; ``evaluable_stage2`` is stage 2's first patients."""
        if name.startswith(STAGE_POPULATION):
            return self.stage_evaluable[:, int(name.removeprefix(STAGE_POPULATION)) - 1]
        return getattr(self, name)


@dataclass(frozen=True)
class RateEndpoint:
    """One rate of the results table: numerator and population named as PatientOutcomes fields.

    x counts the patients of ``population`` who also have ``numerator``; n counts ``population``.
    """

    endpoint: str
    denominator: str
    numerator: str
    population: str
    definition: str
    parameters: Mapping[str, Any]
    cohort_only: bool = False
    """Only for the cohort grouping (the first patients *of each cohort*)."""
    label: str = ""
    """What a reader sees for the row ("Clinical benefit rate (CR/PR or SD >= 16 weeks)")."""
    denominator_label: str = ""
    """Who the row counts, in words ("with SD >= 16 weeks")."""

    @property
    def parameters_json(self) -> str:
        return parameters_json(self.parameters)


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return value
    value = float(value)
    return int(value) if value.is_integer() else value


def parameters_json(parameters: Mapping[str, Any]) -> str:
    """Compact JSON with sorted keys; integral numbers written without '.0' (16, not 16.0)."""
    clean = {str(k): _json_number(v) for k, v in parameters.items()}
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _column(patients: pd.DataFrame, name: str) -> pd.Series:
    if name in patients.columns:
        return patients[name]
    return pd.Series(pd.NA, index=patients.index, dtype="object")


def _flag(series: pd.Series) -> np.ndarray:
    """A yes/no column as a bool array; missing counts as no."""
    return series.astype("boolean").to_numpy(dtype=bool, na_value=False)


def _number(series: pd.Series) -> np.ndarray:
    """A numeric column (float, Int64, object of numbers) as float64 with NaN for missing."""
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) or series.dtype == object:
        series = pd.to_numeric(series.astype("object"), errors="coerce").astype("Float64")
        return series.to_numpy(dtype=float, na_value=np.nan)
    return series.to_numpy(dtype=float)


def check_response_columns(patients: pd.DataFrame) -> None:
    """Raise ValueError naming every required column the frame lacks."""
    missing = [c for c in RESPONSE_COLUMNS if c not in patients.columns]
    if missing:
        raise ValueError(
            f"patient frame lacks column(s) {', '.join(missing)}; "
            f"available columns: {', '.join(map(str, patients.columns))}"
        )


def first_evaluable(patients: pd.DataFrame, evaluable: np.ndarray,
                    sizes: tuple[int, ...]) -> tuple[list[np.ndarray], np.ndarray]:
    """Flags of the first ``size`` response-evaluable patients of each cohort, per size.

    Patients are ordered within their cohort by ``treatment_start``, ties broken by
    ``patient_id`` (DRUP judges each stage on its first evaluable patients, as many as the
    stage's ``of:`` in the rule file). Also returns, per patient, whether it is evaluable
    without a treatment start date: its cohort's order cannot then be told.
    """
    n = len(patients)
    if "treatment_start" not in patients.columns:
        return [np.zeros(n, dtype=bool) for _ in sizes], evaluable.copy()
    start = pd.to_datetime(patients["treatment_start"], errors="coerce")
    unknown = evaluable & start.isna().to_numpy()
    cohort = (patients["cohort_id"].astype("string").fillna("") if "cohort_id" in patients.columns
              else pd.Series("", index=patients.index, dtype="string"))
    ident = (patients["patient_id"].astype("string").fillna("")
             if "patient_id" in patients.columns
             else pd.Series(np.arange(n), index=patients.index).astype("string"))
    frame = pd.DataFrame({"cohort": cohort.to_numpy(), "start": start.to_numpy(),
                          "id": ident.to_numpy(), "position": np.arange(n)})
    frame = frame[evaluable & ~unknown]
    frame = frame.sort_values(["cohort", "start", "id", "position"], kind="mergesort")
    rank = frame.groupby("cohort", sort=False).cumcount().to_numpy()
    out = []
    for size in sizes:
        flags = np.zeros(n, dtype=bool)
        flags[frame["position"].to_numpy()[rank < size]] = True
        out.append(flags)
    return out, unknown


def derive_outcomes(
    patients: pd.DataFrame, parameters: EndpointParameters | None = None,
    stage_sizes: tuple[int, ...] = (),
) -> PatientOutcomes:
    """Derive every per-patient outcome from the canonical patient frame (vectorised).

    Parameters
    ----------
    patients
        Canonical patient frame (contract A): one row per treated patient.
    parameters
        Cut-offs; default DRUP (SD >= 16 weeks, durable SD >= 24 weeks, ...).
    stage_sizes
        How many evaluable patients each stage is judged on, from the loaded staged rule file.
    """
    parameters = parameters or EndpointParameters()
    check_response_columns(patients)
    n = len(patients)
    treated = np.ones(n, dtype=bool)
    evaluable = _flag(patients["response_evaluable"])
    bor = patients["best_response"].astype("string").str.strip().str.upper()
    is_cr = bor.eq("CR").to_numpy(dtype=bool, na_value=False) & evaluable
    is_pr = bor.eq("PR").to_numpy(dtype=bool, na_value=False) & evaluable
    is_sd = bor.eq("SD").to_numpy(dtype=bool, na_value=False) & evaluable
    confirmed = _flag(patients["response_confirmed"])
    pfs_days = _number(patients["pfs_days"])
    pfs_event = _number(patients["pfs_event"])
    response_days = _number(_column(patients, "response_days"))
    grade = _number(_column(patients, "worst_ae_grade"))
    prior_pfs = _number(_column(patients, "prior_pfs_days"))

    confirmed_response = (is_cr | is_pr) & confirmed
    complete_response = is_cr & confirmed
    # RECIST 1.1 with confirmation required: an unconfirmed CR/PR is stable disease.
    stable = is_sd | ((is_cr | is_pr) & ~confirmed)
    with np.errstate(invalid="ignore"):
        sd_long = stable & (pfs_days >= parameters.sd_days)
        sd_durable = stable & (pfs_days >= parameters.durable_days)
    clinical_benefit = confirmed_response | sd_long
    clinical_benefit_durable = confirmed_response | sd_durable

    rate_days = parameters.pfs_rate_days
    with np.errstate(invalid="ignore"):
        event = pfs_event == 1
        progression_free = (pfs_days > rate_days) | ((pfs_days == rate_days) & ~event)
        censored_early = (pfs_days < rate_days) & ~event
    pfs_known = ~np.isnan(pfs_days) & ~censored_early

    ae_recorded = ~np.isnan(grade)
    with np.errstate(invalid="ignore"):
        severe_trae = ae_recorded & (grade >= parameters.trae_grade_min)

    rule = parameters.exceptional
    exceptional = np.zeros(n, dtype=bool)
    if rule.complete_response:
        exceptional |= complete_response
    if rule.pfs_months is not None:
        with np.errstate(invalid="ignore"):
            exceptional |= pfs_days > rule.pfs_months * DAYS_PER_MONTH

    with np.errstate(invalid="ignore", divide="ignore"):
        with_prior = (prior_pfs > 0) & ~np.isnan(pfs_days)
        ratio = np.where(with_prior, pfs_days / np.where(with_prior, prior_pfs, 1.0), np.nan)
        # relative tolerance so that 130/100 >= 1.3 whatever the float rounding
        success = with_prior & (ratio >= parameters.pfs_ratio_threshold * (1 - 1e-12))

    with np.errstate(invalid="ignore"):
        dor_raw = pfs_days - response_days
        dor_population = confirmed_response & ~np.isnan(dor_raw) & (dor_raw >= 0)
    dor_days = np.where(dor_population, dor_raw, np.nan)
    dor_event = np.where(dor_population, (pfs_event == 1).astype(np.int64), 0)
    sizes = tuple(int(k) for k in stage_sizes)
    firsts, start_unknown = first_evaluable(patients, evaluable, sizes)
    stage_evaluable = (np.column_stack(firsts) if firsts
                       else np.zeros((n, 0), dtype=bool))

    return PatientOutcomes(
        treated=treated,
        evaluable=evaluable,
        confirmed_response=confirmed_response,
        complete_response=complete_response,
        stable_disease=stable,
        disease_control=confirmed_response | stable,
        clinical_benefit=clinical_benefit,
        clinical_benefit_durable=clinical_benefit_durable,
        durable_sd=sd_durable,
        sd_benefit_window=sd_long,
        sd_lasting=sd_long & sd_durable,
        pfs_rate_known=pfs_known,
        pfs_rate_evaluable_known=pfs_known & evaluable,
        progression_free_at_rate=pfs_known & progression_free,
        ae_recorded=ae_recorded,
        severe_trae=severe_trae,
        exceptional=exceptional,
        with_prior_pfs=with_prior,
        pfs_ratio=ratio,
        pfs_ratio_success=success,
        dor_population=dor_population,
        dor_days=dor_days,
        dor_event=dor_event,
        stage_evaluable=stage_evaluable,
        start_unknown=start_unknown,
        stage_sizes=sizes,
    )


def rate_endpoints(parameters: EndpointParameters | None = None,
                   stage_sizes: tuple[int, ...] = ()) -> tuple[RateEndpoint, ...]:
    """The rates of the results table, in table order, as declarative definitions.

    Response rates come twice: among response-evaluable and among all treated patients. Each
    stage of ``stage_sizes`` adds the clinical benefit among its first evaluable patients
    (``cbr_stage<k>``); the last stage adds the durable one (``cbr_durable_stage<k>``).
    """
    p = parameters or EndpointParameters()
    sd, durable = number_text(p.sd_weeks), number_text(p.durable_weeks)
    sd_days, durable_days = number_text(p.sd_days), number_text(p.durable_days)
    sd_rule = "SD includes unconfirmed CR/PR; SD duration = PFS time from treatment start"
    month_text = number_text(p.pfs_rate_months)
    rule = p.exceptional
    definitions = [
        (
            "cbr",
            "clinical_benefit",
            f"clinical benefit = confirmed CR/PR or SD >= {sd} weeks ({sd_days} days); {sd_rule}",
            {"sd_weeks": p.sd_weeks},
        ),
        (
            "cbr_durable",
            "clinical_benefit_durable",
            f"clinical benefit = confirmed CR/PR or SD >= {durable} weeks ({durable_days} days); "
            f"{sd_rule}",
            {"durable_weeks": p.durable_weeks},
        ),
        ("orr", "confirmed_response", "objective response = confirmed CR or PR", {}),
        ("dcr", "disease_control", "disease control = CR, PR or SD (confirmed or not)", {}),
        (
            "durable_sd",
            "durable_sd",
            f"durable SD = SD >= {durable} weeks ({durable_days} days); {sd_rule}",
            {"durable_weeks": p.durable_weeks},
        ),
    ]
    out: list[RateEndpoint] = []
    for endpoint, numerator, text, params in definitions:
        out.append(RateEndpoint(endpoint, "evaluable", numerator, "evaluable", text, params))
        out.append(RateEndpoint(endpoint, "treated", numerator, "treated", text, params))
    for k, size in enumerate(stage_sizes, start=1):
        staged = [("cbr", "clinical_benefit", f"SD >= {sd} weeks ({sd_days} days)",
                   {"sd_weeks": p.sd_weeks})]
        if k == len(stage_sizes):
            staged.append(("cbr_durable", "clinical_benefit_durable",
                           f"SD >= {durable} weeks ({durable_days} days)",
                           {"durable_weeks": p.durable_weeks}))
        for stem, numerator, sd_text, params in staged:
            out.append(RateEndpoint(
                f"{stem}_stage{k}", STAGE_DENOMINATOR.format(k=k), numerator,
                f"{STAGE_POPULATION}{k}",
                f"clinical benefit = confirmed CR/PR or {sd_text} among the first {size} "
                f"response-evaluable patients of the cohort (stage {k}); "
                f"{ENROLMENT_ORDER}; n = fewer while fewer are evaluable; {sd_rule}",
                {**params, "first": size, "stage": k}, cohort_only=True))
    out.append(
        RateEndpoint(
            "sd_lasting",
            "sd_benefit_window",
            "sd_lasting",
            "sd_benefit_window",
            f"share of patients with SD >= {sd} weeks whose SD lasts >= {durable} weeks; {sd_rule}",
            {"durable_weeks": p.durable_weeks, "sd_weeks": p.sd_weeks},
        )
    )
    pfs_text = (
        f"progression-free at {month_text} months ({number_text(p.pfs_rate_days)} days), crude: "
        f"PFS time > {month_text} months, or censored at exactly {month_text} months; patients "
        f"censored earlier are left out of the denominator"
    )
    pfs_params = {"months": p.pfs_rate_months}
    out.append(
        RateEndpoint("pfs_rate", "evaluable", "progression_free_at_rate",
                     "pfs_rate_evaluable_known", pfs_text, pfs_params)
    )
    out.append(
        RateEndpoint("pfs_rate", "treated", "progression_free_at_rate", "pfs_rate_known",
                     pfs_text, pfs_params)
    )
    out.append(
        RateEndpoint(
            "severe_trae",
            "treated",
            "severe_trae",
            "ae_recorded",
            f"worst treatment-related AE grade >= {p.trae_grade_min} (CTCAE) among treated "
            "patients with a recorded grade (blank = not recorded, left out)",
            {"grade_min": p.trae_grade_min},
        )
    )
    exceptional_params: dict[str, Any] = {
        "complete_response": rule.complete_response,
        "exceptional_pfs_months": rule.pfs_months,
        "source": rule.source,
    }
    exceptional_text = f"exceptional responder = {rule.describe()} ({rule.source})"
    out.append(
        RateEndpoint("exceptional", "evaluable", "exceptional", "evaluable",
                     exceptional_text, exceptional_params)
    )
    out.append(
        RateEndpoint("exceptional", "treated", "exceptional", "treated", exceptional_text,
                     exceptional_params)
    )
    threshold = number_text(p.pfs_ratio_threshold)
    out.append(
        RateEndpoint(
            "pfs_ratio",
            "with_prior_pfs",
            "pfs_ratio_success",
            "with_prior_pfs",
            f"PFS ratio = PFS on trial / PFS on the prior line >= {threshold}, among patients "
            "with a prior PFS > 0 days; a censored PFS on trial counts at its censored time",
            {"threshold": p.pfs_ratio_threshold},
        )
    )
    return tuple(_labelled(r, p) for r in out)


def _labelled(rate: RateEndpoint, p: EndpointParameters) -> RateEndpoint:
    """The rate with its label and denominator label, derived from the parameters."""
    first = rate.parameters.get("first")
    size = None if first is None else int(first)
    return replace(rate, label=rate_label(rate.endpoint, p, size),
                   denominator_label=denominator_label(rate.denominator, p, size))
