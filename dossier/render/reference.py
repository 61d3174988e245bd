"""Published figures and reference lines the dossier shows beside its own, read from data.

They live in ``criteria/reference/published-figures.yaml`` (shipped in the wheel with the rule
files), each with its source, so a new publication is an edit of data, not of code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import yaml

from dossier.resources import resource_dir

REFERENCE_FILE = "reference/published-figures.yaml"


@lru_cache(maxsize=1)
def _data() -> dict[str, object]:
    path = resource_dir("criteria") / REFERENCE_FILE
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def published_drup_2026() -> dict[str, str]:
    """Headline key -> the DRUP 2026 report's figure, as text."""
    block = _data().get("drup_2026") or {}
    figures = block.get("figures") or {} if isinstance(block, dict) else {}
    return {str(k): str(v) for k, v in figures.items()}


def reference_lines(endpoint: str) -> tuple[tuple[float, str], ...]:
    """(value, label) of the forest plot's dashed reference lines for ``endpoint``."""
    lines = (_data().get("reference_lines") or {}).get(endpoint) or []  # type: ignore[union-attr]
    return tuple((float(line["value"]), str(line["label"])) for line in lines)


def published_rows(headline: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Published DRUP 2026 figure next to ours, one row per headline figure the report gives."""
    published = published_drup_2026()
    out = []
    for row in headline:
        figure = published.get(row.get("key", ""))
        if figure is None:
            continue
        ours = f"{row['value']} ({row['ci']})" if row["ci"] else row["value"]
        out.append({"label": row["label"], "published": figure, "ours": ours})
    return out
