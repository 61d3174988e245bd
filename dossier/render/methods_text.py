"""The methods section in words: endpoint methods, parameters, definitions, data cut-off.

Built from the results rows' method strings and the run's endpoint parameters, so the methods
say what was computed, with the parameters it was computed with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from dossier.endpoints.parameters import EndpointParameters
from dossier.registry.load import Registry
from dossier.render.formatting import (
    NOT_AVAILABLE,
    number_words,
)
from dossier.render.results_index import POOLED, ResultsIndex, row_parameters
from dossier.resources import drup_stage_sizes

DEFAULTS = EndpointParameters()
MISSING = NOT_AVAILABLE


_number_words = number_words


PARAMETER_WORDS: dict[str, Any] = {
    "sd_weeks": lambda v: f"SD >= {_number_words(v)} weeks",
    "durable_weeks": lambda v: f"durable: >= {_number_words(v)} weeks",
    "months": lambda v: f"landmark {_number_words(v)} months",
    "grade_min": lambda v: f"CTCAE grade >= {_number_words(v)}",
    "complete_response": lambda v: "confirmed CR counts" if v else "CR alone does not count",
    "exceptional_pfs_months": lambda v: f"PFS > {_number_words(v)} months",
    "threshold": lambda v: f"ratio >= {_number_words(v)}",
    "ci": lambda v: f"{v} CI",
    "level": lambda v: f"{float(v) * 100:g}%" if isinstance(v, int | float) else str(v),
    "source": lambda v: str(v),
}


def parameters_text(params: Mapping[str, object]) -> str:
    """Estimation parameters in words: ``{"ci":"log-log","level":0.95}`` -> "log-log CI, 95%".

    Unknown keys are shown as "key = value" so nothing is hidden from the reader.
    """
    words = []
    for key, value in params.items():
        render = PARAMETER_WORDS.get(key)
        words.append(render(value) if render else f"{key.replace('_', ' ')} = {value}")
    return ", ".join(w for w in words if w)


ENDPOINT_NAMES = {"patients": "Patients", "pfs": "PFS", "os": "OS",
                  "dor": "Duration of response"}
"""Names of the endpoints whose rows' labels name a statistic, not the endpoint."""
STATISTIC_NAMES = {"n": "patients", "events": "events", "censored": "censored",
                   "median": "median", "q25": "25th percentile", "q75": "75th percentile",
                   "survival": "landmark survival",
                   "n_risk": "number at risk", "curve": "curve", "followup": "median follow-up",
                   "rate": "rate", "treated": "treated", "evaluable": "evaluable",
                   "rare": "rare cancers"}


METHOD_WORDS = (
    ("not reached = NaN", "a median not reached is shown as NR"),
    ("not_estimable", "not estimable (NE)"),
    ("(R quantile.survfit rules)", "(as R's survival package)"),
    ("(R summary.survfit, extend = TRUE)", "(as R's survival package)"),
)
"""Code words of the results rows' method strings -> the words a reader of the PDF expects."""


def method_sentence(method: str) -> str:
    """A results row's method string as a sentence: code words in words, a closing stop."""
    for code, words in METHOD_WORDS:
        method = method.replace(code, words)
    method = method.strip()
    return method if not method or method.endswith(".") else method + "."


def settings_sentence(params: Mapping[str, object]) -> str:
    """``Settings used: landmark 6 months.``: the row's parameters as their own sentence."""
    text = parameters_text(params)
    return f"Settings used: {text}." if text else ""


def method_rows(index: ResultsIndex) -> list[dict[str, str]]:
    """How each endpoint is defined and estimated: the method strings of the pooled rows.

    The method is one sentence and the settings it was computed with another, so no parameter
    fragment is pasted onto the end of a sentence ("... the denominator landmark 6 months").
    """
    frame = index.frame
    pooled = frame.loc[frame["group_by"].astype(str) == POOLED[0]].drop_duplicates(
        ["endpoint", "method", "statistic", "denominator"])
    seen: dict[tuple[str, str], dict[str, list[str] | str]] = {}
    for endpoint, method, statistic, denominator, parameters, label in zip(
            *(pooled[c].astype(str).tolist() for c in ("endpoint", "method", "statistic",
                                                       "denominator_label", "parameters",
                                                       "label")),
            strict=True):
        entry = seen.setdefault((endpoint, method), {"statistics": [], "denominators": [],
                                                     "parameters": parameters,
                                                     "name": ENDPOINT_NAMES.get(endpoint, label)})
        for field, value in (("statistics", STATISTIC_NAMES.get(statistic, statistic)),
                             ("denominators", denominator)):
            if value and value not in entry[field]:
                entry[field].append(value)  # type: ignore[union-attr]
    return [{"endpoint": str(e["name"]),
             "statistics": ", ".join(e["statistics"]),
             "denominators": ", ".join(e["denominators"]) or "-",
             "method": method_sentence(method),
             "parameters": settings_sentence({k: v for k, v in row_parameters(
                 {"parameters": e["parameters"]}).items()
                 if not (k == "source" and str(v) in method)})}
            for (_, method), e in seen.items()]


