"""Tests of the PDF dossier, read back with pypdf: what a reviewer opening the files would see.

A number that is not the results table's, a cover without the data fingerprint, wrong page
numbers, a cohort missing from the bookmarks, a font the reviewer's machine must substitute,
anything fetched from the network, HTML from the data rendered as markup, a cohort PDF that is
not complete on its own, or two builds of the same data that differ.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from _prerequisites import require_program
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from dossier.endpoints.compute import compute_endpoints
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.bundle import safe_file_name
from dossier.render.context import build_context
from dossier.render.pdf import LocalOnlyFetcher, html_to_pdf, render_html, write_pdfs
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.rulebook import load_rulebook

HOSTILE_ID = "<script>alert(1)</script> | <b>bold</b>"
HOSTILE_TUMOUR = "<b>bold</b> tumour"
BUILD_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
N_COHORTS = 2


@pytest.fixture(scope="module")
def context():
    """Two cohorts of a small DRUP-like registry; the first has HTML in its names."""
    patients, cohorts = demo_registry(n_patients=60, seed=11)
    first = patients["cohort_id"].iloc[0]
    rows = patients["cohort_id"] == first
    patients.loc[rows, "cohort_id"] = HOSTILE_ID
    patients.loc[rows, "tumour_type"] = HOSTILE_TUMOUR
    cohorts.loc[cohorts["cohort_id"] == first, "cohort_id"] = HOSTILE_ID
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    ids = list(dict.fromkeys(results.loc[results["group_by"] == "cohort_id", "group"]))
    return build_context(results=results, verdicts=verdicts, registry=registry,
                         rule_files=book.rule_sets, parameters={"sd_weeks": 16},
                         title="Small dossier", build_time=BUILD_TIME, software_version="9.9.9",
                         data_sha256=registry.sha256, data_name="small.csv",
                         only=ids[:N_COHORTS])


def file_names(context) -> dict[str, str]:
    taken: set[str] = set()
    return {c["id"]: safe_file_name(c["id"], taken) for c in context["cohorts"]}


@pytest.fixture(scope="module")
def built(context, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    fetcher = LocalOnlyFetcher([])
    written = write_pdfs(context, out, cohort_file_names=file_names(context), fetcher=fetcher,
                         workers=1)
    return written, fetcher


@pytest.fixture(scope="module")
def dossier_pages(built) -> list[str]:
    """The text of each page of dossier.pdf, extracted once."""
    return text_of(built[0]["dossier"])


def text_of(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def uncompressed(path: Path) -> bytes:
    """The PDF's bytes with every stream and object stream unpacked (qpdf), for scanning."""
    with pikepdf.open(path) as pdf:
        buffer = io.BytesIO()
        pdf.save(buffer, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.all,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return buffer.getvalue()


def flat(text: str) -> str:
    """Page text with line breaks and runs of spaces as one space (table cells may wrap)."""
    return re.sub(r"\s+", " ", text)


def outline_titles(reader: PdfReader) -> list[str]:
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(reader.outline)
    return titles


# --------------------------------------------------------------------------- the dossier


def test_dossier_and_one_pdf_per_cohort_are_written(built, context) -> None:
    written, _ = built
    assert written["dossier"].name == "dossier.pdf"
    for cohort, name in file_names(context).items():
        assert written[cohort] == written["dossier"].parent / "cohorts" / f"{name}.pdf"
        assert written[cohort].stat().st_size > 0


def test_cover_names_the_data_its_sha256_build_date_version_and_criteria(dossier_pages,
                                                                         context) -> None:
    cover = flat(dossier_pages[0])
    meta = context["meta"]
    for fact in ("Small dossier", "small.csv", meta["data_sha256"], "2026-01-02 03:04 UTC",
                 "dossier 9.9.9", "DRUP two-stage: DRUP protocol", "ESMO Form 3: ESMO-MCBS 1.1"):
        assert fact in cover


def test_every_page_says_page_x_of_y(dossier_pages) -> None:
    pages = dossier_pages
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_each_cohorts_numbers_appear_as_the_results_table_has_them(dossier_pages,
                                                                   context) -> None:
    text = flat(" ".join(dossier_pages))
    for cohort in context["cohorts"]:
        values = {e["label"]: e["value"] for e in cohort["endpoints"]}
        for label in ("Clinical benefit rate (CR/PR or SD >= 16 weeks)",
                      "Objective response rate (confirmed CR/PR)",
                      "Median progression-free survival", "Median overall survival"):
            assert f"{label} {values[label]}" in text
    for row in context["summary"]["headline"]:
        assert row["value"] in text


def test_contents_give_the_page_each_cohort_starts_on(dossier_pages, context) -> None:
    pages = [flat(p) for p in dossier_pages]
    contents = pages[1]
    for cohort in context["cohorts"]:
        title = f"{cohort['number']}. {cohort['id']}"
        start = next(k for k, p in enumerate(pages) if k > 1 and p.startswith(title))
        assert re.search(re.escape(title) + r"[\s.]*" + str(start + 1) + r"\b", contents)


def test_bookmarks_hold_every_part_and_cohort(built, context) -> None:
    titles = outline_titles(PdfReader(built[0]["dossier"]))
    for part in ("Contents", "Executive summary", "Methods", "Cohorts",
                 "Cross-cohort comparison", "Appendix"):
        assert part in titles
    for cohort in context["cohorts"]:
        assert f"{cohort['number']}. {cohort['id']}" in titles


def _font_files(reader: PdfReader) -> dict[str, bool]:
    fonts: dict[str, bool] = {}

    def visit(resources):
        resources = resources.get_object() if isinstance(resources, IndirectObject) \
            else resources
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts[str(font.get("/BaseFont"))] = any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        for ref in (resources.get("/XObject") or {}).values():
            inner = ref.get_object().get("/Resources")
            if inner is not None:
                visit(inner)

    for page in reader.pages:
        visit(page.get("/Resources") or {})
    return fonts


def test_every_font_is_embedded_dejavu(built) -> None:
    for path in (built[0]["dossier"], *[p for k, p in built[0].items() if k != "dossier"]):
        fonts = _font_files(PdfReader(path))
        assert fonts and all(fonts.values()), (path.name, fonts)
        assert all("DejaVu" in name for name in fonts), fonts


def test_no_javascript_and_nothing_fetched(built) -> None:
    written, fetcher = built
    assert fetcher.refused == []
    for path in written.values():
        raw = uncompressed(path)
        assert b"/Font" in raw  # objects are readable: not hidden in object streams
        assert b"/JavaScript" not in raw and b"/JS " not in raw and b"/JS(" not in raw


def test_html_in_a_cohort_id_prints_as_text(dossier_pages) -> None:
    text = flat(" ".join(dossier_pages))
    assert HOSTILE_ID in text
    assert HOSTILE_TUMOUR in text


def test_document_dates_are_the_build_time(built) -> None:
    info = PdfReader(built[0]["dossier"]).metadata
    assert info["/CreationDate"].startswith("D:20260102030405")
    assert info["/ModDate"].startswith("D:20260102030405")
    assert info["/Title"] == "Small dossier"


def test_contents_and_index_links_lead_to_each_cohorts_first_page(built, dossier_pages,
                                                                 context) -> None:
    reader = PdfReader(built[0]["dossier"])
    pages = [flat(p) for p in dossier_pages]
    targets = set()
    for page in reader.pages[:5]:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                targets.add(reader.get_page_number(annot["/Dest"][0].get_object()))
    for cohort in context["cohorts"]:
        title = f"{cohort['number']}. {cohort['id']}"
        start = next(k for k, p in enumerate(pages) if k > 1 and p.startswith(title))
        assert start in targets, title


def _pngs(pdf: Path, folder: Path) -> list[bytes]:
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(folder / "p")], check=True)
    return [p.read_bytes() for p in sorted(folder.glob("p*.png"))]


