"""dossier.docx: the dossier as a Word document that regulatory affairs can edit.

The context (``dossier.render.context``) fills the markdown template ``dossier.md.j2``; one call
of pandoc (from the ``pypandoc-binary`` wheel: no system install) turns it into DOCX styled by a
reference document, ``templates/reference.docx`` unless the user gives their company template.
Headings use Word's Heading 1-3 styles (navigation pane, table of contents), tables are Word
tables, captions use Word's caption styles and the footer carries page numbers.

Pandoc's output is then finished in one pass over the zip: each figure gets its SVG next to the
PNG pandoc embedded (Word 2016+ draws the vector, older readers the PNG, as Word itself stores
an SVG), the contents field is pre-filled with the headings, caption numbers become
``SEQ Table``/``SEQ Figure`` fields (lists of tables and figures), no table row may break
across pages (header rows repeat), settings ask Word to update fields on opening (contents
page numbers), and the zip is rewritten with the build time as every entry's date so the same
data gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from dossier.errors import OutputError
from dossier.render.markdown import (
    FigureSink,
    NarrativeSink,
    render_markdown,
    template_dirs,
)

TEMPLATE = "dossier.md.j2"
REFERENCE_DOC = "reference.docx"
READER = "markdown-raw_html-raw_tex"
"""Pandoc's markdown without raw HTML/TeX: data is escaped anyway; this is a second fence."""
PANDOC_TIMEOUT = 600
TOC_MARKER = "<!--dossier:toc-->"
SVG_EXTENSION_URI = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"
SVG_NAMESPACE = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
IMAGE_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"

_PICTURE = re.compile(r"<pic:pic>.*?</pic:pic>", re.S)
_DESCR = re.compile(r'<pic:cNvPr descr="([^"]*)"')
_BLIP = re.compile(r'<a:blip r:embed="([^"]+)"\s*(/>|>)')
_HEADING = re.compile(r'<w:bookmarkStart w:id="\d+" w:name="([^"]+)" />\s*'
                      r'<w:p><w:pPr><w:pStyle w:val="Heading([12])" />(.*?)</w:p>', re.S)
_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")
_CAPTION = re.compile(r'(<w:pStyle w:val="(?:TableCaption|ImageCaption)" /></w:pPr>)<w:r>'
                      r'<w:t xml:space="preserve">(Table|Figure) (\d+)\. ')
_SETTINGS_AFTER = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                   "m:mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping",
                   "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
                   "captions", "readModeInkLockDown", "smartTagType", "sl:schemaLibrary",
                   "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")
"""The settings.xml elements that follow ``w:updateFields`` in the schema's fixed order."""


class DocxError(OutputError, RuntimeError):
    """Pandoc could not make the Word document; the message carries pandoc's own words."""


def pandoc_path() -> str:
    """The pandoc binary that ships in the ``pypandoc-binary`` wheel."""
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - a dependency of dossier
        raise DocxError("Word output needs pandoc: pip install pypandoc-binary") from exc
    return str(pypandoc.get_pandoc_path())


def reference_document(templates_dir: Path | None = None,
                       reference_doc: Path | None = None) -> Path:
    """The styles document: ``reference_doc``, else ``reference.docx`` in the templates folders.

    Raises ``ValueError`` naming the file when it is not a Word document (a .docx is a zip
    holding ``word/styles.xml``), so a wrong ``--docx-reference`` fails before pandoc runs.
    """
    if reference_doc is not None:
        path = Path(reference_doc)
        if not path.is_file():
            raise ValueError(f"{path}: --docx-reference file not found")
    else:
        path = next(d / REFERENCE_DOC for d in template_dirs(templates_dir)
                    if (d / REFERENCE_DOC).is_file())
    try:
        with zipfile.ZipFile(path) as archive:
            archive.getinfo("word/styles.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: not a Word document (.docx with word/styles.xml); save "
                         "your template from Word as .docx") from exc
    return path


def docx_markdown(context: Mapping[str, object], *, templates_dir: Path | None = None,
                  narrative: Mapping[str, str] | None = None) -> tuple[str, FigureSink]:
    """The pandoc markdown of the Word dossier and the figures it shows."""
    figures = FigureSink(quarto=False, extension="png")
    text = render_markdown(TEMPLATE, context, templates_dir=templates_dir, figures=figures,
                           narrative=NarrativeSink(dict(narrative or {})))
    return text, figures


