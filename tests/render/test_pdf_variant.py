"""PDF/A-2b dossiers, read back with pikepdf: what a PDF/A validator checks structurally.

The XMP metadata names the part and conformance and agrees with the document information, the
sRGB output intent is embedded, every font (in pages and in form XObjects) is embedded, once
per font, with the widths its program has; nothing runs (no JavaScript, no additional
actions), nothing is encrypted, the outline is there, the header declares the version
WeasyPrint writes for the variant, and every annotation prints. These are not a full
validation (veraPDF is not run here); they are the checks the join could break.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from weasyprint.pdf import VARIANTS

from dossier.config import ConfigError, parse_settings
from dossier.endpoints.compute import compute_endpoints
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.bundle import safe_file_name
from dossier.render.context import build_context
from dossier.render.pdf import PDF_VARIANTS, write_pdfs
from dossier.render.pdf_fonts import merge_programs
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.rulebook import load_rulebook

BUILD_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
VARIANT = "pdf/a-2b"
N_COHORTS = 3
PRINT, HIDDEN, INVISIBLE, NO_VIEW = 4, 2, 1, 32


@pytest.fixture(scope="module")
def context():
    patients, cohorts = demo_registry(n_patients=120, seed=3)
    registry = registry_from_frames(patients, cohorts, name="archive.csv")
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    ids = list(dict.fromkeys(results.loc[results["group_by"] == "cohort_id", "group"]))
    return build_context(results=results, verdicts=verdicts, registry=registry,
                         rule_files=book.rule_sets, parameters={"sd_weeks": 16},
                         title="Archived dossier", build_time=BUILD_TIME,
                         software_version="9.9.9", data_sha256=registry.sha256,
                         data_name="archive.csv", only=ids[:N_COHORTS])


@pytest.fixture(scope="module")
def written(context, tmp_path_factory) -> dict[str, Path]:
    taken: set[str] = set()
    names = {c["id"]: safe_file_name(c["id"], taken) for c in context["cohorts"]}
    return write_pdfs(context, tmp_path_factory.mktemp("pdfa"), cohort_file_names=names,
                      workers=1, pdf_variant=VARIANT)


@pytest.fixture(scope="module", params=["dossier", "cohort"])
def pdf(request, written, context):
    key = "dossier" if request.param == "dossier" else context["cohorts"][0]["id"]
    with pikepdf.open(written[key]) as opened:
        yield opened


def _walk(obj: object, seen: set[tuple[int, int]]) -> object:
    """Every object reachable from ``obj`` (indirect ones once)."""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        if obj.objgen in seen:
            return
        seen.add(obj.objgen)
    yield obj
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if isinstance(obj, pikepdf.Dictionary):
        for key in obj.keys():  # noqa: SIM118 (a Dictionary iterates its keys only so)
            yield from _walk(obj[key], seen)
    elif isinstance(obj, pikepdf.Array):
        for item in obj:
            yield from _walk(item, seen)


def _fonts(resources: pikepdf.Object, found: dict, seen: set) -> None:
    """Every font of ``resources`` and of the form XObjects (and Type3 glyphs) under it."""
    if not isinstance(resources, pikepdf.Dictionary) or (
            resources.objgen in seen and resources.objgen != (0, 0)):
        return
    seen.add(resources.objgen)
    for font in (resources.get("/Font") or {}).values():
        found[font.objgen] = font
        if font.get("/Subtype") == "/Type3":
            _fonts(font.get("/Resources"), found, seen)
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form":
            _fonts(xobject.get("/Resources"), found, seen)


def _all_fonts(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    found: dict = {}
    seen: set = set()
    for page in pdf.pages:
        _fonts(page.obj.get("/Resources"), found, seen)
    return list(found.values())


def test_the_xmp_names_pdfa_2b_and_its_title_is_the_documents(pdf) -> None:
    assert "/Metadata" in pdf.Root
    meta = pdf.open_metadata()
    assert meta["pdfaid:part"] == "2"
    assert meta["pdfaid:conformance"] == "B"
    title = str(pdf.docinfo["/Title"])
    assert title.startswith("Archived dossier")
    assert meta["dc:title"] == title


def test_the_cohort_pdfs_title_is_its_own_in_info_and_xmp(written, context) -> None:
    cohort = context["cohorts"][0]["id"]
    with pikepdf.open(written[cohort]) as pdf:
        assert str(pdf.docinfo["/Title"]) == f"Archived dossier: {cohort}"
        assert pdf.open_metadata()["dc:title"] == f"Archived dossier: {cohort}"


def test_the_output_intent_is_gts_pdfa1_with_an_embedded_icc_profile(pdf) -> None:
    intents = pdf.Root.OutputIntents
    assert len(intents) >= 1
    intent = intents[0]
    assert intent.S == "/GTS_PDFA1"
    profile = intent.DestOutputProfile
    assert isinstance(profile, pikepdf.Stream)
    data = profile.read_bytes()
    assert data[36:40] == b"acsp"  # the ICC profile signature
    assert int(profile.N) == 3  # RGB


def test_every_font_is_embedded(pdf) -> None:
    fonts = _all_fonts(pdf)
    assert fonts
    for font in fonts:
        if font.get("/Subtype") == "/Type3":
            continue
        target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = target.FontDescriptor
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), \
            str(font.get("/BaseFont"))


def test_each_font_program_is_embedded_once_with_the_widths_the_pdf_says(pdf) -> None:
    programs: dict[str, set] = {}
    for font in _all_fonts(pdf):
        cid_font = font.DescendantFonts[0]
        descriptor = cid_font.FontDescriptor
        name = str(descriptor.FontName).split("+", 1)[1]
        programs.setdefault(name, set()).add(descriptor.FontFile2.objgen)
        assert str(cid_font.BaseFont) == str(descriptor.FontName) == str(font.BaseFont)
        program = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()))
        order, upem = program.getGlyphOrder(), program["head"].unitsPerEm
        widths = cid_font.W
        at = 0
        while at < len(widths):  # /W: first [w1 w2 ...] or first last w
            first = int(widths[at])
            if isinstance(widths[at + 1], pikepdf.Array):
                pairs = [(first + i, float(w)) for i, w in enumerate(widths[at + 1])]
                at += 2
            else:
                pairs = [(gid, float(widths[at + 2]))
                         for gid in range(first, int(widths[at + 1]) + 1)]
                at += 3
            for gid, width in pairs:
                advance = program["hmtx"][order[gid]][0]
                assert abs(advance * 1000 / upem - width) < 1, (name, gid)
    assert programs and all(len(ids) == 1 for ids in programs.values()), programs


def test_nothing_runs_and_nothing_is_encrypted(pdf) -> None:
    assert not pdf.is_encrypted
    assert "/Encrypt" not in pdf.trailer
    seen: set = set()
    for obj in _walk(pdf.trailer, seen):
        if isinstance(obj, pikepdf.Dictionary):
            for key in ("/JavaScript", "/JS", "/AA"):
                assert key not in obj, key
            assert obj.get("/S") != "/JavaScript"


def test_the_outline_is_there(pdf) -> None:
    with pdf.open_outline() as outline:
        assert len(outline.root) >= 1
        assert all(item.title for item in outline.root)


def test_the_header_declares_the_variants_pdf_version(pdf, written) -> None:
    declared = VARIANTS[VARIANT][1]["pdf_version"]
    assert declared == "1.7"
    assert pdf.pdf_version == declared
    path = Path(pdf.filename)
    assert path.read_bytes().startswith(f"%PDF-{declared}".encode())


def test_every_annotation_prints(pdf) -> None:
    for annotation in (a for page in pdf.pages for a in page.obj.get("/Annots", ())):
        flags = int(annotation.get("/F", 0))
        assert flags & PRINT and not flags & (HIDDEN | INVISIBLE | NO_VIEW)


def test_the_dossiers_internal_links_stay_and_print(written) -> None:
    with pikepdf.open(written["dossier"]) as pdf:
        links = [a for page in pdf.pages for a in page.obj.get("/Annots", ())
                 if a.Subtype == "/Link"]
        assert links and all("/Dest" in link and int(link.F) & PRINT for link in links)


def test_an_unknown_variant_is_refused_naming_the_supported_ones(context, tmp_path) -> None:
    with pytest.raises(ValueError, match="pdf/a-2b, pdf/a-2u") as error:
        write_pdfs(context, tmp_path, cohort_file_names={}, pdf_variant="pdf/a-1b")
    assert "pdf/a-1b" in str(error.value)
    assert not any(tmp_path.iterdir())
    assert "pdf/a-2b" in PDF_VARIANTS
    with pytest.raises(ConfigError, match="supported: pdf/a-2b"):
        parse_settings('[pdf]\nvariant = "pdf/ua-1"\n')
    assert parse_settings('[pdf]\nvariant = "PDF/A-2b"\n').pdf_variant == "pdf/a-2b"


def _subset(program: bytes, glyphs: list[str]) -> bytes:
    """A subset of ``program`` that keeps glyph ids, as WeasyPrint writes them."""
    font = TTFont(io.BytesIO(program))
    subsetter = subset.Subsetter(subset.Options(retain_gids=True, notdef_outline=True,
                                                hinting=False, ignore_missing_glyphs=True))
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def test_merged_subsets_hold_every_glyph_of_each_at_its_id(pdf) -> None:
    program = _all_fonts(pdf)[0].DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
    whole = TTFont(io.BytesIO(program))
    order = whole.getGlyphOrder()
    drawn = [name for name in order if whole["glyf"][name].numberOfContours > 0]
    assert len(drawn) > 10
    halves = (drawn[::2], drawn[1::2])
    merged = TTFont(io.BytesIO(merge_programs([_subset(program, half) for half in halves])))
    merged_order = merged.getGlyphOrder()  # glyph names may differ: compare by glyph id
    for name in drawn:
        gid = order.index(name)
        glyph = merged["glyf"][merged_order[gid]]
        assert glyph.getCoordinates(merged["glyf"])[0] == \
            whole["glyf"][name].getCoordinates(whole["glyf"])[0], name
        assert merged["hmtx"][merged_order[gid]] == whole["hmtx"][name], name
    with pytest.raises(ValueError, match="glyph"):  # two fonts of one name are not merged
        other = TTFont(io.BytesIO(_subset(program, [drawn[0]])))
        other["glyf"][drawn[0]] = whole["glyf"][drawn[1]]
        buffer = io.BytesIO()
        other.save(buffer)
        merge_programs([_subset(program, [drawn[0]]), buffer.getvalue()])
