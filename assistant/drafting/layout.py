"""Page and type for Chinese official documents (GB/T 9704-2012), in one place.

A4 paper; margins top 3.7 cm, bottom 3.5 cm, left 2.8 cm, right 2.6 cm; title in 方正小标宋简体
二号 (22 pt), body in 仿宋_GB2312 三号 (16 pt), first-level headings in 黑体. Fonts a machine may
lack get a fallback recorded in the document's font table (w:altName), which Word honours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree


@dataclass(frozen=True)
class FontSpec:
    """An east-asian font, its fallbacks, its size; `latin` is used for Latin letters and digits."""

    name: str
    size_pt: float
    fallbacks: tuple[str, ...] = ()
    latin: str | None = None
    bold: bool = False


class Role(StrEnum):
    TITLE = "title"
    BODY = "body"
    HEADING = "heading"


FONTS: dict[Role, FontSpec] = {
    Role.TITLE: FontSpec("方正小标宋简体", 22, fallbacks=("华文中宋", "宋体")),
    Role.BODY: FontSpec("仿宋_GB2312", 16, fallbacks=("仿宋", "FangSong")),
    Role.HEADING: FontSpec("黑体", 16, fallbacks=("SimHei",)),
}

PAGE_WIDTH_CM = 21.0
PAGE_HEIGHT_CM = 29.7
MARGINS_CM = {"top": 3.7, "bottom": 3.5, "left": 2.8, "right": 2.6}
# GB/T 9704: 22 lines of 28 characters on the text block; 28 pt exact line spacing fits it.
BODY_LINE_SPACING_PT = 28.0
INDENT_CHARS = 2


def setup_page(doc: DocxDocument) -> None:
    """A4, official margins, Normal style in the body font (so empty paragraphs match too)."""
    for section in doc.sections:
        section.page_width = Cm(PAGE_WIDTH_CM)
        section.page_height = Cm(PAGE_HEIGHT_CM)
        section.top_margin = Cm(MARGINS_CM["top"])
        section.bottom_margin = Cm(MARGINS_CM["bottom"])
        section.left_margin = Cm(MARGINS_CM["left"])
        section.right_margin = Cm(MARGINS_CM["right"])
    normal = doc.styles["Normal"]
    body = FONTS[Role.BODY]
    normal.font.name = body.latin or body.name
    normal.font.size = Pt(body.size_pt)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), body.name)
    _declare_fallbacks(doc)


def _declare_fallbacks(doc: DocxDocument) -> None:
    """Add each configured font to word/fontTable.xml with its first fallback as w:altName."""
    part = doc.part.part_related_by(RT.FONT_TABLE)
    # python-docx loads the font table as an opaque Part (XML in `blob`); an XmlPart keeps it
    # parsed in `_element`. Handle both so an upgrade cannot silently drop the fallbacks.
    element = getattr(part, "_element", None)
    table = element if element is not None else parse_xml(part.blob)
    present = {el.get(qn("w:name")) for el in table.findall(qn("w:font"))}
    for spec in FONTS.values():
        if spec.name in present or not spec.fallbacks:
            continue
        table.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{spec.name}">'
                f'<w:altName w:val="{spec.fallbacks[0]}"/><w:charset w:val="86"/>'
                '<w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
            )
        )
        present.add(spec.name)
    if element is None:
        part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


def style_run(run: Run, role: Role) -> None:
    """Font name for Latin and east-asian text (w:eastAsia needs its own rFonts attribute)."""
    spec = FONTS[role]
    run.font.name = spec.latin or spec.name
    run.font.size = Pt(spec.size_pt)
    run.font.bold = spec.bold or None
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), spec.name)


def add_paragraph(
    doc: DocxDocument,
    text: str,
    *,
    role: Role = Role.BODY,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = True,
    right_indent_chars: int = 0,
) -> Paragraph:
    """One paragraph, one run: documents are read back paragraph per line."""
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    size = FONTS[role].size_pt
    if role is Role.TITLE:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(BODY_LINE_SPACING_PT)
    if indent:
        fmt.first_line_indent = Pt(size * INDENT_CHARS)
    if right_indent_chars:
        fmt.right_indent = Pt(size * right_indent_chars)
    style_run(paragraph.add_run(text), role)
    return paragraph
