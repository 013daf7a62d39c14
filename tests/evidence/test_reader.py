"""Reading each evidence format, on real decisions: PDF text layer, DOCX, PNG/JPEG and scanned
PDF by the real OCR model, and the 4xx for what cannot be read."""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path

import pytest

from assistant.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia
from assistant.evidence import inspect_evidence, read_text_layers
from assistant.evidence.ocr import OcrEngine
from assistant.evidence.reader import ocr_page_lines, pages_to_read
from assistant.registry import ModelRegistry, load_manifest, package_file, sha256_file
from assistant.transcription.evaluation import edit_distance
from tests.conftest import make_settings, requires_shared
from tests.evidence.scans import decision_pdfs, image_bytes, scanned_page

pytestmark = requires_shared
LIMITS = {"max_pages": 200, "max_pixels": 60_000_000, "render_dpi": 200}


def compact(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def cer(reference: str, hypothesis: str) -> float:
    ref, hyp = compact(reference), compact(hypothesis)
    return edit_distance(ref, hyp) / max(len(ref), 1)


@pytest.fixture(scope="module")
def decision() -> Path:
    return decision_pdfs()[0]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> OcrEngine:
    registry = ModelRegistry(make_settings(tmp_path_factory.mktemp("ocr")))
    engine: OcrEngine = registry.get("ocr")
    return engine


def test_text_pdf_is_read_from_its_layer_with_page_and_box(decision: Path) -> None:
    found = inspect_evidence(decision, **LIMITS)
    assert (found.kind, found.pages) == ("pdf", 4)
    lines, scans = read_text_layers(decision, "pdf")
    assert scans == []
    assert {line.page for line in lines} == {1, 2, 3, 4}
    title = next(line for line in lines if line.text == "税务处理决定书")
    assert title.page == 1 and title.confidence is None and title.source == "text_layer"
    (x0, y0), _, (x1, y1), _ = title.box or []
    # centred near the top of an A4 page (595 × 842 pt), top-left origin
    assert 100 < x0 < x1 < 500 and 0 < y0 < y1 < 250


def test_docx_paragraphs_and_table_cells(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("询问笔录")
    document.add_paragraph("")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "发票号码"
    table.cell(0, 1).text = "04512345"
    path = tmp_path / "note.docx"
    document.save(str(path))
    assert inspect_evidence(path, **LIMITS).kind == "docx"
    lines, scans = read_text_layers(path, "docx")
    assert scans == [] and [line.text for line in lines] == ["询问笔录", "发票号码", "04512345"]
    assert all(line.page is None and line.box is None for line in lines)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "PDF"])
def test_scan_formats_need_ocr(tmp_path: Path, decision: Path, fmt: str) -> None:
    image = scanned_page(decision, 0, dpi=100)
    path = tmp_path / f"scan.{fmt.lower()}"
    path.write_bytes(image_bytes(image, fmt))
    found = inspect_evidence(path, **LIMITS)
    assert found.kind == ("pdf" if fmt == "PDF" else "image")
    assert read_text_layers(path, found.kind) == ([], [1])


def test_mixed_pdf_reads_text_pages_and_sends_scanned_pages_to_ocr(
    tmp_path: Path, decision: Path
) -> None:
    import pypdfium2 as pdfium

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(image_bytes(scanned_page(decision, 1, dpi=100), "PDF"))
    merged = pdfium.PdfDocument.new()
    merged.import_pages(pdfium.PdfDocument(decision), [0])
    merged.import_pages(pdfium.PdfDocument(scan))
    path = tmp_path / "mixed.pdf"
    merged.save(path)
    lines, scans = read_text_layers(path, "pdf")
    assert scans == [2] and lines and {line.page for line in lines} == {1}


