"""The closed-cases index job: a closed case becomes a similar case for later ones.

Closing a case queues this job (assistant.cases.lifecycle); it runs where jobs run, a Celery
worker in a deployment or a thread of the server with the in-process queue, so the API
process that closed the case never embeds. It loads the current published version, embeds
only the cases closed since (through the embedding cache), removes re-opened ones and
publishes a new version that API replicas map on their next request
(`Services.index_closed_cases`). A retried or duplicate job finds nothing to change and
publishes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from assistant.errors import TaxAssistError
from assistant.jobs import store
from assistant.jobs.store import CANCELLED_MSG, Cancelled, Stopped
from assistant.services import Services

log = logging.getLogger(__name__)


def run_index_closed_cases(
    services: Services, job_id: int, *, stopping: Callable[[], bool] = lambda: False
) -> str:
    """Run one index job to a final state; returns that state (see the module doc)."""
    if not _claim(services, job_id):
        with services.db.session() as session:
            return store.load_job(session, job_id).status
    try:
        store.check_stop(services.db, job_id, stopping)
        update = services.index_closed_cases()
    except Stopped:
        with services.db.session() as session:
            store.load_job(session, job_id).status = store.QUEUED
        return store.QUEUED
    except Cancelled:
        return _finish(services, job_id, store.CANCELLED, "cancelled", CANCELLED_MSG)
    except TaxAssistError as exc:
        return _finish(services, job_id, store.FAILED, exc.code, exc.message)
    except Exception as exc:  # a model or FAISS error must not leave a running job behind
        log.exception("index job %s failed", job_id)
        return _finish(
            services,
            job_id,
            store.FAILED,
            "index_update_failed",
            f"结案案件加入检索索引时出错（{type(exc).__name__}），可重试；"
            "也可运行 `taxassist index check --rebuild`。",
        )
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        job.progress = 1.0
        job.details = {**(job.details or {}), "index": update.as_dict()}
        store.finish(session, job, store.SUCCEEDED)
    return store.SUCCEEDED


def _claim(services: Services, job_id: int) -> bool:
    with services.db.session() as session:
        return store.claim(session, store.load_job(session, job_id))


def _finish(services: Services, job_id: int, status: str, code: str, message: str) -> str:
    with services.db.session() as session:
        store.finish(session, store.load_job(session, job_id), status, code=code, message=message)
    return status
