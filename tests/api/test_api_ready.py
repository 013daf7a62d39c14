"""GET /ready through the HTTP API: 200 when the database, index, models, file store and job
queue are usable, else 503 `not_ready` with a machine-readable code per failed check; /health stays
liveness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.db import Database
from assistant.index_versions import POINTER, IndexStore
from tests.api.apphelpers import assert_error, prepare_data_dir, running_app
from tests.conftest import make_settings

pytestmark = pytest.mark.e2e


def test_ready_names_each_failed_check(tmp_path: Path, shared_index_dir: Path) -> None:
    settings = make_settings(tmp_path / "data")
    prepare_data_dir(settings, shared_index_dir)
    index = settings.index_dir
    with running_app(settings) as client:
        body = client.get("/ready").json()
        assert body["status"] == "ready", body
        assert set(body["checks"]) == {"database", "index", "models", "file_store", "job_queue"}
        assert all(check["ok"] for check in body["checks"].values())

        # a published version whose file was cut short: named, not served
        store = IndexStore(index)
        with store.publishing(base=index):
            pass
        assert client.get("/ready").status_code == 200
        with (store.current_dir() / "cases.ids.json").open("ab") as fh:
            fh.write(b" ")
        error = assert_error(client.get("/ready"), 503, "not_ready")
        assert error["details"]["failed"] == {"index": "index_files_mismatch"}
        assert error["details"]["checks"]["index"]["details"]["files"] == ["cases.ids.json"]

        (index / POINTER).write_text("../elsewhere\n", encoding="utf-8")
        error = assert_error(client.get("/ready"), 503, "not_ready")
        assert error["details"]["failed"] == {"index": "index_pointer_invalid"}

        (index / POINTER).unlink()
        shutil.rmtree(store.root / store.versions()[0])
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
        (index / "manifest.json").write_text(json.dumps({**manifest, "embedder": "use"}))
        client.app.state.jobs.stop(timeout=5)  # type: ignore[attr-defined]
        error = assert_error(client.get("/ready"), 503, "not_ready")
        assert error["details"]["failed"] == {
            "index": "index_embedder_mismatch",
            "job_queue": "job_queue_stopped",
        }

        services = client.app.state.services  # type: ignore[attr-defined]
        working = services.db
        services.db = Database(f"sqlite:///{tmp_path}")  # a directory: cannot be opened
        try:
            error = assert_error(client.get("/ready"), 503, "not_ready")
            assert error["details"]["failed"]["database"] == "database_unavailable"
        finally:
            services.db.engine.dispose()
            services.db = working
        assert client.get("/health").json()["status"] == "ok"  # liveness is not readiness
        client.app.state.jobs.start()  # type: ignore[attr-defined]


def test_openapi_documents_ready_and_not_ready(tmp_path: Path) -> None:
    from api.main import create_app

    operation = create_app(make_settings(tmp_path / "data")).openapi()["paths"]["/ready"]["get"]
    assert {"200", "503"} <= set(operation["responses"])
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ReadyReport"}
    not_ready = operation["responses"]["503"]["content"]["application/json"]["schema"]
    assert not_ready == {"$ref": "#/components/schemas/ErrorEnvelope"}
