"""Template data of the PDF dossier: results table + verdicts + registry -> plain dicts and lists.

Everything a template shows is prepared here as text, formatted as the reader sees it
("34.9% (32.2-37.6)", "3.4 (2.8-3.5) months", "NR"), so templates hold no logic and no number is
formatted anywhere else. Nothing is estimated: every figure is looked up in the results table
(contract D) or copied from a verdict; the figures (inline SVG) are drawn from the same rows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from dossier.endpoints.parameters import EndpointParameters
from dossier.endpoints.population import collected_columns
from dossier.registry.comparators import Comparators
from dossier.registry.load import Registry
from dossier.registry.pseudonyms import KEEP, identifiers_sentence
from dossier.registry.schema import DAYS_PER_MONTH, DAYS_PER_WEEK
from dossier.render.cohort_methods import cohort_methods
from dossier.render.design import design_stages
from dossier.render.external_controls import external_controls_view
from dossier.render.figure_thresholds import median_thresholds
from dossier.render.figures import swimmer_svg
from dossier.render.formatting import (
    MEDIAN_DECIMALS,
    NOT_AVAILABLE,
    Row,
    count_text,
    fraction_text,
    is_missing,
    median_parts,
    median_text,
    months_value_text,
    percent_text,
    rate_text,
    survival_text,
)
from dossier.render.memo import Memo, frame_digest
from dossier.render.methods_text import (
    data_cutoff,
    method_definitions,
    method_rows,
    parameter_rows,
)
from dossier.render.outlook import outlook_context
from dossier.render.pfs_ratio_view import median_ratio_rows
from dossier.render.population import pooled_population, population_view
from dossier.render.reference import published_rows, reference_lines
from dossier.render.report_figures import cohort_km_figures, forest_figures, swimmer_title
from dossier.render.results_index import ResultsIndex, cohort_numbers, row_parameters
from dossier.render.scorecard import cohort_scorecards
from dossier.render.sections import submission_sections
from dossier.render.verdict_certainty import certainty_table, methods_paragraph
from dossier.render.verdict_views import (
    metric_labels,
    plain_words,
    readiness_view,
    rule_file_info,
    verdict_counts,
    verdict_dict,
    verdict_matrix,
)
from dossier.resources import drup_stages
from dossier.scoring.verdicts import NOT_APPLICABLE, VERDICTS, Verdict

DEMO_DATA = "demo"
SYNTHETIC_NOTICE = "SYNTHETIC DEMO DATA \u2014 not for submission"

DEFAULTS = EndpointParameters()
"""The endpoint parameters' defaults, for a context built without the run's parameters."""
POOLED = ("all", "all")
COHORT = "cohort_id"
HEADLINE_DECIMALS = MEDIAN_DECIMALS
MISSING = NOT_AVAILABLE


def months_text(row: Row | None, decimals: int = HEADLINE_DECIMALS) -> str:
    """``3.4 (2.8-3.5) months`` (see :func:`dossier.render.formatting.median_text`)."""
    return median_text(row, decimals)


_nan = is_missing


def _weeks_text(weeks: Any) -> str:
    return f"{float(weeks):g}"


# --------------------------------------------------------------------------- endpoint rows


RATE_ROWS = (("cbr", "evaluable"), ("cbr_durable", "evaluable"), ("orr", "evaluable"),
             ("dcr", "evaluable"), ("durable_sd", "evaluable"),
             ("sd_lasting", "sd_benefit_window"), ("pfs_rate", "evaluable"),
             ("exceptional", "evaluable"), ("pfs_ratio", "with_prior_pfs"),
             ("severe_trae", "treated"))
"""The rates a cohort's endpoint table shows; their labels come with the rows."""
TIME_ROWS = (("pfs", (6.0, 12.0)), ("os", (12.0, 24.0)), ("dor", ()))
"""The Kaplan-Meier medians a cohort's table shows, with the landmarks shown beside them (the
report's choice among the landmarks computed, see EndpointParameters.landmarks_months)."""


def _denominator_text(row: Row | None) -> str:
    if row is None:
        return ""
    word = str(row.get("denominator_label") or "")
    return f"{count_text(row['n'])} {word}".strip()


