"""Officer-typed text becomes Simplified with full-width punctuation; numbers stay intact."""

from __future__ import annotations

import pytest

from assistant.drafting.text import to_document_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("逾期45日, 经责令改正.", "逾期45日，经责令改正。"),
        ("补缴税款12,000.50元;", "补缴税款12,000.50元；"),
        ("违反第(一)项:规定", "违反第（一）项：规定"),
        ("于14:33转款", "于14:33转款"),
        ("符合'一般'阶次", "符合“一般”阶次"),
        ('符合"严重"阶次', "符合“严重”阶次"),
        ("稅務機關檢查", "税务机关检查"),
        ("你 单位 未申报？", "你单位未申报？"),
        ("第一行\n\n  第二行  ", "第一行\n第二行"),
    ],
)
def test_to_document_text(raw: str, clean: str) -> None:
    assert to_document_text(raw) == clean
