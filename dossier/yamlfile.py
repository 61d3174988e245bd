"""The one YAML loader of dossier: safe, with line numbers, duplicate keys and alias bombs refused.

Every YAML file dossier reads (rule files, summary files, cohort metadata, ADaM mapping files)
goes through :func:`load_yaml`. PyYAML's ``SafeLoader`` is subclassed to build mappings and
lists that remember the line of each key and item; values are otherwise exactly what
``yaml.safe_load`` returns. Two things ``safe_load`` lets through are errors here:

- duplicate keys, which ``safe_load`` silently collapses (the last one wins);
- aliases that expand to more than :data:`MAX_YAML_VALUES` values, or that refer to the
  collection they sit in. A few hundred bytes of nested aliases (the "billion laughs" shape)
  would otherwise expand to billions of values as soon as anything walks the data. Aliases
  themselves stay allowed, so a rule file may reuse an anchored block: the expanded size is
  counted on the composed node graph (each shared node once), before anything is constructed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dossier.errors import InputError

MAX_YAML_VALUES = 100_000
"""Most values (scalars, lists, mappings) a YAML file may hold once its aliases are expanded.

dossier's largest real YAML files hold a few thousand; the bound only stops alias bombs.
"""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, at a line (0 when the whole file is concerned)."""

    line: int
    message: str


class FileCheckError(InputError, ValueError):
    """Everything wrong with one file; the message names the file and each line."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path = str(path)
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        super().__init__("\n".join(self.describe(p) for p in self.problems))

    def describe(self, problem: Problem) -> str:
        """``file, line 14: message`` (or ``file: message`` for the whole file)."""
        if problem.line > 0:
            return f"{self.path}, line {problem.line}: {problem.message}"
        return f"{self.path}: {problem.message}"


class LineDict(dict):
    """A mapping from YAML that knows its own line and the line of each key."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key``, or of the mapping when the key is absent."""
        return self.lines.get(key, self.line)


class LineList(list):
    """A sequence from YAML that knows its own line and the line of each item."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        """The line of item ``index``."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


def line_of(node: Any, key: Any = None) -> int:
    """Line of a parsed node (or of one of its keys/items); 0 when unknown."""
    if isinstance(node, LineDict | LineList):
        return node.line if key is None else node.line_of(key)
    return 0


class _DuplicateKey(yaml.MarkedYAMLError):
    """A problem found while building the document: a repeated key or an alias bomb."""


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it (several times faster), the same safe
constructors either way."""


class _LineLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader whose mappings and sequences are LineDict / LineList."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise _DuplicateKey(None, None, "a mapping key must be a plain value",
                                key_node.start_mark) from exc
        if key in mapping:
            raise _DuplicateKey(
                None, None,
                f"duplicate key {key!r} (first given on line {mapping.lines[key]})",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | Path, text: str | None = None) -> Any:
    """Parse a YAML file into LineDict / LineList / scalars (empty file: None).

    Raises
    ------
    FileCheckError
        When the file cannot be read, is not valid YAML, repeats a key, or has aliases that
        expand beyond MAX_YAML_VALUES values (each with the line concerned).
    """
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise FileCheckError(path, [Problem(0, f"cannot read the file: {exc.strerror}")]) \
                from exc
        except UnicodeDecodeError as exc:
            raise FileCheckError(path, [Problem(0, f"not UTF-8 text (byte {exc.start}); save it "
                                                   "as UTF-8")]) from exc
    loader = _LineLoader(text.removeprefix("\ufeff"))  # a SafeLoader subclass: safe
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except _DuplicateKey as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 0
        raise FileCheckError(path, [Problem(line, str(exc.problem))]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = exc.problem or exc.context or "not valid YAML"
        raise FileCheckError(path, [Problem(line, f"not valid YAML: {what}")]) from exc
    except yaml.YAMLError as exc:
        raise FileCheckError(path, [Problem(0, f"not valid YAML: {exc}")]) from exc
    except RecursionError as exc:
        raise FileCheckError(path, [Problem(0, "not valid YAML: nested too deeply")]) from exc
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Refuse alias cycles and documents that expand to more than MAX_YAML_VALUES values.

    Sizes are counted once per node (a shared node's size is remembered), so the check takes
    time in proportion to the file, not to its expansion. Raises _DuplicateKey-style marked
    errors so the caller reports the line of the offending anchor.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _DuplicateKey(None, None, "an alias refers to the collection it is part of "
                                "(a recursive structure); dossier refuses it", node.start_mark)
        open_nodes.add(key)
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        open_nodes.discard(key)
        if total > MAX_YAML_VALUES:
            raise _DuplicateKey(None, None, f"aliases expand this value to {total:,} values, "
                                f"more than the {MAX_YAML_VALUES:,} dossier accepts (a 'billion "
                                "laughs' file?); write the values out or use fewer aliases",
                                node.start_mark)
        sizes[key] = total
        return total

    size(root)


@dataclass
class ProblemLog:
    """Collects problems while a file is checked, so that every one is reported at once."""

    path: str | Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise FileCheckError(self.path, self.problems)
