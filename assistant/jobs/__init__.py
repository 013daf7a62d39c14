"""Long work as jobs behind one queue interface: in-process threads by default."""

from assistant.jobs.queue import InProcessJobQueue, JobQueue, run_job
from assistant.jobs.store import FINAL, load_job

__all__ = ["FINAL", "InProcessJobQueue", "JobQueue", "load_job", "run_job"]
