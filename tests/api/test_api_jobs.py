"""Issue 3 over HTTP: uploads become jobs; SSE order, cancel and retry, failures found only
while decoding, the duration limit, and the access rules of jobs and recordings.

Real whisper-base, real PyAV decoding, a real SQLite database; short audio and 15 s windows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from tests.api.apphelpers import (
    assert_error,
    login,
    prepare_data_dir,
    running_app,
    wait_for_job,
)
from tests.api.test_api_errors import _counts
from tests.conftest import FIXTURES, demo_case_payload, make_settings
from tests.jobs.audio import FLAC, MP3, cut_in_half, long_interview

pytestmark = pytest.mark.e2e

WINDOW_SECONDS = 15.0
MAX_SECONDS = 45.0  # the 27 s recording passes, the 54 s one does not


@pytest.fixture(scope="module")
def jobs_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(
        tmp_path_factory.mktemp("jobs") / "data",
        asr_window_seconds=WINDOW_SECONDS,
        max_audio_seconds=MAX_SECONDS,
    )
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("job-audio")
    return {
        "short": FIXTURES / "interview_zh.wav",
        "long": long_interview(root / "long.wav", repeats=2),  # 27 s: two windows
        "too_long": long_interview(root / "too_long.wav", repeats=4),
        "flac_half": cut_in_half(root / "half.flac", FLAC),
        "mp3_half": cut_in_half(root / "half.mp3", MP3),
    }


@pytest.fixture(scope="module")
def client(jobs_settings: Settings) -> Iterator[TestClient]:
    with running_app(jobs_settings) as client:
        yield client


@pytest.fixture(scope="module")
def officer(client: TestClient) -> dict[str, str]:
    return login(client, "officer")


@pytest.fixture(scope="module")
def case_id(client: TestClient, officer: dict[str, str]) -> int:
    response = client.post("/cases", json=demo_case_payload(), headers=officer)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _upload(client: TestClient, headers: dict[str, str], case: int, path: Path) -> Any:
    with path.open("rb") as handle:
        return client.post(
            f"/cases/{case}/recordings", files={"file": (path.name, handle)}, headers=headers
        )


def _accepted(client: TestClient, headers: dict[str, str], case: int, path: Path) -> Any:
    response = _upload(client, headers, case, path)
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/jobs/{body['job']['id']}"
    assert body["recording"]["status"] == "transcribing"
    assert body["job"]["status"] in ("queued", "running")
    assert body["job"]["links"]["events"] == f"/jobs/{body['job']['id']}/events"
    return body


def _events(client: TestClient, headers: dict[str, str], job_id: int, **kw: Any) -> list[Any]:
    """The SSE stream parsed into (event, id, data) until the server closes it."""
    with client.stream("GET", f"/jobs/{job_id}/events", headers=headers, **kw) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if fields:
            events.append((fields["event"], fields.get("id"), json.loads(fields["data"])))
    return events


def _segments(client: TestClient, headers: dict[str, str], recording_id: int) -> list[Any]:
    response = client.get(f"/recordings/{recording_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["segments"]  # type: ignore[no-any-return]


def test_sse_streams_segments_in_order_then_done(
    client: TestClient, officer: dict[str, str], case_id: int, audio: dict[str, Path]
) -> None:
    body = _accepted(client, officer, case_id, audio["short"])
    job_id, recording_id = body["job"]["id"], body["recording"]["id"]
    events = _events(client, officer, job_id)  # connected while the job is queued/running
    names = [name for name, _, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert "progress" in names
    segments = [(int(eid), data) for name, eid, data in events if name == "segment"]
    assert segments, names
    ids = [eid for eid, _ in segments]
    assert ids == sorted(set(ids)) and ids[0] == 0 and ids == [d["index"] for _, d in segments]
    progress = [d["progress"] for name, _, d in events if name == "progress"]
    assert progress == sorted(progress) and progress[-1] == 1.0
    final = events[-1][2]
    assert final["status"] == "succeeded" and final["progress"] == 1.0
    assert [d for _, d in segments] == _segments(client, officer, recording_id)

    # A reconnecting client gets only what follows its last event id.
    again = _events(client, {**officer, "Last-Event-ID": "0"}, job_id)
    assert [int(e) for n, e, _ in again if n == "segment"] == ids[1:]
    assert again[-1][0] == "done"
    after = _events(client, officer, job_id, params={"after": ids[-1]})
    assert [n for n, _, _ in after] == ["progress", "done"]
    bad = client.get(f"/jobs/{job_id}/events", headers={**officer, "Last-Event-ID": "x"})
    assert_error(bad, 422, "invalid_last_event_id")


def test_cancel_stops_the_worker_and_retry_resumes(
    client: TestClient, officer: dict[str, str], case_id: int, audio: dict[str, Path]
) -> None:
    body = _accepted(client, officer, case_id, audio["long"])
    job_id, recording_id = body["job"]["id"], body["recording"]["id"]
    deadline = time.monotonic() + 120
    while not _segments(client, officer, recording_id):
        assert time.monotonic() < deadline, "no segment stored in 120 s"
        time.sleep(0.1)
    other = login(client, "officer2")
    assert_error(client.post(f"/jobs/{job_id}/cancel", headers=other), 403, "not_case_officer")
    cancel = client.post(f"/jobs/{job_id}/cancel", headers=officer)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["cancel_requested"] is True
    job = wait_for_job(client, officer, job_id)
    assert job["status"] == "cancelled" and job["error_code"] == "cancelled"
    assert job["progress"] < 1.0
    kept = _segments(client, officer, recording_id)
    time.sleep(1.0)
    assert _segments(client, officer, recording_id) == kept  # the worker stopped
    recording = client.get(f"/recordings/{recording_id}", headers=officer).json()
    assert recording["status"] == "cancelled"
    assert_error(client.post(f"/jobs/{job_id}/cancel", headers=officer), 409, "job_not_cancellable")

    retry = client.post(f"/jobs/{job_id}/retry", headers=officer)
    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] in ("queued", "running")
    job = wait_for_job(client, officer, job_id)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    assert job["resumed_from_seconds"] == pytest.approx(kept[-1]["end"])
    segments = _segments(client, officer, recording_id)
    assert segments[: len(kept)] == kept
    assert [s["index"] for s in segments] == list(range(len(segments)))
    assert segments[-1]["end"] > WINDOW_SECONDS  # the second window was recognised
    assert_error(client.post(f"/jobs/{job_id}/retry", headers=officer), 409, "job_not_retryable")


@pytest.mark.parametrize(
    ("name", "code"), [("flac_half", "decode_failed"), ("mp3_half", "audio_truncated")]
)
def test_damage_found_while_decoding_fails_the_job_with_a_reason(
    client: TestClient,
    officer: dict[str, str],
    case_id: int,
    audio: dict[str, Path],
    name: str,
    code: str,
) -> None:
    body = _accepted(client, officer, case_id, audio[name])  # the header looks complete
    job = wait_for_job(client, officer, body["job"]["id"])
    assert job["status"] == "failed"
    assert job["error_code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in job["error_message"])
    assert "截断" in job["error_message"]
    recording = client.get(f"/recordings/{body['recording']['id']}", headers=officer).json()
    assert recording["status"] == "failed"
    events = _events(client, officer, body["job"]["id"])
    assert events[-1][0] == "failed" and events[-1][2]["error_code"] == code
    report = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
    assert report["ok"], report["problems"]  # the stored original is in the signed record


def test_over_the_duration_limit_is_refused_and_leaves_nothing(
    client: TestClient,
    officer: dict[str, str],
    case_id: int,
    audio: dict[str, Path],
    jobs_settings: Settings,
) -> None:
    wait_idle(client, officer, case_id)
    before = _counts(jobs_settings)
    error = assert_error(
        _upload(client, officer, case_id, audio["too_long"]), 422, "audio_too_long"
    )
    assert error["details"]["max_seconds"] == MAX_SECONDS  # type: ignore[index]
    assert _counts(jobs_settings) == before


def wait_idle(client: TestClient, headers: dict[str, str], case: int) -> None:
    """Every job of the case final, so that row counts are stable."""
    deadline = time.monotonic() + 120
    while any(
        r["status"] == "transcribing"
        for r in client.get(f"/cases/{case}/recordings", headers=headers).json()
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_job_and_recording_access(
    client: TestClient, officer: dict[str, str], case_id: int
) -> None:
    recordings = client.get(f"/cases/{case_id}/recordings", headers=officer).json()
    rid = recordings[0]["id"]
    assert_error(client.get("/jobs/424242", headers=officer), 404, "job_not_found")
    assert_error(client.get(f"/recordings/{rid}"), 401, "missing_token")
    assert_error(client.get("/jobs/1/events"), 401, "missing_token")
    # Reading follows the case routes (every enforcement role); changing is the handler's.
    reviewer = login(client, "reviewer")
    assert client.get(f"/recordings/{rid}", headers=reviewer).status_code == 200
    assert client.get("/jobs/1", headers=reviewer).status_code == 200
    assert_error(client.post("/jobs/1/retry", headers=reviewer), 403, "role_not_allowed")
    assert_error(
        client.post(f"/recordings/{rid}/speakers", json={"new": "x"}, headers=reviewer),
        403,
        "role_not_allowed",
    )
