"""The leaders' statistics page: the annual rows and the data platform's findings for a year,
with small bar charts drawn as inline SVG (no script, nothing outside the app: the page CSP)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.web.render import error_page, render
from api.web.session import WebUser
from assistant.auth.security import Role
from assistant.dates import today_in_china
from assistant.db import User
from assistant.errors import Forbidden, TaxAssistError

router = APIRouter(include_in_schema=False)

BAR_HEIGHT = 18
LABEL_WIDTH = 190
CHART_WIDTH = 620


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars scaled to the largest value, laid out for the template's <svg>."""

    title: str
    bars: tuple[Bar, ...]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = CHART_WIDTH


def bar_chart(title: str, items: list[tuple[str, Decimal | int, str]]) -> BarChart:
    """`items`: (label, value, value as shown); empty items give a chart with no bars."""
    top = max((float(v) for _, v, _ in items), default=0.0) or 1.0
    room = CHART_WIDTH - LABEL_WIDTH - 90
    bars = tuple(
        Bar(label, shown, 8 + n * (BAR_HEIGHT + 6), max(1, round(room * float(value) / top)))
        for n, (label, value, shown) in enumerate(items)
    )
    return BarChart(title, bars, 16 + len(bars) * (BAR_HEIGHT + 6))


def require_leader(user: User) -> None:
    if user.role not in (Role.APPROVER, Role.ADMIN):
        raise Forbidden("role_not_allowed", "只有负责人和管理员可以查看执法统计。")


@router.get("/workbench/statistics/export")
async def statistics_export(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    year: Annotated[int, Query(ge=-(2**63), le=2**63 - 1)],
    format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
) -> Response:
    """The page's download links: the same files as the API's export, on the page's sign-in."""
    from assistant.statistics import export as files
    from assistant.statistics.service import annual

    try:
        require_leader(user)
        report = await run_in_threadpool(annual, services, year)
    except TaxAssistError as exc:
        return error_page(request, user, exc, title="执法统计")
    if format == "xlsx":
        data = files.to_xlsx(report, authority=services.settings.authority_name)
    else:
        data = files.to_csv(report)
    return Response(
        data,
        media_type=files.XLSX_MEDIA_TYPE if format == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="annual-{year}.{format}"'},
    )


@router.get("/workbench/statistics")
async def statistics_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    year: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
) -> Response:
    from assistant.statistics.service import annual, platform

    chosen = year if year is not None else today_in_china().year - 1
    context: dict[str, object] = {"user": user, "year": chosen}
    try:
        require_leader(user)
        report = await run_in_threadpool(annual, services, chosen)
        data = await run_in_threadpool(platform, services, chosen)
    except TaxAssistError as exc:
        return error_page(request, user, exc, title="执法统计")
    kinds = [r for r in report.rows if r.group == "kinds" and isinstance(r.value, int)]
    violations = [v for v in data["distribution"]["violation"] if v["multiple"]["median"]]
    officers = data["distribution"]["officer"]
    charts = [
        bar_chart("执法行为（件）", [(r.label, r.value or 0, r.shown) for r in kinds]),
        bar_chart(
            "罚款倍数中位数（按违法行为）",
            [
                (v["name"], Decimal(v["multiple"]["median"]), v["multiple"]["median"] + "倍")
                for v in violations
            ],
        ),
        bar_chart(
            "罚款金额（按承办人）",
            [
                (
                    o["group"],
                    Decimal(o["amount"]["total"]),
                    f"{Decimal(o['amount']['total']):,.2f}元",
                )
                for o in officers
            ],
        ),
    ]
    return render(
        request,
        "statistics.html",
        {**context, "report": report, "platform": data, "charts": charts},
    )
