"""The workflow side of the other document types (issue 6): record + request inputs -> document.

The penalty notice and decision need only the case record and the discretion result. The other
types need facts the case record does not hold yet (the tax due date of a 税务处理决定书, the
place and officers of an on-the-spot decision, the header of a 询问笔录 …). They come from the
record where it has them, otherwise from the request's `inputs` object, validated here; a
missing one is a 422 naming the field. Whatever the officer supplies becomes part of the record
the fact guard checks the draft against (and is kept in the document's provenance), so the
guard still proves that every fact printed comes from the record.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.db.models import Case, CaseEvent, Recording, User
from assistant.drafting.context import LegalBasis, PenaltyContext
from assistant.drafting.documents import RenderedDocument
from assistant.drafting.guard import FactRecord, check_draft, require_clean
from assistant.drafting.other_documents import (
    SIMPLE_BASIS,
    SIMPLE_REMEDY_BASIS,
    SURCHARGE_BASIS,
    TAX_DISPUTE_BASIS,
    CorrectionNoticeContext,
    InterviewContext,
    LegalReviewContext,
    Remedy,
    ReviewPoint,
    SimplePenaltyContext,
    TaxHandlingContext,
    TaxItem,
    Utterance,
    render_correction_notice,
    render_interview,
    render_legal_review,
    render_simple_penalty,
    render_tax_handling,
    surcharge,
)
from assistant.errors import InvalidInput
from assistant.knowledge.statutes import StatuteBook
from assistant.legal import StatuteId
from assistant.money import to_yuan

# 文号 kind per type, as issued documents print them: 示税稽罚告〔2026〕1号 (告知书),
# 示税稽罚 (决定书), 示税稽不罚, 示税稽简罚 (简易), 示税稽处 (税务处理决定书), 示税稽通
# (税务事项通知书), 示税稽法审 (法制审核意见书). A 询问笔录 prints no 文号; its register number
# (示税稽询〔2026〕1号) is kept on the stored document only.
DOC_KINDS = {
    "penalty_notice": "罚告",
    "penalty_decision": "罚",
    "no_penalty_decision": "不罚",
    "simple_penalty_decision": "简罚",
    "tax_handling_decision": "处",
    "correction_notice": "通",
    "interview_record": "询",
    "legal_review_opinion": "法审",
}
# Types that need no discretion result (an interview is taken before any suggestion exists).
NO_DISCRETION_NEEDED = frozenset({"interview_record"})
# Types the legal reviewer (not the handling officer) drafts.
REVIEWER_TYPES = frozenset({"legal_review_opinion"})
OTHER_TYPES = frozenset(
    {
        "simple_penalty_decision",
        "tax_handling_decision",
        "correction_notice",
        "interview_record",
        "legal_review_opinion",
    }
)


class _Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Officer(_Inputs):
    name: str = Field(min_length=1, max_length=32)
    certificate: str = Field(min_length=1, max_length=32, description="执法证号")


class SimplePenaltyInputs(_Inputs):
    place: str = Field(min_length=1, max_length=200)
    when: datetime
    officers: list[Officer] = Field(min_length=2)
    payment_place: str | None = Field(default=None, max_length=200)


class TaxHandlingInputs(_Inputs):
    tax_type: str = Field(min_length=1, max_length=32, description="税种: 增值税 …")
    tax_period_start: date
    tax_period_end: date
    tax_due_date: date = Field(description="the statutory due date; surcharge from the next day")
    inspection_start: date
    inspection_end: date
    payment_place: str = Field(min_length=1, max_length=200)
    tax_amount: Decimal | None = Field(default=None, gt=0, description="default: case tax_unpaid")
    legal_basis: list[str] | None = Field(default=None, description="statute ids; default: ground")


class CorrectionInputs(_Inputs):
    correction: str = Field(min_length=1, max_length=500, description="办理…纳税申报")
    deadline: date


class UtteranceIn(_Inputs):
    speaker: str = Field(pattern="^(问|答)$")
    text: str = Field(min_length=1, max_length=2000)


class InterviewInputs(_Inputs):
    start: datetime
    end: datetime | None = Field(default=None, description="default: start + recording length")
    place: str = Field(min_length=1, max_length=200)
    interviewers: list[Officer] = Field(min_length=2)
    recorder: str = Field(min_length=1, max_length=32)
    interviewee: str = Field(min_length=1, max_length=32)
    interviewee_id: str = Field(min_length=1, max_length=32)
    interviewee_role: str = Field(min_length=1, max_length=100)
    recording_id: int | None = None
    utterances: list[UtteranceIn] | None = None


class ReviewPointIn(_Inputs):
    topic: str = Field(min_length=1, max_length=16)
    finding: str = Field(min_length=1, max_length=1000)


class LegalReviewInputs(_Inputs):
    submitting_unit: str | None = Field(default=None, max_length=100)
    points: list[ReviewPointIn] | None = None
    conclusion: str | None = Field(default=None, max_length=2000)
    reviewers: list[str] | None = None


INPUT_MODELS: dict[str, type[_Inputs]] = {
    "simple_penalty_decision": SimplePenaltyInputs,
    "tax_handling_decision": TaxHandlingInputs,
    "correction_notice": CorrectionInputs,
    "interview_record": InterviewInputs,
    "legal_review_opinion": LegalReviewInputs,
}


def parse_inputs(doc_type: str, inputs: dict[str, Any] | None) -> _Inputs | None:
    """Validate the request's inputs for a type: 422 `missing_document_data` naming the fields."""
    model = INPUT_MODELS.get(doc_type)
    if model is None:
        if inputs:
            raise InvalidInput(
                "unexpected_document_inputs",
                "该文书类型的内容全部取自案件记录，不接受额外输入。",
                details={"doc_type": doc_type, "fields": sorted(inputs)},
            )
        return None
    try:
        return model.model_validate(inputs or {})
    except ValidationError as exc:
        missing = [
            ".".join(str(p) for p in e["loc"]) for e in exc.errors() if e["type"] == "missing"
        ]
        invalid = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()
            if e["type"] != "missing"
        ]
        if missing:
            raise InvalidInput(
                "missing_document_data",
                "起草该文书还缺少以下信息：" + "、".join(missing) + "（请在 inputs 中提供）。",
                details={"doc_type": doc_type, "fields": missing, "invalid": invalid},
            ) from exc
        raise InvalidInput(
            "invalid_document_data",
            "文书输入信息不合法：" + "、".join(i["field"] for i in invalid) + "。",
            details={"doc_type": doc_type, "invalid": invalid},
        ) from exc


