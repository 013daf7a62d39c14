"""Distributed jobs: Celery workers on any number of hosts, Redis as broker and result backend
(TAXASSIST_JOB_BACKEND=celery; `pip install '.[celery]'`, workers: `taxassist worker`).

A message only names a job: the database row is the truth for its state, progress, segments
and cancellation, as with the in-process queue, so the API (and its SSE stream) reads the same
rows whichever host runs the job. A task takes the job's lease on its row by compare-and-set
(`store.take_lease`), renews it from a heartbeat thread and runs the job with `runner_for`,
which resumes after the stored segments and checks the cancel flag at each one.

Why a lease as well as Celery's `acks_late`: with Redis, a message whose worker died is
delivered again only after the broker's visibility timeout (an hour by default, and it must
exceed the longest job, or a live job would be delivered twice). So each worker also sweeps
the database for running jobs whose lease was not renewed for TAXASSIST_JOB_LEASE_SECONDS and
queues them again; a redelivered or duplicate message for a job whose lease is live is
dropped. `acks_late` (with `reject_on_worker_lost` for a killed pool process) still keeps a
message that was taken but never started from being lost.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from functools import lru_cache
from typing import Any

from celery import Celery, signals

from assistant.config import Settings, get_settings
from assistant.db.models import Job
from assistant.jobs import store
from assistant.jobs.queue import DatabaseJobControl, runner_for
from assistant.malloc import release_free_memory
from assistant.services import Services, build_services

log = logging.getLogger(__name__)

TASK = "taxassist.run_job"
QUEUE = "taxassist.jobs"
# Redis redelivers an unacknowledged message after this; longer than any job (3-hour files).
VISIBILITY_TIMEOUT_S = 6 * 3600
BROKER_TIMEOUT_S = 2.0

# Set when this worker is asked to shut down: running jobs stop at their next segment and
# are queued again for another worker (the work already stored stays).
_SHUTTING_DOWN = threading.Event()


class LeaseLost(BaseException):
    """Another worker took this job over (this one missed its heartbeats for a whole lease).

    A BaseException so that no runner handler records anything for the job: it is no longer
    this worker's to write."""


def worker_name() -> str:
    """One run of a task as a lease holder: host, pid, and a run id (threads share a pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TaxAssistCelery(Celery):
    """The Celery app with the state its worker processes share: the settings, this
    process's services, the sweeper."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("taxassist", set_as_current=False)
        self.settings = settings
        self._services: Services | None = None
        self._services_pid = 0
        self._lock = threading.Lock()
        self.sweeper: Sweeper | None = None

    @property
    def services(self) -> Services:
        """Built in each process that uses it: a forked pool process must not share the
        parent's database connections."""
        with self._lock:
            if self._services is None or self._services_pid != os.getpid():
                if self._services is not None:  # inherited through fork: leave it to the parent
                    self._services.db.engine.dispose(close=False)
                self._services = build_services(self.settings)
                self._services_pid = os.getpid()
            return self._services

    def submit(self, job_id: int) -> None:
        self.send_task(TASK, args=[job_id], queue=QUEUE)


def make_celery_app(settings: Settings) -> TaxAssistCelery:
    """The app for the API side (sending) and the workers (running): one configuration."""
    app = TaxAssistCelery(settings)
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend or settings.broker_url,
        task_default_queue=QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        # a job is acknowledged when it ends, and one worker takes one job at a time
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_timeout=BROKER_TIMEOUT_S,
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
    )

    @app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)
    def run_job_task(job_id: int) -> str:
        return run_leased(app, job_id)

    return app


@lru_cache(maxsize=1)
def worker_app() -> TaxAssistCelery:
    """The app `celery -A assistant.jobs.celery_queue worker` and `taxassist worker` run."""
    return make_celery_app(get_settings())


def __getattr__(name: str) -> Any:
    # `celery -A assistant.jobs.celery_queue` looks up `app`; built on first use, from the env
    if name in ("app", "celery"):
        return worker_app()
    raise AttributeError(name)


class Heartbeat:
    """Renews a job's lease every quarter lease while it runs; notices a lost lease."""

    def __init__(self, services: Services, job_id: int, worker: str) -> None:
        self.services = services
        self.job_id = job_id
        self.worker = worker
        self.interval = services.settings.job_lease_seconds / 4
        self._done = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"taxassist-lease-{job_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def stopping(self) -> bool:
        """The runners' `stopping` poll, at each segment: shutdown, or the lease lost."""
        if self._lost.is_set():
            raise LeaseLost(self.job_id)
        return _SHUTTING_DOWN.is_set()

    def _beat(self) -> None:
        while not self._done.wait(self.interval):
            try:
                with self.services.db.session() as session:
                    held = store.renew_lease(session, self.job_id, self.worker)
            except Exception:  # the database is away a moment: try again at the next beat
                log.warning("job %s: lease not renewed", self.job_id, exc_info=True)
                continue
            if not held:
                self._lost.set()
                return


