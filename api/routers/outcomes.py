"""强制 measures, 行政复议 and 行政诉讼 of a case, each a signed event; a result that revokes,
changes or confirms the decision unlawful or void withdraws its publication at once."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, ServicesDep
from api.fields import DbId, Line, Money, Paragraph
from assistant.dates import today_in_china
from assistant.db import User
from assistant.limits import INT64_MAX
from assistant.outcomes import service
from assistant.services import Services

router = APIRouter(prefix="/cases", tags=["outcomes"])
Remedy = Literal["reconsideration", "litigation"]


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: Literal["preservation", "execution"] = Field(
        description="税收保全措施 (征管法第三十八条) or 强制执行措施 (第四十条)"
    )
    method: Line = Field(min_length=1, max_length=40, description="a method the article lists")
    on: date | None = Field(default=None, description="the date taken (China date); today")
    amount: Money | None = None
    document_number: Line = Field(
        default="", max_length=60, description="文号 of the 税收保全措施决定书/税收强制执行决定书"
    )
    note: Paragraph = Field(default="", max_length=2000)


class RemedyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = Field(default=None, description="applied / filed on; today")
    body: Line = Field(min_length=1, max_length=200, description="复议机关 or the court")
    document_id: int | None = Field(
        default=None, ge=1, le=INT64_MAX, description="the issued decision challenged"
    )
    measure_event_id: int | None = Field(
        default=None,
        ge=1,
        le=INT64_MAX,
        description="the 强制 measure challenged (its enforcement_measure event id)",
    )
    note: Paragraph = Field(default="", max_length=2000)


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = Field(default=None, description="decided / judged on; today")
    result: Line = Field(min_length=1, max_length=20, description="维持、撤销、变更、确认违法…")
    note: Paragraph = Field(default="", max_length=2000)


@router.get("/{case_id}/outcomes")
def case_outcomes(case_id: DbId, user: CurrentUser, services: ServicesDep) -> list[dict[str, Any]]:
    """The case's 强制, 复议 and 诉讼 events, in record order."""
    return service.case_outcomes(services, case_id)


@router.post("/{case_id}/enforcement-measures", status_code=201)
def record_measure(
    case_id: DbId, body: MeasureIn, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    """税收保全措施 or 强制执行措施 taken, by the method its article lists; the response's
    `publication` is its masked public record (强制), drafted in the same transaction."""
    return take_measure(services, user, case_id, body)


@router.post("/{case_id}/remedies/{remedy}", status_code=201)
def apply_remedy(
    case_id: DbId, remedy: Remedy, body: RemedyIn, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    """The party applied for 行政复议 or filed an administrative lawsuit."""
    return apply_for_remedy(services, user, case_id, remedy, body)


@router.post("/{case_id}/remedies/{remedy}/result")
def conclude_remedy(
    case_id: DbId, remedy: Remedy, body: ResultIn, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    """The 复议决定 or judgment; 撤销/变更/确认违法/确认无效 withdraw the publication at once."""
    return record_remedy_result(services, user, case_id, remedy, body)


def take_measure(services: Services, user: User, case_id: int, body: MeasureIn) -> dict[str, Any]:
    """A checked MeasureIn to the service: the API route and the workbench form alike."""
    return service.record_measure(
        services,
        user,
        case_id,
        measure=body.measure,
        method=body.method,
        on=body.on or today_in_china(),
        amount=body.amount,
        note=body.note,
        document_number=body.document_number,
    )


def apply_for_remedy(
    services: Services, user: User, case_id: int, remedy: Remedy, body: RemedyIn
) -> dict[str, Any]:
    """A checked RemedyIn to the service (API and workbench)."""
    return service.apply_remedy(
        services,
        user,
        case_id,
        remedy=remedy,
        on=body.on or today_in_china(),
        body=body.body,
        document_id=body.document_id,
        note=body.note,
        measure_event_id=body.measure_event_id,
    )


def record_remedy_result(
    services: Services, user: User, case_id: int, remedy: Remedy, body: ResultIn
) -> dict[str, Any]:
    """A checked ResultIn to the service (API and workbench)."""
    return service.conclude_remedy(
        services,
        user,
        case_id,
        remedy=remedy,
        on=body.on or today_in_china(),
        result=body.result,
        note=body.note,
    )
