"""PDF and HTML renditions of a drafted .docx, with the CJK fonts embedded in the PDF.

Why from the .docx: the .docx is the document of record (it is what is stored, hashed and
issued), so the PDF and the preview are read back from it paragraph by paragraph (text, role,
alignment, indents) instead of being a second template that could drift from it.

Why fpdf2 and Debian TrueType fonts: a pure-Python writer that subsets and embeds TrueType
(CID, Identity-H) fonts installs in seconds, while LibreOffice is hundreds of megabytes. The
fonts come from Debian (fonts-arphic-uming: a 明体/宋体 face for title and body; fonts-wqy-zenhei:
a 黑体 face for headings and as the fallback for any character the first lacks), installed by
`make system-deps`; nothing is fetched at run time.
"""

from __future__ import annotations

import copy
import html
import io
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from assistant.drafting.layout import (
    BODY_LINE_SPACING_PT,
    FONTS,
    MARGINS_CM,
    PAGE_HEIGHT_CM,
    PAGE_WIDTH_CM,
    Role,
)
from assistant.errors import InvalidInput, TaxAssistError

PDF_MEDIA_TYPE = "application/pdf"
CM_TO_PT = 72 / 2.54
INSTALL_HINT = "apt-get install fonts-arphic-uming fonts-wqy-zenhei（或运行 make system-deps）"

# Font files searched in order; TAXASSIST_PDF_FONT_SERIF / _SANS point at others (a bureau's
# licensed 仿宋_GB2312 or 方正小标宋 TrueType files, for instance).
SERIF_CANDIDATES = (
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
)
SANS_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


class RenderingUnavailable(TaxAssistError):
    """The fonts the PDF needs are not installed on this machine."""

    status_code = 503


@dataclass(frozen=True)
class PdfFonts:
    """The two faces a PDF uses: serif (宋/明) for title and body, sans (黑) for headings."""

    serif: Path
    sans: Path


def _first_existing(env: str, candidates: Iterable[str]) -> Path | None:
    override = os.environ.get(env)
    for name in ([override] if override else []) + list(candidates):
        path = Path(name)
        if path.is_file():
            return path
    return None


def find_fonts() -> PdfFonts:
    """The installed CJK fonts, or a 503 naming the packages that provide them."""
    serif = _first_existing("TAXASSIST_PDF_FONT_SERIF", SERIF_CANDIDATES)
    sans = _first_existing("TAXASSIST_PDF_FONT_SANS", SANS_CANDIDATES)
    if serif is None or sans is None:
        raise RenderingUnavailable(
            "pdf_fonts_missing",
            f"未安装生成PDF所需的中文字体，请执行：{INSTALL_HINT}",
            details={"serif": str(serif) if serif else None, "sans": str(sans) if sans else None},
        )
    return PdfFonts(serif, sans)


@lru_cache(maxsize=8)
def _cmap(path: Path) -> frozenset[int]:
    """Code points a font maps (first face of a collection); cached: the files are large."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() == ".ttc":
        font = TTCollection(str(path), lazy=True).fonts[0]
    else:
        font = TTFont(str(path), lazy=True)
    return frozenset(font.getBestCmap() or {})


def missing_glyphs(text: str, fonts: PdfFonts | None = None) -> list[str]:
    """Characters that neither face can draw (they would print as tofu), in order of appearance."""
    fonts = fonts or find_fonts()
    covered = _cmap(fonts.serif) | _cmap(fonts.sans)
    seen: list[str] = []
    for char in text:
        if char.isspace() and char != "\u3000":
            continue
        if ord(char) not in covered and char not in seen:
            seen.append(char)
    return seen


@dataclass(frozen=True)
class ParagraphLayout:
    """A .docx paragraph's text and layout, as the PDF and an edited draft re-use it."""

    text: str
    role: Role
    align: str  # L, C, R
    size_pt: float
    first_indent_pt: float
    right_indent_pt: float
    exact_line_pt: float | None


def _role_of(paragraph: Paragraph) -> Role:
    for run in paragraph.runs:
        rfonts = run._element.rPr.rFonts if run._element.rPr is not None else None
        east = rfonts.get(qn("w:eastAsia")) if rfonts is not None else None
        for role, spec in FONTS.items():
            if east == spec.name:
                return role
    return Role.BODY


