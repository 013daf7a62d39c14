"""Readiness: may a load balancer send this process traffic now?

Liveness (`GET /health`) says the process answers; readiness (`GET /ready`) says it can do
its work: the database answers a query, the published index is readable and matches the
configuration, the models are installed, the file store (often a shared mount) takes files
and the job queue takes jobs (for Celery: its broker answers). Each check is cheap
(no model is loaded, no index is read beyond its small JSON files and a few `stat` calls),
because orchestrators poll it every few seconds. A failed check names a machine-readable code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from assistant.config import Settings
from assistant.db import Database
from assistant.index_versions import FLAT_FILES, POINTER, IndexStore
from assistant.registry import load_manifest, package_installed


class ReadyQueue(Protocol):
    def ready(self) -> str | None: ...


class ReadyStore(Protocol):
    def ready(self) -> str | None: ...


@dataclass(frozen=True)
class Check:
    """One readiness check: ok, or the snake_case code of what is wrong, with details."""

    name: str
    code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code is None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "code": self.code, "details": self.details}


def check_database(db: Database) -> Check:
    """One query through the pool (SQLite or PostgreSQL alike)."""
    try:
        with db.session() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return Check("database", "database_unavailable", {"error": type(exc).__name__})
    return Check("database", details={"dialect": db.engine.dialect.name})


def check_index(settings: Settings) -> Check:
    """The version pointer is readable, the version it names is whole, its manifest matches."""
    store = IndexStore(settings.index_dir)
    version = store.pointer()
    details: dict[str, Any] = {"index_dir": str(settings.index_dir), "version": version}
    if version is None and (store.root / POINTER).exists():
        return Check("index", "index_pointer_invalid", details)
    directory = store.current_dir()
    if version is not None and not directory.is_dir():
        return Check("index", "index_version_missing", details)
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check("index", "index_missing", details)
    except (OSError, ValueError):
        return Check("index", "index_manifest_unreadable", details)
    if not isinstance(manifest, dict) or manifest.get("embedder") != settings.embedder:
        recorded = manifest.get("embedder") if isinstance(manifest, dict) else None
        details.update(recorded=recorded, configured=settings.embedder)
        return Check("index", "index_embedder_mismatch", details)
    if version is None:  # flat layout: the files must be there
        missing = [name for name in FLAT_FILES if not (directory / name).is_file()]
        if missing:
            return Check("index", "index_files_missing", {**details, "missing": missing})
        return Check("index", details=details)
    published = store.published(version)
    files = published.get("files") if published else None
    if not isinstance(files, dict):
        return Check("index", "index_manifest_unreadable", details)
    wrong = []
    for name, size in files.items():
        path = directory / name
        if not path.is_file() or path.stat().st_size != size:
            wrong.append(name)
    if wrong:
        return Check("index", "index_files_mismatch", {**details, "files": sorted(wrong)})
    return Check("index", details=details)


def check_models(settings: Settings) -> Check:
    """The ASR weights are materialized and the configured embedder's package files are there."""
    missing: list[str] = []
    if not (settings.resolved_asr_model_path / "model.bin").is_file():
        missing.append("asr")
    specs = [
        spec
        for spec in load_manifest().values()
        if spec.role == "embedder" and spec.backend == settings.embedder
    ]
    if any(not package_installed(spec) for spec in specs):
        missing.append("embedder")
    if settings.embedding_model_path is not None and not settings.embedding_model_path.exists():
        missing.append("embedder")
    if missing:
        return Check("models", "models_missing", {"roles": sorted(set(missing))})
    return Check("models")


def check_file_store(settings: Settings, files: ReadyStore) -> Check:
    """The file store can take an upload now (for `local`: its root is a writable directory)."""
    details = {"backend": settings.file_store, "root": str(settings.blobs_dir)}
    return Check("file_store", files.ready(), details)


def check_job_queue(queue: ReadyQueue | None) -> Check:
    """The queue backend takes jobs (for the in-process one: its workers are alive)."""
    if queue is None:
        return Check("job_queue", "job_queue_not_started")
    reason = queue.ready()
    return Check("job_queue", reason) if reason else Check("job_queue")


def readiness(
    settings: Settings, db: Database, files: ReadyStore, queue: ReadyQueue | None
) -> dict[str, Check]:
    """Every check by name, in a fixed order."""
    checks = (
        check_database(db),
        check_index(settings),
        check_models(settings),
        check_file_store(settings, files),
        check_job_queue(queue),
    )
    return {check.name: check for check in checks}
