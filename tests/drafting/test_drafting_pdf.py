"""PDF from the .docx: CJK fonts embedded, no tofu, pages render with pdftoppm; HTML preview."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from assistant.drafting import DocumentType, render
from assistant.drafting.pdf import (
    RenderingUnavailable,
    docx_to_html,
    docx_to_pdf,
    find_fonts,
    missing_glyphs,
)
from assistant.errors import InvalidInput
from tests.drafting.test_drafting_documents import PERSON, make_ctx


def _fonts_or_skip() -> None:
    try:
        find_fonts()
    except RenderingUnavailable as exc:
        pytest.skip(f"CJK fonts not installed ({exc.message}); run `make system-deps`")


def _embedded_fonts(data: bytes) -> dict[str, bool]:
    """BaseFont name -> whether a font file is embedded, for every font the pages use."""
    reader = PdfReader(io.BytesIO(data))
    found: dict[str, bool] = {}
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            desc = descendants[0].get_object() if descendants else font
            descriptor = desc["/FontDescriptor"].get_object()
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_pdf_embeds_cjk_fonts_and_keeps_the_text(doc_type: DocumentType) -> None:
    _fonts_or_skip()
    rendered = render(doc_type, make_ctx())
    data = docx_to_pdf(rendered.docx, title=rendered.title)
    assert data.startswith(b"%PDF-")
    fonts = _embedded_fonts(data)
    assert fonts, "no fonts on the pages"
    assert all(fonts.values()), fonts
    # Subset fonts are named ABCDEF+Name; both the 宋/明 body face and the 黑 heading face are used.
    assert all("+" in name for name in fonts), fonts
    assert len(fonts) == 2, fonts
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    squeezed = "".join(text.split())
    for needle in (
        rendered.title,
        "示税稽罚〔2026〕3号",
        "壹万贰仟叁佰肆拾伍元陆角",
        "示例商贸有限公司",
    ):
        assert needle in squeezed, needle
    assert missing_glyphs(rendered.text) == []


def test_pdf_pages_render_to_png(tmp_path: Path) -> None:
    _fonts_or_skip()
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed; run `make system-deps`")
    data = docx_to_pdf(render(DocumentType.PENALTY_DECISION, make_ctx(party=PERSON)).docx)
    pdf = tmp_path / "decision.pdf"
    pdf.write_bytes(data)
    result = subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "font" not in result.stderr.lower(), result.stderr  # poppler reports missing fonts
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(data)).pages) >= 1
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pages)
    # A page with text is not blank: many non-white pixels would need a PNG decoder; size is a
    # cheap proxy (a blank A4 page at 40 dpi compresses to well under 2 kB).
    assert pages[0].stat().st_size > 4000


def test_unprintable_character_is_refused_not_printed_as_tofu() -> None:
    _fonts_or_skip()
    assert missing_glyphs("税务\U000f0000局") == ["\U000f0000"]
    rendered = render(DocumentType.PENALTY_NOTICE, make_ctx(facts="事实\U000f0000。"))
    with pytest.raises(InvalidInput) as err:
        docx_to_pdf(rendered.docx)
    assert err.value.code == "unprintable_characters"


def test_missing_fonts_give_503_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.drafting.pdf.SERIF_CANDIDATES", ())
    monkeypatch.setenv("TAXASSIST_PDF_FONT_SERIF", "/nonexistent/font.ttf")
    with pytest.raises(RenderingUnavailable) as err:
        find_fonts()
    assert err.value.status_code == 503
    assert "fonts-arphic-uming" in err.value.message


def test_html_preview_has_every_paragraph_escaped_and_in_order() -> None:
    rendered = render(
        DocumentType.PENALTY_DECISION, make_ctx(facts="收入<script>x</script>未申报。")
    )
    page = docx_to_html(rendered.docx, title=rendered.title)
    assert "<script>x" not in page and "&lt;script&gt;" in page
    positions = [page.find(line) for line in ("一、违法事实及证据", "二、处罚决定", "（印章）")]
    assert -1 not in positions and positions == sorted(positions)
    assert 'class="title"' in page and 'class="heading"' in page
    assert page.count("<p ") == len(rendered.text.splitlines())
