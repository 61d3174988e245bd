"""Template data of the PDF dossier: results table + verdicts + registry -> plain dicts and lists.

Everything a template shows is prepared here as text, formatted as the reader sees it
("34.9% (32.2-37.6)", "3.4 (2.8-3.5) months", "NR"), so templates hold no logic and no number is
formatted anywhere else. Nothing is estimated: every figure is looked up in the results table
(contract D) or copied from a verdict; the figures (inline SVG) are drawn from the same rows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from dossier.registry.load import Registry
from dossier.registry.pseudonyms import KEEP, identifiers_sentence
from dossier.registry.schema import DAYS_PER_MONTH, DAYS_PER_WEEK
from dossier.render.figures import (
    forest_rows_from_results,
    forest_svg,
    km_curve_data_from_results,
    km_plot_svg,
    readable_x_max,
    swimmer_svg,
)
from dossier.render.svg import month_tick_step
from dossier.scoring.metrics import METRICS
from dossier.scoring.readiness import (
    LINE_RULES,
    NOT_PAYER_READY,
    NOT_SCORED,
    PAYER_READY,
    PAYER_RULES,
    TRIAL_RULE,
    UNRESOLVED,
    cohort_readiness,
)
from dossier.scoring.verdicts import NOT_APPLICABLE, VERDICTS, ClauseResult, Verdict

POOLED = ("all", "all")
COHORT = "cohort_id"
ORR_THRESHOLDS = ((0.20, "ESMO-MCBS v1.1 Form 3: ORR 20%"),)
"""Forest-plot reference line for ORR: the lowest ORR band of Form 3 that can reach grade 2-3."""
DRUP_STAGE_2 = (5, 24)
"""DRUP's stage-2 bar (5 of 24 with clinical benefit), used when no staged rule file is given."""
HEADLINE_DECIMALS = 2
"""Medians in the pooled headline carry 2 decimals: at 1 decimal an estimate can print equal to
its confidence limit (3.4 (2.8-3.4)) although the two differ."""
FOREST_ROWS_PER_FIGURE = 36
"""Cohorts per forest plot: one figure must fit an A4 page."""
KM_ENDPOINTS = (("pfs", "PFS", "Progression-free survival"), ("os", "OS", "Overall survival"))
MISSING = "not available"
METRIC_LABELS = {name: spec.label for name, spec in METRICS.items() if spec.label}
"""Metric identifier -> label, from the metric catalogue (rule files may add their inputs)."""
VERDICT_CSS = {v: "v-" + v.replace(" ", "-") for v in VERDICTS}
Row = Mapping[str, Any]
"""A results-table row as a mapping from column name to value."""


# --------------------------------------------------------------------------- number formats


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count_text(value: Any) -> str:
    """A count with thousands separators: ``1,610``; "" when not available."""
    return "" if _nan(value) else f"{round(float(value)):,}"


def percent_text(value: Any) -> str:
    """A proportion 0-1 as a percentage with one decimal: ``34.9%``; "NR" when missing."""
    return "NR" if _nan(value) else f"{float(value) * 100:.1f}%"


def months_value_text(value: Any, decimals: int = 1) -> str:
    """Months with one decimal (``3.4``); "NR" (not reached) when missing."""
    return "NR" if _nan(value) else f"{float(value):.{decimals}f}"


def _limit(value: Any, percent: bool, missing: str = "NR") -> str:
    if _nan(value):
        return missing
    return f"{float(value) * 100:.1f}" if percent else f"{float(value):.1f}"


def _ci(row: Row, percent: bool, missing: str = "NR") -> str:
    """``(32.2-37.6)``: the 95% CI limits of a row, ``missing`` for an absent limit."""
    return f"({_limit(row['lower'], percent, missing)}-{_limit(row['upper'], percent, missing)})"


def _unavailable(row: Row | None) -> str | None:
    if row is None:
        return MISSING
    return "no patients" if row["status"] == "no_patients" else None


def rate_text(row: Row | None) -> str:
    """``34.9% (32.2-37.6)``: a rate with its 95% CI; "no patients" for an empty denominator."""
    if (absent := _unavailable(row)) is not None:
        return absent
    if _nan(row["estimate"]):
        return "not estimable"
    return f"{percent_text(row['estimate'])} {_ci(row, True)}"


def median_parts(row: Row, decimals: int = 1) -> tuple[str, str, str]:
    """Estimate, lower and upper limit of a median (or median follow-up) row, as text.

    "NR" (not reached) only for an estimate or upper limit of a curve that stays above 0.5
    within follow-up; "NE" (not estimable) for everything else that is missing: a lower limit
    (it can never be "not reached"), an upper limit of a curve that fell to 0 (every patient had
    the event, e.g. a median from one responder), and a follow-up with no censored patient.
    """
    x, n = row.get("x"), row.get("n")
    reached_zero = not _nan(x) and not _nan(n) and float(n) > 0 and float(x) >= float(n)
    followup = row.get("statistic") == "followup"
    if followup and (_nan(x) or float(x) == 0):
        return "NE", "NE", "NE"

    def text(value: Any, missing: str) -> str:
        return missing if _nan(value) else f"{float(value):.{decimals}f}"

    estimate_missing = "NE" if reached_zero else "NR"
    upper_missing = "NE" if reached_zero else "NR"
    return (text(row["estimate"], estimate_missing), text(row["lower"], "NE"),
            text(row["upper"], upper_missing))


