"""Publication records of issued decisions (行政执法公示): draft, review, publish, withdraw."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, ServicesDep
from api.fields import DbId, Line, Paragraph
from assistant.auth.security import Role
from assistant.cases.access import require_role
from assistant.db import User
from assistant.db.models import Case
from assistant.errors import NotFound
from assistant.limits import INT64_MAX
from assistant.publicity import service
from assistant.publicity.public import check_code
from assistant.services import Services

router = APIRouter(prefix="/publications", tags=["publications"])
# `{publication_id:int}`: only digits reach the id routes, so /publications/alerts with another
# method is a 405 naming GET, not a 422 about an id.


class PublicationIn(BaseModel):
    """What to draft the public record of: an issued decision or a recorded 强制 measure, one of
    the two (else 422 `invalid_publication_source`)."""

    model_config = ConfigDict(extra="forbid")
    document_id: int | None = Field(
        default=None, ge=1, le=INT64_MAX, description="the issued decision"
    )
    measure_event_id: int | None = Field(
        default=None,
        ge=1,
        le=INT64_MAX,
        description="the 强制 measure (its enforcement_measure event id), drafted again after "
        "its record was withdrawn as inaccurate",
    )


class PublicationEdit(BaseModel):
    """The officer's corrections after review; each is masked again before it is saved."""

    model_config = ConfigDict(extra="forbid")
    facts: Paragraph | None = Field(default=None, min_length=1, max_length=5000)
    basis: Paragraph | None = Field(default=None, min_length=1, max_length=2000)
    result: Paragraph | None = Field(default=None, min_length=1, max_length=2000)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=1,
        max_length=40,
        description="a withdrawal reason of corpora/publicity/rules.yaml (withdrawal.reasons)",
    )
    note: Line = Field(default="", max_length=500)
    revoked_on: date | None = Field(
        default=None, description="when the decision was revoked (starts the 3 working days)"
    )


Status = Literal["draft", "published", "withdrawn"]


@router.get("")
def list_publications(
    user: CurrentUser,
    services: ServicesDep,
    status: Status | None = Query(default=None),
) -> list[dict[str, Any]]:
    return service.list_publications(services, status)


@router.get("/alerts")
def publication_alerts(user: CurrentUser, services: ServicesDep) -> list[dict[str, Any]]:
    """Issued decisions still to publish, with their working-day deadline; overdue flagged."""
    return service.alerts(services)


@router.get("/inquiry-codes/{case_id}")
def inquiry_code(case_id: DbId, user: CurrentUser, services: ServicesDep) -> dict[str, str]:
    """The check code the party uses for the progress inquiry (printed on its notices)."""
    require_role(user, Role.OFFICER, Role.APPROVER, Role.ADMIN)
    with services.db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(
                "case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id}
            )
        number = case.number
    return {"case_number": number, "check_code": check_code(services.settings, number)}


@router.post("", status_code=201, responses={404: {"description": "文书或强制措施不存在"}})
def draft_publication(
    body: PublicationIn, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    """The masked draft of an issued decision's or a 强制 measure's public record, with what was
    masked; again after a withdrawal as inaccurate (the withdrawn one stays on record). 409
    `publication_exists` while it has a draft or a published record, 409
    `publication_withdrawn_for_good` after a withdrawal for any other reason."""
    return draft_from(services, user, body)


def draft_from(
    services: Services, user: User, body: PublicationIn, case_id: int | None = None
) -> dict[str, Any]:
    """A checked PublicationIn to the service: this route and the workbench's 重新生成公示稿."""
    return service.draft_publication(
        services,
        user,
        body.document_id,
        measure_event_id=body.measure_event_id,
        case_id=case_id,
    )


@router.get("/{publication_id:int}")
def get_publication(
    publication_id: DbId, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    return service.get_publication(services, user, publication_id)


@router.patch("/{publication_id:int}")
def revise_publication(
    publication_id: DbId, body: PublicationEdit, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    return service.revise_publication(services, user, publication_id, changes)


@router.post("/{publication_id:int}/publish")
def publish(publication_id: DbId, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """The reviewed draft goes into the public feed; a signed event records it."""
    return service.publish(services, user, publication_id)


@router.post("/{publication_id:int}/withdraw")
def withdraw(
    publication_id: DbId, body: WithdrawalIn, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    """Out of the feed at once; the reason is published and the act signed in the record."""
    return service.withdraw(
        services,
        user,
        publication_id,
        reason=body.reason,
        note=body.note,
        revoked_on=body.revoked_on,
    )
