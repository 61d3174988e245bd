"""The rule book: the rule files in use (built-in, plus the user's), overrides applied.

``--criteria`` takes ids and files or folders alike: ids select, files add. The order is DRUP,
dossier's own screen, ESMO-MCBS, PASKWIL, then the user's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dossier.errors import CriteriaFileError
from dossier.resources import resource_dir
from dossier.scoring.metrics import METRICS, MetricSpec
from dossier.scoring.rulefile import apply_override, load_rule_file
from dossier.scoring.rules import FRAMEWORK_ORDER, Override, RuleSet
from dossier.suggest import did_you_mean


class CriteriaError(CriteriaFileError, ValueError):
    """A criteria selection that cannot be honoured (unknown id, id defined twice...)."""


def builtin_paths() -> list[Path]:
    """The rule files shipped with dossier (criteria/*.yaml)."""
    return sorted(resource_dir("criteria").glob("*.yaml"))


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not found:
            raise CriteriaError(f"{path}: no rule files (*.yaml, *.yml) in this folder")
        return found
    if path.is_file():
        return [path]
    raise CriteriaError(f"{path}: rule file or folder not found")


def _order(rule_set: RuleSet) -> tuple[int, str]:
    rank = FRAMEWORK_ORDER.index(rule_set.framework) if rule_set.framework in FRAMEWORK_ORDER \
        else len(FRAMEWORK_ORDER)
    return rank, rule_set.id


@dataclass(frozen=True)
class RuleBook:
    """The rule files in use, overrides applied, in display order."""

    rule_sets: tuple[RuleSet, ...]
    builtin_ids: frozenset[str] = frozenset()

    def ids(self) -> list[str]:
        """The ids of the rule files, in display order."""
        return [r.id for r in self.rule_sets]

    def get(self, ident: str) -> RuleSet:
        """The rule file with this id; CriteriaError (with a suggestion) when unknown."""
        for rule_set in self.rule_sets:
            if rule_set.id == ident:
                return rule_set
        raise CriteriaError(f"unknown criteria id {ident!r}{did_you_mean(ident, self.ids())}; "
                            f"known: {', '.join(self.ids())}")

    def select(self, ids: Sequence[str]) -> RuleBook:
        """Only the rule sets named, in the order given (duplicates dropped)."""
        return RuleBook(tuple(self.get(i) for i in dict.fromkeys(ids)), self.builtin_ids)

    def metric_specs(self) -> dict[str, MetricSpec]:
        """The catalogue plus every input any rule file declares."""
        specs = dict(METRICS)
        for rule_set in self.rule_sets:
            specs.update({m.name: m for m in rule_set.inputs})
        return specs


def load_rulebook(paths: Sequence[str | Path] = (), builtin: bool = True) -> RuleBook:
    """The built-in rule files plus the user's files and folders, overrides applied.

    Raises
    ------
    RuleFileError
        For a malformed file (file, line and what is wrong).
    CriteriaError
        For a missing path, an id defined twice, or an override of an unknown id.
    """
    files = [(p, True) for p in builtin_paths()] if builtin else []
    for path in paths:
        files += [(p, False) for p in _files(Path(path))]
    sets: list[tuple[RuleSet, bool]] = []
    overrides: list[Override] = []
    origin: dict[str, Path] = {}
    for path, is_builtin in files:
        loaded = load_rule_file(path)
        if isinstance(loaded, Override):
            overrides.append(loaded)
            continue
        if loaded.id in origin:
            raise CriteriaError(f"{path}: criteria id {loaded.id!r} is already defined in "
                                f"{origin[loaded.id]}; give your file another id")
        origin[loaded.id] = path
        sets.append((loaded, is_builtin))
    by_id = {r.id: r for r, _ in sets}
    for override in overrides:
        if override.target not in by_id:
            raise CriteriaError(f"{override.path}: override of unknown criteria id "
                                f"{override.target!r}{did_you_mean(override.target, list(by_id))}")
        by_id[override.target] = apply_override(by_id[override.target], override)
    builtin_sets = sorted((by_id[r.id] for r, b in sets if b), key=_order)
    user_sets = [by_id[r.id] for r, b in sets if not b]
    return RuleBook(tuple(builtin_sets + user_sets), frozenset(r.id for r, b in sets if b))


def resolve_criteria(choices: Sequence[str], base: Path | None = None) -> tuple[RuleBook, RuleBook]:
    """Split ``--criteria`` values into files/folders and ids; return (all loaded, selected).

    A value that names an existing file or folder (relative to the working directory or to
    ``base``) is loaded; anything else is an id. Selected: the ids given (all built-in rule
    files when none), plus every rule file the user's files add.
    """
    paths: list[Path] = []
    ids: list[str] = []
    for choice in choices:
        candidates = [Path(choice)] + ([base / choice] if base is not None else [])
        found = next((c for c in candidates if c.exists()), None)
        if found is not None:
            paths.append(found)
        elif choice.endswith((".yaml", ".yml")) or "/" in choice:
            raise CriteriaError(f"{choice}: rule file or folder not found")
        else:
            ids.append(choice)
    book = load_rulebook(paths)
    builtin_ids = [r.id for r in book.rule_sets if r.id in book.builtin_ids]
    user_ids = [r.id for r in book.rule_sets if r.id not in book.builtin_ids]
    chosen = ids if ids else builtin_ids
    return book, book.select(list(chosen) + [i for i in user_ids if i not in chosen])
