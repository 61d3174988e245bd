"""Make templates/reference.docx: pandoc's default reference document with dossier's styles.

Run once by a maintainer (needs python-docx and pypandoc-binary):
    python tools/make_reference_docx.py templates/reference.docx
Start from pandoc's own reference.docx so every style pandoc writes exists, then set A4 pages,
fonts, heading colours, a compact table style and a "Page x of y" footer.
"""
import copy
import subprocess
import sys
from pathlib import Path

import docx
import pypandoc
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

NAVY = RGBColor(0x1A, 0x3A, 0x5C)
GREY = RGBColor(0x55, 0x55, 0x55)
BODY_FONT = "Calibri"
MONO_FONT = "Consolas"

target = Path(sys.argv[1])
default = subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file",
                          "reference.docx"], check=True, capture_output=True).stdout
target.write_bytes(default)
document = docx.Document(str(target))

# --- the body: pandoc ignores it; keep it empty so the file stays small
body = document.element.body
for child in list(body):
    if child.tag != qn("w:sectPr"):
        body.remove(child)

# --- page: A4 portrait, 22 mm side margins
section = document.sections[0]
section.orientation = WD_ORIENT.PORTRAIT
section.page_width, section.page_height = Mm(210), Mm(297)
section.left_margin = section.right_margin = Mm(22)
section.top_margin, section.bottom_margin = Mm(20), Mm(20)
section.different_first_page_header_footer = True  # cover page without footer
section.header_distance, section.footer_distance = Mm(10), Mm(10)


