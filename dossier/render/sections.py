"""The submission sections of the dossier: PICO, design and analysis sets, follow-up and
maturity, limitations, references and glossary, as plain template data.

``submission_sections`` is called once by ``context.build_context``; it returns the
document-level parts and one dict per cohort. The references are numbered while the text is
built (first citation first), so the list printed at the end holds exactly what is cited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dossier.registry.load import Registry
from dossier.render.bibliography import Bibliography, cited_numbers
from dossier.render.design import (
    analysis_set_counts,
    analysis_sets,
    cohort_flow,
    design_stages,
    design_text,
)
from dossier.render.glossary import glossary_rows
from dossier.render.limitations import cohort_limitations
from dossier.render.maturity import enrolment_to_cutoff, followup_rows, maturity_rule
from dossier.render.pico import cohort_pico
from dossier.render.results_index import ResultsIndex
from dossier.scoring.verdicts import Verdict

COHORT = "cohort_id"


def _followup_methods(bib: Bibliography) -> list[str]:
    return [
        ("Median follow-up is estimated by the reverse Kaplan-Meier method, which treats "
         f"censoring as the event {bib.cite('schemper-smith-1996')}, with a confidence "
         f"interval by the method of Brookmeyer and Crowley {bib.cite('brookmeyer-crowley-1982')};"
         f" every Kaplan-Meier figure equals R's survival package {bib.cite('r-survival')}."),
        ("It is not estimable when every patient had the event (no follow-up is censored, so "
         "follow-up is complete), or when too few patients are censored for the reverse curve "
         "to fall to 50%; each cohort's table then says which."),
    ]


def _frameworks(infos: Mapping[str, Mapping[str, Any]], bib: Bibliography) -> list[dict[str, str]]:
    out = []
    for ident, info in infos.items():
        keys = bib.rule_file_keys(ident, str(info.get("framework") or ""))
        out.append({"short": str(info.get("short") or ident),
                    "framework": str(info.get("framework") or ""),
                    "version": str(info.get("version") or ""),
                    "cite": bib.cite(*keys) if keys else ""})
    return out


def _ci_width(index: ResultsIndex, group: tuple[str, str]) -> float | None:
    row = index.get(group, "cbr", "rate", "evaluable")
    if row is None or pd.isna(row["lower"]) or pd.isna(row["upper"]):
        return None
    return float(row["upper"]) - float(row["lower"])


def submission_sections(*, index: ResultsIndex, registry: Registry,
                        cohorts: Sequence[Mapping[str, Any]],
                        verdicts: Mapping[str, Sequence[Verdict]],
                        infos: Mapping[str, Mapping[str, Any]], rule_files: Sequence[object],
                        cutoff: str, comparators: Any = None) -> dict[str, Any]:
    """Document-level sections and per-cohort sections (by cohort id) for the templates.

    ``comparators`` is an optional comparators file (``Comparators``, anything with
    ``find(tumour_type, line)``); a cohort's metadata ``comparator`` takes precedence.
    """
    bib = Bibliography(rule_files)
    stages = design_stages(rule_files)
    rule = maturity_rule()
    document: dict[str, Any] = {
        "design": design_text(stages, bib),
        "sets": analysis_sets(bib),
        "followup_methods": _followup_methods(bib),
        "maturity_definition": rule.definition(bib),
        "maturity_source": rule.source,
        "frameworks": _frameworks(infos, bib),
    }
    meta_rows = {str(r["cohort_id"]): r for r in registry.cohorts.to_dict("records")}
    full_size = stages[-1][1] if stages else 0
    per_cohort: dict[str, dict[str, Any]] = {}
    pico_rows = []
    cohort_column = registry.patients["cohort_id"].astype(str)
    for cohort in cohorts:
        cid = str(cohort["id"])
        group = (COHORT, cid)
        patients = registry.patients[cohort_column == cid]
        pico = cohort_pico(index, group, patients, meta_rows.get(cid, {}), comparators)
        flow = cohort_flow(index, group, patients, stages)
        followup = followup_rows(index, group, rule)
        counts = analysis_set_counts(flow)
        evaluable = index.get(group, "patients", "evaluable")
        n_evaluable = 0 if evaluable is None else int(float(evaluable["estimate"]))
        per_cohort[cid] = {
            "pico": pico, "flow": flow,
            "sets": [{"name": s["name"], "definition": s["definition"],
                      "n": counts[s["name"]]} for s in document["sets"]],
            "maturity_definition": document["maturity_definition"],
            "followup": followup,
            "enrolment": enrolment_to_cutoff(patients, cutoff),
            "limitations": cohort_limitations(
                evaluable=n_evaluable, full_size=full_size, ci_width=_ci_width(index, group),
                patients=patients, followup=followup, verdicts=verdicts.get(cid, ()),
                infos=infos, pico=pico, bib=bib),
        }
        pico_rows.append({"number": cohort["number"], "anchor": cohort["anchor"], "id": cid,
                          **pico})
    document["pico"] = pico_rows
    outcomes = {tuple(p["outcomes"]) for p in pico_rows}
    document["pico_outcomes"] = list(outcomes.pop()) if len(outcomes) == 1 else []
    document["references"] = entries = bib.entries()
    for section in per_cohort.values():  # a cohort PDF lists the references its section prints
        cited = cited_numbers([json.dumps(section)])
        section["references"] = [e for e in entries if int(e["number"]) in cited]
    document["glossary"] = glossary_rows()
    return {"document": document, "cohorts": per_cohort}


def submission_record(*, results: pd.DataFrame, registry: Registry,
                      verdicts: Sequence[Verdict], rule_files: Sequence[object], cutoff: str,
                      only: Sequence[str] | None = None, comparators: Any = None
                      ) -> dict[str, Any]:
    """The submission sections for results.json: per cohort PICO, flow, analysis sets,
    follow-up and maturity and limitations, then the definitions and the references."""
    from dossier.render.verdict_views import rule_file_info

    index = ResultsIndex(results)
    ids = [c for c in index.groups if only is None or c in set(only)]
    cohorts = [{"id": cid, "number": k, "anchor": f"cohort-{k}"}
               for k, cid in enumerate(ids, start=1)]
    by_cohort: dict[str, list[Verdict]] = {cid: [] for cid in ids}
    for verdict in verdicts:
        if verdict.cohort_id in by_cohort:
            by_cohort[verdict.cohort_id].append(verdict)
    infos = {str(i["id"]): i for i in (rule_file_info(r) for r in rule_files)}
    sections = submission_sections(index=index, registry=registry, cohorts=cohorts,
                                   verdicts=by_cohort, infos=infos, rule_files=rule_files,
                                   cutoff=cutoff, comparators=comparators)
    document = sections["document"]
    return {
        "cohorts": [{"cohort_id": cid, **sections["cohorts"][cid]} for cid in ids],
        "design": document["design"], "analysis_sets": document["sets"],
        "frameworks": document["frameworks"], "followup_methods": document["followup_methods"],
        "maturity_definition": document["maturity_definition"],
        "references": document["references"],
    }
