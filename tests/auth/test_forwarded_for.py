"""`taxassist serve` behind a reverse proxy: sign-in throttling keys on the officer's address.

A real server process on loopback: requests from 127.0.0.1 play the trusted proxy (nginx),
requests bound to 127.0.0.2 play a client that forges X-Forwarded-For to dodge the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from assistant.auth.throttle import ADDRESS
from assistant.config import PROJECT_ROOT
from assistant.db.models import LoginThrottle
from assistant.localservers import free_port
from assistant.services import build_services, setup
from tests.conftest import DEMO_CORPUS, database_env, make_settings

PROXY, OTHER_PEER = "127.0.0.1", "127.0.0.2"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`taxassist serve --forwarded-allow-ips 127.0.0.1` on a migrated data dir: (URL, data
    dir). uvicorn's own FORWARDED_ALLOW_IPS=* is set too: serve must not let it in."""
    data_dir = tmp_path / "data"
    services = build_services(make_settings(data_dir))
    setup(services, with_index=False)
    services.db.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "TAXASSIST_DATA_DIR": str(data_dir),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
        "TAXASSIST_LOGIN_MAX_FAILURES_PER_ADDRESS": "2",
        "FORWARDED_ALLOW_IPS": "*",
        **database_env(data_dir),
    }
    command = "from assistant.cli import main; main()"
    args = ["serve", "--port", str(port), "--forwarded-allow-ips", PROXY]
    process = subprocess.Popen(
        [sys.executable, "-c", command, *args],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://{PROXY}:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, stderr = process.communicate()
                pytest.fail(f"taxassist serve did not start:\n{stderr.decode()[-3000:]}")
            time.sleep(0.2)
        yield url, data_dir
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _sign_in(url: str, peer: str, forwarded_for: str, username: str) -> int:
    """One wrong-password sign-in from `peer`, stating X-Forwarded-For: its status code."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=peer), timeout=30) as client:
        response = client.post(
            f"{url}/auth/token",
            json={"username": username, "password": "wrong-guess"},
            headers={"X-Forwarded-For": forwarded_for},
        )
    return response.status_code


def test_sign_in_throttle_keys_on_the_forwarded_address_only_from_a_trusted_proxy(
    server: tuple[str, Path],
) -> None:
    url, data_dir = server
    # Through the proxy: two failures lock officer A's address, officer B's stays open.
    assert _sign_in(url, PROXY, "203.0.113.7", "u1") == 401
    assert _sign_in(url, PROXY, "203.0.113.7", "u2") == 401
    assert _sign_in(url, PROXY, "203.0.113.7", "u3") == 429
    assert _sign_in(url, PROXY, "203.0.113.8", "u4") == 401
    # Not the proxy: its X-Forwarded-For is ignored, so a new forged address each time does
    # not escape the lock on the peer's own address.
    assert _sign_in(url, OTHER_PEER, "198.51.100.1", "u5") == 401
    assert _sign_in(url, OTHER_PEER, "198.51.100.2", "u6") == 401
    assert _sign_in(url, OTHER_PEER, "198.51.100.3", "u7") == 429

    services = build_services(make_settings(data_dir))
    try:
        with services.db.session() as session:
            keys = set(
                session.scalars(select(LoginThrottle.key).where(LoginThrottle.scope == ADDRESS))
            )
    finally:
        services.db.engine.dispose()
    assert keys == {"203.0.113.7", "203.0.113.8", OTHER_PEER}
