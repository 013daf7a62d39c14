"""Drafting a document of any registered type onto a case, inside the caller's transaction.

Why here and not in the workflow: the legal review drafts its 意见书 in the review's own
transaction, so the lifecycle and the workflow share this one path (who may draft, the
discretion result, the 文号, the type's build/render/fact check, the stored file and the signed
`document_drafted` event). What follows a draft (reopening a passed review) is the caller's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import latest_result, require_handler, require_role
from assistant.cases.duties import require_separate_duty
from assistant.cases.events import record_action
from assistant.cases.numbering import current_sequence, format_doc_number, next_sequence
from assistant.dates import to_china_time, today_in_china
from assistant.db.models import Case, Document, User
from assistant.documents.context import base_context
from assistant.documents.kind import DocumentInputs, DocumentKind, DraftRequest
from assistant.documents.registry import document_kind
from assistant.drafting.documents import RenderedDocument
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


@dataclass(frozen=True)
class Prerendered:
    """A draft built, rendered and fact-checked before the write transaction.

    Why: rendering takes most of a draft's time, and on SQLite every writer queues behind
    the one holding the write lock, so a draft rendered under it stalled every write route
    (p95 of seconds under load). The draft is rendered first with the 文号 the counter would
    give next; it is stored only if, under the lock, that is the 文号 allocated and the case's
    record has not grown (nothing it was built from changed), else it is rendered again
    there, as before: a draft renders at most twice, and never waits on a retry loop.
    """

    number: str
    record_length: int
    drafted_on: date
    rendered: RenderedDocument
    provenance: dict[str, list[str]]


def next_number(services: Services, session: Session, kind: DocumentKind[Any], year: int) -> str:
    """The 文号 the counter would allocate next for `kind` (read only: nothing reserved)."""
    prefix = services.settings.authority_doc_prefix
    sequence = current_sequence(session, prefix=prefix, kind=kind.number_kind, year=year) + 1
    return format_doc_number(prefix, kind.number_kind, year, sequence)


def require_draftable(session: Session, kind: DocumentKind[Any], case: Case, actor: User) -> None:
    """Who may draft, and the discretion result a penalty document needs."""
    require_drafter(session, kind, case, actor)
    if kind.needs_discretion and latest_result(session, case.id, "discretion") is None:
        raise Conflict(
            "discretion_required",
            "请先生成裁量建议，再起草处罚文书。",
            details={"missing_step": "discretion"},
        )


def prerender(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    kind: DocumentKind[Any],
    inputs: DocumentInputs | None,
) -> Prerendered:
    """Build, render and fact-check a draft with reads only (no lock, nothing written)."""
    require_draftable(session, kind, case, actor)
    drafted_on = today_in_china()
    number = next_number(services, session, kind, drafted_on.year)
    request = draft_request(services, session, actor, case, number, inputs)
    rendered, provenance = kind.draft(request)
    return Prerendered(number, case.record_length, drafted_on, rendered, provenance)


def draft_in(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    kind: DocumentKind[Any],
    inputs: DocumentInputs | None,
    prerendered: Prerendered | None = None,
) -> Document:
    """Draft, fact-check, store and record one document of `kind`; nothing stays on failure.

    `prerendered`: a draft rendered before the lock, stored as is when it got the 文号
    allocated here and the record has not grown since; otherwise the draft is rendered here.
    """
    require_draftable(session, kind, case, actor)
    drafted_on = today_in_china()
    prefix = services.settings.authority_doc_prefix
    sequence = next_sequence(session, prefix=prefix, kind=kind.number_kind, year=drafted_on.year)
    number = format_doc_number(prefix, kind.number_kind, drafted_on.year, sequence)
    if (
        prerendered is not None
        and prerendered.number == number
        and prerendered.record_length == case.record_length
        and prerendered.drafted_on == drafted_on
    ):
        rendered, provenance = prerendered.rendered, prerendered.provenance
    else:
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