def docx_paragraphs(docx: bytes) -> list[ParagraphLayout]:
    """Each paragraph of a stored .docx with its role and layout (422 for a damaged file)."""
    try:
        doc = Document(io.BytesIO(docx))
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise InvalidInput("invalid_docx", "无法读取该Word文档（.docx）。") from exc
    out: list[ParagraphLayout] = []
    for p in doc.paragraphs:
        role = _role_of(p)
        fmt = p.paragraph_format
        size = next((r.font.size.pt for r in p.runs if r.font.size is not None), None)
        size = size or FONTS[role].size_pt
        align = {
            WD_ALIGN_PARAGRAPH.CENTER: "C",
            WD_ALIGN_PARAGRAPH.RIGHT: "R",
        }.get(fmt.alignment, "L")
        exact = fmt.line_spacing.pt if hasattr(fmt.line_spacing, "pt") else None
        out.append(
            ParagraphLayout(
                text=p.text,
                role=role,
                align=align,
                size_pt=size,
                first_indent_pt=fmt.first_line_indent.pt if fmt.first_line_indent else 0.0,
                right_indent_pt=fmt.right_indent.pt if fmt.right_indent else 0.0,
                exact_line_pt=exact,
            )
        )
    return out


# Characters every PDF may draw besides its text (fpdf2 reserves U+0000 and the space; ASCII
# and common CJK punctuation keep a stray layout character from missing in a document's font).
ALWAYS_DRAWN = frozenset(
    ["\x00", *(chr(c) for c in range(0x20, 0x7F)), *"\u3000、。，：；？！（）《》“”‘’【】〔〕—…·"]
)


@dataclass(frozen=True)
class ParsedFace:
    """A font face parsed once per process: fpdf2's reading of it (code points, glyph ids,
    widths, descriptor) and the fontTools font whose glyphs each document's subset copies.

    Why: parsing a CJK face (27 000–45 000 glyphs, 11–17 MB of outlines) on every PDF, then
    subsetting the whole face, took 2–3 s a document; now a PDF builds a font of only the
    glyphs its text uses, from these tables, and fpdf2 subsets and embeds that."""

    fpdf_face: Any
    font: Any
    lock: threading.Lock


@lru_cache(maxsize=4)
def parsed_face(path: Path) -> ParsedFace:
    from fontTools import ttLib
    from fpdf import FPDF

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    probe = FPDF()
    probe.add_font("face", "", str(path))
    font = ttLib.TTFont(str(path), recalcTimestamp=False, fontNumber=0, lazy=True)
    for tag in ("head", "hhea", "hmtx", "OS/2", "post", "maxp", "glyf"):
        font[tag]  # read once, here; documents then only copy glyphs' bytes out of them
    return ParsedFace(probe.fonts["face"], font, threading.Lock())


def glyph_data(glyf: Any, name: str) -> bytes:
    """A glyph's outline as stored in the face (never expanded: the shared table stays as
    read, and copying bytes is what makes a document's font cheap)."""
    glyph = glyf.glyphs[name]
    data = getattr(glyph, "data", None)
    return bytes(data) if data is not None else bytes(glyph.compile(glyf, recalcBBoxes=False))