def field(paragraph, instruction):
    """A simple field (PAGE, NUMPAGES) in a footer paragraph."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


footer_style = document.styles.add_style("footer", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
footer_style.element.set(qn("w:styleId"), "Footer")
footer_style.element.attrib.pop(qn("w:customStyle"), None)
footer_style.base_style = document.styles["Normal"]
footer_style.font.size = Pt(8)
footer_style.font.color.rgb = GREY
footer_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
footer_style.paragraph_format.space_after = Pt(0)
footer = section.footer
footer.is_linked_to_previous = False
paragraph = footer.paragraphs[0]
paragraph.style = footer_style
paragraph.add_run("Page ")
field(paragraph, "PAGE")
paragraph.add_run(" of ")
field(paragraph, "NUMPAGES")

styles = document.styles


def fonts(style, name):
    rpr = style.element.get_or_add_rPr()
    old = rpr.find(qn("w:rFonts"))
    if old is not None:
        rpr.remove(old)
    style.font.name = name  # sets ascii/hAnsi
    rfonts = rpr.find(qn("w:rFonts"))
    rfonts.set(qn("w:cs"), name)
    rfonts.set(qn("w:eastAsia"), name)


def spacing(style, before, after):
    style.paragraph_format.space_before = Pt(before)
    style.paragraph_format.space_after = Pt(after)


normal = styles["Normal"]
fonts(normal, BODY_FONT)
normal.font.size = Pt(10)
normal.font.color.rgb = RGBColor(0x22, 0x22, 0x22)
# docDefaults: theme fonts and 12 pt would win for runs without a style
defaults = document.styles.element.find(qn("w:docDefaults"))
rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
for tag in ("w:rFonts", "w:sz", "w:szCs"):
    node = rpr_default.find(qn(tag))
    if node is not None:
        rpr_default.remove(node)
spacing(styles["Body Text"], 2, 6)
spacing(styles["First Paragraph"], 2, 6)
spacing(styles["Compact"], 1, 1)
styles["Compact"].font.size = Pt(8.5)

for name, size, before, after in (("Heading 1", 16, 18, 6), ("Heading 2", 13, 14, 4),
                                  ("Heading 3", 11, 10, 3), ("Heading 4", 10, 8, 2)):
    style = styles[name]
    fonts(style, BODY_FONT)
    style.font.size = Pt(size)
    style.font.bold = True
    style.font.color.rgb = NAVY
    color = style.element.rPr.find(qn("w:color"))
    for attr in ("w:themeColor", "w:themeShade"):
        color.attrib.pop(qn(attr), None)
    spacing(style, before, after)
styles["Heading 1"].paragraph_format.page_break_before = True

title = styles["Title"]
fonts(title, BODY_FONT)
title.font.size = Pt(24)
title.font.bold = True
title.font.color.rgb = NAVY
title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
title.paragraph_format.space_before = Pt(60)
for name in ("Subtitle", "Date", "Author"):
    style = styles[name]
    style.font.size = Pt(13 if name == "Subtitle" else 10)
    style.font.color.rgb = NAVY if name == "Subtitle" else GREY
    style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
toc = styles["TOC Heading"]
toc.font.color.rgb = NAVY
toc.font.bold = True
color = toc.element.rPr.find(qn("w:color"))
for attr in ("w:themeColor", "w:themeShade"):
    color.attrib.pop(qn(attr), None)
toc.paragraph_format.page_break_before = True

for name in ("Caption", "Table Caption", "Image Caption"):
    style = styles[name]
    style.font.size = Pt(8.5)
    style.font.color.rgb = GREY
styles["Table Caption"].paragraph_format.space_before = Pt(8)
styles["Table Caption"].paragraph_format.space_after = Pt(3)
styles["Image Caption"].paragraph_format.space_after = Pt(10)
styles["Hyperlink"].font.color.rgb = NAVY

verbatim = styles["Verbatim Char"]
fonts(verbatim, MONO_FONT)
verbatim.font.size = Pt(7.5)
source = styles.add_style("Source Code", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
source.element.set(qn("w:customStyle"), "1")
source.base_style = normal
fonts(source, MONO_FONT)
source.font.size = Pt(7.5)
ppr = source.element.get_or_add_pPr()
wrap = OxmlElement("w:wordWrap")
wrap.set(qn("w:val"), "off")
ppr.append(wrap)  # before spacing, as the schema orders pPr
source.paragraph_format.space_before = Pt(0)
source.paragraph_format.space_after = Pt(0)

# --- the table style pandoc gives every table: rules above and below, a navy header rule
table = styles["Table"].element
tblpr = table.find(qn("w:tblPr"))


def border(parent, side, size, color):
    node = OxmlElement(f"w:{side}")
    node.set(qn("w:val"), "single")
    node.set(qn("w:sz"), str(size))
    node.set(qn("w:space"), "0")
    node.set(qn("w:color"), color)
    parent.append(node)


borders = OxmlElement("w:tblBorders")
border(borders, "top", 8, "1A3A5C")
border(borders, "bottom", 8, "1A3A5C")
border(borders, "insideH", 2, "BFBFBF")
tblpr.insert(1, borders)
first = table.find(qn("w:tblStylePr"))
tcpr = first.find(qn("w:tcPr"))
tcpr.remove(tcpr.find(qn("w:tcBorders")))
tc_borders = OxmlElement("w:tcBorders")
border(tc_borders, "bottom", 8, "1A3A5C")
tcpr.insert(0, tc_borders)
shade = OxmlElement("w:shd")
shade.set(qn("w:val"), "clear")
shade.set(qn("w:color"), "auto")
shade.set(qn("w:fill"), "E8EEF4")
tcpr.insert(1, shade)
rpr = OxmlElement("w:rPr")
bold = OxmlElement("w:b")
rpr.append(bold)
color = OxmlElement("w:color")
color.set(qn("w:val"), "1A3A5C")
rpr.append(color)
first.insert(0, rpr)
first.insert(0, OxmlElement("w:pPr"))
first.find(qn("w:pPr")).append(copy.deepcopy(OxmlElement("w:keepNext")))

document.core_properties.title = "dossier reference document"
document.core_properties.author = "dossier"
document.core_properties.comments = ("Styles for dossier.docx: replace with your company template "
                                     "(dossier build --docx-reference FILE)")
document.save(str(target))
print(target, target.stat().st_size)

# --- contents entries (dossier pre-fills the TOC field with TOC1/TOC2 paragraphs)
document = docx.Document(str(target))
styles = document.styles
for level, indent in ((1, 0), (2, 11)):
    style = styles.add_style(f"toc {level}", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), f"TOC{level}")
    style.element.attrib.pop(qn("w:customStyle"), None)
    style.base_style = styles["Normal"]
    style.next_paragraph_style = styles["Normal"]
    after = style.element.find(qn("w:next"))
    ui = OxmlElement("w:uiPriority")
    ui.set(qn("w:val"), "39")
    after.addnext(ui)
    ui.addnext(OxmlElement("w:unhideWhenUsed"))
    style.paragraph_format.left_indent = Pt(indent)
    style.paragraph_format.space_before = Pt(4 if level == 1 else 0)
    style.paragraph_format.space_after = Pt(1)
    style.font.bold = level == 1
document.save(str(target))
print(target, target.stat().st_size)
