"""法制审核意见书 (法审) by the reviewer, never the handler (行政处罚法第五十八条).

Two ways in, one type: every checklist review round (`CaseLifecycle.legal_review`) drafts it in
the review's own transaction, and a reviewer may draft it on request (`POST
/cases/{id}/documents`). Opinion and reviewer come from the case's latest legal-review event;
the points from the request, else that review's checklist, else the record (party, basis,
discretion). Needs no discretion result: a review may find that none exists yet.

The whole type is this module (context, layout, fact record) and its line in `registry.py`:
the example the README's "How to add a document type" points to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy import select

from assistant.db.models import CaseEvent, User
from assistant.documents.context import fact_record
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest
from assistant.drafting.context import Party
from assistant.drafting.documents import Draft, RenderedDocument, cite_ids
from assistant.drafting.guard import FactRecord
from assistant.drafting.numerals import figure_date
from assistant.drafting.other_documents import check_party, finish, require_fields, sign
from assistant.drafting.text import to_document_text
from assistant.errors import InvalidInput
from assistant.legal import chinese_number, cite_all
from assistant.money import format_yuan, to_yuan

CODE = "legal_review_opinion"
TITLE = "法制审核意见书"
LEGAL_REVIEW_BASIS = ("行政处罚法:58",)
SECTIONS = ("一、案件基本情况", "二、审核内容", "三、审核意见")


@dataclass(frozen=True)
class ReviewPoint:
    topic: str  # 主体, 事实, 证据, 依据, 程序, 裁量 (or a checklist point's name)
    finding: str


@dataclass(frozen=True)
class LegalReviewContext:
    authority: str
    doc_number: str
    case_name: str
    party: Party
    submitting_unit: str
    submitted_on: date
    proposal: str  # 拟作出的决定
    points: tuple[ReviewPoint, ...]
    conclusion: str  # 同意 / 建议修改 …
    reviewers: tuple[str, ...]
    decision_date: date
    provenance: dict[str, tuple[str, ...]] = field(default_factory=dict)


# How a checklist point's status reads in the 意见书.
STATUS_TEXT = {"pass": "符合", "fail": "存在问题", "manual": "未确认"}


class ReviewPointIn(DocumentInputs):
    topic: str = Field(min_length=1, max_length=16)
    finding: str = Field(min_length=1, max_length=1000)


class LegalReviewInputs(DocumentInputs):
    submitting_unit: str | None = Field(default=None, max_length=100)
    points: list[ReviewPointIn] | None = None
    conclusion: str | None = Field(default=None, max_length=2000)
    reviewers: list[str] | None = None


def _inputs(request: DraftRequest) -> LegalReviewInputs:
    assert isinstance(request.inputs, LegalReviewInputs)
    return request.inputs


def context(request: DraftRequest) -> LegalReviewContext:
    inputs, case, ctx, session = _inputs(request), request.case, request.base, request.session
    event = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "legal_review")
        .order_by(CaseEvent.id.desc())
    ).first()
    sources: list[str] = []
    conclusion = inputs.conclusion
    reviewers = inputs.reviewers or []
    checklist: dict[str, Any] = {}
    if event is not None:
        sources.append(f"case_event:{event.id}")
        checklist = event.details.get("checklist") or {}
        if not conclusion:
            result = str(event.details.get("result", ""))
            opinion = str(event.details.get("opinion", "")).strip()
            conclusion = f"审核结论：{result}。{opinion}".rstrip("。") + "。" if result else None
        if not reviewers:
            reviewer = session.get(User, event.actor_id)
            reviewers = [reviewer.display_name] if reviewer else []
    if not reviewers and request.actor.id != case.officer_id:
        reviewers = [request.actor.display_name]
    missing = [n for n, v in (("conclusion", conclusion), ("reviewers", reviewers)) if not v]
    if missing:
        raise InvalidInput(
            "missing_document_data",
            "起草法制审核意见书还缺少以下信息："
            + "、".join(missing)
            + "（案件尚无法制审核记录时请在 inputs 中提供）。",
            details={"doc_type": CODE, "fields": missing},
        )
    assert conclusion is not None
    request.provenance["review"] = sources
    amount = to_yuan(ctx.amount)
    decision = request.suggestion.get("decision")
    if decision is None:
        proposal = f"对{ctx.party.name}的处理尚无裁量建议，拟作出的决定待定"
    elif decision == "penalty":
        proposal = f"对{ctx.party.name}处以罚款{format_yuan(amount)}"
    else:
        proposal = f"对{ctx.party.name}不予税务行政处罚"
    proposed = proposal.removeprefix("对" + ctx.party.name)
    if inputs.points:
        points = tuple(ReviewPoint(p.topic, p.finding) for p in inputs.points)
    elif checklist.get("points"):
        points = checklist_points(checklist)
    else:
        points = (
            ReviewPoint(
                "主体", f"当事人为{ctx.party.name}，{ctx.party.id_label}{ctx.party.id_number}"
            ),
            ReviewPoint("依据", f"适用{cite_all(ctx.legal_basis)}的规定"),
            ReviewPoint(
                "裁量",
                f"依据{ctx.benchmark_citation}，拟{proposed}"
                if ctx.benchmark_citation
                else f"拟{proposed}",
            ),
        )
    round_ = f"（第{checklist['round']}次审核）" if checklist.get("round") else ""
    return LegalReviewContext(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        case_name=f"{ctx.party.name}{case.number}案{round_}",
        party=ctx.party,
        submitting_unit=inputs.submitting_unit or ctx.authority,
        submitted_on=ctx.decision_date,
        proposal=proposal,
        points=points,
        conclusion=conclusion,
        reviewers=tuple(reviewers),
        decision_date=ctx.decision_date,
    )


def checklist_points(checklist: dict[str, Any]) -> tuple[ReviewPoint, ...]:
    """A checklist round's points as the 意见书 states them: each point, its finding, and the
    reviewer's note or the automatic check's basis."""
    out = []
    for point in checklist.get("points", []):
        finding = STATUS_TEXT.get(point.get("status", ""), str(point.get("status", "")))
        note = str(point.get("opinion") or point.get("basis") or "").strip().rstrip("。")
        out.append(
            ReviewPoint(str(point.get("name", "")), f"{finding}。{note}" if note else finding)
        )
    return tuple(out)


def render_legal_review(ctx: LegalReviewContext) -> RenderedDocument:
    """The review before decision (行政处罚法第五十八条): what was checked, the opinion, who."""
    check_party(ctx.party)
    require_fields(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        case_name=ctx.case_name,
        proposal=ctx.proposal,
        conclusion=ctx.conclusion,
    )
    if not ctx.points or not ctx.reviewers:
        raise InvalidInput(
            "missing_review",
            "法制审核意见须列明审核事项和审核人员。",
            details={"points": len(ctx.points), "reviewers": len(ctx.reviewers)},
        )
    draft = Draft()
    draft.add(ctx.authority, "authority")
    draft.add(TITLE, "title")
    draft.add(ctx.doc_number, "number")
    draft.add(SECTIONS[0], "heading")
    draft.add(
        f"案件名称：{ctx.case_name}；当事人：{ctx.party.name}（{ctx.party.id_label}："
        f"{ctx.party.id_number}）；送审部门：{ctx.submitting_unit}；"
        f"送审日期：{figure_date(ctx.submitted_on)}。"
    )
    draft.add(f"拟作出的决定：{to_document_text(ctx.proposal).rstrip('。')}。")
    draft.add(SECTIONS[1], "heading")
    draft.add(f"根据{cite_ids(*LEGAL_REVIEW_BASIS)}的规定，对本案审核如下：")
    draft.cite("review", LEGAL_REVIEW_BASIS)
    for n, point in enumerate(ctx.points, start=1):
        finding = to_document_text(point.finding).rstrip("。")
        draft.add(f"（{chinese_number(n)}）{point.topic}：{finding}。")
    draft.add(SECTIONS[2], "heading")
    draft.add(to_document_text(ctx.conclusion))
    draft.add("审核人员：" + "、".join(ctx.reviewers))
    sign(draft, ctx.authority, ctx.decision_date)
    for key, ids in ctx.provenance.items():
        draft.cite(key, tuple(ids))
    return finish(CODE, TITLE, draft, SECTIONS, ctx.authority)


def record(request: DraftRequest, ctx: LegalReviewContext) -> FactRecord:
    return fact_record(
        request.base,
        request.case,
        hearing_required=False,
        sources=(
            request.case.number,
            ctx.case_name,
            ctx.proposal,
            ctx.conclusion,
            *ctx.reviewers,
            *(p.finding for p in ctx.points),
            _inputs(request).submitting_unit or "",
        ),
        names=ctx.reviewers,
        legal_basis=LEGAL_REVIEW_BASIS,
    )


KIND = DocumentKind(
    code=CODE,
    title=TITLE,
    number_kind="法审",
    inputs=LegalReviewInputs,
    needs_discretion=False,
    drafter="reviewer",
    context=context,
    render=render_legal_review,
    record=record,
)