def _build_time(context: Mapping[str, object]) -> dt.datetime:
    meta = context.get("meta", {})
    stamp = str(meta.get("build_iso", "")) if isinstance(meta, Mapping) else ""
    try:
        moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        moment = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
    return max(moment, dt.datetime(1980, 1, 1, tzinfo=dt.UTC))


def run_pandoc(source: Path, target: Path, *, reference: Path, build_time: dt.datetime) -> None:
    """``pandoc source -o target`` for DOCX, in the source's folder, dated ``build_time``."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(build_time.timestamp()))}
    command = [pandoc_path(), source.name, "--from", READER, "--to", "docx",
               "--reference-doc", str(reference.resolve()), "--resource-path", ".",
               "--output", str(target.resolve())]
    try:
        done = subprocess.run(command, cwd=source.parent, env=env, capture_output=True,
                              text=True, timeout=PANDOC_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DocxError(f"pandoc could not run: {exc}") from exc
    if done.returncode != 0:
        raise DocxError(f"pandoc failed to write {target.name} (exit {done.returncode}): "
                        f"{done.stderr.strip()[-2000:]}")


# --------------------------------------------------------------------------- finishing


def _svg_blip(rel_id: str) -> str:
    return (f'<a:extLst><a:ext uri="{SVG_EXTENSION_URI}"><asvg:svgBlip xmlns:asvg="'
            f'{SVG_NAMESPACE}" r:embed="{rel_id}" /></a:ext></a:extLst>')


def _add_svgs(document: str, svgs: Mapping[str, bytes]) -> tuple[str, dict[str, bytes]]:
    """Give each picture whose source has an SVG twin an ``asvg:svgBlip`` next to its PNG."""
    added: dict[str, bytes] = {}

    def picture(match: re.Match[str]) -> str:
        block = match.group(0)
        descr = _DESCR.search(block)
        source = html.unescape(descr.group(1)) if descr else ""
        svg = svgs.get(source)
        blip = _BLIP.search(block)
        if svg is None or blip is None or "svgBlip" in block:
            return block
        rel_id = f"rIdSvg{len(added) + 1}"
        added[rel_id] = svg
        if blip.group(2) == "/>":
            new = f'<a:blip r:embed="{blip.group(1)}">{_svg_blip(rel_id)}</a:blip>'
            return block[:blip.start()] + new + block[blip.end():]
        end = block.find("</a:blip>", blip.end())
        inner = block[blip.end():end]
        if "<a:extLst>" in inner:
            inner = inner.replace("</a:extLst>", _svg_blip(rel_id)[len("<a:extLst>"):], 1)
        else:
            inner += _svg_blip(rel_id)
        return block[:blip.end()] + inner + block[end:]

    return _PICTURE.sub(picture, document), added


def _toc_entries(document: str) -> str:
    """Contents entries (levels 1-2) linking to each heading, without page numbers."""
    entries = []
    for anchor, level, body in _HEADING.findall(document):
        text = "".join(_TEXT.findall(body))
        entries.append(f'<w:p><w:pPr><w:pStyle w:val="TOC{level}" /></w:pPr><w:hyperlink '
                       f'w:anchor="{anchor}" w:history="1"><w:r><w:t xml:space="preserve">'
                       f"{text}</w:t></w:r></w:hyperlink></w:p>")
    return "".join(entries)


def _rows_kept_whole(document: str) -> str:
    """Every table row gets ``<w:cantSplit/>``: a row never breaks across pages (headers,
    marked ``tblHeader`` by pandoc, still repeat on each page)."""
    document = document.replace("<w:tr><w:trPr>", "<w:tr><w:trPr><w:cantSplit />")
    return document.replace("<w:tr><w:tc>", "<w:tr><w:trPr><w:cantSplit /></w:trPr><w:tc>")


def _seq(label: str, number: str) -> str:
    return ('<w:r><w:fldChar w:fldCharType="begin" /></w:r><w:r><w:instrText '
            f'xml:space="preserve"> SEQ {label} \\* ARABIC </w:instrText></w:r><w:r>'
            f'<w:fldChar w:fldCharType="separate" /></w:r><w:r><w:t>{number}</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end" /></w:r>')


def _caption_fields(document: str) -> str:
    """Caption numbers become Word ``SEQ Table``/``SEQ Figure`` fields (as Insert Caption
    makes), so Word can build lists of tables and figures; the typed number is their result.

    Only the caption paragraphs dossier made match: their first run starts "Table N. " or
    "Figure N. " (data text is escaped and never makes a caption paragraph of its own).
    """
    def field(match: re.Match[str]) -> str:
        style, label, number = match.groups()
        return (f'{style}<w:r><w:t xml:space="preserve">{label} </w:t></w:r>'
                f'{_seq(label, number)}<w:r><w:t xml:space="preserve">. ')

    return _CAPTION.sub(field, document)


def _update_fields_on_open(settings: str) -> str:
    """``<w:updateFields w:val="true"/>`` in settings.xml: Word refreshes the contents (with
    page numbers) and caption numbers when it opens the file."""
    if "<w:updateFields" in settings:
        return settings
    tag = '<w:updateFields w:val="true" />'
    found = [k for k in (settings.find(f"<{n if ':' in n else 'w:' + n}")
                         for n in _SETTINGS_AFTER) if k >= 0]
    at = min(found) if found else settings.rfind("</w:settings>")
    return settings[:at] + tag + settings[at:]


def _add_relationships(rels: str, added: Mapping[str, bytes]) -> str:
    links = "".join(f'<Relationship Type="{IMAGE_RELATIONSHIP}" Id="{rel_id}" '
                    f'Target="media/{rel_id}.svg" />' for rel_id in added)
    return rels.replace("</Relationships>", links + "</Relationships>", 1)


def _add_svg_type(types: str) -> str:
    if 'Extension="svg"' in types:
        return types
    return types.replace("</Types>", '<Default Extension="svg" ContentType="image/svg+xml" />'
                         "</Types>", 1)


def finish_docx(raw: Path, target: Path, *, svgs: Mapping[str, bytes],
                build_time: dt.datetime) -> Path:
    """Add the SVG twins, contents entries, caption fields, unsplittable rows and
    update-fields-on-open, and write a deterministic zip to ``target``."""
    with zipfile.ZipFile(raw) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    parts = dict(entries)
    document = parts["word/document.xml"].decode("utf-8")
    document, added = _add_svgs(document, svgs)
    document = document.replace(TOC_MARKER, _toc_entries(document), 1)
    document = _caption_fields(_rows_kept_whole(document))
    parts["word/document.xml"] = document.encode("utf-8")
    if "word/settings.xml" in parts:
        parts["word/settings.xml"] = _update_fields_on_open(
            parts["word/settings.xml"].decode("utf-8")).encode("utf-8")
    if added:
        rels = "word/_rels/document.xml.rels"
        parts[rels] = _add_relationships(parts[rels].decode("utf-8"), added).encode("utf-8")
        types = "[Content_Types].xml"
        parts[types] = _add_svg_type(parts[types].decode("utf-8")).encode("utf-8")
    names = [name for name, _ in entries] + [f"word/media/{r}.svg" for r in added]
    parts.update({f"word/media/{r}.svg": data for r, data in added.items()})
    stamp = build_time.astimezone(dt.UTC).timetuple()[:6]
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, parts[name])
    return target


# --------------------------------------------------------------------------- entry point


def write_docx(context: Mapping[str, object], path: Path, *, templates_dir: Path | None = None,
               reference_doc: Path | None = None,
               narrative: Mapping[str, str] | None = None) -> Path:
    """Write the Word dossier to ``path`` with one pandoc call; return ``path``.

    Parameters
    ----------
    context : the template data of ``dossier.render.context.build_context``.
    templates_dir : a folder whose ``dossier.md.j2``, partials or ``reference.docx`` override
        the bundled ones.
    reference_doc : a .docx whose styles, page setup, header and footer the document takes
        (a company template); default ``reference.docx`` from the templates.
    narrative : narrative sections by div id (``markdown.read_narrative`` of the Quarto
        document), so text written there appears in Word too; else prompts to write it.
    """
    reference = reference_document(templates_dir, reference_doc)
    text, figures = docx_markdown(context, templates_dir=templates_dir, narrative=narrative)
    build_time = _build_time(context)
    with tempfile.TemporaryDirectory(prefix="dossier-docx-") as work:
        folder = Path(work)
        figures.write(folder / figures.folder, svg=False)
        svgs = {f"{figures.folder}/{f.name}.png": f.svg.encode("utf-8")
                for f in figures.figures}
        source = folder / "dossier.md"
        source.write_text(text, encoding="utf-8")
        raw = folder / "pandoc.docx"
        run_pandoc(source, raw, reference=reference, build_time=build_time)
        return finish_docx(raw, Path(path), svgs=svgs, build_time=build_time)
