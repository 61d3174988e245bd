"""The dossier's numbered references: the methods' literature and the rule files' sources.

The methods' references are data (``criteria/reference/bibliography.yaml``); the rule files add
their own sources. An entry gets its number when it is first cited, so the printed list holds
exactly the entries the text cites, in the order the text cites them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import yaml

from dossier.resources import resource_dir

BIBLIOGRAPHY_FILE = "reference/bibliography.yaml"


@dataclass(frozen=True)
class Reference:
    """One reference as printed: its text and where a reader can check it (DOI or URL)."""

    key: str
    text: str
    doi: str = ""
    url: str = ""
    frameworks: tuple[str, ...] = ()

    @property
    def link(self) -> str:
        """The DOI as a URL, else the URL, else empty."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url


@lru_cache(maxsize=1)
def methods_references() -> tuple[Reference, ...]:
    """The bundled methods' references, in file order."""
    path = resource_dir("criteria") / BIBLIOGRAPHY_FILE
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return tuple(Reference(key=str(e["key"]), text=" ".join(str(e["text"]).split()),
                           doi=str(e.get("doi") or ""), url=str(e.get("url") or ""),
                           frameworks=tuple(str(f) for f in e.get("frameworks") or ()))
                 for e in data.get("entries") or ())


def _get(obj: object, key: str, default: object = "") -> object:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def rule_file_references(rule: object) -> tuple[Reference, ...]:
    """One reference per source of a rule file (a RuleSet or a mapping), keyed by its URL."""
    who = str(_get(rule, "issuer") or _get(rule, "framework") or "")
    title = str(_get(rule, "title") or _get(rule, "short") or "")
    version = str(_get(rule, "version") or "")
    head = ". ".join(p for p in (who, title) if p) or "Rule source"
    head = f"{head} ({version})" if version else head
    out = []
    for source in _get(rule, "sources", ()) or ():  # type: ignore[union-attr]
        url = str(_get(source, "url") or "")
        citation = " ".join(str(_get(source, "citation") or "").split())
        if url:
            what = _first_sentence(str(_get(source, "note") or ""))
            out.append(Reference(key=url, text=f"{head}. {what or 'Web source.'}", url=url))
        elif citation and not INTERNAL_FILE.search(citation):
            out.append(Reference(key=citation, text=f"{head}. {citation.rstrip('.')}."))
    return tuple(out)


def _first_sentence(note: str, limit: int = 160) -> str:
    """What a source is, from the first sentence of its note (so that entries of one rule file
    differ); empty when that sentence names an internal file."""
    text = " ".join(note.split())
    sentence = re.split(r"(?<=[.:;])\s", text, maxsplit=1)[0].rstrip(".:;")
    if not sentence or INTERNAL_FILE.search(sentence):
        return ""
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0] + " ..."
    return sentence + "."


INTERNAL_FILE = re.compile(r"[\w-]+\.(?:md|ya?ml|py|csv|json|toml)\b", re.IGNORECASE)
"""A citation naming a file (a working note such as ``criteria.md 2.5``) is not a reference a
reader can look up, so it is not listed."""


DOI = re.compile(r"\b(10\.\d{4,9}/\S+)")


def doi_of(url: str) -> str:
    """The DOI inside a URL (``https://dx.doi.org/10.1038/x`` -> ``10.1038/x``), else empty."""
    found = DOI.search(url)
    return found.group(1).rstrip(".").casefold() if found else ""


class Bibliography:
    """Numbers references in the order of first citation; ``entries`` is the printed list."""

    def __init__(self, rule_files: Sequence[object] = ()) -> None:
        self._known: dict[str, Reference] = {r.key: r for r in methods_references()}
        self._by_framework: dict[str, list[str]] = {}
        for ref in methods_references():
            for framework in ref.frameworks:
                self._by_framework.setdefault(framework, []).append(ref.key)
        self._rule_keys: dict[str, list[str]] = {}
        by_doi = {r.doi.casefold(): r.key for r in methods_references() if r.doi}
        for rule in rule_files:
            keys = []
            for ref in rule_file_references(rule):
                key = by_doi.get(doi_of(ref.url), ref.key)  # a paper the methods cite too
                self._known.setdefault(key, ref)
                keys.append(key)
            self._rule_keys[str(_get(rule, "id"))] = keys
        self._numbers: dict[str, int] = {}

    def number(self, key: str) -> int:
        """The number of ``key``, given on its first citation.

        Raises KeyError for a key the bibliography does not hold (a typo in the code or data).
        """
        if key not in self._known:
            raise KeyError(f"no reference {key!r} in the bibliography")
        return self._numbers.setdefault(key, len(self._numbers) + 1)

    def cite(self, *keys: str) -> str:
        """``[3]`` or ``[3, 5]``: the numbers of ``keys``, cited now."""
        numbers = sorted(dict.fromkeys(self.number(k) for k in keys))
        return f"[{', '.join(str(n) for n in numbers)}]" if numbers else ""

    def rule_file_keys(self, rule_id: str, framework: str = "") -> list[str]:
        """The keys a rule file is cited with: its framework's literature, then its sources."""
        keys = [*self._by_framework.get(framework, ()), *self._rule_keys.get(rule_id, ())]
        return list(dict.fromkeys(keys))

    def entries(self) -> list[dict[str, str]]:
        """The cited references in number order: number, text, link."""
        ordered = sorted(self._numbers.items(), key=lambda item: item[1])
        return [{"number": str(n), "text": self._known[k].text, "link": self._known[k].link}
                for k, n in ordered]


def cited_numbers(texts: Iterable[str]) -> set[int]:
    """Every reference number cited as ``[n]`` or ``[n, m]`` in ``texts`` (for checks)."""
    found: set[int] = set()
    for text in texts:
        for group in re.findall(r"\[(\d+(?:, \d+)*)\]", text):
            found.update(int(n) for n in group.split(", "))
    return found
