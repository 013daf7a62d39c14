"""The multi-process topology of deploy/compose.yaml, started from local processes.

2 API replicas (`taxassist serve`) + 2 Celery workers (`taxassist worker`) + PostgreSQL +
Redis on loopback, one shared data dir (`assistant.topology`, the code `scripts/topology.py`
runs). One case end to end: signed in, created and uploaded through replica A; the worker
that holds the transcription's lease is killed with SIGKILL after its first segment; the
other worker finishes the job; the transcript, the job and the signed case record are read
through replica B. Real speech (two clips of the shared corpus), the real whisper-base model;
5-second windows, beam 1 and a 2-second lease keep it short (as tests/jobs/test_celery_queue).
"""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from assistant.config import MODELS_DIR
from assistant.db.models import Job, TranscriptSegment
from assistant.localservers import ServerUnavailable
from assistant.topology import Topology, local_topology
from tests.conftest import DEMO_CORPUS, DEMO_PASSWORD, demo_case_payload, requires_shared
from tests.jobs.audio import joined_clips

pytest.importorskip("celery", reason="the celery extra is not installed (pip install '.[celery]')")
pytest.importorskip("psycopg", reason="the psycopg driver is not installed (pip install '.[dev]')")

pytestmark = [pytest.mark.e2e, requires_shared]

LEASE_SECONDS = 2.0
SETTINGS = {
    "TAXASSIST_MODELS_DIR": str(MODELS_DIR),
    "TAXASSIST_CORPORA": "",
    "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
    "TAXASSIST_DEMO_PASSWORD": DEMO_PASSWORD,
    "TAXASSIST_SEED_DEMO_USERS": "true",
    "TAXASSIST_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    "TAXASSIST_ASR_WINDOW_SECONDS": "5",
    "TAXASSIST_ASR_BEAM_SIZE": "1",
    "TAXASSIST_DIARIZATION": "false",
    "TAXASSIST_ASR_WORD_TIMESTAMPS": "false",
    # The set-up step builds the index as in a deployment; over the small fixture corpus with
    # the hashing embedder that takes well under a second (retrieval is not what is tested).
    "TAXASSIST_EMBEDDER": "hashing",
}


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    try:
        with local_topology(tmp_path, env=SETTINGS) as running:
            print("start-up seconds:", running.timings)
            yield running
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def _wait(topology: Topology, what: str, done: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"{what} within {seconds} s\n{topology.logs()}"
        time.sleep(0.05)


def test_case_through_two_replicas_survives_a_killed_worker(
    topology: Topology, tmp_path: Path
) -> None:
    replica_a, replica_b = (httpx.Client(base_url=url, timeout=30) for url in topology.api_urls)
    engine: Engine = create_engine(topology.database_url)
    try:
        signed_in = replica_a.post(
            "/auth/token", json={"username": "officer", "password": DEMO_PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        officer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        created = replica_a.post("/cases", json=demo_case_payload(), headers=officer)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        audio, spans = joined_clips(tmp_path / "interview.wav")
        with audio.open("rb") as handle:
            uploaded = replica_a.post(
                f"/cases/{case_id}/recordings",
                files={"file": (audio.name, handle, "audio/wav")},
                headers=officer,
            )
        assert uploaded.status_code == 202, uploaded.text
        recording_id, job_id = uploaded.json()["recording"]["id"], uploaded.json()["job"]["id"]

        def stored() -> int:
            with engine.connect() as db:
                count = select(func.count()).where(TranscriptSegment.recording_id == recording_id)
                return int(db.execute(count).scalar_one())

        def holder() -> str | None:
            with engine.connect() as db:
                return db.execute(select(Job.worker).where(Job.id == job_id)).scalar_one()

        # The lease holder is named host:pid:run; its first segment is committed: kill it.
        _wait(topology, "a first segment", stored, 90)
        worker = holder()
        assert worker is not None, "the job finished before a worker could be killed"
        pid = int(worker.split(":")[1])
        victim = next(n for n, p in topology.workers().items() if p.pid == pid)
        topology.processes[victim].send_signal(signal.SIGKILL)
        assert topology.processes[victim].wait(30) == -signal.SIGKILL
        before = replica_b.get(f"/recordings/{recording_id}/transcript", headers=officer).json()
        crashed = replica_b.get(f"/jobs/{job_id}", headers=officer).json()
        assert crashed["status"] == "running", crashed
        done_before = before["segments"]
        assert done_before and done_before[-1]["end"] < crashed["duration_seconds"] - 1

        # The other worker sweeps the lapsed lease and finishes from the stored segments.
        def finished() -> bool:
            job = replica_b.get(f"/jobs/{job_id}", headers=officer).json()
            return job["status"] in ("succeeded", "failed", "cancelled")

        _wait(topology, "the end on the other worker", finished, 60)
        job = replica_b.get(f"/jobs/{job_id}", headers=officer).json()
        assert job["status"] == "succeeded", (job, topology.logs())
        assert job["attempts"] == 2
        assert job["resumed_from_seconds"] == pytest.approx(done_before[-1]["end"])
        assert holder() is None

        segments = replica_b.get(f"/recordings/{recording_id}/transcript", headers=officer)
        assert segments.status_code == 200, segments.text
        rows = segments.json()["segments"]
        # The stored segments untouched, the new ones numbered on and in time order: none doubled.
        assert rows[: len(done_before)] == done_before and len(rows) > len(done_before)
        assert [r["index"] for r in rows] == list(range(len(rows)))
        assert all(b["start"] >= a["end"] - 1e-6 for a, b in itertools.pairwise(rows))
        # None lost: each clip of speech has a segment over it, the last one included.
        for start, end in spans:
            assert any(r["start"] < end and r["end"] > start for r in rows), ((start, end), rows)

        recording = replica_b.get(f"/recordings/{recording_id}", headers=officer).json()
        assert recording["status"] == "transcribed", recording
        events = replica_b.get(f"/cases/{case_id}/events", headers=officer).json()
        assert [e["action"] for e in events] == [
            "case_created",
            "recording_uploaded",
            "recording_transcribed",
        ]
        verified = replica_b.get(f"/cases/{case_id}/record/verify", headers=officer).json()
        assert verified["ok"] is True, verified
        for url in topology.api_urls:  # both replicas still ready, with one worker left
            assert httpx.get(f"{url}/ready").status_code == 200
    finally:
        replica_a.close()
        replica_b.close()
        engine.dispose()
