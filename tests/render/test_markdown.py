"""Escaping for pandoc markdown, checked by pandoc itself, and the markdown helpers.

What a reader would notice if these failed: a cohort name that turns into a link, a list, a
table column, maths, a citation or raw HTML in the Word or Quarto dossier, or a listing cut
short by a stray fence.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.render import markdown
from dossier.render.docx import pandoc_path
from dossier.render.markdown import (
    FigureSink,
    NarrativeSink,
    RawMarkdown,
    code_block,
    listing_table,
    markdown_environment,
    md_escape,
    pngs_of,
    svg_size_mm,
    yaml_markdown,
)

NASTY = [
    '=HYPERLINK("http://evil.example","click")', "<script>alert(1)</script>", "*bold* _it_",
    "a | b | c", "[link](http://x.example)", "`code`", "$x^2$", "H~2~O", "@smith2020",
    "1. first", "- item", "+ item", "> quote", "# heading", ":::", "---", "a--b", "wait...",
    "&amp; &lt;", "\\emph{x}", "{{< include x >}}", "![img](x.png)", "(a) first", "iv. four",
    "A. Smith", "50.0% (29.1-70.9)", "SD >= 16 weeks", "it's \"quoted\"", "  leading",
    "trailing\\", "<!-- comment -->", "http://bare.example", "x^y^", "[^note]", "|", "~~s~~",
]
TEXT = st.text(alphabet=st.sampled_from(list("ab1 .-+*_[]()<>|$^~@&\"'#!:=%{}`\\/?;,\n\t")),
               min_size=1, max_size=30)
MARKERS = st.text(alphabet=st.sampled_from(list("ab1 -+*_<>#&@=:%/!?;")), min_size=1, max_size=8)
"""Short runs of the characters escaped only in some places (line start, around words)."""


def _block_inlines(block: dict) -> list[dict]:
    """The inline content of a paragraph, heading or a list's first item; else the block."""
    if block["t"] in ("Para", "Plain"):
        return block["c"]
    if block["t"] == "Header":
        return block["c"][2]
    if block["t"] in ("BulletList", "OrderedList"):
        items = block["c"][1] if block["t"] == "OrderedList" else block["c"]
        first = (items[0] or [{"t": "empty item"}])[0]
        return first["c"] if first["t"] in ("Para", "Plain") else [first]
    return [{"t": block["t"]}]


def _blocks_of(markdown: str) -> list[dict]:
    done = subprocess.run([pandoc_path(), "--from", "markdown", "--to", "json"],
                          input=markdown, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["blocks"]


def _inlines_of(markdown: str) -> list[list[dict]]:
    """The inline content of each block pandoc reads, as pandoc's JSON AST."""
    return [_block_inlines(block) for block in _blocks_of(markdown)]


def _plain(inlines: list[dict]) -> str | None:
    """The text of inlines that are only words and spaces; None if pandoc made anything else."""
    parts = []
    for inline in inlines:
        if inline["t"] == "Str":
            parts.append(inline["c"])
        elif inline["t"] == "Space":
            parts.append(" ")
        else:
            return None
    return "".join(parts)


def _expected(text: str) -> str:
    return " ".join(text.split())


def _check(texts: list[str]) -> None:
    contexts = [("", ""), ("- ", ""), ("# ", ""), ("Before ", " after")]
    source = "\n\n".join(f"{before}{md_escape(t)}{after}" for t in texts
                         for before, after in contexts if t.strip())
    found = _inlines_of(source)
    wanted = [f"{before.lstrip('-# ')}{_expected(t)}{after}".strip() for t in texts
              for before, after in contexts if t.strip()]
    assert len(found) == len(wanted), source
    for inlines, text in zip(found, wanted, strict=True):
        assert _plain(inlines) == text, (text, inlines)


def test_nasty_values_read_back_as_the_same_plain_text_in_every_context() -> None:
    _check(NASTY)


@settings(max_examples=25, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=20))
def test_any_text_reads_back_as_itself_and_nothing_else(texts: list[str]) -> None:
    _check(texts)


