"""税务行政处罚决定书（简易）(简罚): on the spot (行政处罚法第五十一条、第五十二条); the place,
time and the two officers come from the request."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from assistant.documents.context import Officer, fact_record, officer_text, remedy
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest, Publicity
from assistant.drafting.guard import FactRecord
from assistant.drafting.other_documents import (
    SIMPLE_BASIS,
    SIMPLE_REMEDY_BASIS,
    TITLES,
    OtherDocumentType,
    SimplePenaltyContext,
    render_simple_penalty,
)
from assistant.errors import InvalidInput


class SimplePenaltyInputs(DocumentInputs):
    place: str = Field(min_length=1, max_length=200)
    when: datetime
    officers: list[Officer] = Field(min_length=2)
    payment_place: str | None = Field(default=None, max_length=200)


def _inputs(request: DraftRequest) -> SimplePenaltyInputs:
    assert isinstance(request.inputs, SimplePenaltyInputs)
    return request.inputs


def context(request: DraftRequest) -> SimplePenaltyContext:
    base, inputs = request.base, _inputs(request)
    if base.confiscation > 0:
        raise InvalidInput(
            "simple_procedure_not_allowed",
            "并处没收违法所得的，不适用简易程序（行政处罚法第五十一条只允许当场给予警告或者限额内罚款），"
            "请适用一般程序。",
            details={"confiscation": str(base.confiscation)},
        )
    return SimplePenaltyContext(
        authority=base.authority,
        doc_number=base.doc_number,
        party=base.party,
        facts=base.facts,
        violated=(),
        legal_basis=base.legal_basis,
        amount=base.amount,
        place=inputs.place,
        when=inputs.when,
        officers=tuple((o.name, o.certificate) for o in inputs.officers),
        remedy=remedy(base),
        payment_place=inputs.payment_place,
        payment_days=base.payment_days,
        late_fine_rate_percent=base.late_fine_rate_percent,
        finding=base.finding,
    )


def record(request: DraftRequest, ctx: SimplePenaltyContext) -> FactRecord:
    inputs = _inputs(request)
    return fact_record(
        request.base,
        request.case,
        decision_date=inputs.when.date(),
        sources=(
            inputs.place,
            *officer_text(inputs.officers),
            f"{inputs.when.hour}时{inputs.when.minute:02d}分",
        ),
        dates=(inputs.when.date(),),
        names=tuple(n for n in (inputs.payment_place, inputs.place) if n),
        # the template's on-the-spot clause and its reconsideration-first remedy
        legal_basis=(*SIMPLE_BASIS, *SIMPLE_REMEDY_BASIS),
    )


KIND = DocumentKind(
    code="simple_penalty_decision",
    title=TITLES[OtherDocumentType.SIMPLE_PENALTY_DECISION],
    number_kind="简罚",
    inputs=SimplePenaltyInputs,
    needs_discretion=True,
    drafter="handler",
    context=context,
    render=render_simple_penalty,
    record=record,
    publicity=Publicity(kind="处罚", period="decision"),
    statute_document="处罚决定",
)
