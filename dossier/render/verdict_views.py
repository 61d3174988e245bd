"""Verdicts as the dossier shows them: clause tables, readiness groups, the verdict matrix.

Metric identifiers are replaced by their labels, so a payer reads "patients with clinical
benefit", not "cb_n".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from dossier.render.indicative_view import indicative_view
from dossier.render.rule_words import plain_ids, rule_words
from dossier.render.verdict_certainty import clause_view, verdict_view
from dossier.scoring.metrics import METRICS
from dossier.scoring.readiness import (
    BELOW_SCREEN,
    LINE_RULES,
    MEETS_SCREEN,
    NO_PAYER_DECISION,
    NOT_SCORED,
    SCREEN_NAME,
    SCREEN_RULES,
    TRIAL_RULE,
    UNRESOLVED,
    cohort_readiness,
)
from dossier.scoring.rules import RuleSet
from dossier.scoring.verdicts import NOT_APPLICABLE, VERDICTS, ClauseResult, Verdict

METRIC_LABELS = {name: spec.label for name, spec in METRICS.items() if spec.label}
"""Metric identifier -> label, from the metric catalogue (rule files may add their inputs)."""
VERDICT_CSS = {v: "v-" + v.replace(" ", "-") for v in VERDICTS}


# --------------------------------------------------------------------------- verdicts


def met_note(framework: str, met_at: int | None, note: str) -> str:
    """What "met" means on a graded scale, and whose line it is (the rule file's met_at_note).

    A grade line the rule file marks as ours reads "met = grade >= 3, dossier's payer screen
    (ours, no payer decision); ESMO-MCBS itself has no pass mark for this form".
    """
    if met_at is None:
        return ""
    if "(ours)" in note or " ours" in note:
        return (f"met = grade >= {met_at}, {SCREEN_NAME} (ours, no payer decision); "
                f"{framework or 'the framework'} itself has no pass mark for this form")
    return f"met = grade >= {met_at}" + (f" ({note.rstrip('.')})" if note else "")


_NOTES_REF = re.compile(r"^criteria\.md [0-9.]+:\s*")
"""A citation's pointer into dossier's domain notes (a file name), left out of the outputs."""

_OVERRIDE_FILE = re.compile(r"rules from override file [^\s;,]+")
"""The engine's note naming an override file's path: the PDF says what it is, not its name."""

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


def rule_file_info(rule: object) -> dict[str, object]:
    """id, names, version and sources of a rule file (a RuleSet or a plain mapping)."""
    get = (rule.get if isinstance(rule, Mapping)
           else lambda key, default=None: getattr(rule, key, default))
    sources = []
    for source in get("sources", ()) or ():
        sget = (source.get if isinstance(source, Mapping)
                else lambda key, default="", s=source: getattr(s, key, default))
        sources.append({"id": str(sget("id", "") or ""),
                        "url": str(sget("url", "") or
                                   _NOTES_REF.sub("", str(sget("citation", "") or ""))),
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
            "stage_bar": (int(last.at_least), int(last.of)) if last is not None else None,
            "words": rule_words(rule) if isinstance(rule, RuleSet) else {},
            "gate_reasons": ({g.id: g.reason for g in rule.gates if g.reason}
                             if isinstance(rule, RuleSet) else {})}


def _clause(clause: ClauseResult, labels: Mapping[str, str],
            ids: Mapping[str, str], reasons: Mapping[str, str] | None = None) -> dict[str, str]:
    """One row of a verdict's clause table; an applicability row whose framework does not
    apply says why in the rule file's words (its ``reason``), not in the engine's condition."""
    def words(text: str) -> str:
        return plain_ids(plain_words(text, labels), ids)

    rule = ids.get(clause.rule, clause.rule)
    grade = "" if clause.grade is None else str(clause.grade)
    if grade and rule.startswith(f"grade {grade} ("):
        rule = rule[len(f"grade {grade} ("):-1]  # the template adds "(grade N)"
    if rule == plain_words(clause.condition, labels):  # a one-clause row: say which row
        rule, grade = (f"grade {grade}", "") if grade else ("applicability" if clause.label
                                                            .startswith("applicability")
                                                            else "", "")
    condition = clause.condition
    if clause.op == "gate" and clause.state == "does not apply" \
            and (reasons or {}).get(clause.rule):
        rule, condition = "applicability", (reasons or {})[clause.rule]
        condition = condition[:1].upper() + condition[1:]
    return {"rule": rule, "grade": grade,
            "label": words(clause.label), "condition": words(condition),
            "observed": words(clause.observed_text), "threshold": words(clause.threshold_text),
            "state": clause.state, "css": "s-" + clause.state.replace(" ", "-"),
            "status": clause.status, "source": clause.source, "note": words(clause.note),
            **clause_view(clause)}


def verdict_dict(verdict: Verdict, info: Mapping[str, object] | None,
                 labels: Mapping[str, str] | None = None) -> dict[str, object]:
    """A verdict as the cohort section shows it: outcome, grade, clause table and distance.

    Metric identifiers in the texts are replaced by their labels (``labels``, default the
    metric catalogue), so a payer reads "patients with clinical benefit", not "cb_n".
    """
    info = info or {}
    labels = METRIC_LABELS if labels is None else labels
    ids: Mapping[str, str] = info.get("words") or {}  # type: ignore[assignment]

    def words(texts: Sequence[str]) -> list[str]:
        return [_OVERRIDE_FILE.sub("rules completed by the user's override file",
                                   plain_ids(plain_words(t, labels), ids)) for t in texts]

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
        "statuses": ", ".join(verdict.statuses), **verdict_view(verdict),
        "comparator": verdict.comparator, "comparator_caveat": verdict.comparator_caveat,
        "indicative": indicative_view(verdict, words),
        "clauses": [_clause(c, labels, ids, info.get("gate_reasons"))  # type: ignore[arg-type]
                    for c in verdict.clauses],
        "adjustments": [{"label": a.label, "change": f"{a.change:+d}",
                         "state": plain_words(a.state, labels),
                         "status": a.status} for a in verdict.adjustments],
    }


def _cell_text(verdict: Verdict) -> str:
    grade = verdict.grade_text
    return f"{verdict.verdict} ({grade})" if grade else verdict.verdict



def _short(infos: Mapping[str, dict[str, object]], criteria_id: str) -> str:
    return str(infos.get(criteria_id, {}).get("short") or criteria_id)


def readiness_view(cohorts: Sequence[dict[str, object]], by_cohort: Mapping[str, list[Verdict]],
               infos: Mapping[str, dict[str, object]],
               labels: Mapping[str, str] = METRIC_LABELS) -> dict[str, object]:
    """Cohorts by their place against dossier's payer screen (dossier.scoring.readiness)."""
    groups: dict[str, list[dict[str, object]]] = {BELOW_SCREEN: [], UNRESOLVED: [],
                                                   MEETS_SCREEN: []}
    scored = 0
    for cohort in cohorts:
        line = cohort_readiness(str(cohort["id"]), by_cohort[str(cohort["id"])])
        scored += line.flag != NOT_SCORED
        if line.flag not in groups:
            continue
        gaps = []
        for gap in line.gaps:
            criteria_id, _, rest = gap.partition(": ")
            if criteria_id in SCREEN_RULES:
                ids = infos.get(criteria_id, {}).get("words") or {}
                gaps.append(f"{_short(infos, criteria_id)}: "
                            f"{plain_ids(plain_words(rest, labels), ids)}")  # type: ignore[arg-type]
        flow = cohort["flow"]
        groups[line.flag].append({
            "number": cohort["number"], "id": cohort["id"], "anchor": cohort["anchor"],
            "cb": f"{flow['cb']} of {flow['evaluable']}",
            "payer": "; ".join(f"{_short(infos, v.criteria_id)}: {_cell_text(v)}"
                               + (f", {v.certainty}" if v.certainty else "")
                               for v in line.verdicts if v.criteria_id in SCREEN_RULES),
            "gap": "; ".join(gaps)})
    return {
        "line": (f"A cohort is a trial success when it meets {_short(infos, TRIAL_RULE)}; it "
                 f"meets {SCREEN_NAME} when it also meets "
                 + " and ".join(_short(infos, r) for r in SCREEN_RULES) + "."),
        "no_decision": NO_PAYER_DECISION,
        "scored": scored > 0, "not_ready": groups[BELOW_SCREEN],
        "unresolved": groups[UNRESOLVED], "ready": groups[MEETS_SCREEN],
        "needs": ", ".join(_short(infos, r) for r in LINE_RULES),
    }


def verdict_counts(cohorts: Sequence[dict[str, object]],
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


def verdict_matrix(cohorts: Sequence[dict[str, object]], by_cohort: Mapping[str, list[Verdict]],
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


