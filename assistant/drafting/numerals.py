"""Numerals, dates and statute references as issued tax decisions print them.

Checked against the real decisions in ../shared/corpora/decisions/fulltext.jsonl:
- the body prints dates in Arabic figures ("2025年6月25日"), the signature date in Chinese
  numerals with 〇 for zero ("二〇二六年七月十六日");
- articles, 款 and 项 are cited in Chinese numerals ("第七十二条第一款第（一）项");
- periods and rates are written out ("十五日内", "六十日内", "六个月内", "百分之三").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from assistant.drafting.context import LegalBasis
from assistant.errors import InvalidInput
from assistant.statute_markers import version_marker

_DIGITS = "零一二三四五六七八九"
_YEAR_DIGITS = "〇一二三四五六七八九"
_UNITS = ("", "十", "百", "千")
_VERSION = re.compile(r"@\d{4}-\d{2}-\d{2}")
_PRC = "中华人民共和国"


def _below_10000(n: int) -> str:
    """Chinese numerals for 0 < n < 10000, inner zeros collapsed (105 -> 一百零五)."""
    out: list[str] = []
    zero_pending = False
    for pos in range(3, -1, -1):
        digit = (n // 10**pos) % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[digit] + _UNITS[pos])
    return "".join(out)


def chinese_number(n: int) -> str:
    """Lower-case Chinese numerals as laws write them: 10 -> 十, 15 -> 十五, 110 -> 一百一十."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"not a non-negative integer: {n!r}")
    if n == 0:
        return "零"
    if n >= 10**8:
        raise ValueError(f"number too large for a legal document: {n}")
    high, low = divmod(n, 10000)
    if high == 0:
        text = _below_10000(low)
    else:
        text = _below_10000(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _below_10000(low)
    # A leading 一十 is written 十 (第十条, 十五日, 十万).
    return text[1:] if text.startswith("一十") else text


def chinese_percent(rate: Decimal) -> str:
    """A percentage written out: Decimal("3") -> 百分之三, Decimal("0.5") -> 百分之零点五."""
    if isinstance(rate, float) or not isinstance(rate, Decimal):
        raise TypeError("a rate must be a Decimal, not a float")
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"not a rate: {rate!r}")
    normalized = rate.normalize()
    text = format(normalized, "f")
    whole, _, fraction = text.partition(".")
    spoken = chinese_number(int(whole))
    if fraction:
        spoken += "点" + "".join(_DIGITS[int(ch)] for ch in fraction)
    return "百分之" + spoken


def chinese_date(d: date) -> str:
    """Signature date as real decisions print it: 2026-07-16 -> 二〇二六年七月十六日."""
    year = "".join(_YEAR_DIGITS[int(ch)] for ch in f"{d.year:04d}")
    return f"{year}年{chinese_number(d.month)}月{chinese_number(d.day)}日"


def figure_date(d: date) -> str:
    """Body date as real decisions print it: 2025-06-05 -> 2025年6月5日 (no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


def parse_statute_id(statute_id: str) -> tuple[str, int, int | None, int | None]:
    """Split `<short name>:<条>[:<款>[:<项>]]` (an `@YYYY-MM-DD` version is ignored)."""
    raw = _VERSION.sub("", statute_id.strip())
    parts = raw.split(":")
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise InvalidInput(
            "invalid_statute_id",
            f"法条编号格式不正确：{statute_id}（应为“法律简称:条[:款[:项]]”）",
            details={"statute_id": statute_id},
        )
    numbers: list[int] = []
    for part in parts[1:]:
        if not part.isascii() or not part.isdigit() or int(part) == 0:
            raise InvalidInput(
                "invalid_statute_id",
                f"法条编号中的条、款、项应为正整数：{statute_id}",
                details={"statute_id": statute_id},
            )
        numbers.append(int(part))
    numbers += [0] * (3 - len(numbers))
    article, paragraph, item = numbers
    return parts[0], article, paragraph or None, item or None


def article_reference(statute_id: str) -> str:
    """`税收征收管理法:63:1:2` -> 第六十三条第一款第（二）项 (the law name is cited separately)."""
    _, article, paragraph, item = parse_statute_id(statute_id)
    text = f"第{chinese_number(article)}条"
    if paragraph is not None:
        text += f"第{chinese_number(paragraph)}款"
    if item is not None:
        text += f"第（{chinese_number(item)}）项"
    return text


def legal_basis_sentence(basis: Sequence[LegalBasis]) -> str:
    """Cite several provisions the way decisions do, one 《title》 per law, articles joined by 、.

    Laws keep the order of their first appearance; a repeated provision is cited once. A
    versioned id (`发票管理办法:33@2023-07-20`) names its version by the official marker:
    《中华人民共和国发票管理办法》（国务院令第764号修订）第三十三条.
    The title must be the full title of the statute id's short name (short name = title without
    中华人民共和国), so that a citation can never name one law and point to another's article.
    """
    if not basis:
        raise InvalidInput("missing_legal_basis", "缺少处罚的法律依据。")
    grouped: dict[str, list[str]] = {}
    for item in basis:
        short, *_ = parse_statute_id(item.statute_id)
        title = item.law_title.strip()
        if title.removeprefix(_PRC) != short:
            raise InvalidInput(
                "statute_title_mismatch",
                f"法律名称“{title}”与法条编号“{item.statute_id}”不一致。",
                details={"statute_id": item.statute_id, "law_title": title},
            )
        _, _, version = item.statute_id.partition("@")
        if version:
            marker = version_marker(short, date.fromisoformat(version.strip()))
            title = f"{title}》（{marker}）"
        else:
            title += "》"
        refs = grouped.setdefault(title, [])
        ref = article_reference(item.statute_id)
        if ref not in refs:
            refs.append(ref)
    return "、".join(f"《{title}" + "、".join(refs) for title, refs in grouped.items())
