"""The one "did you mean" of dossier, for every name a user can misspell.

Options, dossier.toml keys, criteria ids, metric names, sheets and columns all suggest the
closest known name the same way (difflib's ratio), so the hint reads alike everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

DEFAULT_CUTOFF = 0.6
"""difflib's default: how alike (0-1) a known name must be to be suggested."""


def closest(word: object, choices: Iterable[object], cutoff: float = DEFAULT_CUTOFF) -> str | None:
    """The known name most like ``word``, or None when none is alike enough."""
    hit = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return hit[0] if hit else None


def did_you_mean(word: object, choices: Iterable[object],
                 cutoff: float = DEFAULT_CUTOFF) -> str:
    """' (did you mean 'x'?)' for the closest known name, or '' when none is close."""
    hit = closest(word, choices, cutoff)
    return f" (did you mean {hit!r}?)" if hit else ""
