"""Chinese numerals as used in article numbers (第六十三条, 第二百零五条, 第一千条)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.errors import InvalidInput
from assistant.knowledge import chinese_numeral_to_int, int_to_chinese_numeral


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("六十三", 63),
        ("一百", 100),
        ("一百一十", 110),
        ("二百零五", 205),
        ("二百一十二", 212),
        ("四百五十二", 452),
        ("一千", 1000),
        ("一千零一十", 1010),
        ("两千零二", 2002),
        ("一万零一十", 10010),
        ("62", 62),
        ("６２", 62),
        ("六十\n三", 63),
    ],
)
def test_chinese_numeral_to_int(text: str, value: int) -> None:
    assert chinese_numeral_to_int(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "零"), (10, "十"), (63, "六十三"), (110, "一百一十"), (205, "二百零五"), (1000, "一千")],
)
def test_int_to_chinese_numeral(value: int, text: str) -> None:
    assert int_to_chinese_numeral(value) == text


@given(st.integers(min_value=0, max_value=99_999_999))
def test_round_trip(n: int) -> None:
    assert chinese_numeral_to_int(int_to_chinese_numeral(n)) == n


@pytest.mark.parametrize("bad", ["", "条", "abc", "一二"])
def test_bad_numeral(bad: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        chinese_numeral_to_int(bad)
    assert exc.value.code == "invalid_numeral"


def test_negative_rejected() -> None:
    with pytest.raises(InvalidInput):
        int_to_chinese_numeral(-1)
