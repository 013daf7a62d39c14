"""Exact parsing of yuan amounts written in Chinese, capital (大写) or Arabic numerals.

Case facts state money as 12,000元, 1.2万元, 三万元 or 壹万贰仟元整; everything is parsed with
Decimal so that an amount read from the facts is the amount the decision prints, never a float.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from assistant.legal import CN_DIGITS, parse_numeral
from assistant.money import to_yuan

_CURRENCY_PREFIX = re.compile(r"^(?:人民币|RMB|CNY)?\s*[￥¥]?\s*", re.I)
_YUAN_TAIL = re.compile(
    r"^(?:(?P<jz>[零〇])?(?P<jiao>[一二两三四五六七八九壹贰叁肆伍陆柒捌玖])角)?"
    r"(?:(?P<fz>[零〇])?(?P<fen>[一二两三四五六七八九壹贰叁肆伍陆柒捌玖])分)?"
    r"(?P<zheng>[整正])?$"
)


def parse_amount(text: str) -> Decimal:
    """Yuan amount in any common written form, exact to the fen; ValueError when unparsable.

    Accepts 12,000元, 1.2万元, 12000.50元, 人民币3万元, ￥1,234.56, 壹万贰仟元整, 壹元零伍分,
    三万元 and a bare number (taken as yuan). Rounds half-up to 0.01 like every printed amount.
    """
    if not isinstance(text, str):
        raise ValueError("amount text must be a string")
    body = _CURRENCY_PREFIX.sub("", text.strip(), count=1).strip()
    if not body:
        raise ValueError(f"not an amount: {text!r}")
    yuan_at = max(body.rfind("元"), body.rfind("圆"))
    if yuan_at < 0 and ("角" in body or "分" in body):
        number, tail = "", body  # under one yuan: 伍角陆分, 柒角整
    elif yuan_at < 0:
        number, tail = body, ""
    else:
        number, tail = body[:yuan_at].strip(), body[yuan_at + 1 :].strip()
    tail_match = _YUAN_TAIL.match(tail)
    if tail_match is None:
        raise ValueError(f"not an amount: {text!r}")
    try:
        value = parse_numeral(number) if number else Decimal(0)
    except (ValueError, InvalidOperation) as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if not number and not (tail_match["jiao"] or tail_match["fen"]):
        raise ValueError(f"not an amount: {text!r}")
    if tail_match["jiao"]:
        value += Decimal(CN_DIGITS[tail_match["jiao"]]) / 10
    if tail_match["fen"]:
        value += Decimal(CN_DIGITS[tail_match["fen"]]) / 100
    return to_yuan(value)
