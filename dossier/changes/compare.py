"""What changed from one snapshot to the next, per cohort and pooled: the changes document.

Numbers are compared as the dossier reports them (:mod:`dossier.render.formatting`): an
estimate that moves from 34.92% to 34.94% still reads "34.9% (32.2-37.6)" and has not
changed. Nothing about the build itself (its date, its folder) is compared, so a rebuild of the
same data is no change. The document is what ``changes.json`` holds (``FORMAT``, ``VERSION``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dossier.changes.snapshot import Snapshot, SnapshotError
from dossier.render.formatting import count_text, median_text, rate_text, survival_text

FORMAT = "dossier-changes"
VERSION = 1
POOLED = "all"
"""The results table's group of all patients (``group_by`` = ``group`` = "all")."""
POOLED_NAME = "All cohorts (pooled)"
COMPARED_STATISTICS = ("rate", "median", "survival", "followup")
"""Rows of the results table compared as estimates with their CI; counts are compared apart."""
EVENT_ENDPOINTS = {"pfs": "progression or death (PFS)", "os": "deaths (OS)"}
STAGED_OP = "bar"
"""Clauses of a staged design (DRUP's stages): passing or failing one opens or closes a stage."""
IGNORED_PARAMETERS = ("formats", "engine", "only", "title")
NOT_SCORED = "not scored"
"""The verdict of a cohort on a side where it is not in the data."""


