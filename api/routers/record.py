"""The signed record of a case: verification and the timeline (issue 7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from assistant.record.service import timeline, verify_record

router = APIRouter(prefix="/cases", tags=["record"])


@router.get("/{case_id}/record/verify")
def verify(case_id: int, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """200 with ok=false and the problems (which event, which file) when the record was altered."""
    return verify_record(services, case_id).to_dict()


@router.get("/{case_id}/timeline")
def case_timeline(case_id: int, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    return timeline(services, case_id)
