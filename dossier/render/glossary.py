"""The glossary of the dossier's terms and abbreviations, read from data.

The terms live in ``criteria/reference/glossary.yaml`` so that wording is edited as data; they
are printed in alphabetical order (case-insensitive) in the appendix.
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from dossier.resources import resource_dir

GLOSSARY_FILE = "reference/glossary.yaml"


@lru_cache(maxsize=1)
def glossary() -> tuple[tuple[str, str], ...]:
    """(term, explanation) pairs in alphabetical order."""
    path = resource_dir("criteria") / GLOSSARY_FILE
    with path.open(encoding="utf-8") as handle:
        terms = (yaml.safe_load(handle) or {}).get("terms") or {}
    return tuple(sorted(((str(k), " ".join(str(v).split())) for k, v in terms.items()),
                        key=lambda item: item[0].casefold()))


def glossary_rows() -> list[dict[str, str]]:
    """The glossary as template rows."""
    return [{"term": term, "text": text} for term, text in glossary()]
