"""Exact parsing of Chinese, capital (大写) and Arabic numerals and of yuan amounts.

Case facts state money as 12,000元, 1.2万元, 三万元 or 壹万贰仟元整; everything is parsed with
Decimal so that an amount read from the facts is the amount the decision prints, never a float.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from assistant.money import to_yuan

CN_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "貳": 2,
    "三": 3,
    "叁": 3,
    "參": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "陸": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS: dict[str, int] = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
ZEROS = frozenset("零〇○")
NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "点"

_ARABIC = re.compile(r"\d+(?:\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|.", re.S)
_CURRENCY_PREFIX = re.compile(r"^(?:人民币|RMB|CNY)?\s*[￥¥]?\s*", re.I)
_YUAN_TAIL = re.compile(
    r"^(?:(?P<jz>[零〇])?(?P<jiao>[一二两三四五六七八九壹贰叁肆伍陆柒捌玖])角)?"
    r"(?:(?P<fz>[零〇])?(?P<fen>[一二两三四五六七八九壹贰叁肆伍陆柒捌玖])分)?"
    r"(?P<zheng>[整正])?$"
)


def _is_arabic(token: str) -> bool:
    return bool(_ARABIC.fullmatch(token))


def _parse_section(text: str) -> Decimal:
    """A number below one 万 (or an Arabic/decimal number): 三千五, 一千零五, 1.5千, 二〇二六."""
    if not text:
        raise ValueError("empty numeral")
    if _is_arabic(text):
        return Decimal(text)
    if "点" in text:
        whole, _, frac = text.partition("点")
        if not frac or any(ch not in CN_DIGITS and not ch.isdigit() for ch in frac):
            raise ValueError(f"bad decimal part in {text!r}")
        digits = "".join(str(CN_DIGITS[ch]) if ch in CN_DIGITS else ch for ch in frac)
        return (_parse_section(whole) if whole else Decimal(0)) + Decimal("0." + digits)
    if len(text) > 1 and all(ch in CN_DIGITS for ch in text):
        # digit-by-digit reading, as in years: 二〇二六
        return Decimal("".join(str(CN_DIGITS[ch]) for ch in text))
    total = Decimal(0)
    pending: Decimal | None = None
    last_unit = 10**4
    zero_since_unit = False
    for token in _TOKEN.findall(text):
        if token in ZEROS:
            if pending is not None:
                raise ValueError(f"misplaced zero in {text!r}")
            zero_since_unit = True
        elif token in CN_DIGITS or _is_arabic(token):
            if pending is not None:
                raise ValueError(f"two digits in a row in {text!r}")
            pending = Decimal(CN_DIGITS[token]) if token in CN_DIGITS else Decimal(token)
        elif token in SMALL_UNITS:
            unit = SMALL_UNITS[token]
            if unit >= last_unit:
                raise ValueError(f"units out of order in {text!r}")
            if pending is None:
                if unit != 10 or total or zero_since_unit:
                    raise ValueError(f"unit without digit in {text!r}")
                pending = Decimal(1)  # 十五 = 15
            total += pending * unit
            pending, last_unit, zero_since_unit = None, unit, False
        else:
            raise ValueError(f"not a numeral: {token!r} in {text!r}")
    if pending is not None:
        if last_unit < 10**4 and not zero_since_unit:
            # 三千五 = 3500, 二十五 = 25: a trailing digit counts in the next lower unit
            pending *= last_unit // 10
        total += pending
    return total


def parse_numeral(text: str) -> Decimal:
    """Exact value of 三万五千, 1.2万, 壹拾贰万零伍佰, 1,234,567.89, 三亿五千万, 一万二 (12000)."""
    body = text.strip()
    if not body:
        raise ValueError("empty numeral")
    if "," in body:
        arabic = body.rstrip("".join(BIG_UNITS) + "".join(SMALL_UNITS))
        if not _GROUPED.fullmatch(arabic):
            raise ValueError(f"bad digit grouping in {text!r}")
        body = body.replace(",", "")
    for big_char, big in sorted(BIG_UNITS.items(), key=lambda kv: -kv[1]):
        if big_char not in body:
            continue
        left, _, right = body.rpartition(big_char)
        if not left:
            raise ValueError(f"unit without digit in {text!r}")
        high = parse_numeral(left) * big
        if not right:
            return high
        if len(right) == 1 and right in CN_DIGITS and right not in ZEROS:
            # 一万二 = 12000, 三亿五 = 350000000
            return high + CN_DIGITS[right] * big // 10
        low = parse_numeral(right.lstrip("".join(ZEROS)) or "0")
        if low >= big:
            raise ValueError(f"units out of order in {text!r}")
        return high + low
    return _parse_section(body)


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