def months_text(row: Row | None, decimals: int = 1) -> str:
    """``3.4 (2.8-3.5) months``; NR / NE for a missing part as :func:`median_parts` decides."""
    if (absent := _unavailable(row)) is not None:
        return absent
    estimate, lower, upper = median_parts(row, decimals)
    return f"{estimate} ({lower}-{upper}) months"


def survival_text(row: Row | None) -> str:
    """A landmark survival ``45.2% (40.1-50.3)``; "NE" for a limit that is not estimable."""
    if (absent := _unavailable(row)) is not None:
        return absent
    if row["status"] == "not_estimable" or _nan(row["estimate"]):
        return "not estimable (beyond the last observation)"
    return f"{percent_text(row['estimate'])} {_ci(row, True, 'NE')}"


def fraction_text(row: Row | None) -> str:
    """``476/1,363``: numerator over denominator of a rate row."""
    if row is None or _nan(row["x"]) or _nan(row["n"]):
        return ""
    return f"{count_text(row['x'])}/{count_text(row['n'])}"


def _weeks_text(weeks: Any) -> str:
    return f"{float(weeks):g}"


# --------------------------------------------------------------------------- lookups


class ResultsIndex:
    """The results table indexed by (group_by, group, endpoint, statistic): rows as dicts.

    Built in one pass over the columns (no per-row pandas work); curve and number-at-risk rows
    are kept apart, per cohort, for the figures.
    """

    def __init__(self, results: pd.DataFrame) -> None:
        missing = [c for c in ("group_by", "group", "endpoint", "statistic", "time", "estimate",
                               "lower", "upper", "x", "n", "denominator", "status", "method",
                               "parameters") if c not in results.columns]
        if missing:
            raise ValueError(f"results table lacks column(s) {', '.join(missing)}")
        self.frame = results
        self._rows: dict[tuple[str, str, str, str], list[dict[str, object]]] = {}
        statistic = results["statistic"].astype(str).to_numpy()
        keep = (statistic != "curve") & (statistic != "n_risk")
        small = results.loc[keep]
        names = list(small.columns)
        for values in zip(*(small[c].tolist() for c in names), strict=True):
            row = dict(zip(names, values, strict=True))
            key = (str(row["group_by"]), str(row["group"]), str(row["endpoint"]),
                   str(row["statistic"]))
            self._rows.setdefault(key, []).append(row)
        cohort_rows = results.loc[results["group_by"].astype(str) == COHORT]
        self.groups: list[str] = list(dict.fromkeys(cohort_rows["group"].astype(str)))
        self._by_group = {str(g): f for g, f in cohort_rows.groupby("group", sort=False)}

    def get(self, group: tuple[str, str], endpoint: str, statistic: str,
            denominator: str | None = None, time: float | None = None
            ) -> dict[str, object] | None:
        """The one row that matches, or None; ``denominator``/``time`` narrow the choice."""
        for row in self._rows.get((*group, endpoint, statistic), ()):
            if denominator is not None and row["denominator"] != denominator:
                continue
            if time is not None and (_nan(row["time"]) or abs(float(row["time"]) - time) > 1e-9):
                continue
            return row
        return None

    def cohort_frame(self, cohort_id: str) -> pd.DataFrame:
        """Every results row of one cohort (figures read their curve rows from it)."""
        return self._by_group[cohort_id]


def _parameters(row: Row | None) -> dict[str, object]:
    if row is None or not row.get("parameters"):
        return {}
    try:
        found = json.loads(str(row["parameters"]))
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


# --------------------------------------------------------------------------- endpoint rows


def _rate_label(endpoint: str, params: Mapping[str, object]) -> str:
    sd = _weeks_text(params.get("sd_weeks", 16))
    durable = _weeks_text(params.get("durable_weeks", 24))
    labels = {
        "cbr": f"Clinical benefit rate (CR/PR or SD >= {sd} weeks)",
        "cbr_durable": f"Durable clinical benefit rate (CR/PR or SD >= {durable} weeks)",
        "orr": "Objective response rate (confirmed CR/PR)",
        "dcr": "Disease control rate (CR/PR/SD)",
        "durable_sd": f"Stable disease >= {durable} weeks",
        "sd_lasting": f"SD >= {sd} weeks that lasted >= {durable} weeks",
        "pfs_6m_rate": "Progression-free at 6 months (crude)",
        "g3_trae": "Grade >= 3 treatment-related adverse events",
        "exceptional": "Exceptional responders",
        "pfs_ratio": f"PFS ratio >= {params.get('threshold', 1.3)} (trial / prior line)",
    }
    return labels.get(endpoint, endpoint)


RATE_ROWS = (("cbr", "evaluable"), ("cbr_durable", "evaluable"), ("orr", "evaluable"),
             ("dcr", "evaluable"), ("durable_sd", "evaluable"), ("sd_lasting", "sd_16w"),
             ("pfs_6m_rate", "evaluable"), ("exceptional", "evaluable"),
             ("pfs_ratio", "with_prior_pfs"), ("g3_trae", "treated"))
DENOMINATOR_WORDS = {"evaluable": "evaluable", "treated": "treated", "responders":
                     "confirmed responders", "sd_16w": "with SD >= 16 weeks",
                     "with_prior_pfs": "with a prior-line PFS", "": ""}
TIME_ROWS = (("pfs", "Median progression-free survival", (6.0, 12.0)),
             ("os", "Median overall survival", (12.0, 24.0)),
             ("dor", "Median duration of response", ()))


def _denominator_text(row: Row | None) -> str:
    if row is None:
        return ""
    word = DENOMINATOR_WORDS.get(str(row["denominator"]), str(row["denominator"]))
    return f"{count_text(row['n'])} {word}".strip()


