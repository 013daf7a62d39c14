"""Issue 3: asynchronous jobs: status, a Server-Sent Events stream, cancel and retry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from api.deps import CurrentUser, JobQueueDep, ServicesDep, WorkflowDep
from api.fields import DbId
from api.schemas import JobOut, SegmentOut
from assistant.db.models import Job, TranscriptSegment
from assistant.errors import InvalidInput
from assistant.jobs import FINAL, load_job
from assistant.limits import INDEX_MAX
from assistant.services import Services

router = APIRouter(tags=["jobs"])

POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
_BATCH = 200
FINAL_EVENT = {"succeeded": "done", "failed": "failed", "cancelled": "cancelled"}


def job_out(job: Job) -> JobOut:
    out = JobOut.model_validate(job)
    out.links = {"self": f"/jobs/{job.id}", "events": f"/jobs/{job.id}/events"}
    if job.recording_id is not None:
        out.links["recording"] = f"/recordings/{job.recording_id}"
    if job.evidence_id is not None:
        out.links["evidence"] = f"/evidence/{job.evidence_id}"
    return out


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> JobOut:
    return job_out(workflow.job_for(user, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: DbId, user: CurrentUser, workflow: WorkflowDep, jobs: JobQueueDep) -> JobOut:
    """A queued job is cancelled at once; a running one stops at its next segment (the reply
    then says `cancel_requested`; the final state follows on the job and its event stream)."""
    workflow.job_for(user, job_id, write=True)
    return job_out(jobs.cancel(job_id))


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: DbId, user: CurrentUser, workflow: WorkflowDep, jobs: JobQueueDep) -> JobOut:
    """Failed or cancelled jobs only (409 otherwise); stored segments are kept, not redone."""
    workflow.job_for(user, job_id, write=True)
    return job_out(jobs.retry(job_id))


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def job_events(
    job_id: DbId,
    request: Request,
    user: CurrentUser,
    workflow: WorkflowDep,
    services: ServicesDep,
    after: int | None = Query(
        default=None, ge=-1, le=INDEX_MAX, description="last segment index received"
    ),
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
) -> StreamingResponse:
    """Server-Sent Events: the stored segments first, then new ones in index order
    (`event: segment`, `id:` = index), `event: progress` when it changes, and one final
    `done` | `failed` | `cancelled` event carrying the job. A reconnecting client sends
    `Last-Event-ID` (or `?after=index`) and gets only the segments after it."""
    await run_in_threadpool(workflow.job_for, user, job_id)
    last = after if after is not None else _event_id(last_event_id)
    return StreamingResponse(
        job_event_stream(services, request, job_id, last),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def job_event_stream(
    services: Services, request: Request, job_id: int, last: int
) -> AsyncIterator[str]:
    """The job's events after segment `last` (the API's stream and the workbench's, which
    signs in by cookie): access is the caller's to check before streaming."""
    next_index = last + 1
    reported: tuple[str, float] | None = None
    quiet = 0.0
    while True:
        if await request.is_disconnected():
            return
        job, segments = await run_in_threadpool(_snapshot, services, job_id, next_index)
        for segment in segments:
            yield _event("segment", segment, event_id=segment["index"])
            next_index = segment["index"] + 1
        if len(segments) == _BATCH:
            continue  # more stored segments wait: send them before any final event
        state = (job.status, job.progress)
        if state != reported:
            reported = state
            yield _event("progress", _progress(job))
            quiet = 0.0
        if job.status in FINAL:
            yield _event(FINAL_EVENT[job.status], job_out(job).model_dump(mode="json"))
            return
        if not segments:
            quiet += POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keepalive\n\n"
        await asyncio.sleep(POLL_SECONDS)


def _snapshot(services: Services, job_id: int, from_index: int) -> tuple[Job, list[dict[str, Any]]]:
    """The job, then its segments from `from_index`: read in this order, a final job's
    segments are all already committed, so none is missed before the final event."""
    with services.db.session() as session:
        job = load_job(session, job_id)
        rows = session.scalars(
            select(TranscriptSegment)
            .where(
                TranscriptSegment.recording_id == job.recording_id,
                TranscriptSegment.index >= from_index,
            )
            .order_by(TranscriptSegment.index)
            .limit(_BATCH)
        )
        return job, [SegmentOut.model_validate(s).model_dump(mode="json") for s in rows]


def _progress(job: Job) -> dict[str, Any]:
    return {
        "status": job.status,
        "progress": job.progress,
        "processed_seconds": job.processed_seconds,
        "duration_seconds": job.duration_seconds,
    }


def _event(name: str, data: dict[str, Any], *, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _event_id(value: str | None) -> int:
    if value is None or not value.strip():
        return -1
    try:
        number = int(value)
        if not -1 <= number <= INDEX_MAX:
            raise ValueError(value)
        return number
    except ValueError:
        raise InvalidInput(
            "invalid_last_event_id",
            "Last-Event-ID 应为上次收到的段落序号（整数）。",
            details={"value": value[:50]},
        ) from None