def _remedy(ctx: PenaltyContext) -> Remedy:
    return Remedy(ctx.reconsideration_body, ctx.reconsideration_days, ctx.lawsuit_months)


def _record(ctx: PenaltyContext, case: Case, **extra: Any) -> FactRecord:
    """The case's base record (party, authority, periods, basis) plus what a type adds."""
    base = FactRecord.from_context(ctx, act_date=case.violation_date, amounts=[case.tax_unpaid])
    fields = dict(base.__dict__)
    for key in ("sources", "amounts", "dates", "names", "legal_basis"):
        fields[key] = (*fields[key], *extra.pop(key, ()))
    fields.update(extra)
    return FactRecord(**fields)


def _violated(suggestion: dict[str, Any], book: StatuteBook) -> tuple[LegalBasis, ...]:
    """The provisions the act broke: the suggestion's cited articles that are not its ground."""
    citations = [c for c in suggestion.get("citations", []) if isinstance(c, str)]
    ground = [c for c in suggestion.get("legal_ground", []) if isinstance(c, str)]
    ids = [c for c in citations if c not in ground and ":" in c and "公告" not in c]
    return tuple(_basis(book, ids or ground))


def _basis(book: StatuteBook, ids: list[str]) -> list[LegalBasis]:
    return [LegalBasis(c, book.full_title(StatuteId.parse(c).law)) for c in ids]


def _ground(suggestion: dict[str, Any]) -> list[str]:
    return [c for c in suggestion.get("legal_ground", []) if isinstance(c, str)]


def _officer_text(officers: list[Officer]) -> list[str]:
    return [f"{o.name}（执法证号：{o.certificate}）" for o in officers]