def test_dossier_numbers_stay_readable_in_the_markdown() -> None:
    for text in ("50.0% (29.1-70.9)", "3.4 (2.8-3.5) months", "12/24", "SD >= 16 weeks",
                 "9.8 (7.4-NR) months", "1,610", "p < 0.05", "ESMO_form_3", "a -> b",
                 "+1 grade", "-2.5", "C&D", "x@y.example", "issue #3 of 5"):
        assert md_escape(text) == text
    assert md_escape("<b>") == "\\<b>" and md_escape("_it_") == "\\_it\\_"
    assert md_escape("it's") == "it\\'s"  # else smart quotes would print it’s


def _rendered(texts: list[str]) -> tuple[str, list[str]]:
    """Each text where templates place values: starting a line, a list item or a heading,
    inside a line, and in table cells; the markdown rendered and the plain text wanted."""
    places = [("", ""), ("- ", ""), ("1. ", ""), ("# ", ""), ("Before ", " after"),
              ("See (", ")")]
    template = markdown_environment().from_string(
        "{% for t in texts %}{% for b, a in places %}{{ b }}{{ t }}{{ a }}\n\n{% endfor %}"
        "| x | y |\n|---|---|\n| {{ t }} | a {{ t }} |\n\n{% endfor %}")
    raw = [(RawMarkdown(b), RawMarkdown(a)) for b, a in places]
    source = markdown.resolve_block_escapes(template.render(texts=texts, places=raw))
    wanted = []
    for t in texts:
        wanted += [_expected(f"{b.lstrip('-1.# ')}{t}{a}") for b, a in places]
        wanted += [_expected(t), _expected(f"a {t}")]
    return source, wanted


@settings(max_examples=25, deadline=None)
@given(st.lists(MARKERS.filter(str.strip), min_size=1, max_size=12))
def test_values_start_blocks_only_as_text_wherever_the_template_places_them(texts) -> None:
    source, wanted = _rendered(texts)
    found: list[str | None] = []
    for block in _blocks_of(source):
        if block["t"] == "Table":
            body = block["c"][4][0][3][0][1]
            found += [_plain(cell[4][0]["c"] if cell[4] else []) for cell in body]
        else:
            found.append(_plain(_block_inlines(block)))
    assert found == wanted, source


def test_a_value_starting_a_line_keeps_its_block_escape_and_a_table_cell_drops_it() -> None:
    template = markdown_environment().from_string("{{ v }}\n\n| {{ v }} | x {{ v }} |")
    text = markdown.resolve_block_escapes(template.render(v="> quoted"))
    assert text == "\\> quoted\n\n| > quoted | x > quoted |"


def test_a_value_after_a_table_is_not_taken_for_its_caption() -> None:
    for value in ("Table: x", "table: y", ": z", ":1"):
        blocks = _blocks_of(f"| a |\n|---|\n| b |\n\n{md_escape(value)}\n")
        assert [b["t"] for b in blocks] == ["Table", "Para"], value
        assert _plain(blocks[1]["c"]) == value


def test_table_cells_split_only_at_the_templates_pipes() -> None:
    row = "| " + " | ".join(md_escape(v) for v in ("a | b", "<c>", "d")) + " |"
    table = f"| x | y | z |\n|---|---|---|\n{row}\n"
    done = subprocess.run([pandoc_path(), "--from", "markdown", "--to", "json"], input=table,
                          capture_output=True, text=True, check=True)
    body = json.loads(done.stdout)["blocks"][0]["c"][4][0][3][0][1]
    cells = [_plain(cell[4][0]["c"]) for cell in body]
    assert cells == ["a | b", "<c>", "d"]


def test_yaml_title_is_read_as_literal_text() -> None:
    title = "O'Brien's <b>*trial*</b>: 50%"
    done = subprocess.run([pandoc_path(), "--from", "markdown", "--to", "json"],
                          input=f"---\ntitle: {yaml_markdown(title)}\n---\n", capture_output=True,
                          text=True, check=True)
    meta = json.loads(done.stdout)["meta"]["title"]["c"]
    assert _plain(meta) == title


def test_code_block_fence_outgrows_any_backticks_in_the_listing() -> None:
    block = code_block(["DRUP-0001  PR", "odd ```` id", "DRUP-0003  SD"])
    assert block.startswith("`````\n") and block.endswith("\n`````")
    done = subprocess.run([pandoc_path(), "--from", "markdown", "--to", "json"], input=block,
                          capture_output=True, text=True, check=True)
    (only,) = json.loads(done.stdout)["blocks"]
    assert only["t"] == "CodeBlock"
    assert only["c"][1] == "DRUP-0001  PR\nodd ```` id\nDRUP-0003  SD"


