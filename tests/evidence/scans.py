"""Scanned pages made from real decisions: a page rendered, turned a little and blurred the way
a flatbed scan of a printed page is; shared by the evidence tests and benchmarks/ocr_eval.py."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageFilter

from tests.conftest import SHARED_CORPORA

DECISIONS = SHARED_CORPORA / "decisions" / "originals"


def decision_pdfs() -> list[Path]:
    """The real decisions that are PDFs with a text layer (the reference text)."""
    return sorted(DECISIONS.glob("*.pdf"))


def scanned_page(
    pdf: Path, index: int, *, dpi: int = 200, angle: float = 2.0, blur: float = 1.0
) -> Image.Image:
    """Page `index` of `pdf` as a grey scan: rendered at `dpi`, rotated `angle` degrees (white
    corners), Gaussian blur of radius `blur` pixels."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        page = document[index]
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        page.close()
    finally:
        document.close()
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return turned.filter(ImageFilter.GaussianBlur(blur))


def image_bytes(image: Image.Image, fmt: str) -> bytes:
    """PNG, JPEG (quality 85) or an image-only PDF (a scan: no text layer) at 200 dpi."""
    out = io.BytesIO()
    if fmt == "PDF":
        image.convert("RGB").save(out, format="PDF", resolution=200.0)
    elif fmt == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=85)
    else:
        image.save(out, format=fmt)
    return out.getvalue()
