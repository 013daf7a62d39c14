"""Security headers on every response; `/docs` and `/redoc` need nothing from the network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from tests.api.apphelpers import login, prepare_data_dir, running_app
from tests.conftest import DEMO_PASSWORD, make_settings


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings: Settings = make_settings(tmp_path_factory.mktemp("headers") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


def _assert_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_every_kind_of_response_carries_the_headers(client: TestClient) -> None:
    officer = login(client, "officer")
    for response in (
        client.get("/health"),
        client.get("/cases", headers=officer),
        client.get("/cases"),  # 401
        client.get("/cases/999999", headers=officer),  # 404
        client.post("/cases", json={}, headers=officer),  # 422
        client.delete("/health"),  # 405
        client.get("/openapi.json"),
        client.get("/docs"),
    ):
        _assert_headers(response)
    api = client.get("/cases", headers=officer).headers["content-security-policy"]
    assert "default-src 'none'" in api and "script-src" not in api


def test_token_responses_are_not_cached(client: TestClient) -> None:
    response = client.post("/auth/token", json={"username": "officer", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    _assert_headers(response)


def test_405_names_the_allowed_methods(client: TestClient) -> None:
    response = client.delete("/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_local_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "cdn." not in html and "googleapis" not in html and "https://" not in html
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', html)
    assert assets, html
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 100, asset
        _assert_headers(fetched)
