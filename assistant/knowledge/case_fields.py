"""Structured fields of a case read from its text: the acting authority and the amounts.

Structured sources come first (records.jsonl amount fields, CAIL `punish_of_money`); the text is
read only for what they lack. Fines and multiples are read by the consistency check's
`parse_outcome` (one fine parser in the project); this module adds the tax the case states
(少缴/偷逃/逃避缴纳/骗取 … 税款) and picks one value per field. When a case states several
different values for a field and none is marked as the total, the field stays None: a wrong
amount in a similar case is worse than none.

A multi-case SAT bulletin ("一、国家税务总局…依法查处…案件。经查…") has no single authority or
amount; `split_bulletin` cuts it into its cases, and the loader only fills the fields when the
bulletin holds one case (or all its cases name the same authority).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from assistant.discretion.consistency import parse_outcome
from assistant.money import to_yuan
from assistant.nlp.numerals import parse_amount

#: The legal range of a 偷税-type penalty multiple (征管法第六十三条 and neighbours).
MULTIPLE_MIN = Decimal("0.5")
MULTIPLE_MAX = Decimal("5")


@dataclass(frozen=True)
class CaseAmounts:
    """Money a case states, in yuan (Decimal, 2 places); None when not stated or ambiguous.

    `fine` is an administrative 罚款; a court's 罚金 (CAIL judgments) is a criminal penalty and is
    kept apart in `criminal_fine`, so fines of the two kinds are never compared as one.
    `multiple` is the 罚款倍数 (0.5 for 百分之五十), stated or derived as fine / tax.
    """

    tax_evaded: Decimal | None = None
    fine: Decimal | None = None
    multiple: Decimal | None = None
    criminal_fine: Decimal | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON shape: each amount as the Decimal's string ("12345.67") or null."""
        return {
            "tax_evaded": _s(self.tax_evaded),
            "fine": _s(self.fine),
            "multiple": _s(self.multiple),
            "criminal_fine": _s(self.criminal_fine),
        }


NO_AMOUNTS = CaseAmounts()


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


_CN_ORDINAL = "一二三四五六七八九十"
# "八、国家税务总局晋城市税务局稽查局依法查处泽州县郊南加油站偷税案件。" opens one case of a
# multi-case bulletin.
_CASE_HEAD = re.compile(rf"(?m)^[{_CN_ORDINAL}]+、(?=.{{0,60}}?(?:查处|破获|侦破|查办|立案))")


# "依法查处三起骗取留抵退税案件", "集中曝光8起…": a title announcing several cases.
_SEVERAL = re.compile(r"(?:[两二三四五六七八九十]|[2-9]|[1-9][0-9])起")


def announces_several_cases(title: str) -> bool:
    """True when a bulletin's title announces several cases (its text may not number them)."""
    return _SEVERAL.search(title) is not None


def split_bulletin(text: str) -> list[str]:
    """The cases of a bulletin: one part per numbered case heading, or [text] when it has fewer
    than two. The preamble before the first case and the closing remarks after the last case's
    paragraph are not part of any case."""
    heads = [m.start() for m in _CASE_HEAD.finditer(text)]
    if len(heads) < 2:
        return [text]
    parts: list[str] = []
    for n, start in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(text)
        part = text[start:end]
        if n + 1 == len(heads):  # the last case ends before the bulletin's closing paragraph
            lines = part.split("\n")
            keep = [lines[0]]
            for line in lines[1:]:
                if not line.strip().startswith(("经查", "目前", "该案", "案件")):
                    break
                keep.append(line)
            part = "\n".join(keep)
        parts.append(part.strip())
    return parts


# --- authority ---------------------------------------------------------------------------------

_UNIT = r"(?:第[一二三四五六七八九十]+)?稽查局"
_PLACE_END = r"(?:自治区|特别行政区|省|市|自治州|州|地区|盟|县|区|旗|基地)"
_CJK = r"\u4e00-\u9fff"
# "国家税务总局鄂尔多斯市税务局第二稽查局", "国家税务总局内蒙古自治区税务局".
_SAT_NAMED = re.compile(rf"国家税务总局([{_CJK}]{{2,20}}?)税务局({_UNIT})?")
# Without the prefix ("宁波市税务局第三稽查局"), at the start of a clause (after a leading
# 指导/联合…) so that a verb before the place is not read as part of it.
_SAT_BARE = re.compile(
    rf"(?<![{_CJK}])(?:指导|联合|会同|协同|由|经)?([{_CJK}]{{2,18}}?{_PLACE_END})税务局({_UNIT})?"
)
# The SAT itself or its regional inspection office ("国家税务总局驻沈阳稽查局") acting.
_SAT_ITSELF = re.compile(
    r"国家税务总局((?:驻[\u4e00-\u9fff]{2,4}?)?稽查局)?(?=根据|依据|依法|对|作出|查处|联合|、)"
)
# What an acting authority does next, in the same clause: "…稽查局依法查处", "…根据举报线索".
_ACTING = re.compile(
    r"^(?:、[^，,。；;]{0,40}?|[^，,。；;]{0,15}?)"  # "…稽查局、…稽查局联合…": co-acting
    r"(?:查处|作出|根据|依据|依法|追缴|联合|立案|检查|拟处|处以|对)"
)
# "…稽查局根据线索，指导…第三稽查局依法查处": the guided authority is the one acting.
_GUIDING = re.compile(r"^[^。；;]{0,30}?指导")
_NOT_ACTING = ("有关负责人", "相关负责人", "负责人表示")


