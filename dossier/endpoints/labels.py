"""The words a reader sees for each results row, derived from the endpoint parameters.

Every row of the results table carries a ``label`` ("Clinical benefit rate (CR/PR or SD >= 16
weeks)") and a ``denominator_label`` ("with SD >= 16 weeks"), made here from the parameters the
row was computed with, so the PDF, the workbook, Word and Quarto never type a cut-off again.
"""

from __future__ import annotations

import re

from dossier.endpoints.parameters import EndpointParameters, number_text

TIME_TO_EVENT_NAMES = {"pfs": ("PFS", "progression-free survival"),
                       "os": ("OS", "overall survival"),
                       "dor": ("DoR", "duration of response")}
"""Time-to-event endpoint -> (abbreviation, name)."""

PATIENT_LABELS = {"treated": "Patients who started treatment",
                  "evaluable": "Response-evaluable", "rare": "Rare cancers"}

STAGE_ENDPOINT = re.compile(r"^(cbr|cbr_durable)_stage([1-9][0-9]*)$")
STAGE_DENOMINATOR = re.compile(r"^stage([1-9][0-9]*)_evaluable$")


def rate_label(endpoint: str, p: EndpointParameters, first: int | None = None) -> str:
    """The label of a rate; ``first`` is a stage row's size (its first evaluable patients)."""
    sd, durable = number_text(p.sd_weeks), number_text(p.durable_weeks)
    stage = STAGE_ENDPOINT.match(endpoint)
    if stage is not None:
        stem, k = stage.groups()
        size = "" if first is None else f" (first {first} evaluable)"
        return f"{rate_label(stem, p).split(' (')[0]}, stage {k}{size}"
    labels = {
        "cbr": f"Clinical benefit rate (CR/PR or SD >= {sd} weeks)",
        "cbr_durable": f"Durable clinical benefit rate (CR/PR or SD >= {durable} weeks)",
        "orr": "Objective response rate (confirmed CR/PR)",
        "dcr": "Disease control rate (CR/PR/SD)",
        "durable_sd": f"Stable disease >= {durable} weeks",
        "sd_lasting": f"SD >= {sd} weeks that lasted >= {durable} weeks",
        "pfs_rate": f"Progression-free at {number_text(p.pfs_rate_months)} months (crude)",
        "severe_trae": f"Grade >= {p.trae_grade_min} treatment-related adverse events",
        "exceptional": "Exceptional responders",
        "pfs_ratio": f"PFS ratio >= {number_text(p.pfs_ratio_threshold)} (trial / prior line)",
    }
    return labels.get(endpoint, endpoint.replace("_", " "))


def denominator_label(denominator: str, p: EndpointParameters, first: int | None = None) -> str:
    """Who a row counts: "evaluable", "with SD >= 16 weeks", "first 8 evaluable"."""
    if STAGE_DENOMINATOR.match(denominator):
        return "evaluable" if first is None else f"first {first} evaluable"
    words = {"evaluable": "evaluable", "treated": "treated",
             "responders": "confirmed responders",
             "sd_benefit_window": f"with SD >= {number_text(p.sd_weeks)} weeks",
             "with_prior_pfs": "with a prior-line PFS", "": ""}
    return words.get(denominator, denominator.replace("_", " "))


def time_to_event_label(endpoint: str, statistic: str, time: float | None = None) -> str:
    """The label of a Kaplan-Meier row: "Median overall survival", "OS at 36 months"."""
    short, name = TIME_TO_EVENT_NAMES.get(endpoint, (endpoint.upper(), endpoint))
    if statistic == "survival":
        return f"{short} at {number_text(time or 0.0)} months"
    labels = {"median": f"Median {name}", "q25": f"{short}, 25th percentile",
              "q75": f"{short}, 75th percentile",
              "followup": f"Median follow-up ({short}, reverse Kaplan-Meier)",
              "n": f"{short}: patients", "events": f"{short}: events",
              "censored": f"{short}: censored", "n_risk": f"{short}: number at risk",
              "curve": f"{short}: Kaplan-Meier curve"}
    return labels.get(statistic, f"{short} {statistic}")