def endpoint_rows(index: ResultsIndex, group: tuple[str, str]) -> list[dict[str, str]]:
    """One table row per endpoint of a group: label, estimate with 95% CI, x/n, denominator."""
    out: list[dict[str, str]] = []
    for endpoint, denominator in RATE_ROWS:
        row = index.get(group, endpoint, "rate", denominator)
        if row is None:
            continue
        out.append({"label": str(row["label"]), "value": rate_text(row),
                    "count": fraction_text(row), "denominator": _denominator_text(row),
                    "kind": "rate"})
        if endpoint == "pfs_ratio":  # the within-patient comparator: its median beside it
            out += median_ratio_rows(index, group)
    for endpoint, landmarks in TIME_ROWS:
        n_row = index.get(group, endpoint, "n")
        median = index.get(group, endpoint, "median")
        if median is None:
            continue
        events = ("" if n_row is None or _nan(n_row["x"])
                  else f"{count_text(n_row['x'])} events")
        out.append({"label": str(median["label"]), "value": months_text(median),
                    "count": events,
                    "denominator": _denominator_text(n_row), "kind": "median"})
        for months in landmarks:
            mark = index.get(group, endpoint, "survival", time=months)
            if mark is not None:
                out.append({"label": str(mark["label"]),
                            "value": survival_text(mark), "count": "",
                            "denominator": _denominator_text(n_row), "kind": "landmark"})
    follow = index.get(group, "os", "followup")
    if follow is not None:
        out.append({"label": str(follow["label"]),
                    "value": (months_text(follow) if follow["status"] == "ok"
                              else "not estimable (see follow-up and maturity)"), "count": "",
                    "denominator": _denominator_text(follow), "kind": "followup"})
    return out


def _label(row: Row | None, fallback: str) -> str:
    return str(row["label"]) if row is not None and row.get("label") else fallback


def headline_rows(index: ResultsIndex) -> list[dict[str, str]]:
    """The pooled figures the DRUP report leads with, each with its 95% CI and denominator.

    Labels are the rows' own (derived from the endpoint parameters), so they follow them.
    """
    def count_row(statistic: str, denominator: str | None = None) -> dict[str, str]:
        row = (index.get(POOLED, "patients", statistic, denominator)
               or index.get(POOLED, "patients", statistic))
        of = "" if row is None or statistic == "treated" else _denominator_text(row)
        return {"key": statistic, "label": _label(row, statistic),
                "value": count_text(None if row is None else row["estimate"]),
                "ci": "", "denominator": f"of {of}" if of else "registry rows"}

    def rate_row(endpoint: str, denominator: str) -> dict[str, str]:
        row = index.get(POOLED, endpoint, "rate", denominator)
        text = rate_text(row)
        value, _, ci = text.partition(" (")
        words = "" if row is None else str(row.get("denominator_label") or "")
        return {"key": endpoint, "label": _label(row, endpoint), "value": value,
                "ci": ci.rstrip(")") if ci else "",
                "denominator": f"{fraction_text(row)} {words}".strip()}

    def median_row(endpoint: str, statistic: str = "median") -> dict[str, str]:
        row = index.get(POOLED, endpoint, statistic)
        n_row = index.get(POOLED, endpoint, "n")
        label = _label(row, f"{endpoint} {statistic}")
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

    return [
        count_row("treated"),
        count_row("evaluable"),
        count_row("rare", "evaluable"),
        rate_row("cbr", "evaluable"),
        rate_row("orr", "evaluable"),
        median_row("pfs"),
        median_row("os"),
        median_row("os", "followup"),
        rate_row("severe_trae", "treated"),
        rate_row("exceptional", "evaluable"),
    ]


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


