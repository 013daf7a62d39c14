"""Find statute citations (《X法》第六十三条第一款第（一）项 …) in free text.

Decisions, bulletins and officers' notes cite law in many shapes, and text extracted from PDFs
breaks lines inside law names and numerals. A citation is only returned when a law name
precedes the article chain: a bare "第X条" cannot be attributed safely and is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.legal import ARTICLE_NUMERAL_CHARS, PRC_PREFIX, StatuteId, parse_integer

#: Common short forms -> the corpus short name (title without 中华人民共和国).
LAW_ALIASES: dict[str, str] = {
    "征管法": "税收征收管理法",
    "税收征管法": "税收征收管理法",
    "税收征收管理法": "税收征收管理法",
    "征管法实施细则": "税收征收管理法实施细则",
    "税收征管法实施细则": "税收征收管理法实施细则",
    "税收征收管理法实施细则": "税收征收管理法实施细则",
    "行政处罚法": "行政处罚法",
    "行政强制法": "行政强制法",
    "发票管理办法": "发票管理办法",
    "发票管理办法实施细则": "发票管理办法实施细则",
    "刑法": "刑法",
    "增值税暂行条例": "增值税暂行条例",
    "增值税暂行条例实施细则": "增值税暂行条例实施细则",
    "增值税法": "增值税法",
    "企业所得税法": "企业所得税法",
    "企业所得税法实施条例": "企业所得税法实施条例",
    "个人所得税法": "个人所得税法",
    "个税法": "个人所得税法",
    "个人所得税法实施条例": "个人所得税法实施条例",
    "行政复议法": "行政复议法",
    "行政诉讼法": "行政诉讼法",
}

_WS = r"[\s\u3000]*"
_NUM = rf"[{ARTICLE_NUMERAL_CHARS}0-9０-９][{ARTICLE_NUMERAL_CHARS}0-9０-９\s\u3000]*?"
# 第X条[之Y][第X款][第(X)项] — whitespace tolerated everywhere (PDF line breaks).
_UNIT = re.compile(
    rf"第{_WS}(?P<num>{_NUM}){_WS}(?P<kind>条|款|项)"
    rf"|第{_WS}[（(]{_WS}(?P<pnum>{_NUM}){_WS}[）)]{_WS}项"
)
_SUB = re.compile(rf"{_WS}之{_WS}(?P<sub>[一二三四五六七八九十]+)")
_SEPARATOR = re.compile(rf"{_WS}(?:、|，|,|和|及|以及|与|或者|或){_WS}")
_RANGE = re.compile(rf"{_WS}(?:至|到|-|—|～|~){_WS}")
_BRACKETED = re.compile(r"《(?P<name>[^《》]{1,80})》")
# parenthetical version / order note between 》 and 第: （2015年修正版）（国务院令第709号修订）
_PAREN = re.compile(rf"{_WS}[（(][^（）()]{{0,80}}[）)]")
# a page footer from PDF extraction ("- 5 -") may sit between a law name and its article
_PAGE_MARK = re.compile(r"(?:[\s\u3000]|-[\s\u3000]*\d+[\s\u3000]*-)*")
_MAX_RANGE = 30


@dataclass(frozen=True)
class Citation:
    """One cited provision with its position in the input."""

    id: str
    law: str
    article: int
    paragraph: int | None
    item: int | None
    span: tuple[int, int]
    sub: int | None = None
    #: the parenthetical between 》 and 第 (whitespace removed), e.g.
    #: 财政部令第6号发布，国务院令第709号修订: it may name the version cited (concordance.py)
    version_note: str | None = None


def normalize_law_name(name: str) -> str:
    """Whitespace removed, 中华人民共和国 dropped, aliases mapped to the corpus short name."""
    compact = re.sub(r"[\s\u3000]+", "", name)
    compact = compact.removeprefix(PRC_PREFIX)
    return LAW_ALIASES.get(compact, compact)


def _spaced(name: str) -> str:
    return _WS.join(re.escape(ch) for ch in name)


def _to_int(raw: str) -> int | None:
    """A positive article, 款 or 项 number; None for what is not one (第零条, 第十十条)."""
    try:
        value = parse_integer(raw)
    except ValueError:
        return None
    return value if value > 0 else None


def parse_citations(text: str, *, known_laws: Iterable[str] | None = None) -> list[Citation]:
    """All citations in `text`, in order.

    `known_laws` (short names) are recognised without 《》 as well; when given, citations of
    other laws are dropped.
    """
    known = {normalize_law_name(x) for x in known_laws} if known_laws is not None else None
    names = set(LAW_ALIASES) | set(known or ())
    bare_names = sorted(names | {PRC_PREFIX + n for n in names}, key=len, reverse=True)
    bare = re.compile("|".join(_spaced(n) for n in bare_names)) if bare_names else None

    starts: list[tuple[int, int, str, str | None]] = []  # (name start, chain start, law, note)
    covered: list[tuple[int, int]] = []
    for m in _BRACKETED.finditer(text):
        law = normalize_law_name(m.group("name"))
        pos = m.end()
        paren = _PAREN.match(text, pos)
        note: str | None = None
        if paren is not None:
            pos = paren.end()
            note = re.sub(r"[\s\u3000]+", "", paren.group())[1:-1] or None
        pos = _PAGE_MARK.match(text, pos).end()  # type: ignore[union-attr]
        starts.append((m.start(), pos, law, note))
        covered.append((m.start(), m.end()))
    if bare is not None:
        for m in bare.finditer(text):
            if any(a <= m.start() < b for a, b in covered):
                continue
            if m.start() > 0 and text[m.start() - 1] in "《":
                continue
            # "本法" style or a longer law name ending here is not this law
            starts.append((m.start(), m.end(), normalize_law_name(m.group(0)), None))
    starts.sort()

    out: list[Citation] = []
    for _, pos, law, note in starts:
        if known is not None and law not in known:
            continue
        out.extend(_parse_chain(text, pos, law, note))
    out.sort(key=lambda c: c.span)
    return out


def _parse_chain(text: str, pos: int, law: str, note: str | None = None) -> list[Citation]:
    """Read 第X条第Y款第(Z)项、第W条至第V条 … starting right after a law name."""
    out: list[Citation] = []
    if not law or any(ch in law for ch in ":@"):
        return out  # an empty title, or one with a colon, is no law a statute id can name
    article: int | None = None
    sub: int | None = None
    paragraph: int | None = None
    start = pos
    pending = False  # a 条/款 reference not yet emitted (it may still be refined by 款/项)
    range_from: int | None = None
    range_start = pos
    last_kind: str | None = None
    last_end = pos

    def add(item: int | None, span: tuple[int, int], art: int, art_sub: int | None) -> None:
        para = paragraph if art == article else None
        out.append(
            Citation(
                id=_cite_id(law, art, art_sub, para, item),
                law=law,
                article=art,
                paragraph=para,
                item=item,
                span=span,
                sub=art_sub,
                version_note=note,
            )
        )

    cursor = pos
    while True:
        m = _UNIT.match(text, cursor)
        if m is None:
            break
        kind = "项" if m.group("pnum") is not None else m.group("kind")
        value = _to_int(m.group("pnum") or m.group("num"))
        if value is None or (kind != "条" and article is None):
            break
        end = m.end()
        if kind == "条":
            if pending and article is not None:
                add(None, (start, last_end), article, sub)
            new_sub: int | None = None
            sm = _SUB.match(text, end)
            if sm is not None:
                new_sub = _to_int(sm.group("sub"))
                end = sm.end()
            if range_from is not None and 0 < value - range_from <= _MAX_RANGE:
                for n in range(range_from + 1, value):
                    out.append(
                        Citation(
                            id=StatuteId(law, n).article_id,
                            law=law,
                            article=n,
                            paragraph=None,
                            item=None,
                            span=(range_start, end),
                            version_note=note,
                        )
                    )
            range_from = None
            article, sub, paragraph = value, new_sub, None
            start, pending = m.start(), True
        elif kind == "款":
            if pending and paragraph is not None:
                add(None, (start, last_end), article, sub)  # type: ignore[arg-type]
            if last_kind != "条":
                start = m.start()
            paragraph, pending = value, True
        else:
            if last_kind == "项":
                start = m.start()
            add(value, (start, end), article, sub)  # type: ignore[arg-type]
            pending = False
        last_kind, last_end, cursor = kind, end, end
        if _UNIT.match(text, cursor) is not None:
            continue
        rng = _RANGE.match(text, cursor)
        if rng is not None and kind == "条" and _UNIT.match(text, rng.end()) is not None:
            range_from, range_start, cursor = article, start, rng.end()
            continue
        sep = _SEPARATOR.match(text, cursor)
        if sep is not None and _UNIT.match(text, sep.end()) is not None:
            cursor = sep.end()
            continue
        break
    if pending and article is not None:
        add(None, (start, last_end), article, sub)
    return out


def _cite_id(
    law: str, article: int, sub: int | None, paragraph: int | None, item: int | None
) -> str:
    if paragraph is None and item is not None:
        paragraph = 1  # 第X条第(Y)项 without a 款: the item belongs to the first paragraph
    return str(StatuteId(law, article, sub, paragraph, item))


# An opening quote mark, and what may stand between a citation and the words it quotes:
# 第二十二条第二款：“…, （国税发〔1996〕210号）文件：“…, 第一条“…, 第38项规定的“严重”…,
# a 裁量基准's 序号17“…; or nothing but a joiner after the quoted provision before (…”“第二条…)
_OPEN_QUOTE = {"“": "”", "「": "」"}
_QUOTE_LEAD = re.compile(
    r"(?:第[^第“”「」。；]{1,12}?[条款项](?:之[一二三四五六七八九十]+)?|》|[）)]|文件|序号[0-9]+)"
    r"(?:之?规定的?|明确|规定如下|中)?[：:，,]?$"
)
_QUOTE_LOOKBACK = 40
_QUOTE_JOINERS = ("", "、", "，", ",", "和", "及", "以及")


def statute_quotes(text: str, citations: Iterable[Citation] | None = None) -> list[tuple[int, int]]:
    """(start, end) of the passages of law quoted after a citation, quote marks included:
    《税收征收管理法》第六十三条第一款：“纳税人伪造、变造…” and the next provision of the same
    chain (…”、第三条“…”). Their persons, organisations, amounts and dates state the law, not
    the case. A quote counts only when a citation (`parse_citations`) or a quoted provision
    before it sits in the same sentence, and the words between end in an article reference,
    a title or its version note (what `_QUOTE_LEAD` allows), or it follows a quoted provision
    with nothing but a joiner between."""
    found = list(citations) if citations is not None else parse_citations(text)
    anchors = sorted(c.span[1] for c in found)
    bracket_ends = [m.end() for m in _BRACKETED.finditer(text)]
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        start = min((i for i in (text.find(q, pos) for q in _OPEN_QUOTE) if i >= 0), default=-1)
        if start < 0:
            return out
        close = _closing(text, start)
        if close < 0:
            return out
        end = close + 1
        sentence = text.rfind("。", 0, start) + 1  # PDF text breaks lines inside sentences
        previous = out[-1][1] if out else -1
        cited = (
            any(sentence <= a <= start for a in anchors)
            or any(sentence <= b <= start for b in bracket_ends)
            or previous >= sentence
        )
        lead = re.sub(r"[\s\u3000]+", "", text[max(0, start - _QUOTE_LOOKBACK) : start])
        joined = (
            previous >= 0 and re.sub(r"[\s\u3000]+", "", text[previous:start]) in _QUOTE_JOINERS
        )
        if joined or (cited and _QUOTE_LEAD.search(lead)):
            out.append((start, end))
        pos = end


def _closing(text: str, start: int) -> int:
    """The quote mark closing the one at `start`, nested quotes (“…“书立或者领受时贴花”…”)
    skipped; the first closing mark when they never balance (a PDF may lose one)."""
    opening, closing = text[start], _OPEN_QUOTE[text[start]]
    depth = 0
    for i in range(start, len(text)):
        if text[i] == opening:
            depth += 1
        elif text[i] == closing:
            depth -= 1
            if depth == 0:
                return i
    return text.find(closing, start + 1)
