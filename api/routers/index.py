"""The retrieval index as an operator sees it: type, size, model, consistency with its sources."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AdminUser, ServicesDep
from assistant.services import check_index_consistency, index_status

router = APIRouter(prefix="/index", tags=["index"])


@router.get("/status")
def status(services: ServicesDep, admin: AdminUser) -> dict[str, Any]:
    """Administrators only: the saved index and a read-only consistency check (embeds nothing).

    Repair is `taxassist index check --rebuild` (it may embed and takes a while).
    """
    report, _ = check_index_consistency(services, repair=False)
    return {**index_status(services), "check": report.as_dict()}
