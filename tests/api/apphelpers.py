"""Start the real app on a data dir, the way `make run` does, for API tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.services import build_services, setup
from tests.conftest import DEMO_PASSWORD


def prepare_data_dir(settings: Settings, index_dir: Path) -> None:
    """Schema, models and demo users as `taxassist setup` makes them; the prebuilt demo index."""
    if not settings.index_dir.exists():
        shutil.copytree(index_dir, settings.index_dir)
    services = build_services(settings)
    setup(services, with_index=False)
    services.db.engine.dispose()


@contextmanager
def running_app(settings: Settings) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    """Every error leaves in the one envelope, with a Chinese message."""
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status, body  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert isinstance(body["error"]["details"], dict)
    return body["error"]  # type: ignore[no-any-return]


FINAL_JOB_STATES = ("succeeded", "failed", "cancelled")


def wait_for_job(
    client: TestClient, headers: dict[str, str], job_id: int, *, timeout: float = 180.0
) -> dict[str, Any]:
    """Poll `GET /jobs/{id}` like a client until the job reaches a final state."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in FINAL_JOB_STATES:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}: {job}"
        time.sleep(0.2)


def upload_recording(
    client: TestClient,
    headers: dict[str, str],
    case_id: int,
    path: Path,
    *,
    content_type: str = "audio/wav",
) -> dict[str, Any]:
    """Upload (202), wait for the transcription job, return the transcribed recording."""
    with path.open("rb") as handle:
        response = client.post(
            f"/cases/{case_id}/recordings",
            files={"file": (path.name, handle, content_type)},
            headers=headers,
        )
    assert response.status_code == 202, response.text
    accepted = response.json()
    job = wait_for_job(client, headers, accepted["job"]["id"])
    assert job["status"] == "succeeded", job
    recording = client.get(f"/recordings/{accepted['recording']['id']}", headers=headers)
    assert recording.status_code == 200, recording.text
    return recording.json()  # type: ignore[no-any-return]


def decide_after_notice(client: TestClient, case_id: int, notice_id: int) -> None:
    """The steps between approval and a 决定书 that may be issued: the 告知书 issued and
    served, the party waiving 陈述申辩, the decision made."""
    officer, approver = login(client, "officer"), login(client, "approver")
    issued = client.post(f"/documents/{notice_id}/issue", headers=approver)
    assert issued.status_code == 200, issued.text
    for action, body in (("notify", {}), ("record_statement", {"waived": True})):
        done = client.post(f"/cases/{case_id}/lifecycle/{action}", json=body, headers=officer)
        assert done.status_code == 200, done.text
    decided = client.post(f"/cases/{case_id}/lifecycle/decide", json={}, headers=approver)
    assert decided.status_code == 200, decided.text
