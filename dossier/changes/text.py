"""The changes document in words: one row per change (PDF, workbook) and a terminal summary.

Every output shows the same rows: the cohort, what changed, its value before and now, and why
(for a verdict, the clauses that changed). Words are the report's, never the rule files' ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dossier.changes.compare import NOT_SCORED, added_text

COLUMNS = ("Cohort", "What changed", "Before", "Now", "Why")
"""The columns of the change table in the PDF and the workbook's Changes sheet."""


def criteria_name(verdict: Mapping[str, Any]) -> str:
    """The criteria as the report names them: the rule file's title up to its colon."""
    return str(verdict.get("title") or verdict.get("framework") or "").split(":")[0].strip()


def _verdict_text(view: Mapping[str, Any]) -> str:
    text = str(view.get("verdict") or "")
    if view.get("grade") is not None:
        text += f", grade {view['grade']}"
    if view.get("certainty"):
        text += f" ({view['certainty']})"
    return text


def _clause_text(clause: Mapping[str, Any]) -> str:
    old, new = clause["old"], clause["new"]

    def side(view: Mapping[str, Any]) -> str:
        state = view["state"] + (f", {view['certainty']}" if view["certainty"] else "")
        return f"{view['observed']} ({state})" if view["observed"] else state

    return f"{clause['label']}: {side(old)} then {side(new)}"


def change_rows(document: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per change, pooled first, each cohort's rows together (COLUMNS as keys)."""
    rows: list[dict[str, str]] = []
    for group in document.get("groups", []):
        name = str(group["name"])

        def add(what: str, before: str, now: str, why: str = "", cohort: str = name) -> None:
            rows.append(dict(zip(COLUMNS, (cohort, what, before, now, why), strict=True)))

        if group["status"] == "opened":
            add("Cohort opened", "not in the data", "in the data")
        elif group["status"] != "present":
            add("Cohort no longer in the data", "in the data", "not in the data")
        for key, what in (("patients", "Patients treated"),
                          ("evaluable", "Response-evaluable patients")):
            if group.get(key):
                change = group[key]
                add(what, _count(change["old"]), _count(change["new"]), added_text(change))
        for events in (group.get("events") or {}).values():
            add(f"Events: {events['what']}", _count(events["old"]), _count(events["new"]),
                added_text(events))
        for stage in group.get("stages", []):
            if stage["event"] == "passed":
                add(f"Passed {stage['stage'].lower()}", "", stage["observed"])
            else:
                add(f"Closed at {stage['stage'].lower()}", "", stage["observed"],
                    stage.get("outcome", ""))
        for verdict in group.get("verdicts", []):
            # a verdict new to this cut (or gone from it) changed whole: no clause to single out
            scored = NOT_SCORED not in (verdict["old"]["verdict"], verdict["new"]["verdict"])
            why = "; ".join(_clause_text(c) for c in verdict["clauses"]) if scored else ""
            add(f"Verdict: {criteria_name(verdict)}", _verdict_text(verdict["old"]),
                _verdict_text(verdict["new"]), why)
        for endpoint in group.get("endpoints", []):
            add(endpoint["name"], endpoint["old"], endpoint["new"])
    return rows


def _count(value: object) -> str:
    return "none" if value is None else f"{round(float(value)):,}"


def heading(document: Mapping[str, Any]) -> str:
    """'Changes since 2023-01-01' (the earlier analysis's data cut-off, else its source)."""
    return f"Changes since {document['old']['label']}"


def lead(document: Mapping[str, Any]) -> str:
    """One sentence: what was compared with what, and whether anything changed."""
    old, new = document["old"], document["new"]
    compared = (f"This analysis (data cut-off {new['label']}) compared with the earlier one "
                f"(data cut-off {old['label']}).")
    if not document.get("any_change"):
        return f"{compared} Nothing changed at the precision the dossier reports."
    summary = document.get("summary", {})
    parts = [f"{summary.get('cohorts_changed', 0)} cohorts changed"]
    if summary.get("cohorts_opened"):
        parts.append(f"{len(summary['cohorts_opened'])} opened")
    if summary.get("stages_passed"):
        parts.append(f"{len(summary['stages_passed'])} stages passed")
    if summary.get("cohorts_closed"):
        parts.append(f"{len(summary['cohorts_closed'])} closed")
    parts.append(f"{summary.get('verdicts_changed', 0)} verdicts changed")
    return (f"{compared} {', '.join(parts)}. Numbers are compared as the dossier reports them "
            "(one decimal); a figure that reads the same is not listed.")


def summary_lines(document: Mapping[str, Any]) -> list[str]:
    """The terminal summary: heading, lead, then each group's changes, indented."""
    lines = [heading(document), lead(document)]
    lines += [f"note: {n}" for n in document.get("notes", [])]
    current = None
    for row in change_rows(document):
        if row["Cohort"] != current:
            current = row["Cohort"]
            lines.append("")
            lines.append(current)
        before = f"{row['Before']} -> " if row["Before"] else ""
        why = f"  [{row['Why']}]" if row["Why"] else ""
        lines.append(f"  {row['What changed']}: {before}{row['Now']}{why}")
    return lines


def changes_view(document: Mapping[str, Any],
                 anchors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the PDF's "Changes since" section shows: heading, lead, notes and, per group, its
    rows (``anchors`` links a cohort's name to its section)."""
    anchors = anchors or {}
    names = {str(g["name"]): g.get("cohort_id") for g in document.get("groups", [])}
    groups: list[dict[str, Any]] = []
    for row in change_rows(document):
        if not groups or groups[-1]["name"] != row["Cohort"]:
            cohort = names.get(row["Cohort"])
            groups.append({"name": row["Cohort"], "anchor": anchors.get(str(cohort), ""),
                           "rows": []})
        groups[-1]["rows"].append({"what": row["What changed"], "before": row["Before"],
                                   "now": row["Now"], "why": row["Why"]})
    return {"heading": heading(document), "lead": lead(document),
            "notes": list(document.get("notes", [])), "groups": groups}
