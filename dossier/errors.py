"""The errors dossier reports to its user: one hierarchy for every mistake in input or setup.

A command catches :class:`DossierError` (and ``OSError``) and prints it in one line or a short
list, exit code 1; any other exception is a bug in dossier and surfaces as one. Raise these for
what the user can fix (a file, a row, a column, an option), never for dossier's own invariants.
"""

from __future__ import annotations

from pathlib import Path


class DossierError(Exception):
    """A problem the user can fix: what is wrong, where (file, row, column) and what to do.

    ``row`` is the row as the user counts it (the spreadsheet row, header = row 1, or the line of
    a text file); ``hint`` says what to do about it.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, file: str | Path | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        """'file, row 3, column age' with whichever parts are known ('' when none is)."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class InputError(DossierError):
    """A data file (registry, metadata, mapping, summary, comparators) that cannot be used."""


class ConfigurationError(DossierError):
    """A command-line option, dossier.toml entry or environment variable that cannot be used.

    A usage error: exit code 2, as for the options the command line parser itself refuses.
    """

    exit_code = 2


class CriteriaFileError(DossierError):
    """A rule file that cannot be loaded or disagrees with what the endpoints computed."""


class TemplateError(DossierError):
    """A report template that cannot be rendered (syntax, undefined name, forbidden access).

    ``row`` is the template's line, and reads as such.
    """

    @property
    def where(self) -> str:
        """'file, line 3' (a template has lines, not rows)."""
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"line {self.row}")
        return ", ".join(parts)


class OutputError(DossierError):
    """An output that dossier refuses to write, e.g. over a file or folder it did not write."""