def draft_other(
    doc_type: str,
    *,
    session: Session,
    case: Case,
    actor: User,
    suggestion: dict[str, Any],
    ctx: PenaltyContext,
    inputs: _Inputs | None,
    book: StatuteBook,
) -> tuple[RenderedDocument, dict[str, list[str]]]:
    """Render a type from the record and inputs, fact-check it; also its provenance to store."""
    provenance: dict[str, list[str]] = {k: list(v) for k, v in ctx.provenance.items()}
    if inputs is not None:
        provenance["inputs"] = [inputs.model_dump_json()]
    if isinstance(inputs, SimplePenaltyInputs):
        rendered, record = _simple(case, suggestion, ctx, inputs, book)
    elif isinstance(inputs, TaxHandlingInputs):
        rendered, record = _tax_handling(case, suggestion, ctx, inputs, book)
    elif isinstance(inputs, CorrectionInputs):
        rendered, record = _correction(case, suggestion, ctx, inputs, book)
    elif isinstance(inputs, InterviewInputs):
        rendered, record, segments = _interview(session, case, ctx, inputs)
        provenance["utterances"] = segments
    elif isinstance(inputs, LegalReviewInputs):
        rendered, record, sources = _legal_review(session, case, actor, suggestion, ctx, inputs)
        provenance["review"] = sources
    else:  # pragma: no cover - parse_inputs gives every other type its model
        raise InvalidInput("unknown_document_type", f"不支持的文书类型：{doc_type}", details={})
    require_clean(check_draft(rendered.text, record, book))
    provenance.update({k: list(v) for k, v in rendered.provenance.items()})
    return rendered, provenance


def _simple(
    case: Case,
    suggestion: dict[str, Any],
    ctx: PenaltyContext,
    inputs: SimplePenaltyInputs,
    book: StatuteBook,
) -> tuple[RenderedDocument, FactRecord]:
    if ctx.confiscation > 0:
        raise InvalidInput(
            "simple_procedure_not_allowed",
            "并处没收违法所得的，不适用简易程序（行政处罚法第五十一条只允许当场给予警告或者限额内罚款），"
            "请适用一般程序。",
            details={"confiscation": str(ctx.confiscation)},
        )
    legal_basis = ctx.legal_basis
    sctx = SimplePenaltyContext(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        party=ctx.party,
        facts=ctx.facts,
        violated=(),
        legal_basis=legal_basis,
        amount=ctx.amount,
        place=inputs.place,
        when=inputs.when,
        officers=tuple((o.name, o.certificate) for o in inputs.officers),
        remedy=_remedy(ctx),
        payment_place=inputs.payment_place,
        payment_days=ctx.payment_days,
        late_fine_rate_percent=ctx.late_fine_rate_percent,
        finding=ctx.finding,
    )
    rendered = render_simple_penalty(sctx)
    record = _record(
        ctx,
        case,
        decision_date=inputs.when.date(),
        sources=(
            inputs.place,
            *_officer_text(inputs.officers),
            f"{inputs.when.hour}时{inputs.when.minute:02d}分",
        ),
        dates=(inputs.when.date(),),
        names=tuple(n for n in (inputs.payment_place, inputs.place) if n),
        legal_basis=(
            *SIMPLE_BASIS,  # the template's on-the-spot clause
            *SIMPLE_REMEDY_BASIS,  # and its reconsideration-first remedy
        ),
    )
    return rendered, record


def _tax_handling(
    case: Case,
    suggestion: dict[str, Any],
    ctx: PenaltyContext,
    inputs: TaxHandlingInputs,
    book: StatuteBook,
) -> tuple[RenderedDocument, FactRecord]:
    amount = to_yuan(inputs.tax_amount if inputs.tax_amount is not None else case.tax_unpaid)
    if amount <= 0:
        raise InvalidInput(
            "missing_document_data",
            "起草该文书还缺少以下信息：tax_amount（案件记录中的应补税款为零）。",
            details={"doc_type": "tax_handling_decision", "fields": ["tax_amount"]},
        )
    ids = inputs.legal_basis or _ground(suggestion)
    item = TaxItem(
        inputs.tax_type,
        (inputs.tax_period_start, inputs.tax_period_end),
        amount,
        inputs.tax_due_date,
    )
    tctx = TaxHandlingContext(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        party=ctx.party,
        inspection_period=(inputs.inspection_start, inputs.inspection_end),
        facts=ctx.facts,
        evidence=ctx.evidence,
        legal_basis=tuple(_basis(book, ids)),
        items=(item,),
        surcharge_until=ctx.decision_date,
        remedy=_remedy(ctx),
        decision_date=ctx.decision_date,
        payment_place=inputs.payment_place,
        payment_days=ctx.payment_days,
    )
    rendered = render_tax_handling(tctx)
    extra = surcharge(item, ctx.decision_date)
    record = _record(
        ctx,
        case,
        fine=Decimal("0.00"),
        hearing_required=False,
        sources=(inputs.tax_type,),
        amounts=(amount, extra),
        dates=(
            inputs.tax_period_start,
            inputs.tax_period_end,
            inputs.tax_due_date,
            inputs.inspection_start,
            inputs.inspection_end,
        ),
        names=(inputs.payment_place,),
        legal_basis=(
            *(c.split("@", 1)[0] for c in ids),
            *SURCHARGE_BASIS,  # the template's surcharge and tax-dispute clauses
            *TAX_DISPUTE_BASIS,
        ),
    )
    return rendered, record