@pytest.mark.parametrize("part", ["whole-dossier", "first-cohort"])
def test_joined_parts_look_exactly_like_one_whole_layout(built, context, tmp_path, part) -> None:
    require_program("pdftoppm", "poppler-utils; .ci/run installs it with apt-get",
                    ci_installs=True)
    if part == "whole-dossier":
        alone = html_to_pdf(render_html(context), tmp_path / "alone.pdf")
        joined = built[0]["dossier"]
    else:
        cohort = context["cohorts"][0]
        alone = html_to_pdf(render_html(context, part="cohort", cohort_id=cohort["id"]),
                            tmp_path / "alone.pdf")
        joined = built[0][cohort["id"]]
    pages = _pngs(alone, tmp_path / "alone")
    assert len(pages) == len(PdfReader(alone).pages) > 0
    assert pages == _pngs(joined, tmp_path / "joined")


# --------------------------------------------------------------------------- cohort PDFs


def test_cohort_pdf_is_complete_on_its_own(built, context) -> None:
    for cohort in context["cohorts"]:
        reader = PdfReader(built[0][cohort["id"]])
        pages = [flat(p.extract_text()) for p in reader.pages]
        assert context["meta"]["data_sha256"] in pages[0]
        assert f"Cohort {cohort['number']}: {cohort['id']}" in pages[0]
        assert pages[1].startswith("Methods for this cohort")
        assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
        text = " ".join(pages)
        clinical = next(e for e in cohort["endpoints"] if e["label"].startswith("Clinical"))
        assert clinical["value"] in text
        others = [c for c in context["cohorts"] if c["id"] != cohort["id"]]
        assert not any(f"{c['number']}. {c['id']}" in text for c in others)
        titles = outline_titles(reader)
        assert titles[0] == "Methods for this cohort"
        assert f"{cohort['number']}. {cohort['id']}" in titles


