"""法制审核意见书: the legal review's checklist, conclusion and opinion as an official .docx.

Same page layout as the penalty documents (GB/T 9704 via `layout`); produced by the legal
review (assistant.cases.lifecycle) and linked from the signed record by its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.drafting.documents import _Draft, _to_docx, docx_text
from assistant.drafting.numerals import chinese_date

TITLE = "法制审核意见书"
STATUS_TEXT = {"pass": "符合", "fail": "存在问题", "manual": "未确认"}


@dataclass(frozen=True)
class ReviewOpinion:
    authority: str
    case_number: str
    party_name: str
    round: int
    result: str  # 同意 | 存在问题
    opinion: str
    points: list[dict[str, Any]]  # code, name, status, basis, opinion
    reviewer: str
    reviewed_on: date


def render_review_opinion(ctx: ReviewOpinion) -> tuple[bytes, str]:
    """The .docx bytes and its text (paragraph per line)."""
    draft = _Draft()
    draft.add(ctx.authority, "authority")
    draft.add(TITLE, "title")
    draft.add(f"案件编号：{ctx.case_number}（第{ctx.round}次审核）", "number")
    draft.add(f"当事人：{ctx.party_name}", "party")
    draft.add("一、审核要点", "heading")
    for n, point in enumerate(ctx.points, start=1):
        finding = STATUS_TEXT.get(point["status"], point["status"])
        note = point.get("opinion") or point.get("basis") or ""
        draft.add(f"{n}. {point['name']}：{finding}。{note}")
    draft.add("二、审核结论", "heading")
    draft.add(f"审核结论：{ctx.result}。")
    draft.add("三、审核意见", "heading")
    draft.add(ctx.opinion or "无。")
    draft.add(f"审核人：{ctx.reviewer}", "sign")
    draft.add(chinese_date(ctx.reviewed_on), "date")
    data = _to_docx(draft, title=TITLE, author=ctx.authority)
    return data, docx_text(data)
