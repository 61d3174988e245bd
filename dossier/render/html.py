"""The dossier's HTML: Jinja2 templates filled with the plain data of the render context.

Templates come from the bundled ``templates/`` folder, with a user's folder searched first so
any template or the stylesheet can be overridden; they render in Jinja2's sandbox
(:mod:`dossier.render.sandbox`), and their mistakes are reported with file and line. Autoescaping
is on: text from the data (a
cohort id holding ``<script>``) is printed as text.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from dossier.errors import TemplateError
from dossier.render.sandbox import reported, sandboxed_environment
from dossier.resources import resource_dir

STYLESHEET = "dossier.css"
TEMPLATES = {"dossier": "dossier.html.j2", "cohort": "cohort.html.j2"}


def template_dirs(templates_dir: Path | None = None) -> list[Path]:
    """Where templates are looked up, first match wins: the user's folder, then the bundled."""
    bundled = resource_dir("templates")
    if templates_dir is None:
        return [bundled]
    user = Path(templates_dir)
    if not user.is_dir():
        raise FileNotFoundError(f"templates folder not found: {user}")
    return [user, bundled]


def svg_data_uri(svg: str) -> str:
    """An SVG figure as a ``data:`` URI for ``<img src>``.

    WeasyPrint draws an SVG image with its own parser; inlined, every SVG node would join the
    HTML cascade, which about doubles the layout time.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@lru_cache(maxsize=8)
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = sandboxed_environment(
        dirs,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"),
                                            default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["svg_data_uri"] = svg_data_uri
    return env


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: user templates first (ChoiceLoader), sandboxed, autoescape on."""
    return _environment(tuple(template_dirs(templates_dir)))


def stylesheet(templates_dir: Path | None = None) -> str:
    """The stylesheet's text (the user's ``dossier.css`` when the templates folder has one)."""
    env = environment(templates_dir)
    source, path, _ = env.loader.get_source(env, STYLESHEET)  # type: ignore[union-attr]
    if "</style" in source.lower():
        raise TemplateError("a stylesheet must not contain '</style'", file=path)
    return source


def overridden(templates_dir: Path | None, names: tuple[str, ...]) -> list[str]:
    """Which of the template files ``names`` the user's folder replaces."""
    dirs = template_dirs(templates_dir)
    return [name for name in names if any((d / name).is_file() for d in dirs[:-1])]


def _cohort(context: Mapping[str, object], cohort_id: str | None) -> Mapping[str, object]:
    for cohort in context["cohorts"]:  # type: ignore[attr-defined]
        if cohort["id"] == cohort_id:
            return cohort
    raise ValueError(f"cohort {cohort_id!r} is not in the dossier context")


def render_part(context: Mapping[str, object], *, templates_dir: Path | None = None,
                document: str = "dossier", pdf_part: str = "full",
                cohort_id: str | None = None, inline_css: bool = True,
                toc_pages: Mapping[str, object] | None = None) -> str:
    """The HTML of ``pdf_part`` of ``document`` ("dossier" or "cohort"; see the templates).

    ``inline_css=False`` leaves the stylesheet out (the PDF build hands it to WeasyPrint
    parsed once); ``toc_pages`` gives the contents' page numbers when the dossier is laid out
    in parts.
    """
    if document not in TEMPLATES:
        raise ValueError(f"part must be one of {', '.join(TEMPLATES)}, not {document!r}")
    env = environment(templates_dir)
    extra: dict[str, object] = {
        "stylesheet": Markup(stylesheet(templates_dir)) if inline_css else Markup(""),
        "pdf_part": pdf_part, "toc_pages": toc_pages}
    if cohort_id is not None or document == "cohort":
        cohorts = context["cohorts"]  # type: ignore[index]
        fallback = cohorts[0]["id"] if cohorts else None  # type: ignore[index]
        extra["cohort"] = _cohort(context, cohort_id if cohort_id is not None else fallback)
    with reported(template_dirs(templates_dir), TEMPLATES[document]):
        return env.get_template(TEMPLATES[document]).render({**context, **extra})


def render_html(context: Mapping[str, object], *, templates_dir: Path | None = None,
                part: str = "dossier", cohort_id: str | None = None) -> str:
    """The HTML of the whole dossier (``part="dossier"``) or of one cohort's PDF ("cohort").

    The stylesheet is inlined and figures are ``data:`` URIs, so the HTML is complete on its
    own.
    """
    if part == "cohort" and cohort_id is None:
        raise ValueError("a cohort's HTML needs its cohort_id")
    return render_part(context, templates_dir=templates_dir, document=part,
                       cohort_id=cohort_id)