def run_leased(app: TaxAssistCelery, job_id: int) -> str:
    """The task: take the job's lease, run it with its kind's runner, let the lease go.

    Idempotent: a job that is final, or runs under another worker's live lease, is left as
    it is (its status is returned), so duplicate and redelivered messages do no harm."""
    services = app.services
    me = worker_name()
    with services.db.session() as session:
        if not store.take_lease(session, job_id, me, services.settings.job_lease_seconds):
            job = session.get(Job, job_id)
            return job.status if job is not None else "missing"
        kind = store.load_job(session, job_id).kind
    try:
        with Heartbeat(services, job_id, me) as heartbeat:
            status = runner_for(kind)(services, job_id, stopping=heartbeat.stopping)
    except LeaseLost:
        log.warning("job %s was taken over by another worker; %s stops it", job_id, me)
        return "taken_over"
    finally:
        release_free_memory()
    with services.db.session() as session:
        store.release_lease(session, job_id, me)
    if status == store.QUEUED:  # stopped by this worker's shutdown: another worker goes on
        app.submit(job_id)
    return status


class Sweeper(threading.Thread):
    """In each worker: queues again the jobs whose worker is gone (lease not renewed)."""

    def __init__(self, app: TaxAssistCelery) -> None:
        super().__init__(name="taxassist-sweeper", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        lease = self.app.settings.job_lease_seconds
        while not self.stopped.wait(lease / 2):
            try:
                with self.app.services.db.session() as session:
                    ids = store.orphaned(session, lease, queued=False)
                for job_id in ids:
                    log.warning("job %s: its worker is gone; queued again", job_id)
                    self.app.submit(job_id)
            except Exception:  # broker or database away a moment: sweep again later
                log.warning("sweep for orphaned jobs failed", exc_info=True)


@signals.worker_init.connect(weak=False, dispatch_uid="taxassist-preload")
def _preload(**_: Any) -> None:
    """Import what the runners import (spaCy and the case layer: seconds) before the pool
    forks; the models load in the process that runs the job, on its first job."""
    import assistant.cases.events
    import assistant.jobs.evidence
    import assistant.jobs.indexing
    import assistant.jobs.transcription  # noqa: F401


@signals.worker_ready.connect(weak=False, dispatch_uid="taxassist-sweeper")
def _start_sweeper(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    if isinstance(app, TaxAssistCelery) and app.sweeper is None:
        app.sweeper = Sweeper(app)
        app.sweeper.start()


@signals.worker_shutting_down.connect(weak=False, dispatch_uid="taxassist-shutdown")
def _shutting_down(**_: Any) -> None:
    _SHUTTING_DOWN.set()


class CeleryJobQueue(DatabaseJobControl):
    """The API's side of the distributed backend: it sends job ids, workers run them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.app = make_celery_app(services.settings)

    def start(self) -> None:
        """Re-send the jobs no live worker holds; a down broker leaves them for later."""
        self.services.attach_job_queue(self.submit)  # jobs this process creates go to workers
        try:
            self.recover()
        except Exception:
            log.warning("job recovery at start-up failed (is the broker up?)", exc_info=True)

    def stop(self, timeout: float = 10.0) -> None:
        self.services.attach_job_queue(None)
        self.app.close()

    def submit(self, job_id: int) -> None:
        """Send the job to the workers. Should the broker be down, the job stays queued in
        the database and the next `recover()` (start-up, `taxassist jobs recover`) sends it."""
        try:
            self.app.submit(job_id)
        except Exception:
            log.warning("job %s not sent: broker unreachable; it stays queued", job_id)

    def recover(self) -> list[int]:
        """Queued jobs no worker holds and running ones whose lease lapsed; a job another
        live worker runs keeps going there."""
        with self.services.db.session() as session:
            ids = store.orphaned(session, self.services.settings.job_lease_seconds, queued=True)
        for job_id in ids:
            self.app.submit(job_id)
        return ids

    def ready(self) -> str | None:
        return broker_down(self.services.settings.broker_url)


def broker_down(url: str) -> str | None:
    """None when the Redis broker answers a PING, else a snake_case reason."""
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_TIMEOUT_S, socket_timeout=BROKER_TIMEOUT_S
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "job_broker_unreachable"
    finally:
        client.close()
    return None
