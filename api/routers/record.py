"""The signed record of a case: verification and the timeline."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminUser, CurrentUser, ServicesDep
from api.fields import DbId, Line
from assistant.auth.security import Role
from assistant.cases.credentials import add_credential, credentials_of
from assistant.errors import Forbidden
from assistant.record.service import timeline, verify_record

router = APIRouter(prefix="/cases", tags=["record"])


@router.get("/{case_id}/record/verify")
def verify(case_id: DbId, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """200 with ok=false and the problems (which event, which file) when the record was altered."""
    return verify_record(services, case_id).to_dict()


@router.get("/{case_id}/timeline")
def case_timeline(case_id: DbId, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    return timeline(services, case_id)


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Line = Field(min_length=1, max_length=64)
    number: Line = Field(min_length=1, max_length=64)
    issued_on: date
    valid_until: date


credentials_router = APIRouter(prefix="/credentials", tags=["credentials"])


@credentials_router.post("", status_code=201)
def register_credential(
    body: CredentialIn, admin: AdminUser, services: ServicesDep
) -> list[dict[str, Any]]:
    """Admins register enforcement credentials (执法证件) with their validity."""
    with services.db.session() as session:
        add_credential(
            session,
            body.username,
            number=body.number,
            issued_on=body.issued_on,
            valid_until=body.valid_until,
        )
        return credentials_of(session, body.username)


@credentials_router.get("/{username}")
def list_credentials(
    username: str, user: CurrentUser, services: ServicesDep
) -> list[dict[str, Any]]:
    """Admins see anyone's; others only their own, and 403 for any other name, existing or
    not, so that the answer does not tell which usernames exist."""
    if user.role != Role.ADMIN and username != user.username:
        raise Forbidden("role_not_allowed", "只能查看本人的执法证件。")
    with services.db.session() as session:
        return credentials_of(session, username)
