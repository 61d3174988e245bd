"""dossier.xlsx: the sheets a reviewer filters and checks, assembled from results and verdicts.

Summary, Cohorts, Verdicts, Criteria, Endpoints, Patients and Validation. Every number is
copied from the results table or a verdict; nothing here estimates anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dossier.endpoints.population import GroupRecords
from dossier.registry.schema import DAYS_PER_MONTH
from dossier.registry.validate import ValidationReport
from dossier.render.indicative_view import INDICATIVE_SHEET_NOTE
from dossier.render.methods_text import patients_cutoff
from dossier.render.outlook_sheet import outlook_sheet
from dossier.render.results_index import ResultsIndex, cohort_numbers
from dossier.render.tables import RATE_ENDPOINTS, TIME_TO_EVENT, group_summary
from dossier.render.verdict_certainty import (
    CLAUSE_CERTAINTY_COLUMNS,
    CLAUSE_CERTAINTY_NOTE,
    clause_certainty,
)
from dossier.render.workbook_cover import cover_sheet, dictionary_sheet
from dossier.render.workbook_missing import explain_long, explain_wide, missing_words
from dossier.render.workbook_population import population_sheets
from dossier.render.workbook_scorecard import scorecard_sheet
from dossier.render.xlsx import SheetSpec, write_workbook
from dossier.scoring.grammar import condition_text
from dossier.scoring.readiness import Readiness
from dossier.scoring.rules import RuleSet
from dossier.scoring.verdicts import Verdict

METHOD_NOTES = (
    "Months = days / 30.4375. Rates: exact Clopper-Pearson 95% CI; each rate states its "
    "denominator. Medians: Kaplan-Meier, CI by Brookmeyer-Crowley inversion (R quantile.survfit "
    "rules). A value that could not be estimated says why in words: not reached, not "
    "estimable or no patients.",
)

COUNT_UNITS = {"count": "patients", "x": "patients", "n": "patients"}
PATIENT_UNITS = {"cohort_no": "as in the PDF", "start_study_day": "days",
                 "pfs_event": "1 = event, 0 = censored", "os_event": "1 = death, 0 = censored",
                 "worst_ae_grade": "CTCAE grade 0-5", "prior_lines": "lines"}
ENDPOINT_UNITS = {"time": "months", "estimate": "in the row's unit",
                  "lower": "in the row's unit", "upper": "in the row's unit",
                  "x": "patients", "n": "patients"}


def _summary_sheet(results: pd.DataFrame, build_info: Mapping[str, str]) -> SheetSpec:
    pooled = results[(results["group_by"] == "all") & results["time"].isna()
                     & (results["statistic"] != "curve")]
    rows: list[dict[str, object]] = [
        {"item": key, "value": str(value)} for key, value in build_info.items()
    ]
    info = pd.DataFrame(rows, columns=["item", "value"])
    headline = pooled[pooled["statistic"].isin(["treated", "evaluable", "rare", "rate", "median",
                                                "followup"])].reset_index(drop=True)
    is_rate = headline["unit"].eq("proportion")
    is_months = headline["unit"].eq("months")
    table = pd.DataFrame({
        "endpoint": headline["endpoint"],
        "statistic": headline["statistic"],
        "label": headline["label"],  # derived from the endpoint parameters, as in the PDF
        "count": headline["estimate"].where(headline["unit"].eq("patients")),
        "rate": headline["estimate"].where(is_rate),
        "rate_lower": headline["lower"].where(is_rate),
        "rate_upper": headline["upper"].where(is_rate),
        "months": headline["estimate"].where(is_months),
        "months_lower": headline["lower"].where(is_months),
        "months_upper": headline["upper"].where(is_months),
        "x": headline["x"],
        "n": headline["n"],
        "denominator": headline["denominator"],
        "denominator_label": headline["denominator_label"],
        "status": headline["status"],
        "method": headline["method"],
    })
    for column, field in (("months", "estimate"), ("months_lower", "lower"),
                          ("months_upper", "upper"), ("rate_lower", "lower"),
                          ("rate_upper", "upper")):
        words = [missing_words(r).get(field) for r in headline.to_dict("records")]
        unit = "months" if column.startswith("months") else "proportion"
        table[column] = [w if w and unit == r["unit"] else v for w, v, r in
                         zip(words, table[column].astype(object), headline.to_dict("records"),
                             strict=True)]
    notes = [f"{r['item']}: {r['value']}" for r in info.to_dict("records")] + list(METHOD_NOTES)
    return SheetSpec("Summary", table, notes=notes, units=COUNT_UNITS,
                     integer_columns=("count", "x", "n"),
                     percent_columns=("rate", "rate_lower", "rate_upper"),
                     month_columns=("months", "months_lower", "months_upper"))


def _cohorts_sheet(results: pd.DataFrame, registry_cohorts: pd.DataFrame,
                   verdicts: Sequence[Verdict], readiness: Sequence[Readiness],
                   only: Sequence[str] | None) -> SheetSpec:
    wide = explain_wide(group_summary(results, "cohort_id", only), results)
    wide.insert(0, "cohort_no", wide["cohort_id"].map(cohort_numbers(results, only)))
    meta_cols = [c for c in ("cohort_id", "drug", "tumour_type", "alteration") if c in
                 registry_cohorts.columns]
    if meta_cols:
        wide = registry_cohorts[meta_cols].merge(wide, on="cohort_id", how="right")
        wide = wide[["cohort_no", *(c for c in wide.columns if c != "cohort_no")]]
    flags = {r.cohort_id: r.flag for r in readiness}
    wide["payer_screen"] = wide["cohort_id"].map(flags).fillna("not scored")
    verdict_columns: list[str] = ["payer_screen"]
    for rule_id in dict.fromkeys(v.criteria_id for v in verdicts):
        by_cohort = {v.cohort_id: v for v in verdicts if v.criteria_id == rule_id}
        column = f"{rule_id}: verdict"
        wide[column] = wide["cohort_id"].map(lambda c, m=by_cohort: m[c].verdict if c in m else "")
        verdict_columns.append(column)
        if any(v.grade is not None or v.grade_range is not None for v in by_cohort.values()):
            wide[f"{rule_id}: grade"] = wide["cohort_id"].map(  # a number when decided
                lambda c, m=by_cohort: ("" if c not in m else m[c].grade
                                        if m[c].grade is not None else m[c].grade_text))
    percent = [c for e, _ in RATE_ENDPOINTS for c in (e, f"{e}_lower", f"{e}_upper")]
    months = [f"{e}_{s}" for e in TIME_TO_EVENT
              for s in ("median", "median_lower", "median_upper", "followup")]
    integers = ["cohort_no", "n_treated", "n_evaluable", "n_rare"] + [
        f"{e}_{f}" for e, _ in RATE_ENDPOINTS for f in ("x", "n")] + [
        f"{e}_{f}" for e in TIME_TO_EVENT for f in ("n", "events")]
    units = {c: "patients" for c in integers if c != "cohort_no"}
    units.update({f"{e}_events": "events" for e in TIME_TO_EVENT})
    units.update({"cohort_no": "as in the PDF", "n_rare_evaluable": "patients"})
    units.update({c: "framework's grade" for c in wide.columns if str(c).endswith(": grade")})
    return SheetSpec("Cohorts", wide, percent_columns=percent, month_columns=months,
                     integer_columns=integers, verdict_columns=verdict_columns,
                     notes=METHOD_NOTES, units=units)


def _criteria_sheet(rule_sets: Sequence[RuleSet]) -> SheetSpec:
    records: list[dict[str, object]] = []
    for rs in rule_sets:
        specs = rs.specs
        urls = rs.source_urls
        base = {"criteria": rs.id, "framework": rs.framework, "version": rs.version,
                "effective": rs.effective, "ours": "yes" if rs.ours else "no"}

        def add(kind: str, item_id: str, label: str, condition: str, outcome: str,
                status: str, source: str, base: dict[str, object] = base,
                urls: Mapping[str, str] = urls) -> None:
            records.append({**base, "part": kind, "id": item_id, "label": label,
                            "condition": condition, "outcome": outcome, "status": status,
                            "source": urls.get(source, source)})

        for gate in rs.gates:
            add("gate", gate.id, gate.reason, condition_text(gate.when, specs),
                "applies", gate.status, gate.source)
        for stage in rs.stages:
            add("stage", stage.id, stage.label, f">= {stage.at_least} of {stage.of}",
                stage.passed, stage.status, stage.source)
        for stratum in rs.strata:
            for rule in stratum.rules:
                add(f"rule ({stratum.label})", rule.id, rule.label,
                    condition_text(rule.when, specs) if rule.when is not None
                    else (rule.requires_override and f"needs override: {rule.requires_override}")
                    or "",
                    f"grade {rule.grade}" if rule.grade is not None else rs.outcome.met,
                    rule.status, rule.source)
        for rule in rs.rules:
            add("rule", rule.id, rule.label,
                condition_text(rule.when, specs) if rule.when is not None
                else (rule.requires_override and f"needs override: {rule.requires_override}")
                or "",
                f"grade {rule.grade}" if rule.grade is not None else rs.outcome.met,
                rule.status, rule.source)
        for adj in rs.adjustments:
            add("adjustment", adj.id, adj.label, condition_text(adj.when, specs),
                f"{adj.change:+d} grade", adj.status, adj.source)
    columns = ["criteria", "framework", "version", "effective", "ours", "part", "id", "label",
               "condition", "outcome", "status", "source"]
    return SheetSpec("Criteria", pd.DataFrame.from_records(records, columns=columns),
                     notes=("Status: verified, secondary source, unverified or ours (dossier's "
                            "own screen, not a payer's rule).",))


def _patients_sheet(patients: pd.DataFrame, numbers: Mapping[str, int]) -> SheetSpec:
    listing = pd.DataFrame({
        "cohort_no": patients["cohort_id"].astype(str).map(numbers).astype("Int64"),
        "patient_id": patients["patient_id"].astype(str),
        "cohort_id": patients["cohort_id"].astype(str),
        "stage": patients["stage"].astype(str),
        "rare_cancer": patients["rare_cancer"].astype(bool),
        "start_study_day": _study_days(patients["treatment_start"]),
        "response_evaluable": patients["response_evaluable"].astype(bool),
        "best_response": patients["best_response"].astype("string").fillna(""),
        "response_confirmed": patients["response_confirmed"].astype("boolean"),
        "pfs_months": patients["pfs_days"] / DAYS_PER_MONTH,
        "pfs_event": patients["pfs_event"].astype(int),
        "os_months": patients["os_days"] / DAYS_PER_MONTH,
        "os_event": patients["os_event"].astype(int),
        "worst_ae_grade": patients["worst_ae_grade"].astype("Float64"),
        "prior_lines": patients["prior_lines"].astype("Float64"),
    })
    listing = listing.astype({"response_confirmed": object, "worst_ae_grade": object,
                              "prior_lines": object, "cohort_no": object})
    listing = listing.where(pd.notna(listing), None)
    if len(listing) and not listing["patient_id"].astype(bool).any():  # --patient-ids omit
        listing = listing.drop(columns="patient_id")
    return SheetSpec("Patients", listing.reset_index(drop=True),
                     month_columns=("pfs_months", "os_months"),
                     integer_columns=("cohort_no", "start_study_day", "pfs_event",
                                      "os_event", "worst_ae_grade", "prior_lines"),
                     units=PATIENT_UNITS,
                     notes=("Patient ids as the Summary sheet's 'patient identifiers' says; "
                            "treatment start as study day (days "
                            "since the registry's first treatment start), not a calendar date. "
                            "Months = days / 30.4375 (a unit conversion, not an estimate).",))


def _study_days(starts: pd.Series) -> pd.Series:
    dates = pd.to_datetime(starts)
    return (dates - dates.min()).dt.days.astype("Int64").astype(object)


def _number(value: object) -> object:
    """A clause's observed value or threshold as a number when it is one (yes/no as text)."""
    if isinstance(value, bool) or value is None:
        return None if value is None else ("yes" if value else "no")
    if isinstance(value, int | float):
        return value
    return str(value)