PARAMETER_LABELS = {
    "ci": "Confidence interval for survival curves", "conf_level": "Confidence level",
    "sd_weeks": "Stable disease counts as clinical benefit from (weeks)",
    "durable_weeks": "Durable benefit from (weeks)",
    "exceptional_pfs_months": "Exceptional responder: PFS longer than (months)",
    "pfs_ratio_threshold": "PFS ratio threshold (trial / prior line)",
    "pfs_rate_months": "Crude progression-free rate at (months)",
    "exceptional_complete_response": "Exceptional responder: a confirmed CR counts",
    "trae_grade_min": "Severe treatment-related AE from CTCAE grade",
    "landmarks_months": "Landmark survival at (months)",
    "by": "Extra grouping columns", "days_per_month": "Days per month",
    "stage_sizes": "Evaluable patients judged at each stage of the two-stage design",
}


def parameter_rows(parameters: Mapping[str, object]) -> list[dict[str, str]]:
    """The analysis parameters with readable names (the setting's key in brackets)."""
    rows = []
    for key, value in parameters.items():
        shown = (", ".join(map(str, value)) or "-" if isinstance(value, list | tuple)
                 else _number_words(value))
        label = PARAMETER_LABELS.get(str(key))
        rows.append({"name": label or str(key).replace("_", " "), "key": str(key),
                     "value": shown})
    return rows


def data_cutoff(registry: Registry) -> str:
    """The data cut-off as the latest date in the data: max(treatment start + OS days)."""
    return patients_cutoff(registry.patients)


def patients_cutoff(patients: pd.DataFrame) -> str:
    """:func:`data_cutoff` of a patient frame (canonical columns)."""
    if patients.empty or "treatment_start" not in patients.columns:
        return MISSING
    starts = pd.to_datetime(patients["treatment_start"], errors="coerce")
    last = (starts + pd.to_timedelta(patients["os_days"].fillna(0), unit="D")).max()
    return MISSING if pd.isna(last) else last.strftime("%Y-%m-%d")


def method_definitions(parameters: Mapping[str, object], cutoff: str) -> list[dict[str, str]]:
    """What the dossier means by its terms: cut-off, response, evaluability, censoring, pooling.

    Stated once in the methods so a reader can check every figure against a definition.
    """
    sd = _number_words(parameters.get("sd_weeks") or DEFAULTS.sd_weeks)
    pfs = _number_words(parameters.get("exceptional_pfs_months")
                        or DEFAULTS.exceptional_pfs_months)
    sizes = list(parameters.get("stage_sizes") or drup_stage_sizes())  # type: ignore[call-overload]
    firsts = " or the ".join(f"first {_number_words(k)}" for k in sizes)
    rows = [
        {"term": "Data cut-off", "text": f"{cutoff}: the latest date in the data (treatment "
         "start plus the longest OS time); no separate cut-off date is recorded."},
        {"term": "Response criteria", "text": "RECIST 1.1 best overall response as recorded "
         "in the registry; CR and PR count as objective response only when confirmed by a "
         f"second assessment >= 4 weeks later. Clinical benefit = confirmed CR/PR or stable "
         f"disease (SD) lasting >= {sd} weeks from the start of treatment."},
        {"term": "Response-evaluable", "text": "As the registry flags each patient "
         "(its response-evaluable field); dossier does not re-derive evaluability. Rates of "
         "response and clinical benefit use these patients as the denominator."},
        {"term": "PFS censoring", "text": "Patients without progression or death are censored "
         "at the last known progression-free date; no further censoring rules (e.g. for new "
         "anticancer therapy or missed assessments) are applied."},
        {"term": "Pooling of stages", "text": "A cohort's figures pool all its evaluable "
         "patients of every stage (stage 1, stage 2 and expansion), unless a rule uses only "
         f"the {firsts} evaluable patients (the stage bars of the staged rule file)."},
        {"term": "Exceptional responders", "text": "A confirmed complete response, or PFS "
         f"longer than {pfs} months (dossier's definition)*.",
         "footnote": "* The DRUP 2026 report gives 7.0% exceptional responders but does not "
         "publish its definition; a press summary gives 67 patients (4.9% of 1,363 evaluable), "
         "which differs from 7.0%. dossier's definition is a parameter."},
        {"term": "NR and NE", "text": "NR (not reached) is used only for a median or the "
         "upper limit of its 95% CI when the Kaplan-Meier curve (or its lower confidence "
         "band) stays above 0.5 within follow-up. NE (not estimable) marks a lower limit "
         "that cannot be computed (a lower limit is never 'not reached'), a limit of a curve "
         "that fell to 0 (e.g. a median from a single responder), a median follow-up with no "
         "censored patient, and a landmark survival beyond the last observation."},
    ]
    return [{"footnote": "", **row} for row in rows]


