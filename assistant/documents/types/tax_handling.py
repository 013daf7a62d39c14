"""税务处理决定书 (处): tax per item with the 滞纳金 (税收征收管理法第三十二条); the tax type,
periods, due date and inspection dates come from the request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from assistant.documents.context import basis, fact_record, legal_ground, remedy
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest, Publicity
from assistant.drafting.guard import FactRecord
from assistant.drafting.other_documents import (
    SURCHARGE_BASIS,
    TAX_DISPUTE_BASIS,
    TITLES,
    OtherDocumentType,
    TaxHandlingContext,
    TaxItem,
    render_tax_handling,
    surcharge,
)
from assistant.errors import InvalidInput
from assistant.money import to_yuan


class TaxHandlingInputs(DocumentInputs):
    tax_type: str = Field(min_length=1, max_length=32, description="税种: 增值税 …")
    tax_period_start: date
    tax_period_end: date
    tax_due_date: date = Field(description="the statutory due date; surcharge from the next day")
    inspection_start: date
    inspection_end: date
    payment_place: str = Field(min_length=1, max_length=200)
    tax_amount: Decimal | None = Field(default=None, gt=0, description="default: case tax_unpaid")
    legal_basis: list[str] | None = Field(default=None, description="statute ids; default: ground")


def _inputs(request: DraftRequest) -> TaxHandlingInputs:
    assert isinstance(request.inputs, TaxHandlingInputs)
    return request.inputs


def _ids(request: DraftRequest) -> list[str]:
    return _inputs(request).legal_basis or legal_ground(request.suggestion)


def context(request: DraftRequest) -> TaxHandlingContext:
    base, inputs, case = request.base, _inputs(request), request.case
    amount = to_yuan(inputs.tax_amount if inputs.tax_amount is not None else case.tax_unpaid)
    if amount <= 0:
        raise InvalidInput(
            "missing_document_data",
            "起草该文书还缺少以下信息：tax_amount（案件记录中的应补税款为零）。",
            details={"doc_type": "tax_handling_decision", "fields": ["tax_amount"]},
        )
    item = TaxItem(
        inputs.tax_type,
        (inputs.tax_period_start, inputs.tax_period_end),
        amount,
        inputs.tax_due_date,
    )
    return TaxHandlingContext(
        authority=base.authority,
        doc_number=base.doc_number,
        party=base.party,
        inspection_period=(inputs.inspection_start, inputs.inspection_end),
        facts=base.facts,
        evidence=base.evidence,
        legal_basis=basis(request.statutes, _ids(request)),
        items=(item,),
        surcharge_until=base.decision_date,
        remedy=remedy(base),
        decision_date=base.decision_date,
        payment_place=inputs.payment_place,
        payment_days=base.payment_days,
    )


def record(request: DraftRequest, ctx: TaxHandlingContext) -> FactRecord:
    inputs = _inputs(request)
    (item,) = ctx.items
    return fact_record(
        request.base,
        request.case,
        fine=Decimal("0.00"),
        hearing_required=False,
        sources=(inputs.tax_type,),
        amounts=(item.amount, surcharge(item, request.base.decision_date)),
        dates=(
            inputs.tax_period_start,
            inputs.tax_period_end,
            inputs.tax_due_date,
            inputs.inspection_start,
            inputs.inspection_end,
        ),
        names=(inputs.payment_place,),
        legal_basis=(
            *(c.split("@", 1)[0] for c in _ids(request)),
            *SURCHARGE_BASIS,  # the template's surcharge and tax-dispute clauses
            *TAX_DISPUTE_BASIS,
        ),
    )


KIND = DocumentKind(
    code="tax_handling_decision",
    title=TITLES[OtherDocumentType.TAX_HANDLING_DECISION],
    number_kind="处",
    inputs=TaxHandlingInputs,
    needs_discretion=True,
    drafter="handler",
    context=context,
    render=render_tax_handling,
    record=record,
    publicity=Publicity(kind="征收", period="other"),
    statute_document="处理决定",
)