def _key(row: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    time = row.get("time")
    return (str(row["group"]), str(row["endpoint"]), str(row["statistic"]),
            "" if time is None else f"{float(time):g}", str(row.get("denominator") or ""))


def _text(row: Mapping[str, Any] | None) -> str:
    """A compared row as the dossier writes it."""
    if row is None:
        return "not reported"
    statistic = row["statistic"]
    if statistic == "rate":
        return rate_text(row)
    if statistic == "survival":
        return survival_text(row)
    return median_text(row)


def _who(denominator_label: str) -> str:
    """'evaluable' -> 'evaluable patients', 'with a prior-line PFS' -> 'patients with ...'."""
    words = str(denominator_label or "").strip()
    if not words:
        return ""
    if words.startswith("with "):
        return f"patients {words}"
    return f"{words} patients" if " " not in words else words


def endpoint_name(row: Mapping[str, Any]) -> str:
    """The row's own label with the patients it counts: 'Objective response rate (confirmed
    CR/PR), evaluable patients'."""
    label = str(row.get("label") or row["endpoint"])
    words = str(row.get("denominator_label") or "")
    who = _who(words)
    return f"{label}, {who}" if who and words not in label else label


def _index(rows: Iterable[Mapping[str, Any]]) -> dict[tuple, Mapping[str, Any]]:
    return {_key(r): r for r in rows if r.get("group_by") in ("all", "cohort_id")}


def _count(rows: Mapping[tuple, Mapping[str, Any]], group: str, endpoint: str,
           statistic: str, denominator: str) -> int | None:
    row = rows.get((group, endpoint, statistic, "", denominator))
    value = None if row is None else row.get("estimate")
    return None if value is None else round(float(value))


def _change(old: int | None, new: int | None) -> dict[str, Any] | None:
    if old == new:
        return None
    return {"old": old, "new": new,
            "added": None if old is None or new is None else new - old}


def _counts(old: Mapping[tuple, Mapping[str, Any]], new: Mapping[tuple, Mapping[str, Any]],
            group: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, (endpoint, statistic, denominator) in {
            "patients": ("patients", "treated", ""),
            "evaluable": ("patients", "evaluable", "treated")}.items():
        moved = _change(_count(old, group, endpoint, statistic, denominator),
                        _count(new, group, endpoint, statistic, denominator))
        if moved:
            found[name] = moved
    events = {}
    for endpoint, words in EVENT_ENDPOINTS.items():
        moved = _change(_count(old, group, endpoint, "events", "treated"),
                        _count(new, group, endpoint, "events", "treated"))
        if moved:
            events[endpoint] = {**moved, "what": words}
    if events:
        found["events"] = events
    return found


def _endpoints(old: Mapping[tuple, Mapping[str, Any]], new: Mapping[tuple, Mapping[str, Any]],
               group: str) -> list[dict[str, Any]]:
    keys = [k for k in dict.fromkeys([*old, *new])
            if k[0] == group and k[2] in COMPARED_STATISTICS]
    moved = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        old_text, new_text = _text(before), _text(after)
        if old_text == new_text:
            continue
        row = after or before
        assert row is not None
        moved.append({"endpoint": key[1], "statistic": key[2],
                      "time": None if not key[3] else float(key[3]), "denominator": key[4],
                      "name": endpoint_name(row), "old": old_text, "new": new_text})
    return moved


def _clause_key(clause: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(clause.get("rule", "")), str(clause.get("label", "")),
            str(clause.get("metric", "")))


def _clause_view(clause: Mapping[str, Any] | None) -> dict[str, Any]:
    if clause is None:
        return {"state": "not evaluated", "observed": "", "certainty": ""}
    return {"state": str(clause.get("state") or ""),
            "observed": str(clause.get("observed_text") or ""),
            "certainty": str(clause.get("certainty") or "")}


def _clauses(before: Mapping[str, Any] | None,
             after: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The clauses whose state or certainty changed: those that made the verdict change."""
    old = {_clause_key(c): c for c in (before or {}).get("clauses", []) if isinstance(c, dict)}
    new = {_clause_key(c): c for c in (after or {}).get("clauses", []) if isinstance(c, dict)}
    found = []
    for key in dict.fromkeys([*old, *new]):
        a, b = _clause_view(old.get(key)), _clause_view(new.get(key))
        if (a["state"], a["certainty"]) != (b["state"], b["certainty"]):
            clause = new.get(key) or old.get(key) or {}
            found.append({"label": key[1], "rule": key[0],
                          "condition": str(clause.get("condition") or ""),
                          "staged": clause.get("op") == STAGED_OP, "old": a, "new": b})
    return found


def _verdict_view(verdict: Mapping[str, Any] | None) -> dict[str, Any]:
    if verdict is None:
        return {"verdict": NOT_SCORED, "grade": None, "certainty": "", "outcome": ""}
    return {"verdict": str(verdict.get("verdict") or ""), "grade": verdict.get("grade"),
            "certainty": str(verdict.get("certainty") or ""),
            "outcome": str(verdict.get("outcome") or "")}


def _verdicts(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]],
              cohort: str) -> list[dict[str, Any]]:
    before = {str(v.get("criteria")): v for v in old if v.get("id") == cohort}
    after = {str(v.get("criteria")): v for v in new if v.get("id") == cohort}
    changed = []
    for criteria in sorted({*before, *after}):
        a, b = _verdict_view(before.get(criteria)), _verdict_view(after.get(criteria))
        fields = [f for f in ("verdict", "grade", "certainty") if a[f] != b[f]]
        if not fields:
            continue
        verdict = after.get(criteria) or before.get(criteria) or {}
        clauses = _clauses(before.get(criteria), after.get(criteria))
        changed.append({"criteria": criteria, "framework": str(verdict.get("framework") or ""),
                        "title": str(verdict.get("title") or criteria), "changed": fields,
                        "old": a, "new": b, "clauses": clauses})
    return changed


def _stages(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stages passed and cohorts closed, read from the staged clauses that changed."""
    events = []
    for verdict in verdicts:
        for clause in verdict["clauses"]:
            if not clause["staged"]:
                continue
            state = clause["new"]["state"]
            if state == "held":
                events.append({"event": "passed", "stage": clause["label"],
                               "criteria": verdict["criteria"],
                               "observed": clause["new"]["observed"]})
            elif state == "not held":
                events.append({"event": "closed", "stage": clause["label"],
                               "criteria": verdict["criteria"],
                               "observed": clause["new"]["observed"],
                               "outcome": verdict["new"]["outcome"]})
    return events


def check_comparable(old: Snapshot, new: Snapshot) -> None:
    """Refuse two analyses whose numbers mean different things (versions, endpoint settings)."""
    if old.dossier_version and new.dossier_version and \
            old.dossier_version != new.dossier_version:
        raise SnapshotError(
            f"{old.source} was analysed by dossier {old.dossier_version} and {new.source} by "
            f"dossier {new.dossier_version}; their results are not comparable",
            hint="rebuild both with the same version of dossier, or compare the registries")
    a = {k: v for k, v in old.parameters.items() if k not in IGNORED_PARAMETERS}
    b = {k: v for k, v in new.parameters.items() if k not in IGNORED_PARAMETERS}
    differ = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
    if differ:
        shown = ", ".join(f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in differ[:4])
        raise SnapshotError(
            f"{old.source} and {new.source} were analysed with different endpoint settings "
            f"({shown}); their results are not comparable",
            hint="analyse both with the same dossier.toml")


def _side(snapshot: Snapshot) -> dict[str, Any]:
    return {"source": snapshot.source, "data_cutoff": snapshot.data_cutoff or None,
            "label": snapshot.label, "dossier": snapshot.dossier_version,
            "criteria": [f"{c.get('id')} ({c.get('version')})" for c in snapshot.criteria
                         if isinstance(c, dict)]}


def compare(old: Snapshot, new: Snapshot,
            only: Iterable[str] | None = None) -> dict[str, Any]:
    """The changes document from ``old`` to ``new`` (raises SnapshotError when not comparable).

    ``groups`` holds the pooled group first, then every cohort in cohort-id order (only those
    in ``only`` when given, as a build ``--only`` shows), each only when something in it
    changed; ``any_change`` is false when nothing did.
    """
    check_comparable(old, new)
    old_rows, new_rows = _index(old.rows), _index(new.rows)
    old_cohorts = {k[0] for k in old_rows} - {POOLED}
    new_cohorts = {k[0] for k in new_rows} - {POOLED}
    if only is not None:
        old_cohorts &= set(only)
        new_cohorts &= set(only)
    groups = []
    for group in [POOLED, *sorted(old_cohorts | new_cohorts)]:
        status = "present"
        if group != POOLED and group not in old_cohorts:
            status = "opened"
        elif group != POOLED and group not in new_cohorts:
            status = "no longer in the data"
        verdicts = _verdicts(old.verdicts, new.verdicts, group) if group != POOLED else []
        entry = {"group": group, "cohort_id": None if group == POOLED else group,
                 "name": POOLED_NAME if group == POOLED else group,
                 "status": status, **_counts(old_rows, new_rows, group),
                 "endpoints": _endpoints(old_rows, new_rows, group),
                 "verdicts": verdicts, "stages": _stages(verdicts)}
        if status != "present" or any(entry.get(k) for k in (
                "patients", "evaluable", "events", "endpoints", "verdicts")):
            groups.append(entry)
    old_criteria, new_criteria = _side(old)["criteria"], _side(new)["criteria"]
    notes = []
    if old_criteria != new_criteria:
        notes.append("the criteria differ between the two analyses: "
                     f"{', '.join(old_criteria)} then {', '.join(new_criteria)}")
    return {"format": FORMAT, "version": VERSION, "old": _side(old), "new": _side(new),
            "any_change": bool(groups), "notes": notes, "groups": groups,
            "summary": _summary(groups)}


def _summary(groups: list[dict[str, Any]]) -> dict[str, Any]:
    cohorts = [g for g in groups if g["cohort_id"] is not None]
    return {
        "cohorts_changed": len(cohorts),
        "cohorts_opened": [g["cohort_id"] for g in cohorts if g["status"] == "opened"],
        "cohorts_closed": [g["cohort_id"] for g in cohorts
                           if any(s["event"] == "closed" for s in g["stages"])],
        "stages_passed": [{"cohort_id": g["cohort_id"], "stage": s["stage"],
                           "criteria": s["criteria"]}
                          for g in cohorts for s in g["stages"] if s["event"] == "passed"],
        "verdicts_changed": sum(len(g["verdicts"]) for g in cohorts),
    }


def added_text(change: Mapping[str, Any] | None) -> str:
    """'+214' (or '-3') for a count that changed; '' when either side is unknown."""
    added = None if not change else change.get("added")
    if added is None:
        return ""
    return f"+{count_text(added)}" if added >= 0 else f"-{count_text(-added)}"
