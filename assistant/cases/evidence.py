"""Evidence on a case: uploading documents (PDF, DOCX, images, scans), their reading, the list.

Why here: an upload is a handling act on the case (handler only, credential, signed event), and
the 证据清单 reads its provenance from the signed record, like every other case view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.cases.access import load_case, require_handler, require_reader
from assistant.cases.events import record_action
from assistant.db.models import CaseEvent, Evidence, Job, User
from assistant.errors import NotFound
from assistant.evidence.formats import inspect_evidence
from assistant.services import Services

EVIDENCE_ACTIONS = ("evidence_uploaded", "evidence_read")
KIND_ZH = {"pdf": "PDF 文件", "docx": "Word 文档", "image": "图片"}
METHOD_ZH = {"text_layer": "文字层", "ocr": "OCR 识别", "mixed": "文字层与 OCR", "docx": "文档文字"}


@dataclass(frozen=True)
class EvidenceUpload:
    """An accepted evidence file: its row and the job that reads it."""

    evidence: Evidence
    job: Job


def add_evidence(
    services: Services,
    actor: User,
    case_id: int,
    source: BinaryIO,
    *,
    filename: str,
    title: str | None = None,
) -> EvidenceUpload:
    """Stage and inspect the upload (bad input: 4xx, nothing kept), then store the original
    (SHA-256), its row, a queued reading job and the signed `evidence_uploaded` event in one
    transaction. The caller hands the job to a queue (or runs it)."""
    settings = services.settings
    with services.db.session() as session:
        require_handler(actor, load_case(session, case_id))
    files = services.files
    staged = files.stage(source, max_bytes=settings.evidence_max_bytes)
    created_blob = False
    try:
        found = inspect_evidence(
            staged.path,
            max_pages=settings.evidence_max_pages,
            max_pixels=settings.evidence_max_pixels,
            render_dpi=settings.ocr_dpi,
        )
        with services.db.session() as session:
            case = load_case(session, case_id)
            evidence = Evidence(
                case_id=case.id,
                sha256=staged.sha256,
                original_filename=safe_filename(filename),
                media_type=found.media_type,
                kind=found.kind,
                size_bytes=staged.size,
                pages=found.pages,
                title=title,
                status="reading",
                reader={},
                lines=[],
                uploaded_by=actor.id,
            )
            session.add(evidence)
            session.flush()
            job = Job(
                kind="evidence_reading",
                case_id=case.id,
                evidence_id=evidence.id,
                status="queued",
                created_by=actor.id,
                details={"kind": found.kind, "pages": found.pages},
            )
            session.add(job)
            session.flush()
            record_action(
                services,
                session,
                case,
                actor,
                "evidence_uploaded",
                case.status,
                case.status,
                {
                    "evidence_id": evidence.id,
                    "job_id": job.id,
                    "sha256": staged.sha256,
                    "filename": evidence.original_filename,
                    "media_type": found.media_type,
                    "pages": found.pages,
                    "size_bytes": staged.size,
                },
                covers=[evidence],
            )
            _, created_blob = files.commit(staged)
            session.flush()
            return EvidenceUpload(evidence=evidence, job=job)
    except BaseException:
        staged.path.unlink(missing_ok=True)
        if created_blob:
            files.discard(staged.sha256)
        raise


def evidence_for(services: Services, actor: User, evidence_id: int) -> Evidence:
    """One evidence row through its case's access rule."""
    with services.db.session() as session:
        evidence = session.get(Evidence, evidence_id)
        if evidence is None:
            raise NotFound(
                "evidence_not_found",
                f"证据 {evidence_id} 不存在。",
                details={"evidence_id": evidence_id},
            )
        require_reader(actor, load_case(session, evidence.case_id))
        return evidence


def evidence_list(services: Services, actor: User, case_id: int) -> dict[str, Any]:
    """The 证据清单: every evidence file in upload order, numbered, with what it is, how it was
    read and its provenance (who submitted it when, and the signed events that record the file
    and its reading, with their hashes)."""
    with services.db.session() as session:
        case = load_case(session, case_id)
        require_reader(actor, case)
        rows = list(
            session.scalars(
                select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)
            )
        )
        events = _evidence_events(session, case.id)
        names = {u.id: u.display_name for u in session.scalars(select(User))}
        items = [
            _item(number, evidence, events.get(evidence.id, []), names)
            for number, evidence in enumerate(rows, start=1)
        ]
        return {"case_id": case.id, "case_number": case.number, "count": len(items), "items": items}


def _evidence_events(session: Session, case_id: int) -> dict[int, list[CaseEvent]]:
    out: dict[int, list[CaseEvent]] = {}
    for event in session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.action.in_(EVIDENCE_ACTIONS))
        .order_by(CaseEvent.seq)
    ):
        evidence_id = (event.details or {}).get("evidence_id")
        if isinstance(evidence_id, int):
            out.setdefault(evidence_id, []).append(event)
    return out


def _item(
    number: int, evidence: Evidence, events: list[CaseEvent], names: dict[int, str]
) -> dict[str, Any]:
    scores = [line["confidence"] for line in evidence.lines if line.get("confidence") is not None]
    return {
        "number": number,
        "id": evidence.id,
        "name": evidence.title or evidence.original_filename,
        "filename": evidence.original_filename,
        "kind": evidence.kind,
        "kind_zh": KIND_ZH.get(evidence.kind, evidence.kind),
        "media_type": evidence.media_type,
        "pages": evidence.pages,
        "size_bytes": evidence.size_bytes,
        "sha256": evidence.sha256,
        "status": evidence.status,
        "method": evidence.method,
        "method_zh": METHOD_ZH.get(evidence.method or ""),
        "lines": len(evidence.lines),
        "ocr_pages": evidence.reader.get("ocr_pages", []),
        "mean_confidence": round(sum(scores) / len(scores), 4) if scores else None,
        "submitted_by": names.get(evidence.uploaded_by),
        "submitted_at": evidence.created_at.isoformat(),
        "provenance": [
            {
                "seq": event.seq,
                "action": event.action,
                "at": event.created_at.isoformat(),
                "actor": names.get(event.actor_id),
                "hash": event.hash,
                "key_id": event.key_id,
            }
            for event in events
        ],
        "links": {"self": f"/evidence/{evidence.id}", "file": f"/evidence/{evidence.id}/file"},
    }


def safe_filename(name: str) -> str:
    """The uploader's file name without path separators or control characters."""
    cleaned = re.sub(r"[\\/\x00-\x1f]", "_", name).strip() or "evidence"
    return cleaned[-200:]
