"""What an uploaded evidence file is, decided from its bytes, and whether it can be read.

The name and the declared content type are the uploader's; the bytes decide. Checked before
anything is stored: an unsupported type is 415, a damaged or encrypted file 422, one over the
size, page or pixel limits 413 — never a failure later inside the reading job.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

PDF, DOCX, IMAGE = "pdf", "docx", "image"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
SUPPORTED = "PDF、DOCX、PNG、JPEG"
# A DOCX unpacks to XML; more than this many times its size is a zip bomb, not a document.
DOCX_MAX_RATIO = 100


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file as inspected: kind (pdf | docx | image), media type, page count."""

    kind: str
    media_type: str
    pages: int


def sniff(head: bytes) -> str | None:
    """The format named by the file's first bytes: pdf, zip, png, jpeg, ole (old .doc) or None."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return None


def inspect_evidence(
    path: Path, *, max_pages: int, max_pixels: int, render_dpi: int
) -> EvidenceFile:
    """Identify and open the file far enough to know it can be read (see module doc)."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    found = sniff(head)
    if found == "pdf":
        return _inspect_pdf(path, max_pages=max_pages, max_pixels=max_pixels, dpi=render_dpi)
    if found == "zip":
        return _inspect_docx(path)
    if found in ("png", "jpeg"):
        return _inspect_image(path, found, max_pixels=max_pixels)
    hint = "旧版 Word（.doc）文件请另存为 DOCX 或 PDF 后上传。" if found == "ole" else ""
    raise UnsupportedMedia(
        "unsupported_evidence_type",
        f"不支持的证据文件类型，仅支持 {SUPPORTED}。{hint}",
        details={"supported": sorted(MEDIA_TYPES.values()), "detected": found},
    )


def corrupt(kind: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "corrupt_file",
        f"文件已损坏或无法读取（{kind}）。",
        details={"kind": kind, "reason": reason[:200]},
    )


def _inspect_pdf(path: Path, *, max_pages: int, max_pixels: int, dpi: int) -> EvidenceFile:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InvalidInput(
                "encrypted_pdf", "PDF 文件已加密，请提交未加密的文件。", details={"kind": PDF}
            ) from exc
        raise corrupt(PDF, str(exc)) from exc
    try:
        pages = len(document)
        if pages == 0:
            raise corrupt(PDF, "no pages")
        if pages > max_pages:
            raise PayloadTooLarge(
                "too_many_pages",
                f"文件页数（{pages}）超过上限（{max_pages}）。",
                details={"pages": pages, "max_pages": max_pages},
            )
        for index in range(pages):
            width, height = document.get_page_size(index)
            pixels = int(width * dpi / 72) * int(height * dpi / 72)
            if pixels > max_pixels:
                raise PayloadTooLarge(
                    "page_too_large",
                    f"第 {index + 1} 页幅面过大，无法识别。",
                    details={"page": index + 1, "pixels": pixels, "max_pixels": max_pixels},
                )
    finally:
        document.close()
    return EvidenceFile(kind=PDF, media_type=MEDIA_TYPES["pdf"], pages=pages)


def _inspect_docx(path: Path) -> EvidenceFile:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise corrupt(DOCX, str(exc)) from exc
    if "word/document.xml" not in names:
        raise UnsupportedMedia(
            "unsupported_evidence_type",
            f"压缩包不是 Word 文档（DOCX），仅支持 {SUPPORTED}。",
            details={"supported": sorted(MEDIA_TYPES.values()), "detected": "zip"},
        )
    if unpacked > DOCX_MAX_RATIO * max(path.stat().st_size, 1):
        raise PayloadTooLarge(
            "docx_unpacked_too_large",
            "DOCX 文件解压后过大，无法读取。",
            details={"unpacked_bytes": unpacked},
        )
    import docx

    try:
        docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, lxml errors, ValueError …
        raise corrupt(DOCX, f"{type(exc).__name__}: {exc}") from exc
    return EvidenceFile(kind=DOCX, media_type=MEDIA_TYPES["docx"], pages=1)


def _inspect_image(path: Path, fmt: str, *, max_pixels: int) -> EvidenceFile:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise PayloadTooLarge(
                        "image_too_large",
                        f"图片像素（{width}×{height}）超过上限。",
                        details={"width": width, "height": height, "max_pixels": max_pixels},
                    )
                image.load()  # decodes the whole image: a truncated file fails here
    except PayloadTooLarge:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        raise corrupt(IMAGE, f"{type(exc).__name__}: {exc}") from exc
    return EvidenceFile(kind=IMAGE, media_type=MEDIA_TYPES[fmt], pages=1)
