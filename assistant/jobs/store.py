"""Job rows: the state every queue implementation shares (the database is the source of truth).

An in-process pool and a later distributed worker both claim, report on and finish jobs
through these functions, so a job's status, progress and error read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from assistant.db.models import Evidence, Job, Recording
from assistant.db.types import utcnow
from assistant.errors import Conflict, NotFound

if TYPE_CHECKING:
    from assistant.db import Database

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
FINAL = (SUCCEEDED, FAILED, CANCELLED)
#: The job kind that adds closed cases to the published index (runner: assistant.jobs.indexing;
#: every kind's runner: assistant.jobs.queue.runner_for). Named here, below the case layer
#: that queues it on closing a case.
INDEX_CLOSED_CASES = "index_closed_cases"
# What the recording row says while its job is in each state.
RECORDING_STATUS = {
    QUEUED: "transcribing",
    RUNNING: "transcribing",
    SUCCEEDED: "transcribed",
    FAILED: "failed",
    CANCELLED: "cancelled",
}
# What an evidence row says while its reading job is in each state.
EVIDENCE_STATUS = {
    QUEUED: "reading",
    RUNNING: "reading",
    SUCCEEDED: "read",
    FAILED: "failed",
    CANCELLED: "cancelled",
}


def load_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("job_not_found", f"任务 {job_id} 不存在。", details={"job_id": job_id})
    return job


def latest_job_for(session: Session, recording_id: int) -> Job | None:
    return session.scalar(
        select(Job).where(Job.recording_id == recording_id).order_by(Job.id.desc()).limit(1)
    )


def finish(
    session: Session,
    job: Job,
    status: str,
    *,
    code: str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Put a job (and its recording or evidence file) into a final state."""
    job.status = status
    job.finished_at = utcnow()
    job.heartbeat_at = job.finished_at
    job.worker = None  # a final job holds no lease
    job.error_code = code
    job.error_message = message
    if details:
        job.details = {**(job.details or {}), "error_details": details}
    sync_recording(session, job)


def request_cancel(session: Session, job: Job) -> Job:
    """A queued job is cancelled at once; a running one at its next segment or window."""
    if job.status in FINAL:
        raise Conflict(
            "job_not_cancellable",
            f"任务已{_STATUS_ZH[job.status]}，不能取消。",
            details={"status": job.status},
        )
    job.cancel_requested = True
    if job.status == QUEUED:
        finish(session, job, CANCELLED, code="cancelled", message="任务已由用户取消。")
    return job


def reset_for_retry(session: Session, job: Job) -> Job:
    """Only a failed or cancelled job is retried; it resumes after its stored segments."""
    if job.status not in (FAILED, CANCELLED):
        raise Conflict(
            "job_not_retryable",
            f"只有失败或已取消的任务可以重试，当前任务{_STATUS_ZH[job.status]}。",
            details={"status": job.status},
        )
    job.status = QUEUED
    job.cancel_requested = False
    job.error_code = None
    job.error_message = None
    job.finished_at = None
    job.worker = None
    sync_recording(session, job)
    return job


def interrupted(session: Session) -> list[Job]:
    """Jobs a crash or shutdown left queued or running: they are queued again (no stuck job)."""
    jobs = list(
        session.scalars(select(Job).where(Job.status.in_((QUEUED, RUNNING))).order_by(Job.id))
    )
    for job in jobs:
        if job.cancel_requested:
            finish(session, job, CANCELLED, code="cancelled", message="任务已由用户取消。")
        else:
            job.status = QUEUED
            job.worker = None
    return [j for j in jobs if j.status == QUEUED]


# Leases: how distributed workers share jobs without running one twice. A worker takes a
# job's lease by compare-and-set on the row (`worker`, `heartbeat_at`), renews it while the
# job runs, and may take over another worker's lease only once it is older than the lease
# time: a worker that stopped renewing is gone (killed, host down), a live one never loses it.


def _lease_free(worker: str, cutoff: Any) -> Any:
    """Queued and held by no worker, or held by `worker`, or not renewed since `cutoff`."""
    return or_(
        and_(Job.status == QUEUED, Job.worker.is_(None)),
        Job.worker == worker,
        Job.heartbeat_at.is_(None),
        Job.heartbeat_at < cutoff,
    )