def without(text: str, word: str) -> str:
    """``text`` flattened with ``word`` taken out (a joined PDF draws the data file's hash
    last, so a content-order extraction finds it elsewhere on its page)."""
    return flat(text.replace(word, " ")).strip()


def test_shared_methods_pages_equal_a_whole_cohort_layout(built, context, tmp_path) -> None:
    cohort = context["cohorts"][1]
    whole = html_to_pdf(render_html(context, part="cohort", cohort_id=cohort["id"]),
                        tmp_path / "whole.pdf")
    sha256 = context["meta"]["data_sha256"]
    alone, joined = text_of(whole), text_of(built[0][cohort["id"]])
    assert [without(p, sha256) for p in alone] == [without(p, sha256) for p in joined]
    assert [p.count(sha256) for p in alone] == [p.count(sha256) for p in joined]


def word_boxes(pdf: Path, word: str) -> list[tuple[int, float, float, float, float]]:
    """Where ``word`` is printed: (page, x min, y min, x max, y max), by poppler's pdftotext."""
    found, page = [], 0
    listing = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                             capture_output=True, text=True).stdout
    for line in listing.splitlines():
        if "<page " in line:
            page += 1
        match = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                          r'yMax="([\d.]+)">([^<]*)</word>', line)
        if match and match.group(5) == word:
            found.append((page, *(float(v) for v in match.groups()[:4])))
    return found