_PROVINCE_FIRST = re.compile(r"^[\u4e00-\u9fff]{2,10}?(?:省|自治区)(?=[\u4e00-\u9fff]{2})")


def _authority_name(place: str, unit: str | None, *, bare: bool = False) -> str:
    """The official name. A bulletin's "黑龙江省双鸭山市税务局稽查局" is the city's bureau,
    国家税务总局双鸭山市税务局稽查局: the province before a city is dropped."""
    if bare:
        place = _PROVINCE_FIRST.sub("", place)
    return f"国家税务总局{place}税务局{unit or ''}"


def bulletin_authority(text: str) -> str:
    """The first tax authority a bulletin (or one case of it) names as acting, in its full
    official name (国家税务总局 prefixed where the text leaves it out); "" when none."""
    flat = re.sub(r"[ \t\u3000]+", "", text)
    found: list[tuple[int, str, int]] = []
    for m in _SAT_ITSELF.finditer(flat):
        found.append((m.start(), f"国家税务总局{m.group(1) or ''}", m.end()))
    for rx in (_SAT_NAMED, _SAT_BARE):
        for m in rx.finditer(flat):
            place = m.group(1)
            if rx is _SAT_BARE and place.startswith("国家税务总局"):
                continue
            name = _authority_name(place, m.group(2), bare=rx is _SAT_BARE)
            found.append((m.start(), name, m.end()))
    for _, name, end in sorted(found):
        after = flat[end : end + 40]
        if after.startswith(_NOT_ACTING) or _GUIDING.match(after) or not _ACTING.match(after):
            continue
        return name
    return ""


def head_authority(text: str) -> str:
    """The authority at the head of an issued decision (its first lines), whitespace and line
    breaks removed ("国家税务总局鄂尔多斯市税务局\\n第二稽查局" is one name); "" when none."""
    flat = re.sub(r"\s+", "", text[:300])
    m = _SAT_NAMED.search(flat)
    return _authority_name(m.group(1), m.group(2)) if m else ""


# "苏州市吴江区人民检察院指控", "上海市宝山区人民法院": a court or procuratorate opening a clause.
_JUDICIAL = re.compile(rf"(?<![{_CJK}])([{_CJK}]{{2,20}}?人民(?:检察院|法院))")


def judicial_authority(fact: str) -> str:
    """The court or procuratorate a CAIL fact text names first (at a clause start); "" if none."""
    m = _JUDICIAL.search(fact)
    return m.group(1) if m else ""


# --- amounts -----------------------------------------------------------------------------------

_NUM = r"[0-9]+(?:\.[0-9]+)?"
# "少缴增值税、企业所得税等税费共计2.17亿元", "偷逃税款1200万元", "骗取留抵退税118.27万元",
# "致税款被偷逃4.56万元", "逃避缴纳税款30万元". What stands between the verb and the amount
# must name a tax (…税/税款/税费/退税); 少计收入 and 虚开税额 are not tax evaded.
_TAX = re.compile(
    rf"(?:(?P<verb>少缴纳?|偷逃|逃避缴纳|骗取)|(?P<named>偷税款?|逃税款?))(?:了)?(?:的)?"
    rf"(?P<what>[^，,。；;：:（(）)]{{0,30}}?(?:税|税款|税费|税费款|退税款?|附加))?"
    rf"(?P<total>共计|合计|总计|计)?(?:人民币)?(?P<amt>{_NUM}(?:万|亿)?)元"
)
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
# "偷逃个人所得税218.30万元、增值税142.41万元": one item of a list, not the case's tax.
_LIST_NEXT = re.compile(rf"^[、和及][^，,。；;]{{0,12}}?税(?:款)?{_NUM}(?:万|亿)?元")


def _flat(text: str) -> str:
    return _THOUSANDS.sub("", re.sub(r"\s+", "", text))


