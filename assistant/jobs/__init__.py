"""Long work as jobs behind one queue interface: in-process threads by default."""

from assistant.jobs.backends import JOB_QUEUES, make_job_queue
from assistant.jobs.queue import InProcessJobQueue, JobQueue, run_job
from assistant.jobs.store import FINAL, load_job

__all__ = [
    "FINAL",
    "JOB_QUEUES",
    "InProcessJobQueue",
    "JobQueue",
    "load_job",
    "make_job_queue",
    "run_job",
]
