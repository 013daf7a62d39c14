"""The evidence reading job: text layers at once, then OCR page by page with progress.

Pages are cheap to redo compared with audio, so a restarted job reads the file again from the
start; nothing is stored until the whole reading succeeds, when the lines, the final state and
the signed `evidence_read` event are written in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from assistant.db.models import Case, Evidence, User
from assistant.db.types import utcnow
from assistant.errors import TaxAssistError
from assistant.evidence.reader import (
    OCR,
    TEXT_LAYER,
    Line,
    ocr_page_lines,
    pages_to_read,
    read_text_layers,
)
from assistant.jobs import store
from assistant.jobs.store import CANCELLED_MSG, Cancelled, Stopped
from assistant.services import Services

log = logging.getLogger(__name__)


def run_evidence_reading(
    services: Services, job_id: int, *, stopping: Callable[[], bool] = lambda: False
) -> str:
    """Read one evidence file to a final state; returns that state (see module doc)."""
    evidence_id = _claim(services, job_id)
    if evidence_id is None:
        with services.db.session() as session:
            return store.load_job(session, job_id).status
    try:
        _read(services, job_id, evidence_id, stopping)
    except Stopped:
        with services.db.session() as session:
            store.load_job(session, job_id).status = store.QUEUED
        return store.QUEUED
    except Cancelled:
        _finish(services, job_id, store.CANCELLED, "cancelled", CANCELLED_MSG, {})
        return store.CANCELLED
    except TaxAssistError as exc:
        _finish(services, job_id, store.FAILED, exc.code, exc.message, exc.details)
        return store.FAILED
    except Exception as exc:  # a damaged page or a model crash must not leave a running job
        log.exception("evidence reading job %s failed", job_id)
        _finish(
            services,
            job_id,
            store.FAILED,
            "evidence_reading_failed",
            f"证据识别出错（{type(exc).__name__}），可重试；多次失败请联系管理员。",
            {"reason": str(exc)[:200]},
        )
        return store.FAILED
    return store.SUCCEEDED


def _claim(services: Services, job_id: int) -> int | None:
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        if job.evidence_id is None or not store.claim(session, job):
            return None
        job.progress = 0.0
        store.sync_recording(session, job)
        return job.evidence_id


def _read(services: Services, job_id: int, evidence_id: int, stopping: Callable[[], bool]) -> None:
    settings = services.settings
    with services.db.session() as session:
        evidence = session.get(Evidence, evidence_id)
        assert evidence is not None
        path = services.files.path_for(evidence.sha256)
        kind = evidence.kind
    started = time.perf_counter()
    lines, scans = read_text_layers(path, kind)
    _progress(services, job_id, 0, len(scans), ocr_pages=len(scans))
    reader: dict[str, Any] = {"text_layer": kind == "pdf", "ocr_pages": scans}
    if scans:
        engine = services.models.get("ocr")
        reader |= {"ocr": engine.settings_record, "dpi": settings.ocr_dpi}
        for done, page in enumerate(pages_to_read(path, kind, scans, dpi=settings.ocr_dpi)):
            store.check_stop(services.db, job_id, stopping)
            lines.extend(ocr_page_lines(page, engine.read(page.image)))
            _progress(services, job_id, done + 1, len(scans))
    reader["box_unit"] = {"pdf": "pt", "image": "px"}.get(kind)
    reader["seconds"] = round(time.perf_counter() - started, 3)
    _succeed(services, job_id, evidence_id, _in_page_order(lines), reader)


def _in_page_order(lines: list[Line]) -> list[Line]:
    """Text-layer and OCR pages interleaved by page; a page keeps its own line order."""
    return sorted(lines, key=lambda line: line.page or 0)


def _method(lines: list[Line], kind: str, scans: list[int]) -> str:
    if kind == "docx":
        return "docx"
    if not scans:
        return TEXT_LAYER
    return (
        OCR if kind == "image" or not any(line.source == TEXT_LAYER for line in lines) else "mixed"
    )


def _succeed(
    services: Services,
    job_id: int,
    evidence_id: int,
    lines: list[Line],
    reader: dict[str, Any],
) -> None:
    from assistant.cases.events import record_action

    with services.db.session() as session:
        job = store.load_job(session, job_id)
        evidence = session.get(Evidence, evidence_id)
        case = session.get(Case, job.case_id)
        actor = session.get(User, job.created_by)
        assert evidence is not None and case is not None and actor is not None
        scores = [line.confidence for line in lines if line.confidence is not None]
        evidence.method = _method(lines, evidence.kind, reader["ocr_pages"])
        evidence.reader = reader
        evidence.lines = [line.to_dict() for line in lines]
        job.progress = 1.0
        job.details = {**(job.details or {}), "seconds": reader["seconds"], "lines": len(lines)}
        store.finish(session, job, store.SUCCEEDED)
        record_action(
            services,
            session,
            case,
            actor,
            "evidence_read",
            case.status,
            case.status,
            {
                "evidence_id": evidence.id,
                "job_id": job.id,
                "sha256": evidence.sha256,
                "method": evidence.method,
                "lines": len(lines),
                "ocr_pages": reader["ocr_pages"],
                "mean_confidence": round(sum(scores) / len(scores), 4) if scores else None,
            },
            covers=[evidence],
        )


def _progress(services: Services, job_id: int, done: int, total: int, **details: Any) -> None:
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        job.progress = round(done / total, 4) if total else 0.0
        job.heartbeat_at = utcnow()
        job.details = {**(job.details or {}), **details, "ocr_pages_done": done}


def _finish(
    services: Services,
    job_id: int,
    status: str,
    code: str,
    message: str,
    details: dict[str, Any],
) -> None:
    with services.db.session() as session:
        store.finish(
            session,
            store.load_job(session, job_id),
            status,
            code=code,
            message=message,
            details=details,
        )
