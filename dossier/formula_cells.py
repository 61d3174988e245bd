"""Text that a spreadsheet program would run as a formula, made inert (CSV/formula injection).

Excel, LibreOffice Calc and Google Sheets treat a CSV cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (or NUL) as a formula, so a cohort named
``=HYPERLINK(...)`` would run when a reviewer opens the results table. As OWASP recommends
(CSV Injection; ASVS 1.2.10), such a *text* cell is written with a single quote in front,
which spreadsheets read as "this is text". Number cells are never touched: ``-0.5`` in a
number column stays the number -0.5. The quote is added in a way that can be undone exactly
(:func:`restore`), so dossier reads its own CSV back unchanged; JSON and Parquet hold the text
as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, ASVS 1.2.10)."""
TEXT_MARK = "'"
"""What is put in front of such a cell: spreadsheets show the rest as text."""


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    """``text`` with a single quote in front when a spreadsheet would run it as a formula.

    Text that already starts with quotes followed by a trigger also gets one more quote, so
    :func:`restore` can tell the two apart: ``'=x`` is written ``''=x``.
    """
    return TEXT_MARK + text if starts_like_formula(text.lstrip(TEXT_MARK)) else text


def restore(text: str) -> str:
    """The text :func:`neutralise` was given (its exact inverse)."""
    if text.startswith(TEXT_MARK) and starts_like_formula(text.lstrip(TEXT_MARK)):
        return text[1:]
    return text


def _convert(frame: pd.DataFrame, columns: Iterable[str], change: Callable[[str], str]
             ) -> pd.DataFrame:
    out = frame
    for name in columns:
        # by distinct value: a results column of a million rows has a few hundred
        mapping = {v: change(v) for v in pd.unique(frame[name]) if isinstance(v, str)}
        mapping = {k: v for k, v in mapping.items() if k != v}
        if mapping:
            if out is frame:
                out = frame.copy()
            out[name] = frame[name].map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str)
                                        else v)
    return out


def neutralise_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the text cells of ``columns`` neutralised (a copy when any changes)."""
    return _convert(frame, columns, neutralise)


def restore_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the text cells of ``columns`` restored (a copy when any changes)."""
    return _convert(frame, columns, restore)
