"""Readiness of one process of the deployment: the database, the broker, the index and the
shared file store each named by a code when they fail (assistant.readiness, GET /ready)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.readiness import readiness
from assistant.services import build_services
from tests.conftest import make_settings


def test_each_shared_dependency_is_checked(tmp_path: Path, redis_url: str) -> None:
    pytest.importorskip("celery", reason="the celery extra is not installed")
    from assistant.jobs.celery_queue import CeleryJobQueue

    up = make_settings(tmp_path / "data", job_backend="celery", broker_url=f"{redis_url}/2")
    services = build_services(up)
    checks = readiness(up, services.db, services.files, CeleryJobQueue(services))
    assert list(checks) == ["database", "index", "models", "file_store", "job_queue"]
    assert checks["database"].ok and checks["file_store"].ok and checks["job_queue"].ok
    assert checks["file_store"].details == {"backend": "local", "root": str(up.blobs_dir)}
    assert checks["index"].code == "index_missing"  # no index built in this data dir

    # The broker gone, the shared mount gone, the database file unopenable: each named.
    down = make_settings(
        tmp_path / "data",
        job_backend="celery",
        broker_url="redis://127.0.0.1:1/0",
        database_url=f"sqlite:///{tmp_path}",  # a directory: cannot be opened
    )
    broken = build_services(down)
    shutil.rmtree(down.blobs_dir)
    failed = {
        name: check.code
        for name, check in readiness(down, broken.db, broken.files, CeleryJobQueue(broken)).items()
        if not check.ok
    }
    assert failed == {
        "database": "database_unavailable",
        "index": "index_missing",
        "file_store": "file_store_missing",
        "job_queue": "job_broker_unreachable",
    }
    services.db.engine.dispose()
    broken.db.engine.dispose()
