"""Drafting a document of any registered type onto a case, inside the caller's transaction.

Why here and not in the workflow: the legal review drafts its 意见书 in the review's own
transaction, so the lifecycle and the workflow share this one path (who may draft, the
discretion result, the 文号, the type's build/render/fact check, the stored file and the signed
`document_drafted` event). What follows a draft (reopening a passed review) is the caller's.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import latest_result, require_handler, require_role
from assistant.cases.duties import require_separate_duty
from assistant.cases.events import record_action
from assistant.cases.numbering import format_doc_number, next_sequence
from assistant.dates import to_china_time, today_in_china
from assistant.db.models import Case, Document, User
from assistant.documents.context import base_context
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest
from assistant.documents.registry import document_kind
from assistant.drafting.guard import FactRecord
from assistant.errors import Conflict
from assistant.services import Services


def require_drafter(session: Session, kind: DocumentKind[Any], case: Case, actor: User) -> None:
    """The handling officer drafts the handler's types; a reviewer who holds no other duty on
    the case drafts the reviewer's (行政处罚法第五十八条)."""
    if kind.drafter == "reviewer":
        require_role(actor, Role.REVIEWER, Role.ADMIN)
        require_separate_duty(session, case, actor, "review")
    else:
        require_handler(actor, case)


def draft_request(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    number: str,
    inputs: DocumentInputs | None,
    *,
    stored: dict[str, Any] | None = None,
) -> DraftRequest:
    """What a type's builders read: the record with the 文号, the discretion result (empty
    before there is one), the inputs; `stored` when re-checking a stored document."""
    discretion = latest_result(session, case.id, "discretion")
    suggestion = discretion.payload if discretion is not None else {}
    statutes = services.knowledge().statutes
    return DraftRequest(
        session=session,
        case=case,
        actor=actor,
        suggestion=suggestion,
        base=base_context(
            session,
            case,
            suggestion,
            number,
            settings=services.settings,
            statutes=statutes,
            decision_date=today_in_china(),
        ),
        inputs=inputs,
        statutes=statutes,
        settings=services.settings,
        stored=stored,
    )


def stored_record(
    services: Services, session: Session, actor: User, case: Case, document: Document
) -> FactRecord:
    """The fact record of a stored document, rebuilt by its type from the record and the
    inputs it was drafted with; its drafting day stays a date of the record."""
    kind = document_kind(document.doc_type)  # 409 for a retired type, naming its replacement
    if kind.needs_discretion and latest_result(session, case.id, "discretion") is None:
        raise Conflict("discretion_required", "请先生成裁量建议。")
    stored = dict(document.provenance or {})
    raw = stored.get("inputs") or []
    inputs = kind.parse_inputs(json.loads(raw[0])) if kind.inputs is not None and raw else None
    request = draft_request(services, session, actor, case, document.number, inputs, stored=stored)
    record = kind.fact_record(request)
    drafted = to_china_time(document.created_at).date()
    return replace(record, dates=(*record.dates, drafted))


def draft_in(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    kind: DocumentKind[Any],
    inputs: DocumentInputs | None,
) -> Document:
    """Draft, fact-check, store and record one document of `kind`; nothing stays on failure."""
    require_drafter(session, kind, case, actor)
    discretion = latest_result(session, case.id, "discretion")
    if discretion is None and kind.needs_discretion:
        raise Conflict(
            "discretion_required",
            "请先生成裁量建议，再起草处罚文书。",
            details={"missing_step": "discretion"},
        )
    year = today_in_china().year
    prefix = services.settings.authority_doc_prefix
    sequence = next_sequence(session, prefix=prefix, kind=kind.number_kind, year=year)
    number = format_doc_number(prefix, kind.number_kind, year, sequence)
    request = draft_request(services, session, actor, case, number, inputs)
    rendered, provenance = kind.draft(request)
    sha256, _, created = services.files.put_bytes(rendered.docx)
    try:
        version = 1 + (
            session.scalar(
                select(func.count(Document.id)).where(
                    Document.case_id == case.id, Document.doc_type == kind.code
                )
            )
            or 0
        )
        document = Document(
            case_id=case.id,
            doc_type=kind.code,
            number=number,
            version=version,
            sha256=sha256,
            filename=f"{case.number}-{rendered.title}-v{version}.docx",
            text=rendered.text,
            provenance=provenance,
            created_by=actor.id,
        )
        session.add(document)
        session.flush()
        record_action(
            services,
            session,
            case,
            actor,
            "document_drafted",
            case.status,
            case.status,
            {
                "document_id": document.id,
                "doc_type": kind.code,
                "number": number,
                "sha256": sha256,
            },
            covers=[document],
        )
        session.flush()
    except BaseException:
        if created:
            services.files.discard(sha256)
        raise
    return document