def endpoint_rows(index: ResultsIndex, group: tuple[str, str]) -> list[dict[str, str]]:
    """One table row per endpoint of a group: label, estimate with 95% CI, x/n, denominator."""
    out: list[dict[str, str]] = []
    for endpoint, denominator in RATE_ROWS:
        row = index.get(group, endpoint, "rate", denominator)
        if row is None:
            continue
        out.append({"label": _rate_label(endpoint, _parameters(row)), "value": rate_text(row),
                    "count": fraction_text(row), "denominator": _denominator_text(row),
                    "kind": "rate"})
    for endpoint, label, landmarks in TIME_ROWS:
        n_row = index.get(group, endpoint, "n")
        median = index.get(group, endpoint, "median")
        if median is None:
            continue
        events = ("" if n_row is None or _nan(n_row["x"])
                  else f"{count_text(n_row['x'])} events")
        out.append({"label": label, "value": months_text(median), "count": events,
                    "denominator": _denominator_text(n_row), "kind": "median"})
        for months in landmarks:
            mark = index.get(group, endpoint, "survival", time=months)
            if mark is not None:
                out.append({"label": f"{endpoint.upper()} at {months:g} months",
                            "value": survival_text(mark), "count": "",
                            "denominator": _denominator_text(n_row), "kind": "landmark"})
    follow = index.get(group, "os", "followup")
    if follow is not None:
        out.append({"label": "Median follow-up (OS, reverse Kaplan-Meier)",
                    "value": months_text(follow), "count": "",
                    "denominator": _denominator_text(follow), "kind": "followup"})
    return out


def headline_rows(index: ResultsIndex) -> list[dict[str, str]]:
    """The pooled figures the DRUP report leads with, each with its 95% CI and denominator."""
    def count_row(label: str, statistic: str, denominator: str | None = None
                  ) -> dict[str, str]:
        row = (index.get(POOLED, "patients", statistic, denominator)
               or index.get(POOLED, "patients", statistic))
        of = "" if row is None or statistic == "treated" else _denominator_text(row)
        return {"key": statistic, "label": label,
                "value": count_text(None if row is None else row["estimate"]),
                "ci": "", "denominator": f"of {of}" if of else "registry rows"}

    def rate_row(label: str, endpoint: str, denominator: str) -> dict[str, str]:
        row = index.get(POOLED, endpoint, "rate", denominator)
        text = rate_text(row)
        value, _, ci = text.partition(" (")
        return {"key": endpoint, "label": label, "value": value,
                "ci": ci.rstrip(")") if ci else "",
                "denominator": f"{fraction_text(row)} {DENOMINATOR_WORDS[denominator]}".strip()}

    def median_row(label: str, endpoint: str, statistic: str = "median") -> dict[str, str]:
        row = index.get(POOLED, endpoint, statistic)
        n_row = index.get(POOLED, endpoint, "n")
        if row is None or row["status"] == "no_patients":
            return {"key": f"{endpoint}_{statistic}", "label": label, "value": rate_text(row),
                    "ci": "", "denominator": ""}
        estimate, lower, upper = median_parts(row, HEADLINE_DECIMALS)
        if statistic == "followup":
            counted = f"{count_text(row['x'])} censored, "
        else:
            counted = "" if n_row is None else f"{count_text(n_row['x'])} events, "
        return {"key": f"{endpoint}_{statistic}", "label": label, "value": f"{estimate} months",
                "ci": f"{lower}-{upper}",
                "denominator": f"{counted}{_denominator_text(n_row)}"}

    cbr = index.get(POOLED, "cbr", "rate", "evaluable")
    sd = _weeks_text(_parameters(cbr).get("sd_weeks", 16))
    return [
        count_row("Patients who started treatment", "treated"),
        count_row("Response-evaluable", "evaluable"),
        count_row("Rare cancers", "rare", "evaluable"),
        rate_row(f"Clinical benefit rate (CR/PR or SD >= {sd} weeks)", "cbr", "evaluable"),
        rate_row("Objective response rate", "orr", "evaluable"),
        median_row("Median progression-free survival", "pfs"),
        median_row("Median overall survival", "os"),
        median_row("Median follow-up (OS, reverse Kaplan-Meier)", "os", "followup"),
        rate_row("Grade >= 3 treatment-related adverse events", "g3_trae", "treated"),
        rate_row("Exceptional responders", "exceptional", "evaluable"),
    ]


PUBLISHED_DRUP_2026 = {
    "treated": "1,610", "evaluable": "1,363", "rare": "533 (39.1%)",
    "cbr": "34.9% (32.2-37.6)", "orr": "15.7% (13.7-17.9)",
    "pfs_median": "3.4 months (2.8-3.5)", "os_median": "8.2 months (7.6-8.8)",
    "g3_trae": "28.4%", "exceptional": "7.0% (press: 67 patients = 4.9% of 1,363)",
}
"""Headline figures of the DRUP 2026 Nature report (shared/domain/drup.md), set next to the
figures reproduced from the synthetic demo registry."""
DEMO_DATA = "demo"
SYNTHETIC_NOTICE = "SYNTHETIC DEMO DATA \u2014 not for submission"


