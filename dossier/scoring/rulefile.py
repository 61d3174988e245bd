"""Reading a rule file: the schema check that reports every problem with its file and line.

``criteria/x.yaml, line 14: unknown operator 'gte'; use one of: >, >=, <, <=``. Required keys,
known operators and statuses, metric names from the contract list or the file's declared
inputs, and the consistency of the outcome scale are all checked before a file is used. A file
whose top-level key is ``override`` fills in (or replaces) named rules of another file, e.g.
thresholds our sources do not publish.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from dossier.scoring.grammar import (
    STATUSES,
    Condition,
    ParseContext,
    parse_condition,
)
from dossier.scoring.metrics import KINDS, METRICS, UNIT_OF_KIND, MetricSpec
from dossier.scoring.minimum_evidence import parse_minimum_evidence
from dossier.scoring.rules import (
    GATE_IF_UNKNOWN,
    GATE_ON_FAIL,
    IF_MISSING,
    SCALES,
    Adjustment,
    Gate,
    Outcome,
    Override,
    Rule,
    RuleSet,
    Source,
    Stage,
    Stratum,
)
from dossier.suggest import did_you_mean
from dossier.yamlfile import (
    FileCheckError,
    LineDict,
    LineList,
    Problem,
    ProblemLog,
    load_yaml,
)

RuleFileError = FileCheckError
"""A malformed rule file; the message names the file, the line and what is wrong."""

_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

TOP_KEYS = ("id", "title", "short", "framework", "version", "effective", "issuer", "ours",
            "applies_to", "sources", "inputs", "outcome", "gates", "strata", "rules", "stages",
            "adjustments", "notes", "minimum_evidence")
OVERRIDE_KEYS = ("override", "title", "sources", "rules", "notes")


def input_unit(kind: str) -> str:
    """How an input's unit is written in a rule file (yes/no for booleans)."""
    return UNIT_OF_KIND[kind] or ("yes/no" if kind == "boolean" else "category")


