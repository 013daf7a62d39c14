"""Distributed jobs: real Celery worker processes, a real Redis broker, a SQLite file database.

Real speech (the shared corpus's Mandarin clips, strung together), the real whisper-base
model; one worker is killed with SIGKILL mid-job and the other one finishes the job from
the stored segments, none lost or doubled. Short windows and a 3-second lease keep it quick.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.cases import CaseWorkflow
from assistant.config import MODELS_DIR, PROJECT_ROOT, Settings
from assistant.db.models import CaseEvent, Job, Recording, TranscriptSegment, User
from assistant.record import verify_case
from assistant.services import Services, build_services, setup
from tests.conftest import (
    DEMO_CORPUS,
    DEMO_PASSWORD,
    case_ready_to_close,
    database_env,
    make_settings,
    queue_demo_recording,
    requires_shared,
)
from tests.jobs.audio import joined_clips

pytest.importorskip("celery", reason="the celery extra is not installed (pip install '.[celery]')")

from assistant.jobs.celery_queue import CeleryJobQueue

pytestmark = [requires_shared]

WINDOW_SECONDS = 5.0
LEASE_SECONDS = 2.0
FINAL = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Row:
    id: int
    index: int
    start: float
    end: float
    text: str


class Workers:
    """`taxassist worker --pool=solo` processes on one data dir and one broker."""

    def __init__(self, settings: Settings, cwd: Path) -> None:
        self.env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "TAXASSIST_DATA_DIR": str(settings.data_dir),
            "TAXASSIST_MODELS_DIR": str(MODELS_DIR),
            "TAXASSIST_CORPORA": "",
            "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
            "TAXASSIST_DEMO_PASSWORD": DEMO_PASSWORD,
            "TAXASSIST_JOB_BACKEND": "celery",
            "TAXASSIST_BROKER_URL": settings.broker_url,
            "TAXASSIST_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "TAXASSIST_ASR_WINDOW_SECONDS": str(WINDOW_SECONDS),
            "TAXASSIST_ASR_BEAM_SIZE": str(settings.asr_beam_size),
            "TAXASSIST_DIARIZATION": "false",
            "TAXASSIST_ASR_WORD_TIMESTAMPS": "false",
        }
        self.env.pop("TAXASSIST_DATABASE_URL", None)
        self.env.update(database_env(settings.data_dir))
        self.cwd = cwd
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, count: int) -> None:
        for n in range(count):
            proc = subprocess.Popen(
                [sys.executable, "-m", "assistant.jobs.worker", "--pool=solo", "--loglevel=INFO"],
                cwd=self.cwd,
                env=self.env,
                stdout=(self.cwd / f"worker-{n}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            self.procs[proc.pid] = proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.cwd.glob("*.log"))

    def kill(self, pid: int) -> None:
        proc = self.procs[pid]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        """Idle by now: no warm shutdown to wait for (the broker goes with the session)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


@dataclass
class Cluster:
    services: Services
    queue: CeleryJobQueue
    workers: Workers
    audio: Path
    spans: list[tuple[float, float]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Cluster]:
    """Two workers and the API's queue; the database is set up while the workers start."""
    root = tmp_path_factory.mktemp("celery")
    settings = make_settings(
        root / "data",
        job_backend="celery",
        broker_url=f"{redis_url}/1",
        job_lease_seconds=LEASE_SECONDS,
        asr_window_seconds=WINDOW_SECONDS,
        asr_beam_size=1,
        diarization=False,
        asr_word_timestamps=False,
    )
    services = build_services(settings)
    setup(services, with_index=False)  # the schema exists before any worker opens it
    workers = Workers(settings, root)
    workers.start(2)
    queue = CeleryJobQueue(services)
    queue.start()
    audio, spans = joined_clips(root / "interview.wav")
    try:
        yield Cluster(services, queue, workers, audio, spans)
    finally:
        workers.stop()
        queue.stop()


def _rows(services: Services, recording_id: int) -> list[Row]:
    with services.db.session() as session:
        return [
            Row(s.id, s.index, s.start, s.end, s.text)
            for s in session.scalars(
                select(TranscriptSegment)
                .where(TranscriptSegment.recording_id == recording_id)
                .order_by(TranscriptSegment.index)
            )
        ]


def _job(services: Services, job_id: int) -> Job:
    with services.db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _wait(cluster: Cluster, what: str, done: object, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} within {seconds} s\n{cluster.workers.logs()}"
        time.sleep(0.05)


