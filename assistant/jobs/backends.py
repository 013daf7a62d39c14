"""The one registry of job queue backends (TAXASSIST_JOB_BACKEND) and its factory."""

from __future__ import annotations

from collections.abc import Callable

from assistant.errors import InvalidInput
from assistant.jobs.queue import InProcessJobQueue, JobQueue
from assistant.services import Services


def _celery_queue(services: Services) -> JobQueue:
    # imported here: Celery and redis are an optional extra the default backend does not need
    try:
        from assistant.jobs.celery_queue import CeleryJobQueue
    except ImportError as exc:
        raise InvalidInput(
            "job_backend_not_installed",
            f"任务队列 celery 所需的软件包未安装（{exc.name}）：pip install -e '.[celery]'",
            details={"job_backend": "celery", "missing": exc.name},
        ) from None

    return CeleryJobQueue(services)


#: The one registry of job queue backends: setting value -> factory from the services.
JOB_QUEUES: dict[str, Callable[[Services], JobQueue]] = {
    "inprocess": lambda services: InProcessJobQueue(
        services, workers=services.settings.job_workers
    ),
    "celery": _celery_queue,
}


def make_job_queue(services: Services) -> JobQueue:
    """The backend TAXASSIST_JOB_BACKEND names (not started)."""
    name = services.settings.job_backend
    try:
        factory = JOB_QUEUES[name]
    except KeyError:
        raise InvalidInput(
            "unknown_job_backend",
            f"未知的任务队列类型：{name}（可用：{'、'.join(JOB_QUEUES)}）",
            details={"job_backend": name, "available": list(JOB_QUEUES)},
        ) from None
    return factory(services)
