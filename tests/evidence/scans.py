"""Scanned pages made from real decisions: a page rendered, turned a little and blurred the way
a flatbed scan of a printed page is; shared by the evidence tests and benchmarks/ocr_eval.py."""

from __future__ import annotations

import io
from decimal import Decimal
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


# --- a scanned 发票清单 ---------------------------------------------------------------------------
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # fonts-wqy-zenhei
# (发票代码, 发票号码, 开票日期, 金额, 税额): six 13% invoices of a fictional seller
INVOICES: tuple[tuple[str, str, str, str, str], ...] = (
    ("4400231130", "00123451", "2024-03-05", "12,800.00", "1,664.00"),
    ("4400231130", "00123452", "2024-03-18", "25,600.00", "3,328.00"),
    ("4400231130", "00123453", "2024-04-02", "18,000.00", "2,340.00"),
    ("4400231130", "00123454", "2024-04-21", "30,400.00", "3,952.00"),
    ("4400232130", "00987601", "2024-05-09", "21,200.00", "2,756.00"),
    ("4400232130", "00987602", "2024-06-14", "20,000.00", "2,600.00"),
)


def invoice_totals() -> tuple[int, str, str]:
    """(count, amount, tax) of `INVOICES`, summed here rather than written down."""
    amount = sum(Decimal(i[3].replace(",", "")) for i in INVOICES)
    tax = sum(Decimal(i[4].replace(",", "")) for i in INVOICES)
    return len(INVOICES), f"{amount:.2f}", f"{tax:.2f}"


def invoice_list_scan(*, angle: float = 2.0, blur: float = 0.8) -> Image.Image:
    """A 发票清单 as a grey scan: a title, a table of `INVOICES` (code, number, date, amount,
    tax) and the 合计 sentence under it, drawn with a system CJK font at about 150 dpi,
    turned `angle` degrees and blurred; the same pixels on every run."""
    from PIL import ImageDraw, ImageFont

    count, amount, tax = invoice_totals()
    width, row = 1240, 54
    columns = (60, 150, 380, 590, 800, 1010, 1200)  # 序号 | 代码 | 号码 | 日期 | 金额 | 税额
    header = ("序号", "发票代码", "发票号码", "开票日期", "金额（元）", "税额（元）")
    top = 200
    height = top + row * (len(INVOICES) + 1) + 260
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    title = ImageFont.truetype(str(CJK_FONT), 44)
    body = ImageFont.truetype(str(CJK_FONT), 28)
    draw.text((width // 2, 70), "增值税专用发票清单", font=title, fill=0, anchor="mm")
    draw.text((60, 130), "销售方：示例商贸有限公司", font=body, fill=0)
    for r in range(len(INVOICES) + 2):
        y = top + r * row
        draw.line((columns[0], y, columns[-1], y), fill=0, width=2)
    bottom = top + row * (len(INVOICES) + 1)
    for x in columns:
        draw.line((x, top, x, bottom), fill=0, width=2)
    cells = [header] + [(str(n), *inv) for n, inv in enumerate(INVOICES, start=1)]
    for r, values in enumerate(cells):
        y = top + r * row + row // 2
        for c, value in enumerate(values):
            right = c >= 4 and r > 0  # figures right-aligned
            x = columns[c + 1] - 12 if right else (columns[c] + columns[c + 1]) // 2
            draw.text((x, y), value, font=body, fill=0, anchor="rm" if right else "mm")
    summary = f"合计：以上增值税专用发票共{count}份，金额合计{Decimal(amount):,.2f}元，"
    draw.text((60, bottom + 50), summary, font=body, fill=0)
    draw.text((60, bottom + 100), f"税额合计{Decimal(tax):,.2f}元。", font=body, fill=0)
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return turned.filter(ImageFilter.GaussianBlur(blur))