def _verdicts_sheet(verdicts: Sequence[Verdict], numbers: Mapping[str, int]) -> SheetSpec:
    records: list[dict[str, object]] = []
    for v in verdicts:
        base = {"cohort_no": numbers.get(v.cohort_id), "cohort_id": v.cohort_id,
                "criteria": v.criteria_id, "verdict": v.verdict,
                "grade": v.grade if v.grade is not None else (v.grade_text or None),
                "outcome": v.outcome, "certainty": v.certainty,
                "certainty_reason": v.certainty_reason, "distance": "; ".join(v.distance),
                "comparator": v.comparator, "comparator_caveat": v.comparator_caveat,
                "indicative_verdict": v.indicative_verdict,
                "indicative_outcome": v.indicative_outcome,
                "indicative_certainty": v.indicative_certainty}
        clauses = [*v.clauses, *(c for a in v.adjustments for c in a.clauses)]
        if not clauses:
            records.append({**base, "clause": "", "observed": "", "observed_value": None,
                            "threshold": "", "threshold_value": None, "unit": "", "state": "",
                            "source_status": "", "why": "; ".join(v.reasons)})
        for c in clauses:
            records.append({**base, "clause": c.label or c.metric, "observed": c.observed_text,
                            "observed_value": _number(c.observed),
                            "threshold": c.threshold_text,
                            "threshold_value": _number(c.threshold), "unit": c.unit,
                            "state": c.state, "source_status": c.status, "why": c.note,
                            **clause_certainty(c)})
    columns = ["cohort_no", "cohort_id", "criteria", "verdict", "grade", "outcome", "certainty",
               "certainty_reason", "clause", "observed", "observed_value", "threshold",
               "threshold_value", "unit", "state", *CLAUSE_CERTAINTY_COLUMNS, "source_status",
               "why", "distance", "comparator", "comparator_caveat", "indicative_verdict",
               "indicative_outcome", "indicative_certainty"]
    frame = pd.DataFrame.from_records(records, columns=columns).astype(
        {"cohort_no": object, "grade": object, "observed_value": object,
         "threshold_value": object, "ci_lower": object, "ci_upper": object,
         "probability": object})
    frame = frame.where(pd.notna(frame), None)
    return SheetSpec("Verdicts", frame, verdict_columns=("verdict",),
                     percent_columns=("probability",),
                     units={"cohort_no": "as in the PDF", "grade": "framework's grade",
                            "observed_value": "see unit", "threshold_value": "see unit",
                            "ci_lower": "see unit", "ci_upper": "see unit"},
                     notes=("One row per clause of every verdict: the observed value, the "
                            "threshold and whether it held; observed_value and "
                            "threshold_value hold them as numbers, in the row's unit.",
                            CLAUSE_CERTAINTY_NOTE, INDICATIVE_SHEET_NOTE))


