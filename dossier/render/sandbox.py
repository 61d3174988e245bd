"""The Jinja2 environment every dossier template renders in: sandboxed, strict, and its errors
turned into :class:`dossier.errors.TemplateError` naming the template file and line.

A user's ``--templates`` folder is code from outside: in a plain environment a template reaches
``os.system`` through the object graph (``cycler.__init__.__globals__``). The immutable sandbox
refuses attributes that start with ``_``, Python internals and methods that change data; an
undefined name raises on use (``StrictUndefined``), so a typo is an error, not empty text.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dossier.errors import TemplateError

__all__ = ["reported", "sandboxed_environment"]

_USER_MISTAKES = (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)
"""Errors that a template's own expression can cause (``{{ 1 + 'a' }}``, ``{{ x[9] }}``):
reported as the template's error when a user's template raised them."""


def sandboxed_environment(dirs: Sequence[Path], **options: Any) -> jinja2.Environment:
    """A sandboxed environment loading templates from ``dirs`` (first match wins)."""
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs])
    return ImmutableSandboxedEnvironment(loader=loader, undefined=jinja2.StrictUndefined,
                                         **options)


def _template_frame(error: BaseException, dirs: Sequence[Path]) -> tuple[str, int] | None:
    """The innermost (file, line) of a template in ``dirs`` in the error's traceback.

    Jinja2 rewrites a rendering error's traceback so that template code appears as frames with
    the template's file name and line; a SecurityError or UndefinedError carries no line itself.
    """
    roots = [Path(d).resolve() for d in dirs]
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename)
        if path.suffix and any(_inside(path, root) for root in roots) and frame.lineno:
            found = (frame.filename, frame.lineno)
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def _describe(error: BaseException) -> tuple[str, str | None]:
    """What went wrong in the user's words, and what to do about it."""
    if isinstance(error, jinja2.exceptions.SecurityError):
        return (f"the template tries to reach Python internals, which templates may not: "
                f"{error}", "templates are sandboxed: use only the values the context gives")
    if isinstance(error, jinja2.UndefinedError):
        return (f"undefined name in the template: {error.message}",
                "see templates/README.md for the names a template can use")
    if isinstance(error, jinja2.TemplateNotFound):
        return (f"template not found: {error.name}", "check the names in extends/include/import")
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"template syntax error: {error.message}", None
    if isinstance(error, jinja2.TemplateError):
        return f"template error: {error.message or error}", None
    return f"template error: {type(error).__name__}: {error}", None


def _user_template(name: str, dirs: Sequence[Path]) -> bool:
    return len(dirs) > 1 and _inside(Path(name), Path(dirs[0]).resolve())


def template_error(error: BaseException, dirs: Sequence[Path],
                   template: str) -> TemplateError | None:
    """The TemplateError for a rendering failure, or None when it is dossier's own bug.

    Jinja2's errors are always the template's; other errors only when the innermost template
    frame lies in the user's folder (the first of ``dirs`` when there are several).
    """
    place = _template_frame(error, dirs)
    if isinstance(error, jinja2.TemplateSyntaxError) and error.lineno:
        place = (error.filename or error.name or template, error.lineno)
    foreign = not isinstance(error, _USER_MISTAKES) or place is None \
        or not _user_template(place[0], dirs)
    if not isinstance(error, jinja2.TemplateError) and foreign:
        return None
    message, hint = _describe(error)
    file, line = place if place is not None else (template, None)
    return TemplateError(message, file=file, row=line, hint=hint)


@contextlib.contextmanager
def reported(dirs: Sequence[Path], template: str) -> Iterator[None]:
    """Render inside this block: a template's mistake leaves it as a TemplateError."""
    try:
        yield
    except TemplateError:
        raise
    except Exception as error:
        converted = template_error(error, dirs, template)
        if converted is None:
            raise
        raise converted from error
