"""Chinese numerals both ways: 六十三 <-> 63, 壹万贰仟 <-> 12000, 二〇二六 <-> 2026.

Laws number articles in lower-case numerals (第一百一十条), decisions print money in capitals
(壹拾贰万零伍佰元) and dates in digit-by-digit numerals (二〇二六年); facts and transcripts state
numbers every way people write them (一万二, 1.2万, 三千五). Everything is exact: Decimal, never
float.
"""

from __future__ import annotations

import re
from decimal import Decimal

from assistant.legal.errors import LegalValueError

DIGITS = "零一二三四五六七八九"
CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "十", "百", "千")
_CAPITAL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")
#: Numbers written out go up to 万亿 groups (below 10**16).
NUMBER_LIMIT = 10**16

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
#: The characters laws number their articles, 款 and 项 with (第一百零五条, 第二千条).
ARTICLE_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万"
#: Every character a written-out number may use (for building patterns over free text).
NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "点"

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
_SPACE = re.compile(r"\s+")
_ARABIC = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_TOKEN = re.compile(r"\d+(?:\.\d+)?|.", re.S | re.ASCII)


def _bad(text: object, why: str = "") -> LegalValueError:
    return LegalValueError(
        "invalid_numeral",
        f"无法识别的数字：{text!r}{('（' + why + '）') if why else ''}",
        details={"value": str(text)},
    )


# --------------------------------------------------------------------------- int -> text


def _group(n: int, digits: str, units: tuple[str, ...]) -> str:
    """0 < n < 10000 with inner zeros collapsed once (105 -> 一百零五, 1001 -> 一千零一)."""
    out: list[str] = []
    zero_pending = False
    for pos in range(3, -1, -1):
        digit = (n // 10**pos) % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append(digits[0])
            zero_pending = False
        out.append(digits[digit] + units[pos])
    return "".join(out)


def chinese_number(n: int, *, capitals: bool = False) -> str:
    """63 -> 六十三, 10 -> 十, 110 -> 一百一十, 100003 -> 十万零三; capitals: 10 -> 壹拾.

    Lower case as laws and decisions write numbers (a leading 一十 is written 十: 第十条,
    十五日, 十万); capitals (大写) as money is printed, where 壹拾 keeps its 壹.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n >= NUMBER_LIMIT:
        raise _bad(n, "应为小于一万万亿的非负整数")
    digits, units = (CAPITAL_DIGITS, _CAPITAL_UNITS) if capitals else (DIGITS, _UNITS)
    if n == 0:
        return digits[0]
    groups: list[int] = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    out = ""
    zero_pending = False
    for pos in range(len(groups) - 1, -1, -1):
        group = groups[pos]
        if group == 0:
            zero_pending = bool(out)
            continue
        if out and (zero_pending or group < 1000):
            out += digits[0]
        out += _group(group, digits, units) + _GROUP_UNITS[pos]
        zero_pending = False
    return out[1:] if not capitals and out.startswith("一十") else out


def chinese_digits(number: str | int, *, zero: str = "〇") -> str:
    """Digit by digit, as years and phone numbers are read: 2026 -> 二〇二六 (or 二零二六)."""
    text = str(number)
    if not text.isascii() or not text.isdigit():
        raise _bad(number, "应为阿拉伯数字")
    return "".join(zero if ch == "0" else DIGITS[int(ch)] for ch in text)


def chinese_percent(rate: Decimal) -> str:
    """A percentage written out: Decimal("3") -> 百分之三, Decimal("0.5") -> 百分之零点五."""
    if isinstance(rate, float) or not isinstance(rate, Decimal):
        raise TypeError("a rate must be a Decimal, not a float")
    if not rate.is_finite() or rate < 0:
        raise _bad(rate, "不是有效的百分比")
    whole, _, fraction = format(rate.normalize(), "f").partition(".")
    spoken = chinese_number(int(whole))
    if fraction:
        spoken += "点" + chinese_digits(fraction, zero="零")
    return "百分之" + spoken


# --------------------------------------------------------------------------- text -> number


def _is_arabic(token: str) -> bool:
    return bool(_ARABIC.fullmatch(token))


def _parse_section(text: str, original: str) -> Decimal:
    """A number below one 万 (or an Arabic/decimal number): 三千五, 一千零五, 1.5千, 二〇二六."""
    if not text:
        raise _bad(original)
    if _is_arabic(text):
        return Decimal(text)
    if "点" in text:
        whole, _, frac = text.partition("点")
        if not frac or any(ch not in CN_DIGITS and not ch.isdigit() for ch in frac):
            raise _bad(original, "小数部分有误")
        digits = "".join(str(CN_DIGITS[ch]) if ch in CN_DIGITS else ch for ch in frac)
        return (_parse_section(whole, original) if whole else Decimal(0)) + Decimal("0." + digits)
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
                raise _bad(original, "零的位置有误")
            zero_since_unit = True
        elif token in CN_DIGITS or _is_arabic(token):
            if pending is not None:
                raise _bad(original, "数字连写")
            pending = Decimal(CN_DIGITS[token]) if token in CN_DIGITS else Decimal(token)
        elif token in SMALL_UNITS:
            unit = SMALL_UNITS[token]
            if unit >= last_unit:
                raise _bad(original, "数位顺序有误")
            if pending is None:
                if unit != 10 or total or zero_since_unit:
                    raise _bad(original, "数位前缺少数字")
                pending = Decimal(1)  # 十五 = 15
            total += pending * unit
            pending, last_unit, zero_since_unit = None, unit, False
        else:
            raise _bad(original)
    if pending is not None:
        if last_unit < 10**4 and not zero_since_unit:
            # 三千五 = 3500, 二十五 = 25: a trailing digit counts in the next lower unit
            pending *= last_unit // 10
        total += pending
    return total


def _parse(body: str, original: str) -> Decimal:
    for big_char, big in sorted(BIG_UNITS.items(), key=lambda kv: -kv[1]):
        if big_char not in body:
            continue
        left, _, right = body.rpartition(big_char)
        if not left:
            raise _bad(original, "数位前缺少数字")
        high = _parse(left, original) * big
        if not right:
            return high
        if len(right) == 1 and right in CN_DIGITS and right not in ZEROS:
            # 一万二 = 12000, 三亿五 = 350000000
            return high + CN_DIGITS[right] * big // 10
        low = _parse(right.lstrip("".join(ZEROS)) or "0", original)
        if low >= big:
            raise _bad(original, "数位顺序有误")
        return high + low
    return _parse_section(body, original)


def parse_numeral(text: str) -> Decimal:
    """Exact value of 三万五千, 1.2万, 壹拾贰万零伍佰, 1,234,567.89, 三亿五千万, 一万二 (12000).

    Whitespace inside (a line break in a statute) is ignored, full-width digits are read as
    digits; a run of bare digits is read digit by digit (二〇二六 = 2026).
    """
    if not isinstance(text, str):
        raise _bad(text)
    body = _SPACE.sub("", text).translate(_FULLWIDTH)
    if not body:
        raise _bad(text)
    if "," in body:
        arabic = body.rstrip("".join(BIG_UNITS) + "".join(SMALL_UNITS))
        if not _GROUPED.fullmatch(arabic):
            raise _bad(text, "千分位分隔有误")
        body = body.replace(",", "")
    return _parse(body, text)


def parse_integer(text: str) -> int:
    """A whole number in any written form: 六十三 -> 63, 二百零五 -> 205, ６２ -> 62."""
    value = parse_numeral(text)
    if value != value.to_integral_value():
        raise _bad(text, "应为整数")
    return int(value)