def test_figures_are_numbered_sized_and_named_uniquely() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="83.00mm" height="40.00mm" '
           'viewBox="0 0 10 10"><title>Cohort 2: overall survival</title></svg>')
    sink = FigureSink()
    first = sink.figure(svg, "cohort-2-km", "KM *plot*")
    second = sink.figure(svg, "cohort-2-km", "again")
    assert first == '![Figure 1. KM \\*plot\\*](figures/cohort-2-km.png){width="50%"}'
    assert second.startswith("![Figure 2. again](figures/cohort-2-km-")
    assert svg_size_mm(svg) == (83.0, 40.0)
    quarto = FigureSink(quarto=True, extension="")
    assert quarto.figure(svg, "f", "cap") == '![cap](figures/f){#fig-f width="50%"}'
    assert quarto.table("cohort-1-endpoints", "Endpoints") == (
        ": Endpoints {#tbl-cohort-1-endpoints}")
    assert FigureSink().table("x", "Endpoints") == ": Table 1. Endpoints"


def test_narrative_sink_keeps_written_text_and_prompts_for_the_rest() -> None:
    sink = NarrativeSink({"narrative-background": "Written.",
                          "narrative-gone": "Orphan text.",
                          "narrative-unmet-need": "*\\[Narrative to write: old prompt\\]*",
                          "narrative-old-prompt": "*\\[Narrative to write: x\\]*"})
    assert sink.section("background", "Write it") == (
        "::: {#narrative-background .narrative}\nWritten.\n:::")
    assert sink.section("unmet-need", "New prompt") == (
        "::: {#narrative-unmet-need .narrative}\n*\\[New prompt\\]*\n:::")
    assert [o["id"] for o in sink.orphans()] == ["narrative-gone"]
    with pytest.raises(ValueError, match="appears twice"):
        sink.section("background", "again")


def test_pngs_drawn_by_worker_processes_equal_those_drawn_here() -> None:
    svgs = [('<svg xmlns="http://www.w3.org/2000/svg" width="40mm" height="20mm" '
             f'viewBox="0 0 40 20"><rect x="2" y="2" width="{k * 5}" height="10" '
             'fill="#1a3a5c"/><text x="2" y="18" font-size="4">DRUP</text></svg>')
            for k in range(1, 5)]
    markdown._PNGS.clear()
    parallel = pngs_of(svgs, workers=2)
    markdown._PNGS.clear()
    here = pngs_of(svgs, workers=1)
    assert parallel == here
    assert len(set(here)) == len(svgs)
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in here)
    width = int.from_bytes(here[0][16:20], "big")
    assert width == round(40 / 25.4 * markdown.PNG_DPI)


def test_listing_becomes_a_table_whose_cells_read_back_as_the_listing_values() -> None:
    listing = {"header": "Patient    Stage  BOR  PFS, months  AE grade",
               "lines": ["DRUP-0001  1      PR          12.3         3",
                         "id|*x*     2      NE*          0.4",
                         "-7         1      SD           NR          2"]}
    table = listing_table(listing)
    (block,) = _blocks_of(table)
    assert block["t"] == "Table"
    head = [_plain(cell[4][0]["c"]) for cell in block["c"][3][1][0][1]]
    assert head == ["Patient", "Stage", "BOR", "PFS, months", "AE grade"]
    rows = [[_plain(cell[4][0]["c"]) if cell[4] else "" for cell in row[1]]
            for row in block["c"][4][0][3]]
    assert rows == [["DRUP-0001", "1", "PR", "12.3", "3"], ["id|*x*", "2", "NE*", "0.4", ""],
                    ["-7", "1", "SD", "NR", "2"]]
    aligns = [a[0]["t"] for a in block["c"][2]]
    assert aligns == ["AlignLeft", "AlignLeft", "AlignLeft", "AlignRight", "AlignRight"]


def test_listing_whose_columns_do_not_come_apart_stays_fixed_width_text() -> None:
    listing = {"header": "Pt         Stage", "lines": ["AB  CDEFG  1"]}  # id "AB  CDEFG"
    assert listing_table(listing) == "```\nPt         Stage\nAB  CDEFG  1\n```"
