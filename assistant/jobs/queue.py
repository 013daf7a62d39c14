"""The job queue interface and its embedded default, a small pool of worker threads
(the backends by name: assistant.jobs.backends).

The database holds every job's state (assistant.jobs.store), so a queue only decides who runs
a job when: the distributed backend (assistant.jobs.celery_queue) implements the same
Protocol with Celery workers that take a lease on the job's row before running it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

from assistant.db.models import Job
from assistant.jobs import store
from assistant.malloc import release_free_memory
from assistant.services import Services

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """What the API and the CLI need from a queue."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def submit(self, job_id: int) -> None:
        """Run a job committed in state `queued`."""

    def cancel(self, job_id: int) -> Job:
        """Cancel a queued job now, a running one at its next segment (409 when final)."""

    def retry(self, job_id: int) -> Job:
        """Queue a failed or cancelled job again; it resumes after its stored segments."""

    def recover(self) -> list[int]:
        """Queue again the jobs a crash or shutdown left queued or running."""

    def ready(self) -> str | None:
        """None when the queue takes jobs now, else a snake_case reason (readiness checks)."""


Runner = Callable[..., str]


def runner_for(kind: str) -> Runner:
    """The function that runs jobs of `kind`: the one registry of job kinds."""
    from assistant.jobs.evidence import run_evidence_reading
    from assistant.jobs.indexing import run_index_closed_cases
    from assistant.jobs.transcription import run_transcription

    runners: dict[str, Runner] = {
        "transcription": run_transcription,
        "evidence_reading": run_evidence_reading,
        store.INDEX_CLOSED_CASES: run_index_closed_cases,
    }
    return runners[kind]


def run_job(services: Services, job_id: int) -> str:
    """Run one job in the calling thread (the CLI, a test, a worker process)."""
    with services.db.session() as session:
        kind = store.load_job(session, job_id).kind
    return runner_for(kind)(services, job_id)


class DatabaseJobControl:
    """Cancel and retry as every backend does them: on the job's row, which the runner reads at
    its next segment; a retried job is submitted again through the backend's own `submit`."""

    services: Services

    def submit(self, job_id: int) -> None:
        raise NotImplementedError

    def cancel(self, job_id: int) -> Job:
        with self.services.db.session() as session:
            return store.request_cancel(session, store.load_job(session, job_id))

    def retry(self, job_id: int) -> Job:
        with self.services.db.session() as session:
            job = store.reset_for_retry(session, store.load_job(session, job_id))
        self.submit(job.id)
        return job


class InProcessJobQueue(DatabaseJobControl):
    """`workers` threads in the server process (TAXASSIST_JOB_WORKERS, default 1).

    Assumes one server process uses the database: `recover()` at start-up takes over every
    running job, since no other worker can be running it.
    """

    def __init__(self, services: Services, *, workers: int = 1) -> None:
        self.services = services
        self.workers = max(1, workers)
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._work, name=f"taxassist-job-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()
        self.services.attach_job_queue(self.submit)  # jobs this process creates run here
        self.recover()

    def stop(self, timeout: float = 10.0) -> None:
        """Running jobs stop at their next segment and go back to `queued` (resumed later)."""
        self._stopping.set()
        self.services.attach_job_queue(None)
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def submit(self, job_id: int) -> None:
        self._queue.put(job_id)

    def recover(self) -> list[int]:
        with self.services.db.session() as session:
            ids = [job.id for job in store.interrupted(session)]
        for job_id in ids:
            self.submit(job_id)
        return ids

    def ready(self) -> str | None:
        if self._stopping.is_set() or not self._threads:
            return "job_queue_stopped"
        if not all(thread.is_alive() for thread in self._threads):
            return "job_workers_dead"
        return None

    def _work(self) -> None:
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                with self.services.db.session() as session:
                    kind = store.load_job(session, job_id).kind
                runner_for(kind)(self.services, job_id, stopping=self._stopping.is_set)
            except Exception:  # keep the worker alive; the job row says what happened
                log.exception("job %s crashed its worker", job_id)
            finally:
                # a job frees hundreds of MiB of audio and decoder buffers; hand them back
                release_free_memory()
