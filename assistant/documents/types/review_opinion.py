"""法制审核意见书 of a checklist review round (法审): the whole type in one module.

Produced by the legal review (`CaseLifecycle.legal_review`) in the review's own transaction,
from the `legal_review` event just recorded: its checklist points, conclusion and opinion, and
the reviewer. Same page layout as the other documents (GB/T 9704 via `drafting.layout`).
This module and its line in `registry.py` are all the type needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from assistant.db.models import CaseEvent
from assistant.documents.context import fact_record
from assistant.documents.kind import DocumentKind, DraftRequest
from assistant.drafting.documents import Draft, RenderedDocument, docx_text, to_docx
from assistant.drafting.guard import FactRecord
from assistant.drafting.numerals import chinese_date
from assistant.errors import Conflict

TITLE = "法制审核意见书"
STATUS_TEXT = {"pass": "符合", "fail": "存在问题", "manual": "未确认"}
SECTIONS = ("一、审核要点", "二、审核结论", "三、审核意见")


@dataclass(frozen=True)
class ReviewOpinion:
    authority: str
    doc_number: str
    case_number: str
    party_name: str
    round: int
    result: str  # 同意 | 存在问题
    opinion: str
    points: list[dict[str, Any]]  # code, name, status, basis, opinion
    reviewer: str
    reviewed_on: date


def context(request: DraftRequest) -> ReviewOpinion:
    """The latest review round as the signed record holds it."""
    case = request.case
    event = request.session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "legal_review")
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    checklist = (event.details.get("checklist") or {}) if event is not None else {}
    if event is None or not checklist:
        raise Conflict(
            "review_required",
            "案件尚无按审核要点进行的法制审核，不能制作法制审核意见书。",
            details={"doc_type": "review_opinion"},
        )
    request.provenance["review"] = [f"case_event:{event.id}"]
    return ReviewOpinion(
        authority=request.base.authority,
        doc_number=request.base.doc_number,
        case_number=case.number,
        party_name=case.taxpayer.name,
        round=int(checklist.get("round", 1)),
        result=str(event.details.get("result", "")),
        opinion=str(event.details.get("opinion", "")),
        points=list(checklist.get("points", [])),
        reviewer=request.actor.display_name,
        reviewed_on=request.base.decision_date,
    )


def render_review_opinion(ctx: ReviewOpinion) -> RenderedDocument:
    draft = Draft()
    draft.add(ctx.authority, "authority")
    draft.add(TITLE, "title")
    draft.add(ctx.doc_number, "number")
    draft.add(f"案件编号：{ctx.case_number}（第{ctx.round}次审核）", "party")
    draft.add(f"当事人：{ctx.party_name}", "party")
    draft.add(SECTIONS[0], "heading")
    for n, point in enumerate(ctx.points, start=1):
        finding = STATUS_TEXT.get(point["status"], point["status"])
        note = point.get("opinion") or point.get("basis") or ""
        draft.add(f"{n}. {point['name']}：{finding}。{note}")
    draft.add(SECTIONS[1], "heading")
    draft.add(f"审核结论：{ctx.result}。")
    draft.add(SECTIONS[2], "heading")
    draft.add(ctx.opinion or "无。")
    draft.add(f"审核人：{ctx.reviewer}", "sign")
    draft.add(chinese_date(ctx.reviewed_on), "date")
    data = to_docx(draft, title=TITLE, author=ctx.authority)
    return RenderedDocument(
        doc_type="review_opinion",
        title=TITLE,
        docx=data,
        text=docx_text(data),
        sections=SECTIONS,
        provenance=dict(draft.provenance),
    )


def record(request: DraftRequest, ctx: ReviewOpinion) -> FactRecord:
    """The reviewer's words and the automatic checks' findings are the record here."""
    return fact_record(
        request.base,
        request.case,
        fine=Decimal("0.00"),
        hearing_required=False,
        sources=(
            ctx.case_number,
            ctx.opinion,
            *(str(p.get("opinion") or p.get("basis") or "") for p in ctx.points),
        ),
        names=(ctx.reviewer,),
    )


KIND = DocumentKind(
    code="review_opinion",
    title=TITLE,
    number_kind="法审",
    inputs=None,
    needs_discretion=False,
    drafter="reviewer",
    context=context,
    render=render_review_opinion,
    record=record,
    via_api=False,
)
