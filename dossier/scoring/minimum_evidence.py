"""The minimum-evidence rule: no grade or verdict from too few patients, nor for a closed cohort.

A rule file states it as data (``minimum_evidence:``, see criteria/README.md)::

    minimum_evidence:
      design: drup-two-stage       # the staged rule file the sizes and closures come from
      evaluable_patients: stage-1  # a stage of that file (its of:) or a whole number
      closed_at: stage-1           # no grade when the design closed the cohort at this stage

The stage size is read from the design's rule file (the one in use, else the bundled one), never
from code. A cohort with fewer evaluable patients, or one the design closed at ``closed_at``,
gets the verdict "insufficient evidence" with the reason; the user may ask for closed cohorts
to be graded anyway (``--grade-closed-cohorts`` / ``grade_closed_cohorts`` in dossier.toml).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dossier.errors import CriteriaFileError
from dossier.scoring.verdicts import INSUFFICIENT, NOT_MET, Verdict
from dossier.yamlfile import LineDict, ProblemLog

if TYPE_CHECKING:  # rules.py imports this module
    from dossier.scoring.rules import RuleSet

KEYS = ("design", "evaluable_patients", "closed_at", "note")


@dataclass(frozen=True)
class MinimumEvidence:
    """A rule file's minimum-evidence rule as written (stage ids not yet resolved)."""

    design: str
    evaluable_patients: int | str
    closed_at: str = ""
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class ResolvedMinimum:
    """The rule with its numbers: at least ``patients`` evaluable, and the stage to check."""

    patients: int
    patients_from: str
    """Where the number comes from, in words ("DRUP two-stage stage 1: 8 evaluable patients")."""
    design_id: str
    closed_at: str
    closed_label: str


def parse_minimum_evidence(doc: LineDict, log: ProblemLog) -> MinimumEvidence | None:
    """Check a rule file's ``minimum_evidence`` mapping; problems go to ``log`` with lines."""
    node = doc.get("minimum_evidence")
    if node is None:
        return None
    line = doc.line_of("minimum_evidence")
    if not isinstance(node, LineDict):
        log.add(line, "minimum_evidence must be a mapping (design, evaluable_patients, "
                      "closed_at)")
        return None
    for key in node:
        if key not in KEYS:
            log.add(node.line_of(key), f"unknown key {key!r} in minimum_evidence; allowed: "
                                       f"{', '.join(KEYS)}")
    design = node.get("design")
    if not isinstance(design, str) or not design.strip():
        log.add(node.lines.get("design", line),
                "minimum_evidence needs design: the id of the staged rule file its stage sizes "
                "come from (drup-two-stage)")
        design = ""
    patients = node.get("evaluable_patients")
    if isinstance(patients, bool) or not (
            (isinstance(patients, int) and patients >= 1)
            or (isinstance(patients, str) and patients.strip())):
        log.add(node.line_of("evaluable_patients"),
                f"minimum_evidence evaluable_patients must be a whole number >= 1 or a stage id "
                f"of the design (stage-1), not {patients!r}")
        patients = 1
    closed = node.get("closed_at", "")
    if not isinstance(closed, str):
        log.add(node.line_of("closed_at"), f"minimum_evidence closed_at must be a stage id of "
                                           f"the design (stage-1), not {closed!r}")
        closed = ""
    note = node.get("note", "")
    return MinimumEvidence(design.strip(), patients.strip() if isinstance(patients, str)
                           else patients, closed.strip(), str(note or ""), line)


def resolve(rule_path: Path, minimum: MinimumEvidence, designs: Mapping[str, object]
            ) -> ResolvedMinimum:
    """Read the stage sizes from the design's rule file (a staged :class:`RuleSet`).

    Raises
    ------
    CriteriaFileError
        Naming the rule file and line when the design or a stage id is unknown.
    """
    design = designs.get(minimum.design)
    stages = getattr(design, "stages", ())
    if design is None or not stages:
        raise CriteriaFileError(
            f"minimum_evidence names design {minimum.design!r}, which is not a staged rule "
            "file", file=rule_path, row=minimum.line,
            hint="use the id of a rule file with stages, e.g. drup-two-stage")
    by_id = {s.id: s for s in stages}
    name = getattr(design, "short", "") or minimum.design

    def stage(ident: str, key: str) -> object:
        if ident not in by_id:
            raise CriteriaFileError(
                f"minimum_evidence {key} {ident!r} is not a stage of {minimum.design} "
                f"(stages: {', '.join(by_id)})", file=rule_path, row=minimum.line)
        return by_id[ident]

    if isinstance(minimum.evaluable_patients, int):
        patients, source = minimum.evaluable_patients, "the rule file's minimum"
    else:
        found = stage(minimum.evaluable_patients, "evaluable_patients")
        patients = int(found.of)  # type: ignore[attr-defined]
        source = f"the size of {name} {found.label or found.id}"  # type: ignore[attr-defined]
    closed_label = ""
    if minimum.closed_at:
        found = stage(minimum.closed_at, "closed_at")
        closed_label = found.label or found.id  # type: ignore[attr-defined]
    return ResolvedMinimum(patients, source, minimum.design, minimum.closed_at, closed_label)


