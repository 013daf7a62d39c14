"""税务行政处罚事项告知书 (罚告) and 税务行政处罚决定书 (罚): from the record and the discretion
result alone, with the 违法事实 narrated by the configured backend when the guard accepts it."""

from __future__ import annotations

import dataclasses

from assistant.documents.context import case_transcript, fact_record
from assistant.documents.kind import DocumentKind, DraftRequest, Publicity
from assistant.drafting.context import PenaltyContext
from assistant.drafting.documents import TITLES, DocumentType, RenderedDocument, render
from assistant.drafting.generators import generator_from_settings
from assistant.drafting.guard import FactRecord
from assistant.drafting.narrative import NarrativeRequest, narrate


def narrated(request: DraftRequest) -> PenaltyContext:
    """The 违法事实 text by settings: template by default, an LLM's if it passes the guard.
    Which one and why goes into the provenance (`narrative`)."""
    context = request.base
    if request.stored is not None:  # re-checking: the record's facts, no model call
        return context
    generator, why = generator_from_settings(request.settings)
    if generator is None:
        request.provenance["narrative"] = ["template", "template", why]
        return context
    narrative = NarrativeRequest(
        facts=context.facts,
        evidence=tuple(context.evidence),
        transcript=case_transcript(request.session, request.case),
        party_name=context.party.name,
    )
    record = FactRecord.from_context(
        context, act_date=request.case.violation_date, amounts=[request.case.tax_unpaid]
    )
    result = narrate(narrative, record, request.statutes, generator)
    if result.source == "llm":
        request.provenance["narrative"] = ["llm", result.generator, why]
        return dataclasses.replace(context, facts=result.text)
    if result.error:
        reason = f"模型调用失败（{result.error}），使用模板叙述"
    else:
        spans = "、".join(f.text for f in result.rejected[:5])
        reason = f"模型叙述含记录中没有的内容（{spans}），未采用，使用模板叙述"
    request.provenance["narrative"] = ["template", result.generator, reason]
    return context


def record(request: DraftRequest, context: PenaltyContext) -> FactRecord:
    """The record; an accepted LLM narrative passed the guard against the record plus the
    transcript, which is then a source too."""
    stored = (request.stored or {}).get("narrative") or [""]
    used_model = context.facts != request.base.facts or stored[0] == "llm"
    transcript = case_transcript(request.session, request.case) if used_model else ""
    return fact_record(request.base, request.case, sources=(transcript,) if transcript else ())


def _render_notice(context: PenaltyContext) -> RenderedDocument:
    return render(DocumentType.PENALTY_NOTICE, context)


def _render_decision(context: PenaltyContext) -> RenderedDocument:
    return render(DocumentType.PENALTY_DECISION, context)


NOTICE = DocumentKind(
    code="penalty_notice",
    title=TITLES[DocumentType.PENALTY_NOTICE],
    number_kind="罚告",
    inputs=None,
    needs_discretion=True,
    drafter="handler",
    context=narrated,
    render=_render_notice,
    record=record,
    notice_of="penalty_decision",
    statute_document="处罚决定",
)
DECISION = DocumentKind(
    code="penalty_decision",
    title=TITLES[DocumentType.PENALTY_DECISION],
    number_kind="罚",
    inputs=None,
    needs_discretion=True,
    drafter="handler",
    context=narrated,
    render=_render_decision,
    record=record,
    decision=True,
    publicity=Publicity(kind="处罚", period="decision"),
    statute_document="处罚决定",
)