def glyph_font(face: ParsedFace, text: str) -> Any:
    """A TrueType font of the glyphs `text` needs (with their components), keeping the face's
    glyph names, outlines, metrics and vertical measures: what fpdf2 reads and embeds."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.ttLib import newTable
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    cmap: dict[int, str] = face.fpdf_face.cmap
    wanted = {ord(c) for c in set(text) | ALWAYS_DRAWN if ord(c) in cmap}
    source = face.font
    with face.lock:
        glyf = source["glyf"]
        names = {".notdef", *(cmap[c] for c in wanted)}
        raw: dict[str, bytes] = {}
        todo = list(names)
        while todo:
            name = todo.pop()
            raw[name] = glyph_data(glyf, name)
            glyph = Glyph(raw[name])
            if glyph.isComposite():
                glyph.expand(glyf)
                for part in glyph.getComponentNames(glyf):
                    if part not in names:
                        names.add(part)
                        todo.append(part)
    order = [".notdef", *sorted(names - {".notdef"})]
    head, hhea, os2, post = source["head"], source["hhea"], source["OS/2"], source["post"]
    builder = FontBuilder(head.unitsPerEm, isTTF=True)
    builder.font.recalcBBoxes = False  # the outlines are copied as stored, bounds included
    builder.setupHead(
        unitsPerEm=head.unitsPerEm,
        created=head.created,
        modified=head.modified,
        fontRevision=head.fontRevision,
        macStyle=head.macStyle,
        xMin=head.xMin,
        yMin=head.yMin,
        xMax=head.xMax,
        yMax=head.yMax,
    )
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({code: cmap[code] for code in wanted})
    # the glyf table as `setupGlyf` makes it, with the glyphs kept as stored (not expanded)
    glyphs = newTable("glyf")
    glyphs.glyphs = {name: Glyph(raw[name]) for name in order}
    glyphs.glyphOrder = order
    builder.font["loca"] = newTable("loca")
    builder.font["glyf"] = glyphs
    metrics = source["hmtx"].metrics
    builder.setupHorizontalMetrics({name: metrics[name] for name in order})
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap)
    builder.setupNameTable({"familyName": face.fpdf_face.name, "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        sTypoLineGap=os2.sTypoLineGap,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        usWeightClass=os2.usWeightClass,
        fsType=os2.fsType,
    )
    builder.setupPost(
        italicAngle=post.italicAngle,
        underlinePosition=post.underlinePosition,
        underlineThickness=post.underlineThickness,
        isFixedPitch=post.isFixedPitch,
    )
    maxp = copy.copy(source["maxp"])  # the face's maxima bound any subset's
    builder.font["maxp"] = maxp
    return builder.font


def add_parsed_font(pdf: Any, family: str, path: Path, text: str) -> None:
    """`pdf.add_font(family, "", path)` without parsing the file again: a copy of the parsed
    face with this document's own subset map and a font of the glyphs `text` needs (fpdf2's
    subsetter cuts its font file object down, so each document gets its own)."""
    from fpdf.fonts import SubsetMap

    parsed = parsed_face(path)
    face = copy.copy(parsed.fpdf_face)
    face.i = len(pdf.fonts) + 1
    face.fontkey = family
    face.ttfont = glyph_font(parsed, text)
    face._hbfont = None
    face.biggest_size_pt = 0
    face.missing_glyphs = []
    face.subset = SubsetMap(face)
    pdf.fonts[family] = face


def docx_to_pdf(docx: bytes, *, title: str = "", author: str = "") -> bytes:
    """A4 PDF of a drafted .docx with subset-embedded CJK fonts; tofu is refused, not printed."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    fonts = find_fonts()
    paragraphs = docx_paragraphs(docx)
    missing = missing_glyphs("".join(p.text for p in paragraphs), fonts)
    if missing:
        raise InvalidInput(
            "unprintable_characters",
            "文书中含有字体无法显示的字符，请修改后再生成PDF。",
            details={"characters": missing},
        )
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = FPDF(unit="pt", format=(PAGE_WIDTH_CM * CM_TO_PT, PAGE_HEIGHT_CM * CM_TO_PT))
    pdf.set_margins(
        MARGINS_CM["left"] * CM_TO_PT, MARGINS_CM["top"] * CM_TO_PT, MARGINS_CM["right"] * CM_TO_PT
    )
    pdf.set_auto_page_break(True, MARGINS_CM["bottom"] * CM_TO_PT)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("TaxAssist")
    text = "".join(p.text for p in paragraphs)
    add_parsed_font(pdf, "serif", fonts.serif, text)
    add_parsed_font(pdf, "sans", fonts.sans, text)
    pdf.set_fallback_fonts(["sans"])
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for para in paragraphs:
        pdf.set_font("sans" if para.role is Role.HEADING else "serif", size=para.size_pt)
        line = para.exact_line_pt or para.size_pt * (1.5 if para.role is Role.TITLE else 1.75)
        if not para.text:
            pdf.ln(line or BODY_LINE_SPACING_PT)
            continue
        indent = "\u3000" * round(para.first_indent_pt / para.size_pt) if para.size_pt else ""
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(
            width - para.right_indent_pt,
            line,
            indent + para.text,
            align=para.align,
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=WrapMode.CHAR,
        )
    return bytes(pdf.output())


def docx_to_html(docx: bytes, *, title: str = "") -> str:
    """A self-contained HTML preview: same paragraphs, same order, official fonts named in CSS."""
    paragraphs = docx_paragraphs(docx)
    css_align = {"L": "justify", "C": "center", "R": "right"}
    family = {
        Role.TITLE: f"'{FONTS[Role.TITLE].name}', '华文中宋', 'Songti SC', serif",
        Role.BODY: f"'{FONTS[Role.BODY].name}', '仿宋', 'FangSong', 'STFangsong', serif",
        Role.HEADING: f"'{FONTS[Role.HEADING].name}', 'SimHei', 'Heiti SC', sans-serif",
    }
    body: list[str] = []
    for para in paragraphs:
        style = (
            f"font-family:{family[para.role]};font-size:{para.size_pt:g}pt;"
            f"text-align:{css_align[para.align]};text-indent:{para.first_indent_pt:g}pt;"
            f"margin:0 {para.right_indent_pt:g}pt 0 0;"
            f"line-height:{(para.exact_line_pt or para.size_pt * 1.5):g}pt"
        )
        text = html.escape(para.text) if para.text else "&nbsp;"
        body.append(f'<p class="{para.role.value}" style="{style}">{text}</p>')
    page = (
        f"width:{PAGE_WIDTH_CM - MARGINS_CM['left'] - MARGINS_CM['right']:g}cm;"
        f"padding:{MARGINS_CM['top']:g}cm {MARGINS_CM['right']:g}cm "
        f"{MARGINS_CM['bottom']:g}cm {MARGINS_CM['left']:g}cm;margin:0 auto;background:#fff"
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f'<body style="background:#eee"><div class="page" style="{page}">\n'
        + "\n".join(body)
        + "\n</div></body></html>\n"
    )
