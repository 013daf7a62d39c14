"""The distributed worker's entry point: `taxassist worker` or `python -m assistant.jobs.worker`.

Kept apart from the `taxassist` CLI module so that a worker starts without importing every
command's dependencies; it preloads what the jobs import instead, before the pool starts, so
a worker's first job (often a takeover) does not pay for it.
"""

from __future__ import annotations

import os
import sys

from assistant.config import get_settings
from assistant.malloc import limit_arenas


def main(argv: list[str] | None = None) -> None:
    """Run a Celery worker; `argv` are extra `celery worker` options (they win)."""
    settings = get_settings()
    limit_arenas(settings.malloc_arena_max)
    from assistant.jobs.celery_queue import QUEUE, worker_app

    worker_app().worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={settings.job_workers}",
            "--loglevel=INFO",
            f"--queues={QUEUE}",
            f"--hostname=taxassist-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            *(sys.argv[1:] if argv is None else argv),
        ]
    )


if __name__ == "__main__":
    main()