def test_scanned_page_is_read_back_by_ocr(
    tmp_path: Path, decision: Path, engine: OcrEngine
) -> None:
    """A real decision page, turned 2° and blurred, saved as an image-only PDF: OCR reads it
    back close to the page's own text layer, every line with page, box and confidence."""
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_bytes(scanned_page(decision, 0), "PDF"))
    pages = list(pages_to_read(path, "pdf", [1], dpi=200))
    lines = ocr_page_lines(pages[0], engine.read(pages[0].image))
    reference, _ = read_text_layers(decision, "pdf")
    ref_lines = sorted(
        (r for r in reference if r.page == 1), key=lambda r: (r.box or [[0, 0]])[0][1]
    )
    score = cer("".join(r.text for r in ref_lines), "".join(line.text for line in lines))
    assert score <= 0.02, score
    assert all(line.page == 1 and line.source == "ocr" for line in lines)
    assert all(0.5 <= (line.confidence or 0) <= 1 for line in lines)
    for line in lines:
        xs = [x for x, _ in line.box or []]
        ys = [y for _, y in line.box or []]
        assert len(xs) == 4 and -5 < min(xs) < max(xs) < 640 and -5 < min(ys) < max(ys) < 880


def test_upside_down_scan_is_read_turned_with_boxes_on_the_page_as_given(
    decision: Path, engine: OcrEngine
) -> None:
    import numpy as np

    page = scanned_page(decision, 3, dpi=150).convert("RGB")
    upright = engine.read(np.asarray(page))
    turned = engine.read(np.asarray(page.rotate(180)))
    assert [line.text for line in turned] == [line.text for line in upright]
    width, height = page.size
    for a, b in zip(upright, turned, strict=True):
        # the same line, on the turned image: its box mirrored through the page's centre
        assert abs(a.box[0][0] - (width - b.box[0][0])) < 6
        assert abs(a.box[0][1] - (height - b.box[0][1])) < 6


def test_ocr_models_are_the_wheels_own_and_load_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's files inside the rapidocr wheel, hash-checked; a fresh engine loads and
    reads with every network connection refused (nothing is downloaded)."""
    spec = load_manifest()["ocr"]
    for model_file in spec.files:
        path = package_file(model_file.parts[0])
        assert path.parent.name == "models" and path.parent.parent.name == "rapidocr"
        assert sha256_file(path) == model_file.sha256

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    registry = ModelRegistry(make_settings(tmp_path))
    engine = registry.get("ocr")
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (420, 80), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 40)
    ImageDraw.Draw(image).text((10, 15), "税务处理决定书", fill="black", font=font)
    import numpy as np

    assert [line.text for line in engine.read(np.asarray(image))] == ["税务处理决定书"]


def test_unsupported_and_damaged_files_are_refused(tmp_path: Path, decision: Path) -> None:
    cases: list[tuple[bytes, type[Exception], str]] = [
        (b"plain text, not a document", UnsupportedMedia, "unsupported_evidence_type"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
            UnsupportedMedia,
            "unsupported_evidence_type",
        ),
        (decision.read_bytes()[:3000], InvalidInput, "corrupt_file"),
        (image_bytes(scanned_page(decision, 0, dpi=50), "PNG")[:500], InvalidInput, "corrupt_file"),
        (b"PK\x03\x04" + b"\0" * 100, InvalidInput, "corrupt_file"),
    ]
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    cases.append((xlsx.getvalue(), UnsupportedMedia, "unsupported_evidence_type"))
    for n, (data, error, code) in enumerate(cases):
        path = tmp_path / f"bad{n}"
        path.write_bytes(data)
        with pytest.raises(error) as caught:
            inspect_evidence(path, **LIMITS)
        assert caught.value.code == code, (n, caught.value.code)


def test_page_and_pixel_limits(tmp_path: Path, decision: Path) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        inspect_evidence(decision, max_pages=3, max_pixels=60_000_000, render_dpi=200)
    assert caught.value.code == "too_many_pages"
    path = tmp_path / "big.png"
    path.write_bytes(image_bytes(scanned_page(decision, 0, dpi=100), "PNG"))
    with pytest.raises(PayloadTooLarge) as caught:
        inspect_evidence(path, max_pages=10, max_pixels=10_000, render_dpi=200)
    assert caught.value.code == "image_too_large"
