"""Dates in the style of issued tax decisions (numerals and citations: tests/legal)."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.drafting import chinese_date, figure_date


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2026, 7, 16), "二〇二六年七月十六日"),  # as printed on 南市税三稽罚〔2026〕9号
        (date(2026, 11, 27), "二〇二六年十一月二十七日"),
        (date(2025, 1, 1), "二〇二五年一月一日"),
        (date(2030, 10, 30), "二〇三〇年十月三十日"),
    ],
)
def test_chinese_date(d: date, text: str) -> None:
    assert chinese_date(d) == text


def test_figure_date_has_no_leading_zeros() -> None:
    assert figure_date(date(2025, 6, 5)) == "2025年6月5日"
    assert figure_date(date(2025, 12, 25)) == "2025年12月25日"
