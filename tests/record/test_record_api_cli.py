"""The record over HTTP and on the command line: verify, timeline, keys; tampering reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from assistant.config import Settings
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings
from tests.core.test_cli import run_cli


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("record-api") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with running_app(settings) as client:
        yield client


def _tamper(settings: Settings, statement: str) -> None:
    engine = create_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_verify_and_timeline_over_http_name_the_altered_event(
    client: TestClient, settings: Settings
) -> None:
    officer = login(client, "officer")
    case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
    other = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
    report = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
    assert report == {
        "case_id": case_id,
        "ok": True,
        "events": 1,
        "files": 0,
        "content_covered": True,
        "problems": [],
        "notes": [],
    }
    _tamper(settings, f"UPDATE case_events SET state_after='approved' WHERE case_id={case_id}")
    report = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
    assert report["ok"] is False
    assert [(p["kind"], p["seq"]) for p in report["problems"]] == [
        ("event_altered", 1),
        ("status_not_in_record", None),
    ]
    timeline = client.get(f"/cases/{case_id}/timeline", headers=officer).json()
    assert timeline["verified"] is False
    assert timeline["events"][0]["problems"] == ["event_altered"]
    assert timeline["events"][0]["actor"]["username"] == "officer"
    # The other case's record is untouched and still verifies.
    assert client.get(f"/cases/{other}/record/verify", headers=officer).json()["ok"] is True
    assert_error(client.get("/cases/9999/record/verify", headers=officer), 404, "case_not_found")
    assert client.get(f"/cases/{case_id}/timeline").status_code == 401


def test_cli_verify_rotate_and_export(tmp_path: Path, shared_index_dir: Path) -> None:
    settings = make_settings(tmp_path / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        officer = login(client, "officer")
        case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
    data_dir = settings.data_dir
    rotated = run_cli("record", "keys", "rotate", "--json", data_dir=data_dir)
    assert rotated.returncode == 0, rotated.stderr
    keyring = tmp_path / "keyring.json"
    exported = run_cli("record", "keys", "export", "--out", str(keyring), data_dir=data_dir)
    assert exported.returncode == 0, exported.stderr
    keys = json.loads(keyring.read_text(encoding="utf-8"))["keys"]
    assert len(keys) == 2 and keys[1]["key_id"] == json.loads(rotated.stdout)["key_id"]
    assert keys[0]["valid_until"] == keys[1]["valid_from"]
    ok = run_cli("record", "verify", str(case_id), "--keyring", str(keyring), data_dir=data_dir)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "验证通过" in ok.stdout
    _tamper(settings, "DELETE FROM case_events")
    bad = run_cli("record", "verify", str(case_id), "--json", data_dir=data_dir)
    assert bad.returncode == 2
    assert [p["kind"] for p in json.loads(bad.stdout)["problems"]] == ["record_truncated"]