def test_broker_readiness(cluster: Cluster, redis_url: str) -> None:
    assert cluster.queue.ready() is None
    dead = make_settings(cluster.services.settings.data_dir, broker_url="redis://127.0.0.1:1/0")
    assert CeleryJobQueue(build_services(dead)).ready() == "job_broker_unreachable"


def test_closing_a_case_indexes_it_on_a_worker(cluster: Cluster, shared_index_dir: Path) -> None:
    """The close path sends the index job to the workers: one of them embeds the case and
    publishes a version that this process (the API) then maps."""
    services = cluster.services
    if not services.settings.index_dir.exists():  # the demo index, as a flat (older) layout
        shutil.copytree(shared_index_dir, services.settings.index_dir)
    store = services.index_store()
    before = len(services.knowledge().case_index)
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()
    case_id = case_ready_to_close(services, officer, "该公司隐匿销售收入，少缴增值税四十二万元。")
    closed = CaseWorkflow(services).lifecycle.close(officer, case_id)
    with services.db.session() as session:
        (job_id,) = session.scalars(select(Job.id).where(Job.case_id == case_id)).all()
    _wait(cluster, "the index job", lambda: _job(services, job_id).status in FINAL)
    job = _job(services, job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message, cluster.workers.logs())
    doc_id = f"taxassist:{closed.number}"
    assert job.details["index"]["added"] == [doc_id] and job.worker is None
    assert job.details["index"]["version"] == store.pointer() is not None
    knowledge = services.knowledge()  # the API side switches to the worker's version
    assert doc_id in knowledge.case_index and len(knowledge.case_index) == before + 1


def test_cancel_stops_a_running_job_at_its_next_segment(cluster: Cluster) -> None:
    services = cluster.services
    _, recording_id, job_id = queue_demo_recording(services, cluster.audio)
    cluster.queue.submit(job_id)
    _wait(cluster, "the job's start", lambda: _job(services, job_id).status == "running")
    job = cluster.queue.cancel(job_id)
    assert job.cancel_requested
    _wait(cluster, "the cancellation", lambda: _job(services, job_id).status in FINAL)
    job = _job(services, job_id)
    assert (job.status, job.error_code, job.worker) == ("cancelled", "cancelled", None)
    assert job.processed_seconds < job.duration_seconds
    with services.db.session() as session:
        recording = session.get(Recording, recording_id)
        assert recording is not None and recording.status == "cancelled"


def test_killed_worker_job_finished_by_another_without_lost_or_doubled_segments(
    cluster: Cluster,
) -> None:
    services, workers = cluster.services, cluster.workers
    case_id, recording_id, job_id = queue_demo_recording(services, cluster.audio)
    cluster.queue.submit(job_id)
    _wait(cluster, "a first segment", lambda: _rows(services, recording_id))
    holder = _job(services, job_id).worker
    assert holder is not None
    pid = int(holder.split(":")[1])  # host:pid:run
    assert pid in workers.procs, (holder, list(workers.procs))
    workers.kill(pid)

    stored = _rows(services, recording_id)
    crashed = _job(services, job_id)
    assert crashed.status == "running" and crashed.worker == holder
    assert stored[-1].end < crashed.duration_seconds - 1  # killed mid-job

    _wait(cluster, "the end on the other worker", lambda: _job(services, job_id).status in FINAL)
    job = _job(services, job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message, workers.logs())
    assert job.attempts == 2 and job.worker is None
    assert job.resumed_from_seconds == pytest.approx(stored[-1].end)
    rows = _rows(services, recording_id)
    # The stored rows untouched; the new ones numbered on and in time order, no overlap.
    assert rows[: len(stored)] == stored and len(rows) > len(stored)
    assert [r.index for r in rows] == list(range(len(rows)))
    assert all(b.start >= a.end - 1e-6 for a, b in itertools.pairwise(rows))
    # None lost: every clip of speech has a segment over it, the last one included.
    for start, end in cluster.spans:
        assert any(r.start < end and r.end > start for r in rows), ((start, end), rows)
    with services.db.session() as session:
        recording = session.get(Recording, recording_id)
        assert recording is not None and recording.status == "transcribed"
        actions = [
            e.action
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ]
        assert actions == ["case_created", "recording_uploaded", "recording_transcribed"]
        assert verify_case(session, services.files, case_id).ok