def _validation_sheet(report: ValidationReport) -> SheetSpec:
    frame = pd.DataFrame.from_records(
        [{"severity": i.severity, "rule": i.rule, "file": i.file, "row": i.row,
          "column": i.column or "", "value": i.value or "", "patient_id": i.patient_id or "",
          "message": i.message} for i in (*report.errors, *report.warnings)],
        columns=["severity", "rule", "file", "row", "column", "value", "patient_id", "message"],
    )
    frame["row"] = frame["row"].astype(object).where(frame["row"].notna(), None)
    return SheetSpec("Validation", frame, integer_columns=("row",),
                     units={"row": "row number in the file"},
                     notes=(report.summary(),) if hasattr(report, "summary") else ())


def write_dossier_workbook(path: Path, *, results: pd.DataFrame, verdicts: Sequence[Verdict],
                           readiness: Sequence[Readiness], rule_sets: Sequence[RuleSet],
                           patients: pd.DataFrame, registry_cohorts: pd.DataFrame,
                           report: ValidationReport, build_info: Mapping[str, str],
                           created: dt.datetime, only: Sequence[str] | None = None,
                           adverse_events: pd.DataFrame | None = None,
                           changes: Mapping[str, object] | None = None,
                           population: Mapping[str, GroupRecords] | None = None) -> None:
    """Write dossier.xlsx: Cover, Summary, (Changes, when built ``--since`` an earlier cut,)
    Cohorts, Verdicts, Scorecards, Criteria, Outlook, Endpoints, Patients, Baseline, Safety,
    Adverse events, Validation and Data dictionary.

    A new sheet is one more :class:`SheetSpec` in the list below (the Cover lists them all);
    give every numeric column a unit (``SheetSpec.units``). ``population``: the groups'
    baseline, safety and adverse-event records when already counted (else counted here)."""
    endpoints = results.copy()
    endpoints["time"] = endpoints["time"].astype(float)
    if only is not None:
        keep = (endpoints["group_by"] != "cohort_id") | endpoints["group"].isin(list(only))
        endpoints = endpoints[keep]
    endpoints = explain_long(endpoints.replace({np.inf: np.nan}).reset_index(drop=True))
    numbers = cohort_numbers(results, only)
    sheets = [
        _summary_sheet(results, build_info),
        _cohorts_sheet(results, registry_cohorts, verdicts, readiness, only),
        _verdicts_sheet([v for v in verdicts if only is None or v.cohort_id in set(only)],
                        numbers),
        scorecard_sheet([v for v in verdicts if only is None or v.cohort_id in set(only)],
                        rule_sets, [c for c in ResultsIndex(results).groups
                                    if only is None or c in set(only)],
                        created.date().isoformat(), patients_cutoff(patients)),
        _criteria_sheet(rule_sets),
        outlook_sheet(results, registry_cohorts, rule_sets, only),
        SheetSpec("Endpoints", endpoints, month_columns=(), integer_columns=(),
                  units=ENDPOINT_UNITS,
                  notes=("The long analysis-results table: one row per group x endpoint x "
                         "statistic (x time in months). Proportions are 0-1. An empty "
                         "estimate or limit is written as why: not reached, not estimable "
                         "or no patients.",)),
        _patients_sheet(patients if only is None
                        else patients[patients["cohort_id"].isin(list(only))], numbers),
        *population_sheets(patients, results, only, adverse_events, population),
        _validation_sheet(report),
        dictionary_sheet(),
    ]
    if changes is not None:
        from dossier.render.workbook_changes import changes_sheet

        sheets.insert(1, changes_sheet(changes))
    sheets.insert(0, cover_sheet(build_info, rule_sets, [s.name for s in sheets]))
    write_workbook(sheets, path, title=build_info.get("title", "dossier"), created=created)