def _correction(
    case: Case,
    suggestion: dict[str, Any],
    ctx: PenaltyContext,
    inputs: CorrectionInputs,
    book: StatuteBook,
) -> tuple[RenderedDocument, FactRecord]:
    violated = _violated(suggestion, book)
    cctx = CorrectionNoticeContext(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        party=ctx.party,
        facts=ctx.facts,
        violated=violated,
        legal_basis=ctx.legal_basis,
        correction=inputs.correction,
        deadline=inputs.deadline,
        remedy=_remedy(ctx),
        decision_date=ctx.decision_date,
    )
    rendered = render_correction_notice(cctx)
    record = _record(
        ctx,
        case,
        fine=Decimal("0.00"),
        hearing_required=False,
        sources=(inputs.correction,),
        dates=(inputs.deadline,),
        legal_basis=tuple(b.statute_id.split("@", 1)[0] for b in violated),
    )
    return rendered, record


def _interview(
    session: Session, case: Case, ctx: PenaltyContext, inputs: InterviewInputs
) -> tuple[RenderedDocument, FactRecord, list[str]]:
    """Header from the inputs; 问/答 from the inputs or the recording's labelled segments."""
    recording = None
    query = select(Recording).where(Recording.case_id == case.id).order_by(Recording.id.desc())
    if inputs.recording_id is not None:
        query = query.where(Recording.id == inputs.recording_id)
    recording = session.scalars(query).first()
    if inputs.recording_id is not None and recording is None:
        raise InvalidInput(
            "recording_not_found",
            "本案没有该录音。",
            details={"fields": ["recording_id"], "recording_id": inputs.recording_id},
        )
    end = inputs.end
    if end is None and recording is not None:
        end = inputs.start + timedelta(seconds=round(recording.duration_seconds))
    utterances: list[Utterance] = []
    segments: list[str] = []
    if inputs.utterances:
        utterances = [Utterance(u.speaker, u.text) for u in inputs.utterances]
    elif recording is not None:
        unlabelled = []
        for s in sorted(recording.segments, key=lambda s: s.index):
            label = (s.speaker or "").strip() or s.text.strip()[:1]
            if label[:1] not in ("问", "答"):
                unlabelled.append(s.index)
                continue
            text = s.text.strip()
            text = text[2:] if text[:2] in ("问：", "答：") else text
            utterances.append(Utterance(label[:1], text, f"recording:{recording.id}:{s.index}"))
            segments.append(f"recording:{recording.id}:{s.index}")
        if unlabelled:
            utterances = []
    missing = [n for n, v in (("end", end), ("utterances", utterances)) if not v]
    if missing:
        raise InvalidInput(
            "missing_document_data",
            "起草询问笔录还缺少以下信息："
            + "、".join(missing)
            + "（录音转写未标注问/答时请在 inputs.utterances 中提供）。",
            details={"doc_type": "interview_record", "fields": missing},
        )
    assert end is not None
    ictx = InterviewContext(
        authority=ctx.authority,
        start=inputs.start,
        end=end,
        place=inputs.place,
        interviewers=tuple((o.name, o.certificate) for o in inputs.interviewers),
        recorder=inputs.recorder,
        interviewee=inputs.interviewee,
        interviewee_id=inputs.interviewee_id,
        interviewee_role=inputs.interviewee_role,
        utterances=tuple(utterances),
    )
    rendered = render_interview(ictx)
    record = _record(
        ctx,
        case,
        decision_date=inputs.start.date(),
        doc_number=None,
        fine=Decimal("0.00"),
        hearing_required=False,
        legal_basis=("税收征收管理法:54:1:4", "税收征收管理法:54:4", "税收征收管理法:12"),
        sources=(
            inputs.place,
            inputs.recorder,
            inputs.interviewee,
            inputs.interviewee_id,
            inputs.interviewee_role,
            *_officer_text(inputs.interviewers),
            *(u.text for u in utterances),
            f"{inputs.start.hour}时{inputs.start.minute:02d}分",
            f"{end.hour}时{end.minute:02d}分",
        ),
        dates=(inputs.start.date(), end.date()),
        names=(inputs.interviewee, inputs.recorder, *(o.name for o in inputs.interviewers)),
    )
    return rendered, record, segments


