"""schemathesis, all checks, against the real app served by uvicorn on loopback.

Every operation of the OpenAPI document gets generated requests (valid and invalid, signed
in as the demo officer); the run fails on any 5xx, any status or content type the document
does not declare, any body outside its schema, and any 405 whose `Allow` is wrong. The
configuration (`schemathesis.toml`) and the full CLI run are in docs/api-testing.md; this
bounded run (a few examples per operation, about a minute) keeps it true in the suite.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.main import create_app
from assistant.config import PROJECT_ROOT
from tests.api.apphelpers import prepare_data_dir
from tests.conftest import DEMO_PASSWORD, make_settings

EXAMPLES = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1 (a real socket, the real lifespan)."""
    app_settings = make_settings(tmp_path_factory.mktemp("schemathesis") / "data")
    prepare_data_dir(app_settings, shared_index_dir)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(app_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def officer(served: str) -> dict[str, str]:
    response = httpx.post(
        f"{served}/auth/token", json={"username": "officer", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_schemathesis_all_checks(served: str, officer: dict[str, str], tmp_path: Path) -> None:
    """The CLI as docs/api-testing.md runs it, with fewer examples: exit 0 = no failure."""
    cli = Path(sys.executable).parent / "schemathesis"
    command = [
        str(cli),
        "--config-file",
        str(PROJECT_ROOT / "schemathesis.toml"),
        "run",
        f"{served}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        # logging out would revoke the token the rest of the run signs in with
        "--exclude-path",
        "/auth/logout",
        "--seed",
        "17",
        "--header",
        f"Authorization: {officer['Authorization']}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    summary = run.stdout[run.stdout.find("SUMMARY") :]
    print(summary)  # the counts, for docs/api-testing.md (pytest -s)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "Tested: " in summary and "failures" not in summary.split("Test cases:")[-1], summary
