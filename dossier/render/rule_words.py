"""Rule ids in the frameworks' own words, for the PDF and Word (ids stay in the workbook and JSON).

A rule such as ``g3-orr-dor`` is shown as "grade 3 (ORR >= 20% and < 60% with median DoR >= 9
months)", derived from the rule file's condition, never typed again. The engine's texts name
rules in a few fixed places ("g3-pfs (grade 3): ...", "to grade 3 (g3-orr-dor): ...",
"durable-signal: ...", "applicability (mature)"); :func:`plain_ids` rewrites exactly those, so a
word of the prose that happens to equal an id ("single-arm studies") is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from dossier.scoring.grammar import AllOf, Condition, condition_text
from dossier.scoring.metrics import MetricSpec
from dossier.scoring.rules import RuleSet


def condition_words(condition: Condition, specs: Mapping[str, MetricSpec]) -> str:
    """A rule's condition as the framework writes it: ``ORR >= 20% and < 60% with median DoR
    >= 9 months`` (the parts of a top-level "all" joined by "with")."""
    if isinstance(condition, AllOf) and len(condition.items) > 1:
        return " with ".join(condition_text(item, specs, nested=True)
                             for item in condition.items)
    return condition_text(condition, specs)


def rule_words(rule_set: RuleSet) -> dict[str, str]:
    """Every id of one rule file (rules, gates, strata, stages, adjustments, the file) -> words.

    A graded rule reads "grade 3 (median PFS >= 6 months)"; a rule with a label keeps its
    label; a gate or stage reads as its condition; the file itself as its short name.
    """
    specs = rule_set.specs
    words: dict[str, str] = {rule_set.id: rule_set.short or rule_set.title}
    for rule in rule_set.all_rules:
        text = rule.label or (condition_words(rule.when, specs) if rule.when is not None
                              else "a row whose thresholds are not published")
        words[rule.id] = f"grade {rule.grade} ({text})" if rule.grade is not None else text
    for gate in rule_set.gates:
        words[gate.id] = condition_words(gate.when, specs) if gate.when is not None else gate.reason
    for stratum in rule_set.strata:
        words[stratum.id] = stratum.label or (condition_words(stratum.when, specs)
                                              if stratum.when is not None else stratum.id)
    for stage in rule_set.stages:
        words[stage.id] = stage.label or f"at least {stage.at_least} of {stage.of}"
    for adjustment in rule_set.adjustments:
        words[adjustment.id] = adjustment.label
    return words


def id_words(rule_sets: Iterable[object]) -> dict[str, str]:
    """The words for every id of every loaded rule file (plain mappings are skipped)."""
    out: dict[str, str] = {}
    for rule_set in rule_sets:
        if isinstance(rule_set, RuleSet):
            out.update(rule_words(rule_set))
    return out


def rule_id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    """Alternation of the ids, longest first (None when there are none)."""
    ids = sorted(set(ids), key=len, reverse=True)
    return re.compile("|".join(re.escape(i) for i in ids)) if ids else None


_EDGE_BEFORE = r"(?<![\w.-])"
_EDGE_AFTER = r"(?![\w-])"


@lru_cache(maxsize=64)
def _id_patterns(ids: frozenset[str]) -> tuple[re.Pattern[str], ...] | None:
    """The compiled patterns of :func:`plain_ids` (in its order) and :func:`strip_ids` (last)
    for one set of ids: compiled once, not at each of the thousands of texts of a build."""
    pattern = rule_id_pattern(ids)
    if pattern is None:
        return None
    ids_group = f"(?P<id>{pattern.pattern})"
    names = rf"{pattern.pattern}"
    return (re.compile(_EDGE_BEFORE + ids_group + r" \(grade \d+\)"),
            re.compile(r"grade \d+ \(" + ids_group + r"\)"),
            re.compile(r"(?P<lead>^|; |\n)" + ids_group + r"(?=: )"),
            re.compile(rf"\(((?:{names})(?:, (?:{names}))*)\)"),
            re.compile(_EDGE_BEFORE + f"({pattern.pattern})" + _EDGE_AFTER))


def plain_ids(text: str, words: Mapping[str, str]) -> str:
    """``text`` with rule ids, where the engine puts them, in the framework's words.

    ``g3-pfs (grade 3): x`` and ``grade 3 (g3-pfs)`` become ``grade 3 (median PFS >= 6
    months)``; ``(id)`` and ``(id, id)`` and an id opening the text or an item (``id: ...``,
    ``; id: ...``) become their words.
    """
    patterns = _id_patterns(frozenset(words)) if text else None
    if patterns is None:
        return text
    graded_id, grade_of_id, leading, bracketed, _ = patterns

    def word(match: re.Match[str]) -> str:
        return words[match.group("id")]

    text = graded_id.sub(word, text)
    text = grade_of_id.sub(word, text)
    text = leading.sub(lambda m: m.group("lead") + words[m.group("id")], text)

    def in_brackets(match: re.Match[str]) -> str:
        parts = [p.strip() for p in match.group(1).split(",")]
        return "(" + ", ".join(words.get(p, p) for p in parts) + ")"

    return bracketed.sub(in_brackets, text)


def strip_ids(text: str, words: Mapping[str, str]) -> str:
    """Every id in ``text`` (anywhere, as a whole token) in words; for texts with no prose."""
    patterns = _id_patterns(frozenset(words)) if text else None
    if patterns is None:
        return text
    return patterns[-1].sub(lambda m: words[m.group(1)], text)