def _legal_review(
    session: Session,
    case: Case,
    actor: User,
    suggestion: dict[str, Any],
    ctx: PenaltyContext,
    inputs: LegalReviewInputs,
) -> tuple[RenderedDocument, FactRecord, list[str]]:
    """Points from the record (party, basis, discretion) unless given; opinion from the review."""
    event = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "legal_review")
        .order_by(CaseEvent.id.desc())
    ).first()
    sources: list[str] = []
    conclusion = inputs.conclusion
    reviewers = inputs.reviewers or []
    if event is not None:
        sources.append(f"case_event:{event.id}")
        if not conclusion:
            result = str(event.details.get("result", ""))
            opinion = str(event.details.get("opinion", "")).strip()
            conclusion = f"审核结论：{result}。{opinion}".rstrip("。") + "。" if result else None
        if not reviewers:
            reviewer = session.get(User, event.actor_id)
            reviewers = [reviewer.display_name] if reviewer else []
    if not reviewers and actor.id != case.officer_id:
        reviewers = [actor.display_name]
    missing = [n for n, v in (("conclusion", conclusion), ("reviewers", reviewers)) if not v]
    if missing:
        raise InvalidInput(
            "missing_document_data",
            "起草法制审核意见书还缺少以下信息："
            + "、".join(missing)
            + "（案件尚无法制审核记录时请在 inputs 中提供）。",
            details={"doc_type": "legal_review_opinion", "fields": missing},
        )
    assert conclusion is not None
    from assistant.legal import cite_all
    from assistant.money import format_yuan

    amount = to_yuan(ctx.amount)
    proposal = (
        f"对{ctx.party.name}处以罚款{format_yuan(amount)}"
        if suggestion.get("decision", "penalty") == "penalty"
        else f"对{ctx.party.name}不予税务行政处罚"
    )
    if inputs.points:
        points = tuple(ReviewPoint(p.topic, p.finding) for p in inputs.points)
    else:
        points = (
            ReviewPoint(
                "主体", f"当事人为{ctx.party.name}，{ctx.party.id_label}{ctx.party.id_number}"
            ),
            ReviewPoint("依据", f"适用{cite_all(ctx.legal_basis)}的规定"),
            ReviewPoint(
                "裁量",
                f"依据{ctx.benchmark_citation}，拟{proposal.removeprefix('对' + ctx.party.name)}"
                if ctx.benchmark_citation
                else f"拟{proposal.removeprefix('对' + ctx.party.name)}",
            ),
        )
    lctx = LegalReviewContext(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        case_name=f"{ctx.party.name}{case.number}案",
        party=ctx.party,
        submitting_unit=inputs.submitting_unit or ctx.authority,
        submitted_on=ctx.decision_date,
        proposal=proposal,
        points=points,
        conclusion=conclusion,
        reviewers=tuple(reviewers),
        decision_date=ctx.decision_date,
    )
    rendered = render_legal_review(lctx)
    record = _record(
        ctx,
        case,
        hearing_required=False,
        sources=(
            case.number,
            conclusion,
            *reviewers,
            *(p.finding for p in points),
            inputs.submitting_unit or "",
        ),
        names=tuple(reviewers),
        legal_basis=("行政处罚法:58",),
    )
    return rendered, record, sources
