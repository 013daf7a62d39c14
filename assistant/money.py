"""Money as Decimal yuan with 2 places; the one rounding rule; Chinese capital numerals.

Rounding rule (stated once): amounts are quantized to 0.01 yuan with ROUND_HALF_UP,
as Chinese tax documents print them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from assistant.legal.numerals import CAPITAL_DIGITS, chinese_number

CENT = Decimal("0.01")


def to_yuan(value: Decimal | int | str) -> Decimal:
    """Parse and quantize to 2 places. Floats are refused: they cannot hold money exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str, int or Decimal")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the context holds (1e1000000)
        raise ValueError(f"amount out of range: {str(value)[:40]!r}") from exc


def to_fen(value: Decimal | int | str) -> int:
    return int(to_yuan(value) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def format_yuan(value: Decimal) -> str:
    """Figures as real decisions print them: 12,000.00元."""
    return f"{to_yuan(value):,.2f}元"


def to_chinese_capitals(value: Decimal | int | str) -> str:
    """Amount in Chinese capital numerals, e.g. 12000 -> 壹万贰仟元整, 1.05 -> 壹元零伍分."""
    amount = to_yuan(value)
    if amount < 0:
        return "负" + to_chinese_capitals(-amount)
    fen_total = int(amount * 100)
    integer, fraction = divmod(fen_total, 100)
    jiao, fen = divmod(fraction, 10)
    if integer == 0 and fraction == 0:
        return "零元整"

    parts: list[str] = []
    if integer:
        parts.append(chinese_number(integer, capitals=True) + "元")
    if fraction == 0:
        parts.append("整")
        return "".join(parts)
    if jiao:
        parts.append(CAPITAL_DIGITS[jiao] + "角")
    elif parts:
        parts.append("零")
    if fen:
        parts.append(CAPITAL_DIGITS[fen] + "分")
    else:
        parts.append("整")
    return "".join(parts)
