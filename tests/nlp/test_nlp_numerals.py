"""Exact amount parsing: every written form to Decimal yuan, no float anywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.money import format_yuan, to_chinese_capitals
from assistant.nlp import parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,000元", "12000.00"),
        ("1.2万元", "12000.00"),
        ("12000.50元", "12000.50"),
        ("人民币3万元", "30000.00"),
        ("壹万贰仟元整", "12000.00"),
        ("三万元", "30000.00"),
        ("1,234,567.89元", "1234567.89"),
        ("壹元零伍分", "1.05"),
        ("叁拾肆元伍角陆分", "34.56"),
        ("伍角陆分", "0.56"),
        ("柒角整", "0.70"),
        ("一万二千五百元", "12500.00"),
        ("一万二元", "12000.00"),
        ("三千五元", "3500.00"),
        ("一千零五元", "1005.00"),
        ("十万元", "100000.00"),
        ("两万元", "20000.00"),
        ("1.6亿元", "160000000.00"),
        ("三亿五千万元", "350000000.00"),
        ("壹拾贰万零伍佰元整", "120500.00"),
        ("3万5千元", "35000.00"),
        ("三点五万元", "35000.00"),
        ("￥1,234.56", "1234.56"),
        ("RMB 88元", "88.00"),
        ("12000", "12000.00"),
        ("95,137,891.95 元", "95137891.95"),
    ],
)
def test_forms(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize(
    "text",
    ["", "元", "万元", "abc", "1,23,4元", "十十元", "1.2.3元", "-5元", "三元五毛", "一千千元"],
)
def test_unparsable_raises(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_float_precision_traps_are_exact() -> None:
    # 0.1 + 0.2 style traps: 1.1万 must be exactly 11000, 0.07万 exactly 700
    assert parse_amount("1.1万元") == Decimal("11000.00")
    assert parse_amount("0.07万元") == Decimal("700.00")
    assert parse_amount("8.9999万元") == Decimal("89999.00")


def test_rounds_half_up_to_fen() -> None:
    assert parse_amount("0.125元") == Decimal("0.13")


amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("999999999999.99"), places=2
).filter(lambda d: d.is_finite())


@given(amounts)
def test_capitals_round_trip(amount: Decimal) -> None:
    assert parse_amount(to_chinese_capitals(amount)) == amount


@given(amounts)
def test_formatted_round_trip(amount: Decimal) -> None:
    assert parse_amount(format_yuan(amount)) == amount
