from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import ServicesDep
from assistant import __version__

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