def closed_at_stage(design_verdict: Verdict | None, stage_id: str) -> bool:
    """True when the design's verdict closed the cohort at ``stage_id`` (that stage not held)."""
    if design_verdict is None or design_verdict.verdict != NOT_MET or not stage_id:
        return False
    return any(c.rule == stage_id and c.held is False for c in design_verdict.clauses)


def insufficient_reason(resolved: ResolvedMinimum, evaluable: object,
                        design_verdict: Verdict | None, grade_closed: bool) -> str:
    """Why a cohort gets no grade ("" when the rule lets it be graded)."""
    if isinstance(evaluable, int | float) and not isinstance(evaluable, bool) \
            and evaluable < resolved.patients:
        return (f"{int(evaluable)} evaluable patients, fewer than the {resolved.patients} this "
                f"framework is graded on here ({resolved.patients_from})")
    if not grade_closed and closed_at_stage(design_verdict, resolved.closed_at):
        name = design_verdict.title if design_verdict is not None else resolved.design_id
        return (f"the cohort was closed at {resolved.closed_label.lower()} of the "
                f"{name.split(':')[0]} ({design_verdict.outcome if design_verdict else ''}); "
                "graded only on request")
    return ""


def insufficient(verdict: Verdict, reason: str) -> Verdict:
    """The verdict "insufficient evidence" with its reason and no grade; its clauses stay, so
    the reader sees what the few patients showed."""
    return replace(verdict, verdict=INSUFFICIENT, outcome="no grade",
                   preliminary_grade=None, grade=None, grade_range=None, indicative_grade=None,
                   adjustments=(), deciding=(), distance=(), reasons=(reason,),
                   statuses=(), certainty=INSUFFICIENT, certainty_reason=reason)


def designs_in(rule_sets: Iterable[object]) -> dict[str, object]:
    """Staged rule sets by id."""
    return {r.id: r for r in rule_sets if getattr(r, "stages", ())}  # type: ignore[attr-defined]


def resolved_minimums(rule_sets: Sequence[RuleSet]
                      ) -> tuple[dict[str, ResolvedMinimum], dict[str, RuleSet]]:
    """Each rule file's minimum-evidence rule with its design's stage sizes, and the designs
    to score each cohort on (the rule files in use, else the bundled ones of that id)."""
    wanted = [r for r in rule_sets if r.minimum_evidence is not None]
    if not wanted:
        return {}, {}
    designs = designs_in(rule_sets)
    if any(r.minimum_evidence.design not in designs for r in wanted):  # type: ignore[union-attr]
        from dossier.scoring.rulebook import load_rulebook  # the bundled designs

        designs = {**designs_in(load_rulebook().rule_sets), **designs}
    resolved = {r.id: resolve(r.path, r.minimum_evidence, designs)  # type: ignore[arg-type]
                for r in wanted}
    needed = {m.design_id for m in resolved.values()}
    return resolved, {k: v for k, v in designs.items() if k in needed}  # type: ignore[misc]


def apply_minimum(verdict: Verdict, minimum: ResolvedMinimum | None,
                  metrics: Mapping[str, object], design_verdict: Verdict | None,
                  grade_closed: bool) -> Verdict:
    """The verdict, or "insufficient evidence" when the rule withholds it (with notes when the
    check cannot be made, or a closed cohort is graded on request)."""
    if minimum is None:
        return verdict
    evaluable = metrics.get("n_evaluable")
    reason = insufficient_reason(minimum, evaluable, design_verdict, grade_closed)
    if reason:
        return insufficient(verdict, reason)
    notes = list(verdict.notes)
    if not isinstance(evaluable, int | float) or isinstance(evaluable, bool):
        notes.append(f"minimum evidence ({minimum.patients} evaluable patients) not checked: "
                     "the number of evaluable patients is not given")
    if grade_closed and closed_at_stage(design_verdict, minimum.closed_at):
        notes.append(f"graded on request although the cohort was closed at "
                     f"{minimum.closed_label.lower()} of its design")
    return replace(verdict, notes=tuple(notes))
