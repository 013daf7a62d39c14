"""The case record as every document type starts from it, and the helpers types share.

`base_context` is the record's common facts (party, authority, periods, the penalty's legal
basis and amount, the finding) as a PenaltyContext; each type's context builder takes what it
needs from it and adds its own inputs, and `fact_record` extends the guard's record likewise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.db.models import Case, Recording, TranscriptSegment
from assistant.discretion import load_benchmark, load_procedure
from assistant.documents.kind import DocumentInputs
from assistant.drafting.context import FineBase, LegalBasis, Party, PenaltyContext
from assistant.drafting.findings import finding_for
from assistant.drafting.guard import FactRecord
from assistant.drafting.other_documents import Remedy
from assistant.knowledge.statutes import StatuteBook
from assistant.legal import StatuteId
from assistant.nlp import validate_uscc
from assistant.taxonomy import get_violation


class Officer(DocumentInputs):
    name: str = Field(min_length=1, max_length=32)
    certificate: str = Field(min_length=1, max_length=32, description="执法证号")


def officer_text(officers: list[Officer]) -> list[str]:
    return [f"{o.name}（执法证号：{o.certificate}）" for o in officers]


def base_context(
    session: Session,
    case: Case,
    suggestion: dict[str, Any],
    number: str,
    *,
    settings: Settings,
    statutes: StatuteBook,
    decision_date: date,
) -> PenaltyContext:
    """The record's common facts, with the 文号 allocated for this document."""
    procedure = load_procedure()
    taxpayer = case.taxpayer
    kind: Literal["organisation", "individual"] = (
        "organisation" if taxpayer.kind == "organisation" else "individual"
    )
    id_label = "统一社会信用代码" if validate_uscc(taxpayer.uscc) else "身份证件号码"
    citations = penalty_basis(suggestion)
    legal_basis = tuple(
        LegalBasis(statute_id=c, law_title=statutes.full_title(StatuteId.parse(c).law))
        for c in citations
    )
    evidence = list(case.evidence)
    recordings = select(Recording).where(Recording.case_id == case.id).order_by(Recording.id)
    for recording in session.scalars(recordings):
        evidence.append(
            f"询问录音《{recording.original_filename}》（时长{recording.duration_seconds:.0f}秒，"
            f"SHA-256：{recording.sha256[:16]}…）及其文字记录"
        )
    amount = Decimal(str(suggestion.get("suggested_amount", "0")))
    bench = load_benchmark(settings.benchmark_file)
    finding = finding_for(
        case.violation_code,
        fallback_name=get_violation(case.violation_code).name_zh,
        full_title=statutes.full_title,
        party_role=str(getattr(case, "party_role", None) or "taxpayer"),
    )
    return PenaltyContext(
        authority=settings.authority_name,
        doc_number=number,
        party=Party(
            name=taxpayer.name,
            kind=kind,
            id_label=id_label,
            id_number=taxpayer.uscc,
            address=taxpayer.address,
            legal_representative=taxpayer.legal_representative,
        ),
        facts=case.facts,
        evidence=tuple(evidence),
        legal_basis=legal_basis,
        benchmark_citation=suggestion.get("benchmark_citation"),
        decision=suggestion.get("decision", "penalty"),
        amount=amount,
        decision_date=decision_date,
        statement_days=procedure.statement_defence_days,
        hearing_offered=bool(suggestion.get("hearing_required")),
        hearing_request_days=procedure.hearing_request_days,
        payment_days=procedure.fine_payment_days,
        late_fine_rate_percent=(procedure.additional_fine_daily_rate * 100).normalize(),
        reconsideration_days=procedure.reconsideration_days,
        lawsuit_months=procedure.lawsuit_months,
        reconsideration_body=settings.reconsideration_body,
        confiscation=Decimal(str(suggestion.get("confiscated_amount") or "0")),
        provenance={
            "legal_basis": tuple(citations),
            "amount": (f"discretion:{suggestion.get('benchmark_item')}",),
            "periods": tuple(f"procedure:{k}" for k in sorted(procedure.sources)),
            "finding": ("corpora/drafting/findings.yaml",),
        },
        fine_base=fine_base(bench, case, suggestion, amount),
        finding=finding,
        benchmark_is_sample=bench.sample,
    )