def take_lease(session: Session, job_id: int, worker: str, lease_seconds: float) -> bool:
    """True when `worker` now holds the job: it was queued or running under no live lease.

    One UPDATE … WHERE, so of two workers handed the same job (a redelivered message, a
    duplicate from recovery) exactly one wins. The job is left `queued` for the runner to claim.
    """
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status.in_((QUEUED, RUNNING)),
            _lease_free(worker, now - timedelta(seconds=lease_seconds)),
        )
        .values(status=QUEUED, worker=worker, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_lease(session: Session, job_id: int, worker: str) -> bool:
    """Heartbeat; False when the lease is no longer this worker's (taken over, or final)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status.in_((QUEUED, RUNNING)))
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, job_id: int, worker: str) -> None:
    """The job left this worker (finished, or stopped and queued again)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker)
        .values(worker=None)
        .execution_options(synchronize_session=False)
    )


def orphaned(session: Session, lease_seconds: float, *, queued: bool) -> list[int]:
    """Jobs whose worker is gone (lease not renewed for `lease_seconds`), queued again.

    With `queued`, also the queued jobs no worker holds: at start-up they may never have
    reached the broker (it was down at submission). Each row is requeued by compare-and-set,
    so of several recovering processes one requeues a given job.
    """
    cutoff = utcnow() - timedelta(seconds=lease_seconds)
    stale = or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)
    gone = or_(
        and_(Job.status == RUNNING, stale),
        and_(Job.status == QUEUED, Job.worker.is_not(None), stale),
    )
    if queued:
        gone = or_(gone, and_(Job.status == QUEUED, Job.worker.is_(None)))
    jobs = list(session.scalars(select(Job).where(gone).order_by(Job.id)))
    ids: list[int] = []
    for job in jobs:
        if job.cancel_requested:
            finish(session, job, CANCELLED, code="cancelled", message=CANCELLED_MSG)
            continue
        if job.status == QUEUED and job.worker is None:
            ids.append(job.id)
            continue
        owner = Job.worker.is_(None) if job.worker is None else Job.worker == job.worker
        result = session.execute(
            update(Job)
            .where(Job.id == job.id, owner, stale, Job.status.in_((QUEUED, RUNNING)))
            .values(status=QUEUED, worker=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            ids.append(job.id)
    return ids


def sync_recording(session: Session, job: Job) -> None:
    """The status of the job's subject follows its job's: a recording's (transcribing,
    transcribed, failed, …) or an evidence file's (reading, read, failed, …)."""
    if job.evidence_id is not None:
        evidence = session.get(Evidence, job.evidence_id)
        if evidence is not None:
            evidence.status = EVIDENCE_STATUS[job.status]
    if job.recording_id is None:
        return
    recording = session.get(Recording, job.recording_id)
    if recording is not None:
        recording.status = RECORDING_STATUS[job.status]


_STATUS_ZH = {
    QUEUED: "在排队",
    RUNNING: "在运行",
    SUCCEEDED: "完成",
    FAILED: "失败",
    CANCELLED: "取消",
}


CANCELLED_MSG = "任务已由用户取消。"


def claim(session: Session, job: Job) -> bool:
    """Start a queued job: running, one more attempt, its heartbeat now (True). A job asked to
    cancel before it started is finished as cancelled, and one no longer queued (run or
    finished by another worker) is left alone (False)."""
    if job.status != QUEUED:
        return False
    if job.cancel_requested:
        finish(session, job, CANCELLED, code="cancelled", message=CANCELLED_MSG)
        return False
    job.status = RUNNING
    job.attempts += 1
    job.started_at = job.started_at or utcnow()
    job.heartbeat_at = utcnow()
    return True


class Stopped(Exception):
    """The worker is shutting down: the job goes back to the queue; work already stored stays."""


class Cancelled(Exception):
    """The user cancelled the job."""


def check_stop(db: Database, job_id: int, stopping: Callable[[], bool]) -> None:
    """Between units of work: `Stopped` when the worker shuts down, `Cancelled` when asked."""
    if stopping():
        raise Stopped
    with db.session() as session:
        if load_job(session, job_id).cancel_requested:
            raise Cancelled
