"""询问（调查）笔录 (询: a register number kept on the stored document; the 笔录 prints none).

The header comes from the request; 问/答 from the request's `utterances` or from the
recording's segments when each is labelled 问/答 (stereo channels, or the voices of a mono
recording). Needs no discretion result: an interview is taken before any suggestion exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import Field
from sqlalchemy import select

from assistant.db.models import Recording
from assistant.documents.context import Officer, fact_record, officer_text
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest
from assistant.drafting.guard import FactRecord
from assistant.drafting.other_documents import (
    INTERVIEW_BASIS,
    RECUSAL_BASIS,
    TITLES,
    InterviewContext,
    OtherDocumentType,
    Utterance,
    render_interview,
)
from assistant.errors import InvalidInput


class UtteranceIn(DocumentInputs):
    speaker: str = Field(pattern="^(问|答)$")
    text: str = Field(min_length=1, max_length=2000)


class InterviewInputs(DocumentInputs):
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


def _inputs(request: DraftRequest) -> InterviewInputs:
    assert isinstance(request.inputs, InterviewInputs)
    return request.inputs


def context(request: DraftRequest) -> InterviewContext:
    inputs, case = _inputs(request), request.case
    query = select(Recording).where(Recording.case_id == case.id).order_by(Recording.id.desc())
    if inputs.recording_id is not None:
        query = query.where(Recording.id == inputs.recording_id)
    recording = request.session.scalars(query).first()
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
    request.provenance["utterances"] = [u.segment_id for u in utterances if u.segment_id]
    return InterviewContext(
        authority=request.base.authority,
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


def record(request: DraftRequest, ctx: InterviewContext) -> FactRecord:
    inputs = _inputs(request)
    end = ctx.end
    assert isinstance(end, datetime)  # this type's context always gives a time
    return fact_record(
        request.base,
        request.case,
        decision_date=inputs.start.date(),
        doc_number=None,
        fine=Decimal("0.00"),
        hearing_required=False,
        legal_basis=("税收征收管理法:54:4", *INTERVIEW_BASIS, *RECUSAL_BASIS),
        sources=(
            inputs.place,
            inputs.recorder,
            inputs.interviewee,
            inputs.interviewee_id,
            inputs.interviewee_role,
            *officer_text(inputs.interviewers),
            *(u.text for u in ctx.utterances),
            f"{inputs.start.hour}时{inputs.start.minute:02d}分",
            f"{end.hour}时{end.minute:02d}分",
        ),
        dates=(inputs.start.date(), end.date()),
        names=(inputs.interviewee, inputs.recorder, *(o.name for o in inputs.interviewers)),
    )


KIND = DocumentKind(
    code="interview_record",
    title=TITLES[OtherDocumentType.INTERVIEW_RECORD],
    number_kind="询",
    inputs=InterviewInputs,
    needs_discretion=False,
    drafter="handler",
    context=context,
    render=render_interview,
    record=record,
)
