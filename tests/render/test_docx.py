"""The Word dossier, read back with python-docx and as raw OOXML.

What a regulatory-affairs reader opening dossier.docx would notice: headings the navigation
pane and contents do not pick up, a number in a table that differs from the results table, a
figure missing, a cohort id that turned into markup or a field, no page numbers, their company
template ignored, or a file that changes between two identical builds.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from docx.shared import RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from dossier.build import analyse
from dossier.config import Settings
from dossier.registry.demo import demo_registry
from dossier.registry.load import registry_from_frames
from dossier.render.context import build_context
from dossier.render.docx import reference_document, write_docx

INJECTED_DRUG = '=HYPERLINK("http://evil.example","click")'
INJECTED_TUMOUR = "<script>alert(1)</script> & <b>bold</b> *x* | $y$ `z` [l](http://evil.example)"
BUILD_TIME = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
PART_HEADINGS = ["Executive summary", "Research question and study design",
                 "Background and unmet need", "Methods", "Cohorts",
                 "Cross-cohort comparison", "Discussion", "Appendix"]


@pytest.fixture(scope="module")
def analysed():
    patients, cohorts = demo_registry(n_patients=160, seed=11)
    first = patients["cohort_id"].iloc[0]
    rows = patients["cohort_id"] == first
    patients.loc[rows, "drug"] = INJECTED_DRUG
    patients.loc[rows, "tumour_type"] = INJECTED_TUMOUR
    new_id = f"{INJECTED_DRUG} | {INJECTED_TUMOUR}"
    patients.loc[rows, "cohort_id"] = new_id
    cohorts.loc[cohorts["cohort_id"] == first, "cohort_id"] = new_id
    registry = registry_from_frames(patients, cohorts, name="small.csv")
    analysis = analyse(Settings(), registry)
    context = build_context(
        results=analysis.results, verdicts=analysis.verdicts, registry=registry,
        rule_files=analysis.rules.rule_sets, parameters=analysis.parameters,
        title="Word test dossier", build_time=BUILD_TIME, software_version="0.1.0",
        data_sha256=registry.sha256, data_name="small.csv")
    return analysis, context, new_id


@pytest.fixture(scope="module")
def built(analysed, tmp_path_factory):
    _, context, _ = analysed
    path = write_docx(context, tmp_path_factory.mktemp("docx") / "dossier.docx")
    return path, docx.Document(str(path))


def _part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def _blocks(document) -> list[Paragraph | Table]:
    return list(document.iter_inner_content())


def _cohort_tables(document, heading: str) -> dict[str, Table]:
    """The tables of one cohort section, keyed by their first header cell."""
    blocks = _blocks(document)
    start = next(k for k, b in enumerate(blocks) if isinstance(b, Paragraph)
                 and b.style.name == "Heading 2" and b.text == heading)
    tables: dict[str, Table] = {}
    for block in blocks[start + 1:]:
        if isinstance(block, Paragraph) and block.style.name in ("Heading 1", "Heading 2"):
            break
        if isinstance(block, Table):
            tables.setdefault(block.rows[0].cells[0].text, block)
    return tables


def _percent(value: float) -> str:
    return f"{value * 100:.1f}"


def _months(value: float, missing: str = "NR") -> str:
    return missing if pd.isna(value) else f"{value:.2f}"


def test_parts_and_cohorts_are_word_headings_the_navigation_pane_shows(built, analysed):
    _, document = built
    analysis, context, _ = analysed
    level1 = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    level2 = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert level1 == PART_HEADINGS
    for cohort in context["cohorts"]:
        assert f"{cohort['number']}. {cohort['id']}" in level2
    assert len(context["cohorts"]) == analysis.registry.cohorts.shape[0]


def test_contents_field_lists_every_part_and_links_to_its_heading(built):
    path, _ = built
    document = _part(path, "word/document.xml")
    instructions = re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", document)
    assert [i for i in instructions if "SEQ" not in i] == ['TOC \\o "1-2" \\h \\z \\u']
    entries = re.findall(r'<w:pStyle w:val="TOC1" /></w:pPr><w:hyperlink w:anchor="([^"]+)"'
                         r'[^>]*><w:r><w:t[^>]*>([^<]*)<', document)
    assert [text for _, text in entries] == PART_HEADINGS
    bookmarks = set(re.findall(r'<w:bookmarkStart w:id="\d+" w:name="([^"]+)"', document))
    assert {anchor for anchor, _ in entries} <= bookmarks


def test_every_cohorts_endpoint_table_equals_the_results_table(built, analysed):
    _, document = built
    analysis, context, _ = analysed
    results = analysis.results[analysis.results["group_by"] == "cohort_id"]
    labels = {"cbr": "Clinical benefit rate (CR/PR or SD >= 16 weeks)",
              "orr": "Objective response rate (confirmed CR/PR)",
              "dcr": "Disease control rate (CR/PR/SD)"}
    medians = {"pfs": "Median progression-free survival", "os": "Median overall survival"}
    for cohort in context["cohorts"]:
        tables = _cohort_tables(document, f"{cohort['number']}. {cohort['id']}")
        cells = {row.cells[0].text: [c.text for c in row.cells]
                 for row in tables["Endpoint"].rows[1:]}
        rows = results[results["group"] == cohort["id"]]
        for endpoint, label in labels.items():
            rate = rows.query("endpoint == @endpoint and statistic == 'rate' "
                              "and denominator == 'evaluable'").iloc[0]
            assert cells[label][1] == (f"{_percent(rate['estimate'])}% ({_percent(rate['lower'])}"
                                       f"-{_percent(rate['upper'])})"), (cohort["id"], endpoint)
            assert cells[label][2] == f"{int(rate['x'])}/{int(rate['n'])}"
        for endpoint, label in medians.items():
            median = rows[(rows["endpoint"] == endpoint)
                          & (rows["statistic"] == "median")].iloc[0]
            # NR = the curve stays above 0.5; NE = not estimable (a lower limit, or a curve
            # that fell to 0 because every patient had the event)
            gone = "NE" if median["x"] >= median["n"] else "NR"
            assert cells[label][1] == (f"{_months(median['estimate'], gone)} ("
                                       f"{_months(median['lower'], 'NE')}-"
                                       f"{_months(median['upper'], gone)}) months")
        flow = {row.cells[0].text: row.cells[1].text for row in tables["Step"].rows[1:]}
        treated = rows.query("endpoint == 'patients' and statistic == 'treated'")["estimate"]
        evaluable = rows.query("endpoint == 'patients' and statistic == 'evaluable'")["estimate"]
        assert [flow["Started treatment"], flow["Response-evaluable"]] == [
            str(int(treated.iloc[0])), str(int(evaluable.iloc[0]))]


def test_verdict_matrix_is_a_word_table_of_every_cohorts_verdicts(built, analysed):
    _, document = built
    analysis, context, _ = analysed
    matrix = next(t for t in document.tables if t.rows[0].cells[0].text == "#"
                  and t.rows[0].cells[1].text == "Cohort"
                  and len(t.rows) == len(context["cohorts"]) + 1)
    columns = [c.text for c in matrix.rows[0].cells[2:]]
    assert columns == context["comparison"]["matrix"]["columns"]
    shorts = {v.criteria_id: c["short"] for v in analysis.verdicts
              for c in context["criteria"] if c["id"] == v.criteria_id}
    for row in matrix.rows[1:]:
        cohort_id = row.cells[1].text
        for column, cell in zip(columns, row.cells[2:], strict=True):
            verdict = next(v for v in analysis.verdicts if v.cohort_id == cohort_id
                           and shorts[v.criteria_id] == column)
            assert cell.text.split(" (")[0] == verdict.verdict


def test_every_figure_is_embedded_as_png_with_its_svg_and_a_numbered_caption(built, analysed):
    path, document = built
    _, context, _ = analysed
    expected = (sum(len(c["km_svgs"]) + 1 + bool(c["population"]["waterfall_svg"])
                    for c in context["cohorts"])
                + len(context["comparison"]["forest_cbr"])
                + len(context["comparison"]["forest_orr"]))
    assert len(document.inline_shapes) == expected
    xml = _part(path, "word/document.xml")
    rels = dict(re.findall(r'Id="([^"]+)" Target="([^"]+)"',
                           _part(path, "word/_rels/document.xml.rels")))
    blips = re.findall(r'<a:blip r:embed="([^"]+)">.*?<asvg:svgBlip [^>]*r:embed="([^"]+)"',
                       xml)
    assert len(blips) == expected
    with zipfile.ZipFile(path) as archive:
        for png, svg in blips:
            assert archive.read("word/" + rels[png])[:8] == b"\x89PNG\r\n\x1a\n"
            assert archive.read("word/" + rels[svg]).startswith(b"<svg")
        assert 'Extension="svg"' in archive.read("[Content_Types].xml").decode()
    captions = [p.text for p in document.paragraphs if p.style.name == "Image Caption"]
    assert [c.split(".")[0] for c in captions] == [f"Figure {k}" for k in
                                                   range(1, expected + 1)]
    assert any("overall survival" in c.lower() for c in captions)
    # the PDF's own figure numbers ("Figure 3.1.") stay out of Word's numbered captions
    assert not any(re.search(r"Figure \S+\. Figure", c) for c in captions)


def test_injected_markup_and_formulas_stay_plain_text(built, analysed):
    path, document = built
    _, context, injected_id = analysed
    number = next(c["number"] for c in context["cohorts"] if c["id"] == injected_id)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert f"{number}. {injected_id}" in headings
    facts = _cohort_tables(document, f"{number}. {injected_id}")["Drug"]
    values = {row.cells[0].text: row.cells[1].text for row in facts.rows}
    assert values["Drug"] == INJECTED_DRUG
    assert values["Tumour type"] == INJECTED_TUMOUR
    xml = _part(path, "word/document.xml")
    assert "<w:fldSimple" not in xml
    instructions = re.findall(r"<w:instrText[^>]*>([^<]*)<", xml)
    assert instructions[0] == 'TOC \\o "1-2" \\h \\z \\u'
    assert set(instructions[1:]) == {" SEQ Table \\* ARABIC ", " SEQ Figure \\* ARABIC "}
    captions = [p for p in document.paragraphs
                if p.style.name in ("Table Caption", "Image Caption")]
    assert len(instructions) == 1 + len(captions)
    assert "<script" not in xml and "<b>" not in xml
    assert "evil.example" not in _part(path, "word/_rels/document.xml.rels")
    assert "<w:hyperlink r:id" not in xml


def test_appendix_listing_is_a_word_table_of_every_patient_with_its_values(built, analysed):
    _, document = built
    analysis, _, _ = analysed
    tables = [t for t in document.tables if t.rows[0].cells[0].text == "Patient"]
    header = [c.text for c in tables[0].rows[0].cells]
    assert header == ["Patient", "Stage", "BOR", "Confirmed", "PFS, months", "PFS event",
                      "OS, months", "OS event", "AE grade"]
    rows = {row.cells[0].text: [c.text for c in row.cells] for t in tables for row in t.rows[1:]}
    patients = analysis.registry.patients.set_index("patient_id")
    assert set(rows) == set(patients.index.astype(str))
    for pid, cells in list(rows.items())[:40]:
        patient = patients.loc[pid]
        assert cells[4] == f"{patient['pfs_days'] / 30.4375:.1f}", pid
        assert cells[7] == ("yes" if patient["os_event"] else "no"), pid
        assert cells[2] == ("NE*" if pd.isna(patient["best_response"])
                            else str(patient["best_response"])), pid
    assert not any(p.style.name == "Source Code" for p in document.paragraphs)


def test_no_table_row_breaks_across_pages_and_headers_repeat(built):
    path, document = built
    xml = _part(path, "word/document.xml")
    rows = re.findall(r"<w:tr>(.*?)</w:tc>", xml, re.S)
    assert len(rows) == sum(len(t.rows) for t in document.tables)
    assert all(r.startswith("<w:trPr><w:cantSplit />") for r in rows)
    headers = sum(1 for r in rows if '<w:tblHeader w:val="on" />' in r.split("</w:trPr>")[0])
    assert headers == sum(1 for t in document.tables if t.rows[0].cells[0].text
                          not in ("Data source", "Drug", "Source"))


def test_word_refreshes_fields_on_opening_and_the_first_page_says_so(built):
    path, document = built
    settings = _part(path, "word/settings.xml")
    assert '<w:updateFields w:val="true" />' in settings
    assert settings.index("<w:updateFields") < settings.index("<w:decimalSymbol")
    first = [p.text for p in document.paragraphs[:12]]
    assert any(t.startswith("Update fields (F9) before exporting to PDF") for t in first)


def test_captions_are_word_seq_fields_numbered_in_order(built):
    path, _ = built
    xml = _part(path, "word/document.xml")
    for label, style in (("Table", "TableCaption"), ("Figure", "ImageCaption")):
        numbers = re.findall(
            rf'<w:pStyle w:val="{style}" /></w:pPr><w:r><w:t xml:space="preserve">{label} '
            rf'</w:t></w:r><w:r><w:fldChar w:fldCharType="begin" /></w:r><w:r><w:instrText '
            rf'xml:space="preserve"> SEQ {label} \\\* ARABIC </w:instrText></w:r><w:r>'
            rf'<w:fldChar w:fldCharType="separate" /></w:r><w:r><w:t>(\d+)</w:t>', xml)
        assert numbers == [str(k) for k in range(1, len(numbers) + 1)]
        assert len(numbers) == xml.count(f'<w:pStyle w:val="{style}" />') > 0


def test_verdicts_are_level_4_headings_and_the_cover_shows_the_date_once(built, analysed):
    _, document = built
    analysis, context, _ = analysed
    level4 = [p.text for p in document.paragraphs if p.style.name == "Heading 4"]
    assert len(level4) == len(analysis.verdicts) - sum(
        len(c["not_applicable"]) for c in context["cohorts"])
    assert all(": " in t and " – " in t for t in level4)
    cover = "\n".join(p.text for p in document.paragraphs[:12]) + "\n".join(
        c.text for row in document.tables[0].rows for c in row.cells)
    assert cover.count(context["meta"]["build_date"]) == 1


def test_footer_numbers_the_pages_and_the_page_is_a4(built):
    path, document = built
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer = _part(path, "word/footer1.xml")
    assert 'w:instr="PAGE"' in footer and 'w:instr="NUMPAGES"' in footer
    assert "footerReference" in _part(path, "word/document.xml")
    # the cover is a distinct first page: no footer on it
    assert "<w:titlePg />" in _part(path, "word/document.xml").rsplit("<w:sectPr>", 1)[1]


def test_tables_take_the_reference_table_style_with_a_repeating_header(built):
    path, document = built
    xml = _part(path, "word/document.xml")
    assert xml.count("<w:tbl>") == len(document.tables)
    assert xml.count('<w:tblStyle w:val="Table" />') == len(document.tables)
    styles = _part(path, "word/styles.xml")
    table_style = re.search(r'<w:style [^>]*w:styleId="Table".*?</w:style>', styles, re.S)
    assert "1A3A5C" in table_style.group(0)
    assert '<w:tblHeader w:val="on" />' in xml


def test_a_company_reference_document_restyles_the_dossier(analysed, tmp_path):
    _, context, _ = analysed
    company = docx.Document(str(reference_document()))
    heading = company.styles["Heading 1"]
    heading.font.name = "Georgia"
    heading.font.color.rgb = RGBColor(0x80, 0x00, 0x20)
    company.sections[0].header.paragraphs[0].text = "ACME Oncology - confidential"
    company.save(str(tmp_path / "acme.docx"))
    path = write_docx(context, tmp_path / "dossier.docx", reference_doc=tmp_path / "acme.docx")
    document = docx.Document(str(path))
    assert document.styles["Heading 1"].font.name == "Georgia"
    assert document.styles["Heading 1"].font.color.rgb == RGBColor(0x80, 0x00, 0x20)
    assert document.sections[0].header.paragraphs[0].text == "ACME Oncology - confidential"
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == PART_HEADINGS


def test_a_reference_that_is_not_a_word_file_is_refused_by_name(analysed, tmp_path):
    _, context, _ = analysed
    fake = tmp_path / "template.docx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(ValueError, match=r"template\.docx: not a Word document"):
        write_docx(context, tmp_path / "out.docx", reference_doc=fake)
    with pytest.raises(ValueError, match=r"missing\.docx: --docx-reference file not found"):
        write_docx(context, tmp_path / "out.docx", reference_doc=tmp_path / "missing.docx")
    assert not (tmp_path / "out.docx").exists()


def test_narrative_written_in_quarto_appears_in_word_and_prompts_elsewhere(analysed, tmp_path):
    _, context, _ = analysed
    path = write_docx(context, tmp_path / "dossier.docx", narrative={
        "narrative-unmet-need": "No approved therapy exists for **these patients**."})
    document = docx.Document(str(path))
    paragraphs = [p for p in document.paragraphs if "No approved therapy" in p.text]
    assert [p.text for p in paragraphs] == ["No approved therapy exists for these patients."]
    assert any(run.bold and run.text == "these patients" for run in paragraphs[0].runs)
    prompts = [p.text for p in document.paragraphs if p.text.startswith("[Narrative to write")]
    assert len(prompts) == 2 + len(context["cohorts"])  # background, discussion, each cohort


def test_two_builds_of_the_same_data_give_the_same_bytes(built, analysed, tmp_path):
    path, _ = built
    _, context, _ = analysed
    again = write_docx(context, tmp_path / "again.docx")
    assert again.read_bytes() == path.read_bytes()
    with zipfile.ZipFile(again) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2024, 5, 1, 12, 30, 0)}
        assert "2024-05-01T12:30:00Z" in archive.read("docProps/core.xml").decode()
