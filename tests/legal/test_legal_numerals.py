"""Chinese numerals both ways: the one implementation every layer uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.legal import (
    LegalValueError,
    chinese_digits,
    chinese_number,
    chinese_percent,
    parse_integer,
    parse_numeral,
)


def test_round_trip_zero_to_99999() -> None:
    """Every number an article, 款, 项, period or count can carry, in both cases."""
    for n in range(100_000):
        assert parse_integer(chinese_number(n)) == n
        assert parse_integer(chinese_number(n, capitals=True)) == n


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "零"),
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (15, "十五"),
        (20, "二十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (205, "二百零五"),
        (1000, "一千"),
        (1010, "一千零一十"),
        (10000, "一万"),
        (10001, "一万零一"),
        (15000, "一万五千"),
        (100000, "十万"),
        (100100, "十万零一百"),
        (110000, "十一万"),
        (200003, "二十万零三"),
        (100_010_000, "一亿零一万"),
        (10**12, "一万亿"),
    ],
)
def test_chinese_number(n: int, text: str) -> None:
    assert chinese_number(n) == text
    assert parse_integer(text) == n


@pytest.mark.parametrize(
    ("n", "text"),
    [(10, "壹拾"), (100000, "壹拾万"), (120500, "壹拾贰万零伍佰"), (1001, "壹仟零壹")],
)
def test_capitals_keep_the_leading_one(n: int, text: str) -> None:
    assert chinese_number(n, capitals=True) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十", 10),
        ("一十", 10),
        ("十五", 15),
        ("二十万零三", 200003),
        ("两千零二", 2002),
        ("一万零一十", 10010),
        ("二〇二六", 2026),
        ("一万二", 12000),
        ("三千五", 3500),
        ("62", 62),
        ("６２", 62),
        ("六十\n三", 63),  # a line break inside a statute's numeral
    ],
)
def test_parse_integer(text: str, value: int) -> None:
    assert parse_integer(text) == value


@pytest.mark.parametrize("bad", ["", "条", "abc", "十十", "一千千", "万", "1.5", "三点"])
def test_parse_integer_refuses(bad: str) -> None:
    with pytest.raises(LegalValueError) as err:
        parse_integer(bad)
    assert err.value.code == "invalid_numeral"
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("text", "value"),
    [("三点五", "3.5"), ("1.2万", "12000"), ("三亿五千万", "350000000"), ("1,234.5", "1234.5")],
)
def test_parse_numeral_is_exact(text: str, value: str) -> None:
    assert parse_numeral(text) == Decimal(value)


@pytest.mark.parametrize("bad", [-1, True, 10**16, 1.0])
def test_chinese_number_refuses(bad: int) -> None:
    with pytest.raises(LegalValueError):
        chinese_number(bad)


def test_chinese_digits() -> None:
    assert chinese_digits(2026) == "二〇二六"
    assert chinese_digits("2005", zero="零") == "二零零五"
    with pytest.raises(LegalValueError):
        chinese_digits("20a5")


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
