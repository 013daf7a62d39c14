"""税务事项通知书（责令限期改正）(通): what to correct and by when come from the request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from assistant.documents.context import fact_record, remedy, violated
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest
from assistant.drafting.guard import FactRecord
from assistant.drafting.other_documents import (
    TITLES,
    CorrectionNoticeContext,
    OtherDocumentType,
    render_correction_notice,
)


class CorrectionInputs(DocumentInputs):
    correction: str = Field(min_length=1, max_length=500, description="办理…纳税申报")
    deadline: date


def _inputs(request: DraftRequest) -> CorrectionInputs:
    assert isinstance(request.inputs, CorrectionInputs)
    return request.inputs


def context(request: DraftRequest) -> CorrectionNoticeContext:
    base, inputs = request.base, _inputs(request)
    return CorrectionNoticeContext(
        authority=base.authority,
        doc_number=base.doc_number,
        party=base.party,
        facts=base.facts,
        violated=violated(request.suggestion, request.statutes),
        legal_basis=base.legal_basis,
        correction=inputs.correction,
        deadline=inputs.deadline,
        remedy=remedy(base),
        decision_date=base.decision_date,
    )


def record(request: DraftRequest, ctx: CorrectionNoticeContext) -> FactRecord:
    inputs = _inputs(request)
    return fact_record(
        request.base,
        request.case,
        fine=Decimal("0.00"),
        hearing_required=False,
        sources=(inputs.correction,),
        dates=(inputs.deadline,),
        legal_basis=tuple(b.statute_id.split("@", 1)[0] for b in ctx.violated),
    )


KIND = DocumentKind(
    code="correction_notice",
    title=TITLES[OtherDocumentType.CORRECTION_NOTICE],
    number_kind="通",
    inputs=CorrectionInputs,
    needs_discretion=True,
    drafter="handler",
    context=context,
    render=render_correction_notice,
    record=record,
)