@pytest.mark.parametrize("part", ["whole-dossier", "first-cohort"])
def test_the_data_hash_drawn_over_its_placeholders_is_where_one_layout_prints_it(
        built, context, tmp_path, part) -> None:
    """The cover and the methods leave a placeholder for the data file's hash, drawn over
    it when the parts are joined (a rebuild then reuses every part the hash alone changed)."""
    require_program("pdftotext", "poppler-utils; .ci/run installs it with apt-get",
                    ci_installs=True)
    cohort = context["cohorts"][0]
    html = render_html(context) if part == "whole-dossier" else render_html(
        context, part="cohort", cohort_id=cohort["id"])
    alone = html_to_pdf(html, tmp_path / "alone.pdf")
    joined = built[0]["dossier" if part == "whole-dossier" else cohort["id"]]
    sha256 = context["meta"]["data_sha256"]
    expected, drawn = word_boxes(alone, sha256), word_boxes(joined, sha256)
    assert len(expected) == (2 if part == "whole-dossier" else 1)  # cover (and methods)
    assert [box[0] for box in drawn] == [box[0] for box in expected]
    for mine, theirs in zip(drawn, expected, strict=True):
        assert mine[1:] == pytest.approx(theirs[1:], abs=0.01)
    with pikepdf.open(joined) as pdf:
        assert str(pdf.docinfo["/Subject"]).endswith(f"(SHA-256 {sha256})")


# --------------------------------------------------------------------------- safety, determinism


def test_a_template_asking_for_the_network_is_refused_and_the_build_still_works(
        context, tmp_path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_cover.html.j2").write_text(
        '<section class="cover"><p class="cover-title">{{ meta.title }}</p>'
        '<img src="http://example.com/x.png" alt="logo">'
        '<img src="file:///etc/hostname" alt="outside"></section>', encoding="utf-8")
    cover_only = ('{% extends "_base.html.j2" %}{% block body %}{% include "_cover.html.j2" %}'
                  "{% endblock %}")
    for name in ("dossier.html.j2", "cohort.html.j2"):  # a cover page is all this test needs
        (templates / name).write_text(cover_only, encoding="utf-8")
    one = dict(context, cohorts=context["cohorts"][:1])
    fetcher = LocalOnlyFetcher([])
    written = write_pdfs(one, tmp_path / "out", templates_dir=templates,
                         cohort_file_names=file_names(one), fetcher=fetcher, workers=1)
    assert fetcher.refused.count("http://example.com/x.png") == 2  # dossier and cohort PDF
    assert "file:///etc/hostname" in fetcher.refused
    for path in written.values():
        assert "Small dossier" in text_of(path)[0]


def test_two_builds_are_byte_identical_in_parallel_or_not(built, context, tmp_path) -> None:
    again = write_pdfs(context, tmp_path, cohort_file_names=file_names(context), workers=2)
    for key, path in built[0].items():
        assert again[key].read_bytes() == path.read_bytes(), key


def test_cover_prints_the_build_fingerprint_once_not_twice(dossier_pages, context) -> None:
    fingerprint = f"data SHA-256 {context['meta']['data_sha256'][:16]}"
    assert flat(dossier_pages[0]).count(fingerprint) == 1


def test_real_data_pages_carry_no_synthetic_notice(dossier_pages) -> None:
    assert not any("SYNTHETIC" in page for page in dossier_pages)


def test_demo_data_is_marked_synthetic_on_the_cover_and_every_page_header(context,
                                                                          tmp_path) -> None:
    notice = "SYNTHETIC DEMO DATA \u2014 not for submission"
    demo = {**context, "meta": {**context["meta"], "data_name": "demo", "synthetic": True,
                                "notice": notice}}
    cohort_id = context["cohorts"][1]["id"]
    html = render_html(demo, part="cohort", cohort_id=cohort_id)
    pages = text_of(html_to_pdf(html, tmp_path / "demo.pdf", fetcher=LocalOnlyFetcher([])))
    assert len(pages) > 2
    for page in pages:
        assert notice in flat(page)
    assert flat(pages[0]).count(notice) == 2  # running header and the cover's own box


def test_esmo_form3_verdicts_say_met_is_dossiers_grade_3_line(dossier_pages) -> None:
    text = flat(" ".join(dossier_pages))
    assert ("ESMO Form 3: met = grade >= 3, dossier's payer screen (ours, no payer decision); "
            "ESMO-MCBS itself has no pass mark for this form") in text