def _paragraphs(text: str) -> list[str]:
    return [p for p in (_flat(x) for x in text.split("\n")) if p]


def _tax_in(paragraph: str) -> tuple[Decimal | None, bool]:
    """(tax, stated): the paragraph's only tax value, or the only one marked 共计/合计; None when
    it states several and none is marked."""
    values: dict[Decimal, bool] = {}
    for m in _TAX.finditer(paragraph):
        if _LIST_NEXT.match(paragraph[m.end() :]):
            return None, True
        bare = m.group("what") is None and m.group("named") is None
        if bare and not paragraph[: m.start()].endswith("被"):
            continue  # a bare "偷逃X元" only after 被 ("致税款被偷逃4.56万元")
        try:
            value = parse_amount(m.group("amt") + "元")
        except ValueError:
            continue
        if value > 0:
            marked = m.group("total") in ("共计", "合计", "总计")
            values[value] = values.get(value, False) or marked
    if len(values) == 1:
        return next(iter(values)), True
    totals = [v for v, marked in values.items() if marked]
    return (totals[0] if len(totals) == 1 else None), bool(values)


def _first(
    paragraphs: list[str], pick: Callable[[str], tuple[Decimal | None, bool]]
) -> Decimal | None:
    """The first paragraph that states any candidate decides (a case's summary comes first)."""
    for p in paragraphs:
        value, stated = pick(p)
        if stated:
            return value
    return None


def _one(values: tuple[Decimal, ...]) -> tuple[Decimal | None, bool]:
    distinct = set(values)
    return (next(iter(distinct)) if len(distinct) == 1 else None), bool(distinct)


def derive_multiple(tax: Decimal | None, fine: Decimal | None) -> Decimal | None:
    """fine / tax of one case, when it is a multiple a decision would state (tenths within
    0.5–5, e.g. 0.6 or 1.5) and reproduces the fine within the rounding of published figures
    (0.5 %); otherwise None (a fine on another basis, or amounts rounded to 万元)."""
    if tax is None or fine is None or tax <= 0 or fine <= 0:
        return None
    ratio = (fine / tax).quantize(Decimal("0.1"))
    if not MULTIPLE_MIN <= ratio <= MULTIPLE_MAX:
        return None
    if abs(tax * ratio - fine) > fine * Decimal("0.005"):
        return None
    return ratio.normalize() if ratio == ratio.to_integral() else ratio


def amounts_in(text: str) -> CaseAmounts:
    """Tax evaded, 罚款 and multiple as one case's text states them (see the module doc)."""
    paragraphs = _paragraphs(text)
    tax = _first(paragraphs, _tax_in)
    fine = _first(paragraphs, lambda p: _one(parse_outcome(p).fines))
    multiple = _first(paragraphs, lambda p: _one(parse_outcome(p).multiples))
    if multiple is not None and not MULTIPLE_MIN <= multiple <= MULTIPLE_MAX:
        multiple = None
    if multiple is None:
        multiple = derive_multiple(tax, fine)
    return CaseAmounts(
        tax_evaded=None if tax is None else to_yuan(tax),
        fine=None if fine is None else to_yuan(fine),
        multiple=None if multiple is None else multiple.normalize(),
    )


def money_field(value: Any) -> Decimal | None:
    """A structured amount field (number or string) as Decimal yuan; None when absent, zero or
    not an amount. JSON numbers arrive as floats: their shortest repr is the figure as published
    (208235.34), read as a string, never as binary floating point."""
    if value is None or isinstance(value, bool) or str(value).strip() in ("", "None", "null"):
        return None
    try:
        amount = to_yuan(repr(value) if isinstance(value, float) else str(value))
    except (ValueError, InvalidOperation):
        return None
    return amount if amount > 0 else None


def _multiple_field(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or str(value).strip() in ("", "None"):
        return None
    try:
        multiple = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        return None
    return multiple.normalize() if MULTIPLE_MIN <= multiple <= MULTIPLE_MAX else None


def structured_amounts(
    tax: Any = None,
    fine: Any = None,
    *,
    multiple: Any = None,
    criminal_fine: Any = None,
    text: str = "",
) -> CaseAmounts:
    """Structured fields first; what they lack is read from `text` (see `amounts_in`). A
    multiple is derived only from a tax and fine of the same record (`derive_multiple`)."""
    read = amounts_in(text) if text else NO_AMOUNTS
    tax_v = money_field(tax) or read.tax_evaded
    fine_v = money_field(fine) or read.fine
    stated = _multiple_field(multiple) or read.multiple
    return CaseAmounts(
        tax_v, fine_v, stated or derive_multiple(tax_v, fine_v), money_field(criminal_fine)
    )
