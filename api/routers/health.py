"""Liveness (`/health`: the process answers) and readiness (`/ready`: it can do its work)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import ServicesDep
from assistant import __version__
from assistant.errors import TaxAssistError
from assistant.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/health")
def health(services: ServicesDep) -> dict[str, Any]:
    """Liveness plus the facts an operator checks first: database, models, index."""
    with services.db.session() as session:
        session.execute(text("SELECT 1"))
    asr_dir = services.settings.resolved_asr_model_path
    return {
        "status": "ok",
        "version": __version__,
        "database": services.db.engine.dialect.name,
        "asr_model_installed": (asr_dir / "model.bin").is_file(),
        "index_dir": str(services.settings.index_dir),
    }


class ReadyCheck(BaseModel):
    ok: bool
    code: str | None = Field(description="snake_case reason when not ok")
    details: dict[str, Any] = Field(default_factory=dict)


class ReadyReport(BaseModel):
    status: Literal["ready"]
    checks: dict[str, ReadyCheck] = Field(
        description="database, index, models, file_store, job_queue: each ok with its details"
    )


NOT_READY = (
    "服务未就绪：数据库、检索索引、模型、文件存储或任务队列检查未通过"
    "（error.details.failed 列出每项的代码，error.details.checks 为各项详情）"
)


@router.get(
    "/ready",
    response_model=ReadyReport,
    responses={503: {"description": NOT_READY}},
)
def ready(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Readiness for a load balancer: 200 when every check passes, else 503 `not_ready` naming
    the code of each failed check (database_unavailable, index_missing, index_pointer_invalid,
    index_version_missing, index_manifest_unreadable, index_embedder_mismatch,
    index_files_missing, index_files_mismatch, models_missing, file_store_missing,
    file_store_unwritable, job_queue_not_started, job_queue_stopped, job_workers_dead,
    job_broker_unreachable)."""
    jobs = getattr(request.app.state, "jobs", None)
    checks = readiness(services.settings, services.db, services.files, jobs)
    report = {name: check.to_dict() for name, check in checks.items()}
    failed = {name: check.code for name, check in checks.items() if not check.ok}
    if failed:
        raise TaxAssistError(
            "not_ready",
            "服务未就绪：" + "、".join(f"{name}（{code}）" for name, code in failed.items()),
            status_code=503,
            details={"failed": failed, "checks": report},
        )
    return {"status": "ready", "checks": report}
