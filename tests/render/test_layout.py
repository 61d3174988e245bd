"""Page layout of the PDF dossier as a reader pages through it: contents that list every section
(the verdict matrix too) with the right page numbers, listings whose header rows repeat on every
page, and no page left more than half empty except where a section ends.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _prerequisites import require_program
from PIL import Image
from pypdf import PdfReader

from dossier.endpoints.compute import compute_endpoints
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.bundle import safe_file_name
from dossier.render.context import build_context
from dossier.render.pdf import render_html, write_pdfs
from dossier.scoring.engine import score_cohorts
from dossier.scoring.inputs import metrics_from_results
from dossier.scoring.rulebook import load_rulebook

BUILD_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LONG_VERDICTS = ("dabrafenib + trametinib | Biliary tract cancer | BRAF p.V600E",
                 "nivolumab | Solid tumours | CD274 amplification",
                 "ribociclib | Solid tumours | CCND1 amplification")
UNLISTED = ("cover", "contents")
"""The only sections the contents leave out: the pages before them."""


@pytest.fixture(scope="module")
def context():
    """Three cohorts of the demo registry whose verdicts (long clause tables) once left half a
    page empty each, and the largest cohort, whose listing runs over more than one page."""
    patients, cohorts = demo_registry()
    registry = registry_from_frames(patients, cohorts, name="layout.csv")
    results = compute_endpoints(registry.patients)
    book = load_rulebook()
    verdicts = score_cohorts(book, metrics_from_results(results, registry.cohorts))
    present = set(results.loc[results["group_by"] == "cohort_id", "group"])
    biggest = registry.patients["cohort_id"].value_counts().index[0]  # a listing > 1 page
    largest = [c for c in LONG_VERDICTS if c in present and c != biggest] + [biggest]
    return build_context(results=results, verdicts=verdicts, registry=registry,
                         rule_files=book.rule_sets, parameters={"sd_weeks": 16},
                         title="Layout dossier", build_time=BUILD_TIME, software_version="1",
                         data_sha256=registry.sha256, data_name="layout.csv", only=largest)


@pytest.fixture(scope="module")
def pdf(context, tmp_path_factory) -> Path:
    taken: set[str] = set()
    names = {c["id"]: safe_file_name(c["id"], taken) for c in context["cohorts"]}
    out = tmp_path_factory.mktemp("layout")
    return write_pdfs(context, out, cohort_file_names=names, workers=1)["dossier"]


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


class _Sections(HTMLParser):
    """Collects the ids of sections and <h1>/<h2> headings and the contents' link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.toc: list[str] = []
        self._in_toc = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "nav" and found.get("id") == "contents":
            self._in_toc = True
        elif tag in ("h1", "h2", "section") and found.get("id"):
            self.ids.append(str(found["id"]))
        elif tag == "a" and self._in_toc and found.get("href", "").startswith("#"):
            self.toc.append(str(found["href"])[1:])

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_toc = False


def test_contents_link_every_section_and_heading_with_an_id(context):
    parser = _Sections()
    parser.feed(render_html(context))
    assert "verdict-matrix" in parser.toc
    missing = [i for i in parser.ids if i not in parser.toc and i not in UNLISTED]
    assert missing == []
    assert all(c["anchor"] in parser.toc for c in context["cohorts"])


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_contents_give_the_page_of_the_verdict_matrix_and_the_other_sections(pages):
    contents = _flat(pages[1])
    assert contents.startswith(_flat(pages[1]).split("Contents")[0] + "Contents")
    for title, heading in (("Verdict matrix", "Verdict matrix"),
                           ("Clinical benefit rate", "Clinical benefit rate by cohort"),
                           ("Objective response rate", "Objective response rate by cohort"),
                           ("Patient listings", "Patient listings"),
                           ("Validation warnings", "Validation warnings")):
        found = re.search(re.escape(title) + r"[ .]*(\d+)", contents)
        assert found, title
        page = int(found.group(1))
        assert heading in _flat(pages[page - 1]), (title, page)
        assert heading not in _flat(pages[page - 2]) or title == "Objective response rate"


def _listing_pages(pages: list[str]) -> list[int]:
    """The pages of the cohorts' listings (each starts a page; so do the warnings after them)."""
    start = next(i for i, t in enumerate(pages) if i > 2 and "Patient listing: " in t)
    end = next(i for i, t in enumerate(pages) if i > start and "Validation warnings" in t)
    return list(range(start, end))


def test_listing_header_rows_repeat_on_every_page_a_listing_runs_onto(context, pages):
    header = _flat(context["cohorts"][0]["listing"]["header"])
    titles = [_flat(f"{c['number']}. {c['id']} ({c['listing']['n']} patients)")
              for c in context["cohorts"]]
    spread = {t: [i for i in _listing_pages(pages) if t in _flat(pages[i])] for t in titles}
    assert any(len(found) > 1 for found in spread.values()), "no listing spans two pages"
    for i in _listing_pages(pages):
        text = _flat(pages[i])
        on_page = sum(text.count(t) for t in titles)
        assert on_page >= 1, i + 1
        assert text.count(header) == on_page, i + 1  # each title comes with its header row


def _fill(png: Path) -> float:
    """Share of the body (between running head and footer) above the last inked row."""
    image = Image.open(png).convert("L")
    width, height = image.size
    top, bottom = int(height * 0.09), int(height * 0.92)
    pixels = image.load()
    last = top
    for y in range(top, bottom):
        if any(pixels[x, y] < 200 for x in range(int(width * 0.05), int(width * 0.95), 2)):
            last = y
    return (last - top) / (bottom - top)


def test_no_page_is_more_than_half_empty_except_where_a_section_ends(context, pdf, pages,
                                                                      tmp_path):
    require_program("pdftoppm", "poppler-utils", ci_installs=True)
    subprocess.run(["pdftoppm", "-png", "-r", "20", "-gray", str(pdf), str(tmp_path / "p")],
                   check=True)
    images = sorted(tmp_path.glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    assert len(images) == len(pages)
    starts = ["Contents", "Executive summary", "Methods", "Cohorts", "Cross-cohort comparison",
              "Appendix", "Validation warnings",
              *(f"{c['number']}. {c['id']}" for c in context["cohorts"]),
              "Patient listing: "]  # a long cohort id may wrap in its listing's heading
    for index, image in enumerate(images[:-1]):
        if _fill(image) >= 0.5:
            continue
        body = _flat(" ".join(pages[index + 1].splitlines()[:3]))  # running head comes last
        assert any(body.startswith(s) for s in starts), (
            f"page {index + 1} is {_fill(image):.0%} full and page {index + 2} does not "
            f"start a section: {body[:80]!r}")
