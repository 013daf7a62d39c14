"""Reading an evidence file into lines, each with its page, box and confidence.

A PDF page with a text layer is read from it (exact, no confidence); a page without one (a
scan) and an image are rendered and read by OCR (`assistant.evidence.ocr`). A DOCX is read
paragraph by paragraph (and table cell by cell): it has no pages, so page and box are null.
Boxes are four corners, top-left origin: PDF points for PDF pages (OCR boxes are scaled back
from the rendering), pixels for images; the unit is stated in the reading's `reader` record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.evidence.formats import DOCX, IMAGE, PDF
from assistant.evidence.ocr import OcrLine

# A page with fewer visible characters in its text layer is treated as a scan (a header or a
# page number stamped onto a scanned page does not make it a text page).
MIN_TEXT_CHARS = 20
TEXT_LAYER, OCR, DOCX_TEXT = "text_layer", "ocr", "docx"


@dataclass(frozen=True)
class Line:
    """One line of evidence text and where it is: `page` (1-based; null for DOCX), `box`
    (four corners, or null), `confidence` (OCR score 0–1; null when read from text)."""

    page: int | None
    text: str
    box: list[list[float]] | None
    confidence: float | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PageImage:
    """A page to OCR: its number, the RGB pixels, and pixels per box unit (dpi/72 for PDF)."""

    page: int
    image: np.ndarray
    scale: float


def read_text_layers(path: Path, kind: str) -> tuple[list[Line], list[int]]:
    """The lines readable without OCR, and the pages (1-based) that need it."""
    if kind == DOCX:
        return read_docx(path), []
    if kind == IMAGE:
        return [], [1]
    if kind != PDF:
        raise ValueError(f"unknown evidence kind {kind!r}")
    import pypdfium2 as pdfium

    lines: list[Line] = []
    scans: list[int] = []
    document = pdfium.PdfDocument(path)
    try:
        for index in range(len(document)):
            page = document[index]
            page_lines = pdf_text_lines(page, index + 1)
            if sum(len(line.text.replace(" ", "")) for line in page_lines) < MIN_TEXT_CHARS:
                scans.append(index + 1)
            else:
                lines.extend(page_lines)
            page.close()
    finally:
        document.close()
    return lines, scans


def pdf_text_lines(page: Any, number: int) -> list[Line]:
    """A PDF page's text layer as lines (pdfium's own line breaks), boxed by their glyphs."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    height = page.get_height()
    lines: list[Line] = []
    chars: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []

    def flush() -> None:
        text = "".join(chars).strip()
        if text and boxes:
            x0 = min(b[0] for b in boxes)
            y0 = height - max(b[3] for b in boxes)
            x1 = max(b[2] for b in boxes)
            y1 = height - min(b[1] for b in boxes)
            box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            box = [[round(x, 1), round(y, 1)] for x, y in box]
            lines.append(Line(page=number, text=text, box=box, confidence=None, source=TEXT_LAYER))
        chars.clear()
        boxes.clear()

    try:
        for index in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
            char = chr(code) if 0 < code < 0x110000 else ""
            if char in ("\r", "\n"):
                flush()
                continue
            chars.append(char)
            if char.strip():
                boxes.append(textpage.get_charbox(index))
        flush()
    finally:
        textpage.close()
    return lines


def read_docx(path: Path) -> list[Line]:
    """Paragraphs and table cells in document order; empty ones are skipped."""
    import docx
    from docx.table import Table

    lines: list[Line] = []
    document = docx.Document(str(path))
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    lines.extend(_docx_line(p.text) for p in cell.paragraphs if p.text.strip())
        elif block.text.strip():
            lines.append(_docx_line(block.text))
    return lines


def _docx_line(text: str) -> Line:
    return Line(page=None, text=text.strip(), box=None, confidence=None, source=DOCX_TEXT)


def pages_to_read(path: Path, kind: str, pages: list[int], *, dpi: int) -> Iterator[PageImage]:
    """Render each page that needs OCR (PDF at `dpi`; an image as it is, upright by EXIF)."""
    if kind == IMAGE:
        from PIL import Image, ImageOps

        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
        yield PageImage(page=1, image=np.asarray(upright), scale=1.0)
        return
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        for number in pages:
            page = document[number - 1]
            bitmap = page.render(scale=dpi / 72)
            pixels = np.asarray(bitmap.to_pil().convert("RGB"))
            page.close()
            yield PageImage(page=number, image=pixels, scale=dpi / 72)
    finally:
        document.close()


def ocr_page_lines(page: PageImage, recognised: list[OcrLine]) -> list[Line]:
    """OCR lines of a page, boxes scaled back to the page's unit (points for PDF pages)."""
    return [
        Line(
            page=page.page,
            text=line.text,
            box=[[round(x / page.scale, 1), round(y / page.scale, 1)] for x, y in line.box],
            confidence=line.confidence,
            source=OCR,
        )
        for line in recognised
    ]