def _cohort(index: ResultsIndex, cid: str, number: int, registry: Registry,
            meta: Mapping[str, object], verdicts: Sequence[Verdict],
            infos: Mapping[str, dict[str, object]], reference: Sequence[tuple[float, str]],
            notes: Sequence[str], labels: Mapping[str, str],
            figure_options: Mapping[str, Any], memo: Memo, collected: frozenset[str],
            events_key: str) -> dict[str, object]:
    group = (COHORT, cid)
    patients = registry.patients[registry.patients["cohort_id"].astype(str) == cid]
    results = index.cohort_frame(cid)
    treated = index.get(group, "patients", "treated")
    evaluable = index.get(group, "patients", "evaluable")
    cbr = index.get(group, "cbr", "rate", "evaluable")
    orr = index.get(group, "orr", "rate", "evaluable")
    drug = _first(patients, "drug")
    indication = ", ".join(v for v in (_first(patients, "tumour_type"),
                                       _first(patients, "alteration")) if v)
    # the plots see their rows numbered from 0, so that a row added to another cohort (which
    # moves where this cohort's rows are in the whole table) leaves them as they were
    curves = results.reset_index(drop=True)
    figures: list[str] = memo.value(
        "km figures", (curves, cid, number, drug, indication, figure_options),
        lambda: cohort_km_figures(curves, cid, number, drug, indication, **figure_options))
    swimmer = (patients.reset_index(drop=True),
               swimmer_title(number, len(figures) + 1, drug, indication), reference)
    # a verdict with an indicative one (off-label: no EMA registration) gets its full block
    applicable = [v for v in verdicts if v.verdict != NOT_APPLICABLE or v.indicative_verdict]
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
            "sd_weeks": _weeks_text(row_parameters(cbr).get("sd_weeks", DEFAULTS.sd_weeks)),
        },
        "endpoints": endpoint_rows(index, group),
        "km_svgs": figures,
        "swimmer_svg": memo.value("swimmer plot", swimmer, lambda: swimmer_svg(
            swimmer[0], title=swimmer[1], reference_months=reference)),
        "verdicts": [verdict_dict(v, infos.get(v.criteria_id), labels) for v in applicable],
        "not_applicable": [{"short": str(infos.get(v.criteria_id, {}).get("short")
                                         or v.criteria_id),
                            "reason": plain_words("; ".join(v.reasons) or v.outcome, labels)}
                           for v in verdicts if v not in applicable],
        "notes": list(notes),
        "listing": patient_listing(patients),
        # the adverse events of the whole registry enter as the key of their table
        "population": memo.value(
            "population", (patients, collected, meta, number, events_key),
            lambda: population_view(patients, collected, meta, number,
                                    registry.adverse_events)),
    }


