"""不予税务行政处罚决定书 (不罚): only for a 首违不罚 suggestion (行政处罚法第三十三条第一款)."""

from __future__ import annotations

from decimal import Decimal

from assistant.documents.context import basis, legal_ground, remedy
from assistant.documents.kind import DocumentKind, DraftRequest, Publicity
from assistant.drafting.guard import FactRecord
from assistant.drafting.other_documents import (
    TITLES,
    NoPenaltyContext,
    OtherDocumentType,
    render_no_penalty,
)
from assistant.errors import Conflict


def context(request: DraftRequest) -> NoPenaltyContext:
    suggestion, base = request.suggestion, request.base
    if suggestion.get("decision") != "no_penalty":
        raise Conflict(
            "not_a_no_penalty_case",
            "裁量建议为给予处罚，不能制作不予税务行政处罚决定书。",
            details={"decision": suggestion.get("decision")},
        )
    citations = [c for c in suggestion.get("citations", []) if isinstance(c, str)]
    ground = legal_ground(suggestion)
    broken = [c for c in citations if c not in ground and ":" in c and "公告" not in c]
    notices = [c for c in citations if "公告" in c]
    reason = "鉴于" + ("你单位" if base.party.kind == "organisation" else "你")
    reason += "系初次违法且危害后果轻微，并已及时改正"
    if notices:
        reason += f"，属于税务行政处罚“首违不罚”事项清单（{'、'.join(notices)}）所列事项"
    return NoPenaltyContext(
        authority=base.authority,
        doc_number=base.doc_number,
        party=base.party,
        facts=base.facts,
        evidence=base.evidence,
        violated=basis(request.statutes, broken) or basis(request.statutes, ground),
        reason=reason,
        remedy=remedy(base),
        decision_date=base.decision_date,
        legal_basis=basis(request.statutes, ground),
    )


def record(request: DraftRequest, ctx: NoPenaltyContext) -> FactRecord:
    base = request.base
    return FactRecord(
        party_name=base.party.name,
        party_id=base.party.id_number,
        authority=base.authority,
        reconsideration_body=base.reconsideration_body,
        decision_date=base.decision_date,
        fine=Decimal("0.00"),
        hearing_required=False,
        periods={
            "reconsideration_days": base.reconsideration_days,
            "lawsuit_months": base.lawsuit_months,
        },
        late_fine_rate_percent=base.late_fine_rate_percent,
        legal_basis=tuple(b.statute_id.split("@", 1)[0] for b in (*ctx.violated, *ctx.legal_basis)),
        address=base.party.address,
        legal_representative=base.party.legal_representative,
        act_date=request.case.violation_date,
        doc_number=base.doc_number,
        sources=(base.facts, *base.evidence, ctx.reason),
        amounts=(request.case.tax_unpaid,),
    )


KIND = DocumentKind(
    code="no_penalty_decision",
    title=TITLES[OtherDocumentType.NO_PENALTY_DECISION],
    number_kind="不罚",
    inputs=None,
    needs_discretion=True,
    drafter="handler",
    context=context,
    render=render_no_penalty,
    record=record,
    decision=True,
    # published where the bureau publishes 不予处罚 decisions (setting)
    publicity=Publicity(kind="不予处罚", period="decision", optional=True),
)
