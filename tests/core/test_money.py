from decimal import Decimal

import pytest

from assistant.money import format_yuan, from_fen, to_chinese_capitals, to_fen, to_yuan


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("1.05", "壹元零伍分"),
        ("10", "壹拾元整"),
        ("1010.5", "壹仟零壹拾元伍角整"),
        ("2000", "贰仟元整"),
        ("10001", "壹万零壹元整"),
        ("12000", "壹万贰仟元整"),
        ("100000", "壹拾万元整"),
        ("230400.00", "贰拾叁万零肆佰元整"),
        ("500000", "伍拾万元整"),
        ("100000000", "壹亿元整"),
        ("120000000.10", "壹亿贰仟万元壹角整"),
    ],
)
def test_chinese_capitals(amount: str, capitals: str) -> None:
    assert to_chinese_capitals(amount) == capitals


def test_rounding_rule_is_half_up_to_cents() -> None:
    assert to_yuan("1.005") == Decimal("1.01")
    assert to_yuan("1.004") == Decimal("1.00")
    assert to_yuan(3) == Decimal("3.00")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        to_yuan(0.1)  # type: ignore[arg-type]


def test_fen_round_trip_and_format() -> None:
    assert to_fen("12000.5") == 1200050
    assert from_fen(1200050) == Decimal("12000.50")
    assert format_yuan(Decimal("12000")) == "12,000.00元"


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_not_an_amount(bad: str) -> None:
    with pytest.raises(ValueError):
        to_yuan(bad)
