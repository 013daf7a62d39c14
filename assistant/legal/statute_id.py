"""Statute ids as values: `<short law name>:<条>[之N][:<款>[:<项>]][@<YYYY-MM-DD>]`.

`发票管理办法:34:2` is 《发票管理办法》第三十四条第二款; `刑法:205之一` the article inserted after
第二百零五条; `@2023-07-20` names the version by its version date. Ids sort by law, then
article, 款 and 项 as numbers (第九条 before 第十条), then version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache, total_ordering

from assistant.legal.errors import LegalValueError
from assistant.legal.numerals import NUMERAL_CHARS, chinese_number, parse_integer

_ID = re.compile(
    rf"^(?P<law>[^:@\s][^:@]*):(?P<article>[0-9]+)(?:之(?P<sub>[{NUMERAL_CHARS}0-9]+))?"
    r"(?::(?P<para>[0-9]+))?(?::(?P<item>[0-9]+))?(?:@(?P<version>\d{4}-\d{2}-\d{2}))?$",
    re.ASCII,
)


def _invalid(text: object, why: str) -> LegalValueError:
    return LegalValueError(
        "invalid_statute_id",
        f"法条编号格式不正确：{text}（{why}）",
        details={"statute_id": str(text)},
    )


@total_ordering
@dataclass(frozen=True)
class StatuteId:
    """One provision: an article, or one of its 款, or one 项 of a 款, optionally versioned."""

    law: str
    article: int
    sub: int | None = None  # 之一 / 之二: articles inserted by amendments
    paragraph: int | None = None  # 款
    item: int | None = None  # 项
    version: date | None = None

    def __post_init__(self) -> None:
        numbers = (self.article, self.sub, self.paragraph, self.item)
        if not self.law or any(ch in self.law for ch in ":@") or self.law != self.law.strip():
            raise _invalid(self.law, "缺少法律简称")
        if any(n is not None and (isinstance(n, bool) or n < 1) for n in numbers):
            raise _invalid(self.law, "条、款、项应为正整数")
        if self.item is not None and self.paragraph is None:
            raise _invalid(self.law, "项须写在款之后，如“税收征收管理法:60:1:2”")

    @classmethod
    def parse(cls, text: str) -> StatuteId:
        """Read an id; LegalValueError(invalid_statute_id) names what is wrong."""
        if not isinstance(text, str):
            raise _invalid(text, "应为文本")
        return _parse(text.strip())

    def __str__(self) -> str:
        out = self.article_id
        if self.paragraph is not None:
            out += f":{self.paragraph}"
        if self.item is not None:
            out += f":{self.item}"
        if self.version is not None:
            out += f"@{self.version.isoformat()}"
        return out

    def _key(self) -> tuple[str, int, int, int, int, date]:
        return (
            self.law,
            self.article,
            self.sub or 0,
            self.paragraph or 0,
            self.item or 0,
            self.version or date.min,
        )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, StatuteId):
            return NotImplemented
        return self._key() < other._key()

    @property
    def article_id(self) -> str:
        """`刑法:205之一`: the article this provision belongs to, unversioned."""
        base = f"{self.law}:{self.article}"
        return base if self.sub is None else f"{base}之{chinese_number(self.sub)}"

    def article_level(self) -> StatuteId:
        """The article alone (款, 项 and version dropped)."""
        return replace(self, paragraph=None, item=None, version=None)

    def unversioned(self) -> StatuteId:
        return replace(self, version=None)

    @property
    def label(self) -> str:
        """第六十三条 / 第二百零五条之一."""
        text = f"第{chinese_number(self.article)}条"
        return text if self.sub is None else f"{text}之{chinese_number(self.sub)}"

    @property
    def reference(self) -> str:
        """第六十三条第一款第（二）项: the provision as decisions cite it after the law's title."""
        text = self.label
        if self.paragraph is not None:
            text += f"第{chinese_number(self.paragraph)}款"
        if self.item is not None:
            text += f"第（{chinese_number(self.item)}）项"
        return text


@lru_cache(maxsize=65_536)
def _parse(text: str) -> StatuteId:
    m = _ID.match(text)
    if m is None:
        raise _invalid(text, "应为“法律简称:条[:款[:项]][@版本日期]”，如“税收征收管理法:63:1”")
    sub = m.group("sub")
    try:
        version = None if m.group("version") is None else date.fromisoformat(m.group("version"))
        sub_number = None if sub is None else parse_integer(sub)
    except ValueError as exc:
        raise _invalid(text, "版本日期或“之”后的序号有误") from exc
    numbers = [m.group(g) for g in ("para", "item")]
    try:
        return StatuteId(
            law=m.group("law").strip(),
            article=int(m.group("article")),
            sub=sub_number,
            paragraph=None if numbers[0] is None else int(numbers[0]),
            item=None if numbers[1] is None else int(numbers[1]),
            version=version,
        )
    except LegalValueError as exc:
        raise _invalid(text, "条、款、项应为正整数") from exc