@dataclass
class _Reader:
    log: ProblemLog
    metrics: dict[str, MetricSpec] = field(default_factory=lambda: dict(METRICS))
    source_ids: frozenset[str] = frozenset()
    used: dict[str, int] = field(default_factory=dict)

    def text(self, node: LineDict, key: str, required: bool = True, default: str = "") -> str:
        value = node.get(key)
        if value is None:
            if required:
                self.log.add(node.line, f"missing required key {key!r}")
            return default
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.log.add(node.line_of(key), f"{key} must be text, not {value!r}")
            return default
        return str(value)

    def mapping(self, node: object, line: int, what: str) -> LineDict | None:
        if isinstance(node, LineDict):
            return node
        self.log.add(line, f"{what} must be a mapping, not {node!r}")
        return None

    def items(self, node: LineDict, key: str, required: bool = False) -> list[tuple[int, LineDict]]:
        value = node.get(key)
        if value is None:
            if required:
                self.log.add(node.line, f"missing required key {key!r}")
            return []
        if not isinstance(value, LineList):
            self.log.add(node.line_of(key), f"{key} must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            mapping = self.mapping(item, value.line_of(i), f"each item of {key}")
            if mapping is not None:
                out.append((value.line_of(i), mapping))
        return out

    def keys(self, node: LineDict, allowed: Iterable[str], what: str) -> None:
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                self.log.add(node.line_of(key), f"unknown key {key!r} in {what}"
                                                f"{did_you_mean(str(key), allowed)}; allowed: "
                                                f"{', '.join(allowed)}")

    def status(self, node: LineDict, required: bool = True) -> str:
        status = self.text(node, "status", required)
        if status and status not in STATUSES:
            self.log.add(node.line_of("status"), f"unknown status {status!r}"
                                                 f"{did_you_mean(status, STATUSES)}; use one of: "
                                                 f"{', '.join(STATUSES)}")
        return status

    def source(self, node: LineDict, required: bool = True) -> str:
        source = self.text(node, "source", required)
        if source and source not in self.source_ids:
            known = sorted(self.source_ids)
            self.log.add(node.line_of("source"), f"source {source!r} is not among this file's "
                                                 f"sources{did_you_mean(source, known)}")
        return source

    def condition(self, node: LineDict, key: str = "when") -> Condition | None:
        if key not in node:
            self.log.add(node.line, f"missing required key {key!r} (the condition)")
            return None
        ctx = ParseContext(self.log, self.metrics, self.source_ids, self.used)
        return parse_condition(node[key], ctx, node.line_of(key))

    def unique(self, ids: list[tuple[str, int]], what: str) -> None:
        seen: dict[str, int] = {}
        for ident, line in ids:
            if ident in seen:
                self.log.add(line, f"{what} id {ident!r} is used twice (first on line "
                                   f"{seen[ident]})")
            seen.setdefault(ident, line)


def _sources(reader: _Reader, doc: LineDict, required: bool = True) -> tuple[Source, ...]:
    out = []
    for line, node in reader.items(doc, "sources", required):
        reader.keys(node, ("id", "url", "citation", "status", "note"), "a source")
        ident = reader.text(node, "id")
        url = reader.text(node, "url", required=False)
        citation = reader.text(node, "citation", required=False)
        if not url and not citation:
            reader.log.add(line, f"source {ident!r} needs a url or a citation")
        if url and not url.startswith(("https://", "http://")):
            reader.log.add(node.line_of("url"), f"url must start with https:// or http://, "
                                                 f"not {url!r}")
        out.append(Source(ident, url, reader.status(node), reader.text(node, "note", False),
                          citation))
    reader.unique([(s.id, 0) for s in out], "source")
    return tuple(out)


def _inputs(reader: _Reader, doc: LineDict) -> tuple[MetricSpec, ...]:
    node = doc.get("inputs")
    if not isinstance(node, LineDict) or not node:
        reader.log.add(doc.line_of("inputs"), "inputs must be a mapping of metric name -> unit "
                                              "(or -> {kind, unit, label, meaning})")
        return ()
    out = []
    for name, value in node.items():
        line = node.line_of(name)
        spec = METRICS.get(name)
        if isinstance(value, str | type(None)):
            value = LineDict({"unit": value})
            value.line = line
        if not isinstance(value, LineDict):
            reader.log.add(line, f"input {name!r} must give a unit or a mapping")
            continue
        reader.keys(value, ("kind", "unit", "label", "meaning"), f"input {name!r}")
        kind = value.get("kind", spec.kind if spec else None)
        if spec is None and kind is None:
            reader.log.add(line, f"input {name!r} is not a contract metric"
                                 f"{did_you_mean(str(name), list(METRICS))}; declare its kind "
                                 f"({', '.join(KINDS)}) to add it")
            continue
        if kind not in KINDS:
            reader.log.add(value.line_of("kind"), f"unknown kind {kind!r}; use one of: "
                                                  f"{', '.join(KINDS)}")
            continue
        if spec is not None and kind != spec.kind:
            reader.log.add(value.line_of("kind"), f"{name} is {spec.kind}, not {kind}")
            continue
        unit = value.get("unit")
        if unit is not None and unit != input_unit(kind):
            reader.log.add(value.line_of("unit"), f"{name} is measured in {input_unit(kind)!r}, "
                                                  f"not {unit!r}")
        if spec is None:
            spec = MetricSpec(str(name), kind, str(value.get("label", name)),
                              str(value.get("meaning", "")), extension=True)
        out.append(spec)
    return tuple(out)


def _outcome(reader: _Reader, doc: LineDict) -> Outcome | None:
    node = reader.mapping(doc.get("outcome"), doc.line_of("outcome"), "outcome")
    if node is None:
        return None
    reader.keys(node, ("scale", "met", "not_met", "grades", "met_at", "met_at_note", "floor",
                       "ceiling", "cap_status", "cap_source", "award_statuses", "successes",
                       "patients"), "outcome")
    scale = reader.text(node, "scale")
    if scale not in SCALES:
        reader.log.add(node.line_of("scale"), f"unknown scale {scale!r}"
                                              f"{did_you_mean(scale, SCALES)}; "
                                              f"use one of: {', '.join(SCALES)}")
        return None
    out = Outcome(scale, met=reader.text(node, "met", False, "met"),
                  not_met=reader.text(node, "not_met", False, "not met"))
    if scale == "staged":
        names = []
        for key in ("successes", "patients"):
            name = reader.text(node, key)
            if name and (name not in reader.metrics or reader.metrics[name].kind != "count"):
                reader.log.add(node.line_of(key), f"{key} must be a count metric, not {name!r}")
            reader.used.setdefault(name, node.line_of(key))
            names.append(name)
        return replace(out, successes=names[0], patients=names[1])
    if scale == "binary":
        return out
    grades = node.get("grades")
    if not (isinstance(grades, list) and grades and all(isinstance(g, int) and
                                                         not isinstance(g, bool) and g > 0
                                                         for g in grades)
            and list(grades) == sorted(set(grades))):
        reader.log.add(node.line_of("grades"), "grades must be a list of whole numbers > 0, "
                                               "lowest first, each once")
        return None
    checked = {}
    for key, default in (("met_at", None), ("floor", grades[0]), ("ceiling", grades[-1])):
        value = node.get(key, default)
        if value not in grades:
            reader.log.add(node.line_of(key), f"{key} must be one of the grades {grades}, "
                                              f"not {value!r}")
        checked[key] = value
    awards = node.get("award_statuses", list(Outcome.award_statuses))
    if not isinstance(awards, list) or any(a not in STATUSES for a in awards):
        reader.log.add(node.line_of("award_statuses"),
                       f"award_statuses must list statuses among: {', '.join(STATUSES)}")
        awards = list(Outcome.award_statuses)
    cap_status = reader.text(node, "cap_status", False)
    if cap_status and cap_status not in STATUSES:
        reader.log.add(node.line_of("cap_status"), f"unknown cap_status {cap_status!r}")
    cap_source = reader.text(node, "cap_source", False)
    if cap_source and cap_source not in reader.source_ids:
        reader.log.add(node.line_of("cap_source"), f"cap_source {cap_source!r} is not among "
                                                   "this file's sources")
    return replace(out, grades=tuple(grades), met_at=checked["met_at"], floor=checked["floor"],
                   ceiling=checked["ceiling"], met_at_note=reader.text(node, "met_at_note", False),
                   cap_status=cap_status, cap_source=cap_source, award_statuses=tuple(awards))


def _rule(reader: _Reader, line: int, node: LineDict, outcome: Outcome | None) -> Rule:
    reader.keys(node, ("id", "label", "grade", "when", "requires_override", "status", "source",
                       "note"), "a rule")
    graded = outcome is not None and outcome.scale == "graded"
    grade = node.get("grade")
    if graded and (grade not in outcome.grades):  # type: ignore[union-attr]
        reader.log.add(node.line_of("grade"), f"grade must be one of the outcome's grades "
                                              f"{list(outcome.grades)}, not {grade!r}")  # type: ignore[union-attr]
    if not graded and grade is not None:
        reader.log.add(node.line_of("grade"), "grade is only for a graded outcome scale")
    requires = reader.text(node, "requires_override", False)
    when = None
    if requires and "when" in node:
        reader.log.add(node.line_of("when"), "a rule with requires_override has no condition")
    elif not requires:
        when = reader.condition(node)
    return Rule(reader.text(node, "id"), reader.text(node, "label", False), when,
                reader.status(node), reader.source(node), line,
                grade if graded else None, reader.text(node, "note", False), requires)


def _rules(reader: _Reader, node: LineDict, outcome: Outcome | None) -> tuple[Rule, ...]:
    return tuple(_rule(reader, line, item, outcome) for line, item in reader.items(node, "rules"))


def _strata(reader: _Reader, doc: LineDict, outcome: Outcome | None) -> tuple[Stratum, ...]:
    out = []
    for line, node in reader.items(doc, "strata"):
        reader.keys(node, ("id", "label", "when", "rules", "status", "source"), "a stratum")
        rules = _rules(reader, node, outcome)
        if not rules:
            reader.log.add(line, "a stratum needs rules")
        out.append(Stratum(reader.text(node, "id"), reader.text(node, "label", False),
                           reader.condition(node), rules, reader.status(node),  # type: ignore[arg-type]
                           reader.source(node), line))
    return tuple(out)


def _gates(reader: _Reader, doc: LineDict) -> tuple[Gate, ...]:
    out = []
    for line, node in reader.items(doc, "gates"):
        reader.keys(node, ("id", "when", "reason", "status", "source", "on_fail", "if_unknown",
                           "indicative"), "a gate")
        on_fail = reader.text(node, "on_fail", False, GATE_ON_FAIL[0])
        if on_fail not in GATE_ON_FAIL:
            reader.log.add(node.line_of("on_fail"), f"on_fail must be one of: "
                                                    f"{', '.join(GATE_ON_FAIL)}")
        if_unknown = reader.text(node, "if_unknown", False, GATE_IF_UNKNOWN[0])
        if if_unknown not in GATE_IF_UNKNOWN:
            reader.log.add(node.line_of("if_unknown"), f"if_unknown must be one of: "
                                                       f"{', '.join(GATE_IF_UNKNOWN)}")
        indicative = node.get("indicative", False)
        if not isinstance(indicative, bool):
            reader.log.add(node.line_of("indicative"),
                           f"indicative must be true or false, not {indicative!r}")
            indicative = False
        elif indicative and on_fail != GATE_ON_FAIL[0]:
            reader.log.add(node.line_of("indicative"),
                           f"indicative goes with on_fail: {GATE_ON_FAIL[0]} only")
        out.append(Gate(reader.text(node, "id"), reader.condition(node),  # type: ignore[arg-type]
                        reader.text(node, "reason"), reader.status(node), reader.source(node),
                        line, on_fail, if_unknown, indicative))
    return tuple(out)


def _stages(reader: _Reader, doc: LineDict) -> tuple[Stage, ...]:
    out: list[Stage] = []
    for line, node in reader.items(doc, "stages"):
        reader.keys(node, ("id", "label", "at_least", "of", "pass", "fail", "status", "source",
                           "successes", "patients"), "a stage")
        counts = []
        for key in ("successes", "patients"):
            name = reader.text(node, key, False)
            if name and (name not in reader.metrics or reader.metrics[name].kind != "count"):
                reader.log.add(node.line_of(key), f"{key} must be a count metric, not {name!r}")
            if name:
                reader.used.setdefault(name, node.line_of(key))
            counts.append(name)
        if bool(counts[0]) != bool(counts[1]):
            reader.log.add(line, "a stage gives successes and patients together (the counts "
                                 "among its first patients)")
        k, n = node.get("at_least"), node.get("of")
        if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
            reader.log.add(line, f"a stage needs whole numbers 1 <= at_least <= of, not "
                                 f"at_least={k!r}, of={n!r}")
            k, n = 1, 1
        if out and not (n > out[-1].of and k >= out[-1].at_least):
            reader.log.add(node.line_of("of"), "each stage must enrol more patients than the "
                                               "one before and need at least as many successes")
        out.append(Stage(reader.text(node, "id"), reader.text(node, "label", False), k, n,
                         reader.text(node, "pass"), reader.text(node, "fail"),
                         reader.status(node), reader.source(node), line, counts[0], counts[1]))
    return tuple(out)


def _adjustments(reader: _Reader, doc: LineDict, outcome: Outcome | None) -> tuple[Adjustment, ...]:
    out = []
    for line, node in reader.items(doc, "adjustments"):
        reader.keys(node, ("id", "label", "change", "when", "if_missing", "status", "source",
                           "note"), "an adjustment")
        change = node.get("change")
        if not isinstance(change, int) or isinstance(change, bool) or change == 0:
            reader.log.add(node.line_of("change"), f"change must be a whole number such as -1 "
                                                   f"or +1, not {change!r}")
            change = 0
        default = "unresolved" if change < 0 else "none"
        if_missing = reader.text(node, "if_missing", False, default)
        if if_missing not in IF_MISSING:
            reader.log.add(node.line_of("if_missing"), f"if_missing must be one of: "
                                                       f"{', '.join(IF_MISSING)}")
        out.append(Adjustment(reader.text(node, "id"), reader.text(node, "label"), change,
                              reader.condition(node), if_missing,  # type: ignore[arg-type]
                              reader.status(node), reader.source(node), line,
                              reader.text(node, "note", False)))
    if out and (outcome is None or outcome.scale != "graded"):
        reader.log.add(doc.line_of("adjustments"), "adjustments need a graded outcome scale")
    return tuple(out)


def _notes(reader: _Reader, doc: LineDict) -> tuple[str, ...]:
    notes = doc.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        reader.log.add(doc.line_of("notes"), "notes must be a list of text")
        return ()
    return tuple(notes)


def _shape(reader: _Reader, doc: LineDict, outcome: Outcome | None, has: dict[str, bool]) -> None:
    if outcome is None:
        return
    if outcome.scale == "staged":
        if not has["stages"]:
            reader.log.add(doc.line, "a staged outcome needs stages")
        for key in ("rules", "strata"):
            if has[key]:
                reader.log.add(doc.line_of(key), f"a staged outcome has stages, not {key}")
    else:
        if has["stages"]:
            reader.log.add(doc.line_of("stages"), "stages are only for a staged outcome")
        if has["rules"] == has["strata"]:
            reader.log.add(doc.line, "give either rules or strata (each with rules)")


def parse_rule_file(doc: object, path: Path) -> RuleSet:
    """Check a parsed rule file against the schema; raise RuleFileError listing every problem."""
    log = ProblemLog(path)
    if not isinstance(doc, LineDict):
        raise FileCheckError(path, [Problem(0, "a rule file must be a YAML mapping "
                                             "(id, title, framework, ...)")])
    reader = _Reader(log)
    reader.keys(doc, TOP_KEYS, "a rule file")
    ident = reader.text(doc, "id")
    if ident and not _ID.match(ident):
        log.add(doc.line_of("id"), f"id {ident!r} must be lower-case letters, digits, '.' or '-'")
    title, framework = reader.text(doc, "title"), reader.text(doc, "framework")
    version = reader.text(doc, "version")
    short, issuer = reader.text(doc, "short", False), reader.text(doc, "issuer", False)
    effective = reader.text(doc, "effective")
    if effective and not _DATE.match(effective):
        log.add(doc.line_of("effective"), f"effective must be a date YYYY, YYYY-MM or "
                                          f"YYYY-MM-DD, not {effective!r}")
    sources = _sources(reader, doc)
    reader.source_ids = frozenset(s.id for s in sources)
    inputs = _inputs(reader, doc)
    reader.metrics.update({m.name: m for m in inputs})
    applies = doc.get("applies_to", {})
    if not isinstance(applies, dict) or not all(isinstance(v, str) for v in applies.values()):
        log.add(doc.line_of("applies_to"), "applies_to must map names (setting, design) to text")
        applies = {}
    setting = applies.get("setting")
    if setting is not None and setting not in METRICS["setting"].allowed:
        log.add(doc.line_of("applies_to"), f"applies_to setting must be one of "
                                           f"{', '.join(METRICS['setting'].allowed)}")
    outcome = _outcome(reader, doc)
    has = {k: k in doc for k in ("rules", "strata", "stages")}
    _shape(reader, doc, outcome, has)
    gates = _gates(reader, doc)
    strata = _strata(reader, doc, outcome)
    rules = _rules(reader, doc, outcome) if has["rules"] else ()
    stages = _stages(reader, doc)
    adjustments = _adjustments(reader, doc, outcome)
    all_rules = rules + tuple(r for s in strata for r in s.rules)
    reader.unique([(r.id, r.line) for r in all_rules] + [(s.id, s.line) for s in strata]
                  + [(g.id, g.line) for g in gates] + [(a.id, a.line) for a in adjustments]
                  + [(s.id, s.line) for s in stages], "rule")
    listed = {m.name for m in inputs}
    implicit = {METRICS[n].followup for n in listed if n in METRICS and METRICS[n].followup}
    implicit |= {n for m in listed if m in METRICS for n in METRICS[m].derived_from}
    implicit |= {METRICS[m].upper_bound for m in listed if m in METRICS and METRICS[m].upper_bound}
    for name, line in reader.used.items():
        if name and name not in listed and name not in implicit:
            log.add(line, f"metric {name!r} is used but not listed under inputs")
    ours = doc.get("ours", False)
    if not isinstance(ours, bool):
        log.add(doc.line_of("ours"), f"ours must be true or false, not {ours!r}")
    notes = _notes(reader, doc)
    minimum = parse_minimum_evidence(doc, log)
    if minimum is not None and outcome is not None and outcome.scale == "staged":
        log.add(minimum.line, "minimum_evidence is for graded and binary rule files; a staged "
                              "file is the design it refers to")
    log.raise_if_any()
    return RuleSet(
        id=ident, title=title, framework=framework, version=version, effective=effective,
        sources=sources, inputs=inputs, outcome=outcome, path=path,  # type: ignore[arg-type]
        short=short, issuer=issuer, ours=bool(ours),
        applies_to=tuple((str(k), str(v)) for k, v in applies.items()), gates=gates,
        strata=strata, rules=rules, stages=stages, adjustments=adjustments, notes=notes,
        minimum_evidence=minimum,
    )


def parse_override(doc: LineDict, path: Path) -> Override:
    """Check the outer shape of an override file (its rules are checked against the target)."""
    log = ProblemLog(path)
    reader = _Reader(log)
    reader.keys(doc, OVERRIDE_KEYS, "an override file")
    target = reader.text(doc, "override")
    sources = _sources(reader, doc)
    rules = doc.get("rules")
    if not isinstance(rules, LineList) or not rules:
        log.add(doc.line_of("rules"), "an override needs rules (each with the id of the rule it "
                                      "fills in, when, status and source)")
    log.raise_if_any()
    return Override(target, reader.text(doc, "title", False), sources, rules, path,  # type: ignore[arg-type]
                    _notes(reader, doc))


def apply_override(rule_set: RuleSet, override: Override) -> RuleSet:
    """Replace the named rules of ``rule_set`` with the override's (checked in its file)."""
    log = ProblemLog(override.path)
    clash = {s.id for s in override.sources} & {s.id for s in rule_set.sources}
    for ident in sorted(clash):
        log.add(0, f"source id {ident!r} is already used by {rule_set.path}; rename it")
    reader = _Reader(log, metrics=rule_set.specs,
                     source_ids=frozenset(s.id for s in override.sources))
    targets = {r.id: r for r in rule_set.all_rules}
    replaced: dict[str, Rule] = {}
    for i, item in enumerate(override.raw_rules):
        line = override.raw_rules.line_of(i)
        node = reader.mapping(item, line, "each rule of an override")
        if node is None:
            continue
        reader.keys(node, ("id", "label", "when", "status", "source", "note"),
                    "an override rule")
        ident = reader.text(node, "id")
        if ident not in targets:
            log.add(node.line_of("id"), f"{rule_set.id} has no rule {ident!r}"
                                        f"{did_you_mean(ident, list(targets))}")
            continue
        when = reader.condition(node)
        old = targets[ident]
        replaced[ident] = replace(
            old, when=when, status=reader.status(node), source=reader.source(node),
            label=reader.text(node, "label", False, old.label),
            note=reader.text(node, "note", False, old.note), requires_override="",
            overridden_by=str(override.path))
    listed = {m.name for m in rule_set.inputs}
    for name, line in reader.used.items():
        if name not in listed and name not in METRICS:
            log.add(line, f"metric {name!r} is not an input of {rule_set.id}")
    log.raise_if_any()

    def swap(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        return tuple(replaced.get(r.id, r) for r in rules)

    return replace(rule_set, rules=swap(rule_set.rules),
                   strata=tuple(replace(s, rules=swap(s.rules)) for s in rule_set.strata),
                   sources=rule_set.sources + override.sources,
                   overrides=(*rule_set.overrides, str(override.path)))


def load_rule_file(path: str | Path) -> RuleSet | Override:
    """Read one rule file (or override file); raise RuleFileError naming file and line."""
    path = Path(path)
    doc = load_yaml(path)
    if isinstance(doc, LineDict) and "override" in doc:
        return parse_override(doc, path)
    return parse_rule_file(doc, path)