def published_rows(headline: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Published DRUP 2026 figure next to ours, one row per headline figure the report gives."""
    out = []
    for row in headline:
        published = PUBLISHED_DRUP_2026.get(row.get("key", ""))
        if published is None:
            continue
        ours = f"{row['value']} ({row['ci']})" if row["ci"] else row["value"]
        out.append({"label": row["label"], "published": published, "ours": ours})
    return out


def _number_words(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


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


ENDPOINT_NAMES = {
    "patients": "Patients", "cbr": "Clinical benefit rate",
    "cbr_durable": "Durable clinical benefit rate", "orr": "Objective response rate",
    "dcr": "Disease control rate", "durable_sd": "Durable stable disease",
    "sd_lasting": "SD >= 16 weeks lasting >= 24 weeks", "pfs_6m_rate": "PFS at 6 months (crude)",
    "g3_trae": "Grade >= 3 TRAEs", "exceptional": "Exceptional responders",
    "pfs_ratio": "PFS ratio", "pfs": "PFS", "os": "OS", "dor": "Duration of response",
    "cbr_first8": "CBR, first 8 evaluable", "cbr_first24": "CBR, first 24 evaluable",
}
STATISTIC_NAMES = {"n": "patients", "events": "events", "censored": "censored",
                   "median": "median", "q25": "25th percentile", "q75": "75th percentile",
                   "survival": "landmark survival",
                   "n_risk": "number at risk", "curve": "curve", "followup": "median follow-up",
                   "rate": "rate", "treated": "treated", "evaluable": "evaluable",
                   "rare": "rare cancers"}


def method_rows(index: ResultsIndex) -> list[dict[str, str]]:
    """How each endpoint is defined and estimated: the method strings of the pooled rows."""
    frame = index.frame
    pooled = frame.loc[frame["group_by"].astype(str) == POOLED[0]].drop_duplicates(
        ["endpoint", "method", "statistic", "denominator"])
    seen: dict[tuple[str, str], dict[str, list[str] | str]] = {}
    for endpoint, method, statistic, denominator, parameters in zip(
            *(pooled[c].astype(str).tolist() for c in ("endpoint", "method", "statistic",
                                                       "denominator", "parameters")),
            strict=True):
        entry = seen.setdefault((endpoint, method), {"statistics": [], "denominators": [],
                                                     "parameters": parameters})
        for field, value in (("statistics", STATISTIC_NAMES.get(statistic, statistic)),
                             ("denominators", DENOMINATOR_WORDS.get(denominator, denominator))):
            if value and value not in entry[field]:
                entry[field].append(value)  # type: ignore[union-attr]
    return [{"endpoint": ENDPOINT_NAMES.get(endpoint, endpoint),
             "statistics": ", ".join(e["statistics"]),
             "denominators": ", ".join(e["denominators"]) or "-", "method": method,
             "parameters": parameters_text({k: v for k, v in _parameters(
                 {"parameters": e["parameters"]}).items()
                 if not (k == "source" and str(v) in method)})}
            for (endpoint, method), e in seen.items()]


PARAMETER_LABELS = {
    "ci": "Confidence interval for survival curves", "conf_level": "Confidence level",
    "sd_weeks": "Stable disease counts as clinical benefit from (weeks)",
    "durable_weeks": "Durable benefit from (weeks)",
    "exceptional_pfs_months": "Exceptional responder: PFS longer than (months)",
    "pfs_ratio_threshold": "PFS ratio threshold (trial / prior line)",
    "by": "Extra grouping columns", "days_per_month": "Days per month",
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
    patients = registry.patients
    if patients.empty or "treatment_start" not in patients.columns:
        return MISSING
    starts = pd.to_datetime(patients["treatment_start"], errors="coerce")
    last = (starts + pd.to_timedelta(patients["os_days"].fillna(0), unit="D")).max()
    return MISSING if pd.isna(last) else last.strftime("%Y-%m-%d")


def method_definitions(parameters: Mapping[str, object], cutoff: str) -> list[dict[str, str]]:
    """What the dossier means by its terms: cut-off, response, evaluability, censoring, pooling.

    Stated once in the methods so a reader can check every figure against a definition.
    """
    sd = _number_words(parameters.get("sd_weeks") or 16.0)
    pfs = _number_words(parameters.get("exceptional_pfs_months") or 24.0)
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
         "the first 8 or the first 24 evaluable patients (DRUP's stage bars)."},
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


# --------------------------------------------------------------------------- verdicts


def met_note(framework: str, met_at: int | None, note: str) -> str:
    """What "met" means on a graded scale, and whose line it is (the rule file's met_at_note).

    A grade line the rule file marks as ours reads "met = grade >= 3, dossier's payer-ready
    line (ours); ESMO-MCBS itself has no pass mark for this form".
    """
    if met_at is None:
        return ""
    if "(ours)" in note or " ours" in note:
        return (f"met = grade >= {met_at}, dossier's payer-ready line (ours); "
                f"{framework or 'the framework'} itself has no pass mark for this form")
    return f"met = grade >= {met_at}" + (f" ({note.rstrip('.')})" if note else "")


METRIC_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def metric_labels(rule_files: Sequence[object]) -> dict[str, str]:
    """Metric identifier -> the label a reader sees (catalogue plus each rule file's inputs)."""
    labels = {name: spec.label for name, spec in METRICS.items() if spec.label}
    for rule in rule_files:
        for spec in getattr(rule, "inputs", ()) or ():
            if getattr(spec, "label", ""):
                labels[spec.name] = spec.label
    return labels


def plain_words(text: str, labels: Mapping[str, str]) -> str:
    """``text`` with metric identifiers (cb_n, control_os_median_months) replaced by labels."""
    return METRIC_NAME.sub(lambda m: labels.get(m.group(0), m.group(0)), text)


def _rule_file_info(rule: object) -> dict[str, object]:
    """id, names, version and sources of a rule file (a RuleSet or a plain mapping)."""
    get = (rule.get if isinstance(rule, Mapping)
           else lambda key, default=None: getattr(rule, key, default))
    sources = []
    for source in get("sources", ()) or ():
        sget = (source.get if isinstance(source, Mapping)
                else lambda key, default="", s=source: getattr(s, key, default))
        sources.append({"id": str(sget("id", "") or ""),
                        "url": str(sget("url", "") or sget("citation", "") or ""),
                        "status": str(sget("status", "") or "")})
    if not sources:  # a mapping that lists only {"source urls": [...]} or {id: url}
        urls = get("source_urls", None) or get("source urls", None) or ()
        urls = list(urls.values()) if isinstance(urls, Mapping) else list(urls)
        sources = [{"id": "", "url": str(u), "status": ""} for u in urls]
    statuses = list(dict.fromkeys(s["status"] for s in sources if s["status"]))
    status = str(get("status", "") or "") or ("ours" if get("ours", False) else "") or \
        " / ".join(statuses) or "not stated"
    ident = str(get("id", ""))
    outcome = get("outcome", None)
    met_at = getattr(outcome, "met_at", None) if outcome is not None else None
    met_at_note = str(getattr(outcome, "met_at_note", "") or "") if outcome is not None else ""
    stages = get("stages", ()) or ()
    last = stages[-1] if stages else None
    return {"id": ident, "title": str(get("title", "") or ident),
            "short": str(get("short", "") or ident), "framework": str(get("framework", "")),
            "version": str(get("version", "")), "effective": str(get("effective", "") or ""),
            "status": status, "sources": sources,
            "met_note": met_note(str(get("framework", "")), met_at, met_at_note),
            "met_at_note": met_at_note,
            "stage_bar": (int(last.at_least), int(last.of)) if last is not None else None}


def _clause(clause: ClauseResult, labels: Mapping[str, str]) -> dict[str, str]:
    def words(text: str) -> str:
        return plain_words(text, labels)

    return {"rule": clause.rule, "grade": "" if clause.grade is None else str(clause.grade),
            "label": words(clause.label), "condition": words(clause.condition),
            "observed": words(clause.observed_text), "threshold": words(clause.threshold_text),
            "state": clause.state, "css": "s-" + clause.state.replace(" ", "-"),
            "status": clause.status, "source": clause.source, "note": words(clause.note)}


def verdict_dict(verdict: Verdict, info: Mapping[str, object] | None,
                 labels: Mapping[str, str] | None = None) -> dict[str, object]:
    """A verdict as the cohort section shows it: outcome, grade, clause table and distance.

    Metric identifiers in the texts are replaced by their labels (``labels``, default the
    metric catalogue), so a payer reads "patients with clinical benefit", not "cb_n".
    """
    info = info or {}
    labels = METRIC_LABELS if labels is None else labels

    def words(texts: Sequence[str]) -> list[str]:
        return [plain_words(t, labels) for t in texts]

    return {
        "met_note": str(info.get("met_note") or ""),
        "criteria_id": verdict.criteria_id, "framework": verdict.framework,
        "short": str(info.get("short") or verdict.criteria_id),
        "title": verdict.title, "version": verdict.version, "verdict": verdict.verdict,
        "css": VERDICT_CSS.get(verdict.verdict, "v-other"), "outcome": verdict.outcome,
        "grade": "" if "grade" in verdict.outcome else verdict.grade_text,
        "stratum": verdict.stratum, "ours": verdict.ours,
        "deciding": words(verdict.deciding), "distance": words(verdict.distance),
        "reasons": words(verdict.reasons), "notes": words(verdict.notes),
        "statuses": ", ".join(verdict.statuses),
        "clauses": [_clause(c, labels) for c in verdict.clauses],
        "adjustments": [{"label": a.label, "change": f"{a.change:+d}", "state": a.state,
                         "status": a.status} for a in verdict.adjustments],
    }


def _cell_text(verdict: Verdict) -> str:
    grade = verdict.grade_text
    return f"{verdict.verdict} ({grade})" if grade else verdict.verdict


# --------------------------------------------------------------------------- the context


def _first(frame: pd.DataFrame, column: str) -> str:
    if column not in frame.columns or frame.empty:
        return ""
    values = frame[column].dropna()
    return str(values.iloc[0]) if len(values) else ""


LISTING_COLUMNS = (("Patient", "<"), ("Stage", "<"), ("BOR", "<"), ("Confirmed", "<"),
                   ("PFS, months", ">"), ("PFS event", "<"), ("OS, months", ">"),
                   ("OS event", "<"), ("AE grade", ">"))


def patient_listing(patients: pd.DataFrame) -> dict[str, object]:
    """Appendix listing of one cohort as fixed-width text lines (no Patient column without ids).

    Columns: patient id, stage, best overall response (NE* = not response-evaluable), whether
    it was confirmed, PFS and OS in months (days / 30.4375) with their event flags, and the
    worst treatment-related adverse-event grade. Plain text lines lay out far faster than a
    table of thousands of cells and read like a classic clinical listing.
    """
    columns = ["patient_id", "stage", "best_response", "response_confirmed", "pfs_days",
               "pfs_event", "os_days", "os_event", "worst_ae_grade"]
    cells = []
    for pid, stage, bor, confirmed, pfs, pfs_e, os_, os_e, grade in zip(
            *(patients[c].tolist() for c in columns), strict=True):
        cells.append((
            str(pid), str(stage), "NE*" if bor is None or bor is pd.NA else str(bor),
            "" if confirmed is None or confirmed is pd.NA else ("yes" if confirmed else "no"),
            months_value_text(pfs / DAYS_PER_MONTH), "yes" if pfs_e else "no",
            months_value_text(os_ / DAYS_PER_MONTH), "yes" if os_e else "no",
            "" if grade is None or grade is pd.NA else str(grade)))
    named = any(row[0] for row in cells) or not cells  # ids left out: no Patient column
    names = LISTING_COLUMNS if named else LISTING_COLUMNS[1:]
    cells = cells if named else [row[1:] for row in cells]
    widths = [max([len(name)] + [len(row[k]) for row in cells])
              for k, (name, _) in enumerate(names)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(f"{v:{align}{w}}" for v, (_, align), w in
                         zip(values, names, widths, strict=True)).rstrip()

    return {"header": line([name for name, _ in names]),
            "lines": [line(row) for row in cells], "n": count_text(len(cells))}


KM_TICK_MONTHS = 3.0
KM_MAX_TICKS = 16
"""3-month ticks while they stay legible (up to 48 months); longer axes tick every 6 or 12."""


def km_axis(curves: Sequence[Any]) -> dict[str, Any]:
    """Time axis of a cohort's Kaplan-Meier plot: cut where < 10% remain at risk (or at the
    last event), rounded up to a tick, with a note saying so; 3-month ticks where legible."""
    cut = readable_x_max(curves)
    if cut is None:
        end = max((c.end_time for c in curves if not c.is_empty), default=0.0)
        step = KM_TICK_MONTHS if end <= KM_TICK_MONTHS * KM_MAX_TICKS else None
        return {"tick_step": step}
    step = KM_TICK_MONTHS if cut <= KM_TICK_MONTHS * KM_MAX_TICKS else month_tick_step(cut)
    x_max = math.ceil(cut / step - 1e-9) * step
    end = max(c.end_time for c in curves if not c.is_empty)
    if x_max >= end:
        return {"tick_step": step}
    return {"x_max": x_max, "tick_step": step,
            "note": f"axis truncated at {x_max:g} months (fewer than 10% of patients at risk "
                    f"or no later event); curve continues to {end:.1f} months"}


def _forest(index: ResultsIndex, endpoint: str, labels: Mapping[str, str], title: str,
            thresholds: Sequence[tuple[float, str]]) -> list[str]:
    """Forest plots of one rate, cut into figures that each fit a page."""
    rows = sorted((replace(r, label=labels[r.label]) for r in
                   forest_rows_from_results(index.frame, endpoint) if r.label in labels),
                  key=lambda r: int(r.label.split(".", 1)[0]))
    if not rows:
        return [forest_svg([], title=title, thresholds=thresholds)]
    chunks = math.ceil(len(rows) / FOREST_ROWS_PER_FIGURE)
    size = math.ceil(len(rows) / chunks)
    out = []
    for k in range(chunks):
        part = f" ({k + 1} of {chunks})" if chunks > 1 else ""
        out.append(forest_svg(rows[k * size:(k + 1) * size], title=title + part,
                              thresholds=thresholds, label_header="Cohort",
                              n_header="x/n"))
    return out


def _cohort(index: ResultsIndex, cid: str, number: int, registry: Registry,
            meta: Mapping[str, object], verdicts: Sequence[Verdict],
            infos: Mapping[str, dict[str, object]], reference: Sequence[tuple[float, str]],
            notes: Sequence[str], labels: Mapping[str, str]) -> dict[str, object]:
    group = (COHORT, cid)
    patients = registry.patients[registry.patients["cohort_id"].astype(str) == cid]
    results = index.cohort_frame(cid)
    treated = index.get(group, "patients", "treated")
    evaluable = index.get(group, "patients", "evaluable")
    cbr = index.get(group, "cbr", "rate", "evaluable")
    orr = index.get(group, "orr", "rate", "evaluable")
    figures = []
    for endpoint, short, name in KM_ENDPOINTS:
        if index.get(group, endpoint, "n") is None:
            continue
        curve = km_curve_data_from_results(results, COHORT, cid, endpoint, label=short)
        figures.append(km_plot_svg([curve], title=f"Cohort {number}: {name.lower()}",
                                   y_label=f"{name} (%)", **km_axis([curve])))
    applicable = [v for v in verdicts if v.verdict != NOT_APPLICABLE]
    return {
        "number": number, "id": cid, "anchor": f"cohort-{number}",
        "title": str(meta.get("title") or "") or cid,
        "drug": _first(patients, "drug"), "tumour_type": _first(patients, "tumour_type"),
        "alteration": _first(patients, "alteration"),
        "setting": str(meta.get("setting") or ""), "escat": str(meta.get("escat_tier") or ""),
        "flow": {
            "treated": count_text(None if treated is None else treated["estimate"]),
            "evaluable": count_text(None if evaluable is None else evaluable["estimate"]),
            "cb": count_text(None if cbr is None else cbr["x"]), "cb_rate": rate_text(cbr),
            "response": count_text(None if orr is None else orr["x"]),
            "response_rate": rate_text(orr),
            "sd_weeks": _weeks_text(_parameters(cbr).get("sd_weeks", 16)),
        },
        "endpoints": endpoint_rows(index, group),
        "km_svgs": figures,
        "swimmer_svg": swimmer_svg(patients, title=f"Cohort {number}: progression-free time, "
                                   "coloured by best overall response",
                                   reference_months=reference),
        "verdicts": [verdict_dict(v, infos.get(v.criteria_id), labels) for v in applicable],
        "not_applicable": [{"short": str(infos.get(v.criteria_id, {}).get("short")
                                         or v.criteria_id),
                            "reason": plain_words("; ".join(v.reasons) or v.outcome, labels)}
                           for v in verdicts if v.verdict == NOT_APPLICABLE],
        "notes": list(notes),
        "listing": patient_listing(patients),
    }


def _short(infos: Mapping[str, dict[str, object]], criteria_id: str) -> str:
    return str(infos.get(criteria_id, {}).get("short") or criteria_id)


def _readiness(cohorts: Sequence[dict[str, object]], by_cohort: Mapping[str, list[Verdict]],
               infos: Mapping[str, dict[str, object]],
               labels: Mapping[str, str] = METRIC_LABELS) -> dict[str, object]:
    """Cohorts by their place against the payer-ready line (dossier.scoring.readiness)."""
    groups: dict[str, list[dict[str, object]]] = {NOT_PAYER_READY: [], UNRESOLVED: [],
                                                   PAYER_READY: []}
    scored = 0
    for cohort in cohorts:
        line = cohort_readiness(str(cohort["id"]), by_cohort[str(cohort["id"])])
        scored += line.flag != NOT_SCORED
        if line.flag not in groups:
            continue
        gaps = []
        for gap in line.gaps:
            criteria_id, _, rest = gap.partition(": ")
            if criteria_id in PAYER_RULES:
                gaps.append(f"{_short(infos, criteria_id)}: {plain_words(rest, labels)}")
        flow = cohort["flow"]
        groups[line.flag].append({
            "number": cohort["number"], "id": cohort["id"], "anchor": cohort["anchor"],
            "cb": f"{flow['cb']} of {flow['evaluable']}",
            "payer": "; ".join(f"{_short(infos, v.criteria_id)}: {_cell_text(v)}"
                               for v in line.verdicts if v.criteria_id in PAYER_RULES),
            "gap": "; ".join(gaps)})
    return {
        "line": (f"A cohort is a trial success when it meets {_short(infos, TRIAL_RULE)}; it is "
                 "payer-ready when it also meets "
                 + " and ".join(_short(infos, r) for r in PAYER_RULES)
                 + " (dossier's own line, not a payer's rule)."),
        "scored": scored > 0, "not_ready": groups[NOT_PAYER_READY],
        "unresolved": groups[UNRESOLVED], "ready": groups[PAYER_READY],
        "needs": ", ".join(LINE_RULES),
    }


def _verdict_counts(cohorts: Sequence[dict[str, object]],
                    by_cohort: Mapping[str, list[Verdict]],
                    infos: Mapping[str, dict[str, object]]) -> list[dict[str, object]]:
    counts = []
    for ident, info in infos.items():
        found = [v.verdict for c in cohorts for v in by_cohort[str(c["id"])]
                 if v.criteria_id == ident]
        counts.append({"short": info["short"], "framework": info["framework"],
                       "met_note": info["met_note"],
                       "counts": [str(found.count(name)) for name in VERDICTS],
                       "total": str(len(found))})
    return counts


def _matrix(cohorts: Sequence[dict[str, object]], by_cohort: Mapping[str, list[Verdict]],
            infos: Mapping[str, dict[str, object]],
            labels: Mapping[str, str] = METRIC_LABELS) -> dict[str, object]:
    shown, hidden = [], []
    for ident, info in infos.items():
        found = [v for c in cohorts for v in by_cohort[str(c["id"])] if v.criteria_id == ident]
        if found and all(v.verdict == NOT_APPLICABLE for v in found):
            hidden.append({"short": info["short"],
                           "reason": plain_words("; ".join(found[0].reasons), labels)})
        else:
            shown.append(ident)
    rows = []
    for cohort in cohorts:
        cells = {v.criteria_id: v for v in by_cohort[str(cohort["id"])]}
        rows.append({"number": cohort["number"], "id": cohort["id"], "anchor": cohort["anchor"],
                     "cells": [{"text": _cell_text(cells[i]) if i in cells else "-",
                                "css": VERDICT_CSS.get(cells[i].verdict, "") if i in cells
                                else ""} for i in shown]})
    marks = {i: k + 1 for k, i in enumerate(i for i in shown if infos[i]["met_note"])}
    return {"columns": [infos[i]["short"] for i in shown],
            "column_marks": ["*" * marks[i] if i in marks else "" for i in shown],
            "legend": [f"{'*' * marks[i]} {infos[i]['short']}: {infos[i]['met_note']}"
                       for i in marks],
            "rows": rows, "hidden": hidden}


def build_context(*, results: pd.DataFrame, verdicts: Sequence[Verdict], registry: Registry,
                  rule_files: Sequence[object], parameters: Mapping[str, object], title: str,
                  build_time: datetime, software_version: str, data_sha256: str,
                  data_name: str, only: Sequence[str] | None = None,
                  patient_ids: str | None = None) -> dict[str, object]:
    """Everything the dossier templates show, as plain dicts, lists and formatted strings.

    Parameters
    ----------
    results : the results table (contract D); every number shown comes from it.
    verdicts : one verdict per cohort x rule file (from the scoring engine).
    registry : the validated registry (patients for the swimmer plots and the listing, cohort
        metadata, validation warnings).
    rule_files : the rule files in use (RuleSet objects or mappings with id, title, short,
        framework, version, effective, sources/status), in display order.
    parameters : the analysis parameters, listed in the methods section.
    only : cohort ids to include (default all cohorts of the results table, in its order).
    patient_ids : the methods' sentence on patient identifiers (default: shown as they are).

    Raises
    ------
    ValueError : for a cohort in ``only`` that the results table does not hold.
    """
    index = ResultsIndex(results)
    cohort_ids = index.groups
    if only is not None:
        unknown = [c for c in only if c not in cohort_ids]
        if unknown:
            raise ValueError(f"cohort(s) not in the results table: {', '.join(map(repr, unknown))}")
        chosen = set(only)
        cohort_ids = [c for c in cohort_ids if c in chosen]
    numbers = {cid: i + 1 for i, cid in enumerate(cohort_ids)}
    infos = {str(i["id"]): i for i in (_rule_file_info(r) for r in rule_files)}
    for verdict in verdicts:  # a verdict from a rule file not listed still gets a column
        infos.setdefault(verdict.criteria_id, _rule_file_info(
            {"id": verdict.criteria_id, "title": verdict.title, "framework": verdict.framework,
             "version": verdict.version}))
    by_cohort: dict[str, list[Verdict]] = {cid: [] for cid in cohort_ids}
    order = {ident: k for k, ident in enumerate(infos)}
    for verdict in sorted(verdicts, key=lambda v: order[v.criteria_id]):
        if verdict.cohort_id in by_cohort:
            by_cohort[verdict.cohort_id].append(verdict)
    labels = metric_labels(rule_files)
    meta_rows = {str(r["cohort_id"]): r for r in registry.cohorts.to_dict("records")}
    sd_weeks = float(parameters.get("sd_weeks") or 16)
    durable_weeks = float(parameters.get("durable_weeks") or 24)
    reference = [(w * DAYS_PER_WEEK / DAYS_PER_MONTH, f"{w:g} weeks")
                 for w in dict.fromkeys((sd_weeks, durable_weeks))]
    warnings = registry.report.warnings
    cohort_notes: dict[str, list[str]] = {}
    for issue in warnings:
        if issue.column == COHORT and issue.value in by_cohort:
            cohort_notes.setdefault(str(issue.value), []).append(issue.message)
    cohorts = [_cohort(index, cid, numbers[cid], registry, meta_rows.get(cid, {}),
                       by_cohort[cid], infos, reference, cohort_notes.get(cid, ()), labels)
               for cid in cohort_ids]
    # forest labels: "number. drug | tumour | alteration" in full (wrapped onto two lines by the
    # figure when long), so that two cohorts of one drug and alteration never look the same
    forest_labels = {str(c["id"]): f"{c['number']}. {c['id']}" for c in cohorts}
    bar = next((i["stage_bar"] for i in infos.values() if i["stage_bar"]), DRUP_STAGE_2)
    cbr_line = ((bar[0] / bar[1], f"DRUP stage 2: {bar[0]}/{bar[1]} = "
                 f"{percent_text(bar[0] / bar[1])}"),)
    moment = build_time if build_time.tzinfo else build_time.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    cutoff = data_cutoff(registry)
    headline = headline_rows(index)
    synthetic = data_name == DEMO_DATA
    return {
        "meta": {
            "title": title, "data_name": data_name, "data_sha256": data_sha256,
            "synthetic": synthetic, "notice": SYNTHETIC_NOTICE if synthetic else "",
            "data_cutoff": cutoff,
            "build_date": moment.strftime("%Y-%m-%d %H:%M UTC"),
            "build_iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "build_epoch": str(int(moment.timestamp())),
            "software_version": software_version,
            "registry_summary": registry.report.summary(),
            "n_cohorts": count_text(len(cohorts)),
            "criteria_versions": ", ".join(f"{i['short']} ({i['version']})"
                                           for i in infos.values()),
        },
        "criteria": list(infos.values()),
        "parameters": parameter_rows(parameters),
        "summary": {"headline": headline, "verdict_names": list(VERDICTS),
                    "published": published_rows(headline) if synthetic else [],
                    "counts": _verdict_counts(cohorts, by_cohort, infos),
                    "met_legend": [f"{i['short']}: {i['met_note']}" for i in infos.values()
                                   if i["met_note"]],
                    "readiness": _readiness(cohorts, by_cohort, infos, labels)},
        "methods": {"endpoints": method_rows(index), "days_per_month": f"{DAYS_PER_MONTH:g}",
                    "definitions": method_definitions(parameters, cutoff),
                    "data_cutoff": cutoff,
                    "patient_ids": patient_ids or identifiers_sentence(KEEP),
                    "row_legend": registry.report.legend(),
                    "data_mapping": [
                        {"topic": d.topic, "file": d.file, "column": d.column or "",
                         "text": d.text}
                        for d in getattr(registry.report, "decisions", ())]},
        "cohorts": cohorts,
        "comparison": {
            "forest_cbr": _forest(index, "cbr", forest_labels, "Clinical benefit rate by cohort "
                                  "(evaluable patients, 95% CI)", cbr_line),
            "forest_orr": _forest(index, "orr", forest_labels, "Objective response rate by cohort "
                                  "(evaluable patients, 95% CI)", ORR_THRESHOLDS),
            "thresholds": [t[1] for t in (*cbr_line, *ORR_THRESHOLDS)],
            "matrix": _matrix(cohorts, by_cohort, infos, labels),
        },
        "appendix": {
            "warnings": [{"severity": i.severity, "location": i.location, "rule": i.rule,
                          "message": i.message} for i in warnings],
        },
    }