def penalty_basis(suggestion: dict[str, Any]) -> list[str]:
    """The provisions a penalty rests on: the legal ground, plus 行政处罚法第三十二条 when the
    suggestion mitigated. Hearing, legal-review and criminal-referral provisions are in the
    suggestion's citations too, but a decision does not cite them as its basis."""
    citations = [c for c in suggestion.get("citations", []) if isinstance(c, str)]
    ground = legal_ground(suggestion)
    if not ground:
        return citations
    return ground + [c for c in citations if c == "行政处罚法:32" and c not in ground]


def legal_ground(suggestion: dict[str, Any]) -> list[str]:
    return [c for c in suggestion.get("legal_ground", []) if isinstance(c, str)]


def fine_base(bench: Any, case: Case, suggestion: dict[str, Any], amount: Decimal) -> Any:
    """What a multiple-of fine multiplies (不缴或者少缴的税款 50,000元 × 0.75), when the item is
    one and the fine is exactly base × rate; otherwise None and the fine is stated as a sum."""
    item = next((i for i in bench.items if i.id == suggestion.get("benchmark_item")), None)
    if item is None or item.statutory.kind != "multiple" or item.statutory.base is None:
        return None
    base = getattr(case, str(item.statutory.base), None)
    if not isinstance(base, Decimal) or base <= 0 or amount <= 0:
        return None
    rate = (amount / base).quantize(Decimal("0.0001"))
    if (base * rate).quantize(Decimal("0.01")) != amount.quantize(Decimal("0.01")):
        return None
    return FineBase(item.base_label or "涉案金额", base, rate)


def basis(statutes: StatuteBook, ids: list[str]) -> tuple[LegalBasis, ...]:
    return tuple(LegalBasis(c, statutes.full_title(StatuteId.parse(c).law)) for c in ids)


def violated(suggestion: dict[str, Any], statutes: StatuteBook) -> tuple[LegalBasis, ...]:
    """The provisions the act broke: the suggestion's cited articles that are not its ground."""
    citations = [c for c in suggestion.get("citations", []) if isinstance(c, str)]
    ground = legal_ground(suggestion)
    ids = [c for c in citations if c not in ground and ":" in c and "公告" not in c]
    return basis(statutes, ids or ground)


def remedy(ctx: PenaltyContext) -> Remedy:
    return Remedy(ctx.reconsideration_body, ctx.reconsideration_days, ctx.lawsuit_months)


def fact_record(ctx: PenaltyContext, case: Case, **extra: Any) -> FactRecord:
    """The case's base record (party, authority, periods, basis) plus what a type adds:
    `sources`, `amounts`, `dates`, `names`, `legal_basis` are appended, the rest replaced."""
    base = FactRecord.from_context(ctx, act_date=case.violation_date, amounts=[case.tax_unpaid])
    fields = dict(base.__dict__)
    for key in ("sources", "amounts", "dates", "names", "legal_basis"):
        fields[key] = (*fields[key], *extra.pop(key, ()))
    fields.update(extra)
    return FactRecord(**fields)


def case_transcript(session: Session, case: Case) -> str:
    """All transcript text of the case's recordings, in order (a source of the narrative)."""
    rows = session.scalars(
        select(TranscriptSegment)
        .join(Recording, TranscriptSegment.recording_id == Recording.id)
        .where(Recording.case_id == case.id, Recording.status == "transcribed")
        .order_by(Recording.id, TranscriptSegment.index)
    )
    return "".join(s.text for s in rows)
