"""Annual statistics and the enforcement data platform, for leaders (负责人) and administrators.

A year outside 2000…this year is 422 `invalid_year`; other roles get 403."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, ServicesDep
from api.openapi import file_responses
from assistant.auth import Role
from assistant.db import User
from assistant.errors import Forbidden

router = APIRouter(prefix="/statistics", tags=["statistics"])

YearQuery = Annotated[int, Query(description="统计年度（中国日期）", ge=-(2**63), le=2**63 - 1)]
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "svg": "image/svg+xml",
}


def get_leader(user: CurrentUser) -> User:
    """Statistics are for the leaders who answer for them and the administrators."""
    if user.role not in (Role.APPROVER, Role.ADMIN):
        raise Forbidden(
            "role_not_allowed",
            "只有负责人和管理员可以查看执法统计。",
            details={"role": user.role, "allowed": [Role.APPROVER.value, Role.ADMIN.value]},
        )
    return user


LeaderUser = Annotated[User, Depends(get_leader)]


@router.get("/annual")
def annual(year: YearQuery, leader: LeaderUser, services: ServicesDep) -> dict[str, Any]:
    """The year's rows: counts by kind of act, amounts, procedure, remedies (未记录: null)."""
    from assistant.statistics.service import annual as annual_report

    return annual_report(services, year).to_dict()


@router.get(
    "/annual/export", response_class=Response, responses=file_responses(*MEDIA_TYPES.values())
)
async def export(
    year: YearQuery,
    leader: LeaderUser,
    services: ServicesDep,
    format: Annotated[Literal["xlsx", "csv", "png", "svg"], Query()] = "xlsx",
) -> Response:
    """The report as .xlsx or .csv, or its chart as PNG or SVG."""
    from assistant.statistics import export as files
    from assistant.statistics.service import annual as annual_report

    def build() -> bytes:
        report = annual_report(services, year)
        authority = services.settings.authority_name
        if format == "xlsx":
            return files.to_xlsx(report, authority=authority)
        if format == "csv":
            return files.to_csv(report)
        return files.render_charts(report, authority=authority)[format]

    data = await run_in_threadpool(build)
    return Response(
        data,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="annual-{year}.{format}"'},
    )


@router.get("/platform")
def platform(
    year: YearQuery,
    leader: LeaderUser,
    services: ServicesDep,
    as_of: Annotated[date | None, Query(description="open deadlines as of; default today")] = None,
) -> dict[str, Any]:
    """Distributions, outliers (benchmark, like cases), overdue procedures, acts without a valid
    执法证件, candidates for the 重大税收违法失信主体 list."""
    from assistant.statistics.service import platform as platform_report

    return platform_report(services, year, as_of=as_of)
