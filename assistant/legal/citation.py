"""Citation text as issued decisions print it: 《中华人民共和国税收征收管理法》第六十三条第一款.

A versioned id names its version by the official marker after the title
(《中华人民共和国发票管理办法》（国务院令第764号修订）第三十三条); several provisions of one law
share one title (…第六十三条第一款、第六十四条).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from assistant.legal.errors import LegalValueError
from assistant.legal.markers import version_marker
from assistant.legal.statute_id import StatuteId

PRC_PREFIX = "中华人民共和国"


class Provision(Protocol):
    """A provision to cite: its statute id and its law's full title."""

    @property
    def statute_id(self) -> str: ...

    @property
    def law_title(self) -> str: ...


def short_law_name(title: str) -> str:
    """The id's law name: the title without 中华人民共和国 and without whitespace."""
    compact = re.sub(r"\s+", "", title)
    return compact.removeprefix(PRC_PREFIX) or compact


def _as_id(statute_id: str | StatuteId) -> StatuteId:
    return statute_id if isinstance(statute_id, StatuteId) else StatuteId.parse(statute_id)


def cited_title(statute_id: str | StatuteId, title: str) -> str:
    """《title》 with the version marker of a versioned id: 《…办法》（国务院令第764号修订）.

    The title must be the full title of the id's law, so that a citation can never name one law
    and point to another's article.
    """
    sid = _as_id(statute_id)
    clean = title.strip()
    if short_law_name(clean) != sid.law:
        raise LegalValueError(
            "statute_title_mismatch",
            f"法律名称“{clean}”与法条编号“{sid}”不一致。",
            details={"statute_id": str(sid), "law_title": clean},
        )
    if sid.version is None:
        return f"《{clean}》"
    return f"《{clean}》（{version_marker(sid.law, sid.version)}）"


def cite(statute_id: str | StatuteId, title: str) -> str:
    """One provision: 《中华人民共和国行政处罚法》第七十二条第一款第（一）项."""
    sid = _as_id(statute_id)
    return cited_title(sid, title) + sid.reference


def cite_all(provisions: Sequence[Provision]) -> str:
    """Several provisions the way decisions cite them, one 《title》 per law, joined by 、.

    Laws keep the order of their first appearance; a repeated provision is cited once.
    """
    if not provisions:
        raise LegalValueError("missing_legal_basis", "缺少处罚的法律依据。")
    grouped: dict[str, list[str]] = {}
    for provision in provisions:
        sid = _as_id(provision.statute_id)
        refs = grouped.setdefault(cited_title(sid, provision.law_title), [])
        if sid.reference not in refs:
            refs.append(sid.reference)
    return "、".join(title + "、".join(refs) for title, refs in grouped.items())
