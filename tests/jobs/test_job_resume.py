"""A transcription worker killed mid-way: recovery resumes after the stored segments.

Real decoding, the real whisper-base model, a real SQLite database; the worker is a separate
process (`taxassist jobs run`) killed with SIGKILL, so nothing gets to clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.config import MODELS_DIR, PROJECT_ROOT
from assistant.db.models import CaseEvent, Job, Recording, TranscriptSegment
from assistant.jobs import InProcessJobQueue
from assistant.record import verify_case
from assistant.services import Services, build_services, setup
from tests.conftest import (
    DEMO_CORPUS,
    DEMO_PASSWORD,
    database_env,
    make_settings,
    queue_demo_recording,
)
from tests.jobs.audio import long_interview

WINDOW_SECONDS = 15.0


@dataclass(frozen=True)
class Row:
    id: int
    index: int
    start: float
    end: float
    text: str


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


def test_killed_worker_resumes_without_redoing_stored_segments(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", asr_window_seconds=WINDOW_SECONDS)
    services = build_services(settings)
    setup(services, with_index=False)
    audio = long_interview(tmp_path / "long.wav", repeats=3)  # 41 s: three windows of ≤15 s
    case_id, recording_id, job_id = queue_demo_recording(services, audio)

    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TAXASSIST_DATA_DIR": str(settings.data_dir),
        "TAXASSIST_MODELS_DIR": str(MODELS_DIR),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
        "TAXASSIST_DEMO_PASSWORD": DEMO_PASSWORD,
        "TAXASSIST_ASR_WINDOW_SECONDS": str(WINDOW_SECONDS),
    }
    env.pop("TAXASSIST_DATABASE_URL", None)
    env.update(database_env(settings.data_dir))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from assistant.cli import main; main()",
            "jobs",
            "run",
            str(job_id),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not _rows(services, recording_id):
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker stored no segment in 120 s"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(30)
    assert worker.returncode == -signal.SIGKILL

    stored = _rows(services, recording_id)
    crashed = _job(services, job_id)
    # The crash left a running job mid-way: stored segments, not the whole recording.
    assert crashed.status == "running"
    assert crashed.attempts == 1
    assert 0 < crashed.processed_seconds < crashed.duration_seconds - WINDOW_SECONDS
    assert stored[-1].end < crashed.duration_seconds - WINDOW_SECONDS

    queue = InProcessJobQueue(services, workers=1)
    queue.start()  # recovery: the running job is queued again and resumed
    try:
        deadline = time.monotonic() + 180
        while _job(services, job_id).status not in ("succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline, _job(services, job_id)
            time.sleep(0.1)
    finally:
        queue.stop()

    job = _job(services, job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message)
    assert job.attempts == 2
    assert job.progress == 1.0
    assert job.resumed_from_seconds == pytest.approx(stored[-1].end)
    rows = _rows(services, recording_id)
    # Stored rows untouched: same ids, indices, times and text; new rows come after them.
    assert rows[: len(stored)] == stored
    assert [r.index for r in rows] == list(range(len(rows)))
    new = rows[len(stored) :]
    assert new, "nothing was transcribed after the resume"
    assert all(r.start >= stored[-1].end - 1e-6 for r in new)
    assert new[-1].end > 2 * WINDOW_SECONDS  # the last window was recognised
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
