"""Numerals, dates and statute citations in the style of issued tax decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assistant.drafting import (
    LegalBasis,
    article_reference,
    chinese_date,
    chinese_number,
    chinese_percent,
    figure_date,
    legal_basis_sentence,
)
from assistant.errors import InvalidInput

TAX = "中华人民共和国税收征收管理法"
ADMIN = "中华人民共和国行政处罚法"
INVOICE = "中华人民共和国发票管理办法"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "零"),
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (15, "十五"),
        (20, "二十"),
        (60, "六十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (201, "二百零一"),
        (1000, "一千"),
        (1010, "一千零一十"),
        (10000, "一万"),
        (10001, "一万零一"),
        (15000, "一万五千"),
        (100100, "十万零一百"),
    ],
)
def test_chinese_number(n: int, text: str) -> None:
    assert chinese_number(n) == text


@pytest.mark.parametrize("bad", [-1, True, 10**8])
def test_chinese_number_refuses(bad: int) -> None:
    with pytest.raises(ValueError):
        chinese_number(bad)


@pytest.mark.parametrize(
    ("statute_id", "reference"),
    [
        ("税收征收管理法:63", "第六十三条"),
        ("税收征收管理法:63:1", "第六十三条第一款"),
        ("税收征收管理法:63:1:2", "第六十三条第一款第（二）项"),
        ("行政处罚法:72:1:1", "第七十二条第一款第（一）项"),
        ("发票管理办法:37:1", "第三十七条第一款"),
        ("税收征收管理法:10", "第十条"),
        ("刑法:201", "第二百零一条"),
        ("刑法:110", "第一百一十条"),
        ("税收征收管理法:88:3@2015-04-24", "第八十八条第三款"),
    ],
)
def test_article_reference(statute_id: str, reference: str) -> None:
    assert article_reference(statute_id) == reference


@pytest.mark.parametrize(
    "bad",
    ["税收征收管理法", "税收征收管理法:六十三", ":63", "税收征收管理法:0", "法:1:2:3:4", "法:1.5"],
)
def test_article_reference_refuses_bad_ids(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        article_reference(bad)
    assert err.value.code == "invalid_statute_id"
    assert err.value.details["statute_id"] == bad


@pytest.mark.parametrize(
    ("basis", "sentence"),
    [
        (
            [LegalBasis("税收征收管理法:63:1", TAX), LegalBasis("行政处罚法:32", ADMIN)],
            "《中华人民共和国税收征收管理法》第六十三条第一款、《中华人民共和国行政处罚法》第三十二条",
        ),
        (
            [LegalBasis("税收征收管理法:63:1", TAX), LegalBasis("税收征收管理法:64", TAX)],
            "《中华人民共和国税收征收管理法》第六十三条第一款、第六十四条",
        ),
        (
            # Articles of one law are grouped even when another law is cited in between.
            [
                LegalBasis("税收征收管理法:63:1", TAX),
                LegalBasis("行政处罚法:32", ADMIN),
                LegalBasis("税收征收管理法:64", TAX),
            ],
            "《中华人民共和国税收征收管理法》第六十三条第一款、第六十四条、"
            "《中华人民共和国行政处罚法》第三十二条",
        ),
        (
            # A provision cited twice is printed once.
            [LegalBasis("发票管理办法:37:1", INVOICE), LegalBasis("发票管理办法:37:1", INVOICE)],
            "《中华人民共和国发票管理办法》第三十七条第一款",
        ),
        (
            [LegalBasis("行政处罚法:72:1:1", ADMIN)],
            "《中华人民共和国行政处罚法》第七十二条第一款第（一）项",
        ),
    ],
)
def test_legal_basis_sentence(basis: list[LegalBasis], sentence: str) -> None:
    assert legal_basis_sentence(basis) == sentence


def test_legal_basis_sentence_refuses_title_of_another_law() -> None:
    with pytest.raises(InvalidInput) as err:
        legal_basis_sentence([LegalBasis("税收征收管理法:63", ADMIN)])
    assert err.value.code == "statute_title_mismatch"


def test_legal_basis_sentence_refuses_empty_basis() -> None:
    with pytest.raises(InvalidInput) as err:
        legal_basis_sentence([])
    assert err.value.code == "missing_legal_basis"


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


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Decimal("3"), "百分之三"),
        (Decimal("3.00"), "百分之三"),
        (Decimal("0.5"), "百分之零点五"),
        (Decimal("2.50"), "百分之二点五"),
        (Decimal("50"), "百分之五十"),
        (Decimal("0.05"), "百分之零点零五"),
    ],
)
def test_chinese_percent(rate: Decimal, text: str) -> None:
    assert chinese_percent(rate) == text


def test_chinese_percent_refuses_float() -> None:
    with pytest.raises(TypeError):
        chinese_percent(3.0)  # type: ignore[arg-type]