def build_context(*, results: pd.DataFrame, verdicts: Sequence[Verdict], registry: Registry,
                  rule_files: Sequence[object], parameters: Mapping[str, object], title: str,
                  build_time: datetime, software_version: str, data_sha256: str,
                  data_name: str, only: Sequence[str] | None = None,
                  patient_ids: str | None = None, comparators: Comparators | None = None,
                  controls: Mapping[str, object] | None = None,
                  km_full_followup: bool = False, memo: Memo | None = None
                  ) -> dict[str, object]:
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
    comparators, controls : the external-control file read and each cohort's control account
        (:mod:`dossier.scoring.external_control`), for the methods, the cover and the cohorts'
        PICO.
    km_full_followup : draw the Kaplan-Meier plots over the whole follow-up, not cut where
        fewer than 10% remain at risk.
    memo : each cohort's figures and population tables of the last build, taken where their
        inputs are unchanged (:mod:`dossier.render.memo`); None makes them all.

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
    numbers = cohort_numbers(results, cohort_ids)
    infos = {str(i["id"]): i for i in (rule_file_info(r) for r in rule_files)}
    for verdict in verdicts:  # a verdict from a rule file not listed still gets a column
        infos.setdefault(verdict.criteria_id, rule_file_info(
            {"id": verdict.criteria_id, "title": verdict.title, "framework": verdict.framework,
             "version": verdict.version}))
    by_cohort: dict[str, list[Verdict]] = {cid: [] for cid in cohort_ids}
    order = {ident: k for k, ident in enumerate(infos)}
    for verdict in sorted(verdicts, key=lambda v: order[v.criteria_id]):
        if verdict.cohort_id in by_cohort:
            by_cohort[verdict.cohort_id].append(verdict)
    labels = metric_labels(rule_files)
    meta_rows = {str(r["cohort_id"]): r for r in registry.cohorts.to_dict("records")}
    sd_weeks = float(parameters.get("sd_weeks") or DEFAULTS.sd_weeks)  # type: ignore[arg-type]
    durable_weeks = float(parameters.get("durable_weeks")  # type: ignore[arg-type]
                          or DEFAULTS.durable_weeks)
    reference = [(w * DAYS_PER_WEEK / DAYS_PER_MONTH, f"{w:g} weeks")
                 for w in dict.fromkeys((sd_weeks, durable_weeks))]
    warnings = registry.report.warnings
    cohort_notes: dict[str, list[str]] = {}
    for issue in warnings:
        if issue.column == COHORT and issue.value in by_cohort:
            cohort_notes.setdefault(str(issue.value), []).append(issue.message)
    figure_options = {"pfs_thresholds": median_thresholds(rule_files),
                      "full_followup": km_full_followup}
    memo = memo if memo is not None else Memo()
    collected = collected_columns(registry.patients)
    events_key = frame_digest(registry.adverse_events)
    cohorts = [_cohort(index, cid, numbers[cid], registry, meta_rows.get(cid, {}),
                       by_cohort[cid], infos, reference, cohort_notes.get(cid, ()), labels,
                       figure_options, memo, collected, events_key)
               for cid in cohort_ids]
    # forest labels: "number. drug | tumour | alteration" in full (wrapped onto two lines by the
    # figure when long), so that two cohorts of one drug and alteration never look the same
    forest_labels = {str(c["id"]): f"{c['number']}. {c['id']}" for c in cohorts}
    # the last stage's bar of the staged rule file in use, else of the bundled DRUP rule file
    bar = next((i["stage_bar"] for i in infos.values() if i["stage_bar"]), drup_stages()[-1])
    cbr_line = ((bar[0] / bar[1], f"DRUP stage 2: {bar[0]}/{bar[1]} = "
                 f"{percent_text(bar[0] / bar[1])}"),)
    orr_lines = reference_lines("orr")  # data: criteria/reference/published-figures.yaml
    moment = build_time if build_time.tzinfo else build_time.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    cutoff = data_cutoff(registry)
    for cohort in cohorts:  # ESMO-MCBS scorecards, dated by the build (deterministic)
        cohort["scorecards"] = cohort_scorecards(cohort, by_cohort[str(cohort["id"])],
                                                 rule_files, moment, cutoff, labels)
    sections = submission_sections(index=index, registry=registry, cohorts=cohorts,
                                   verdicts=by_cohort, infos=infos, rule_files=rule_files,
                                   cutoff=cutoff, comparators=comparators)
    endpoint_methods = method_rows(index)
    for cohort in cohorts:
        cohort["submission"] = sections["cohorts"][str(cohort["id"])]
        cohort["methods_summary"] = cohort_methods(cohort, endpoint_methods,
                                                   design_stages(rule_files))
    headline = headline_rows(index)
    synthetic = data_name == DEMO_DATA
    return {
        "meta": {
            "title": title, "data_name": data_name, "data_sha256": data_sha256,
            # the PDF's Subject (and XMP dc:description)
            "description": (f"Reimbursement evidence dossier built from {data_name} "
                            f"(SHA-256 {data_sha256})"),
            "synthetic": synthetic, "notice": SYNTHETIC_NOTICE if synthetic else "",
            "data_cutoff": cutoff,
            "build_date": moment.strftime("%Y-%m-%d %H:%M UTC"),
            "build_date_note": (
                "set to the latest date in the data, so that the same data give the same "
                "files (SOURCE_DATE_EPOCH sets another)"
                if not os.environ.get("SOURCE_DATE_EPOCH", "").strip()
                and moment.strftime("%Y-%m-%d") == str(cutoff)[:10] else ""),
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
                    "counts": verdict_counts(cohorts, by_cohort, infos),
                    "met_legend": [f"{i['short']}: {i['met_note']}" for i in infos.values()
                                   if i["met_note"]],
                    "readiness": readiness_view(cohorts, by_cohort, infos, labels),
                    "certainty": certainty_table(cohorts, by_cohort, infos)},
        "methods": {"endpoints": endpoint_methods, "days_per_month": f"{DAYS_PER_MONTH:g}",
                    "definitions": method_definitions(parameters, cutoff),
                    "data_cutoff": cutoff,
                    "certainty": methods_paragraph(str(parameters.get("ci") or DEFAULTS.ci),
                                                   float(parameters.get("conf_level")  # type: ignore[arg-type]
                                                         or DEFAULTS.conf_level)),
                    "patient_ids": patient_ids or identifiers_sentence(KEEP),
                    "row_legend": registry.report.legend(),
                    "data_mapping": [
                        {"topic": d.topic, "file": d.file, "column": d.column or "",
                         "text": d.text}
                        for d in getattr(registry.report, "decisions", ())]},
        "cohorts": cohorts,
        "external_controls": external_controls_view(comparators, controls or {}, synthetic),
        "population": pooled_population(registry.patients, registry.adverse_events),
        "submission": sections["document"],
        "comparison": {
            "forest_cbr": forest_figures(
                index, "cbr", forest_labels,
                "Clinical benefit rate by cohort (evaluable patients, 95% CI)", cbr_line,
                min_patients=(bar[1],), number="C.1"),
            "forest_orr": forest_figures(
                index, "orr", forest_labels,
                "Objective response rate by cohort (evaluable patients, 95% CI)", orr_lines,
                number="C.2"),
            "thresholds": [t[1] for t in (*cbr_line, *orr_lines)],
            "matrix": verdict_matrix(cohorts, by_cohort, infos, labels),
        },
        "outlook": outlook_context(results, registry.cohorts, rule_files, numbers),
        "appendix": {
            "warnings": [{"severity": i.severity, "location": i.location, "rule": i.rule,
                          "message": i.message} for i in warnings],
        },
    }
