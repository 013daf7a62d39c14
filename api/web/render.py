"""Rendering the workbench's pages: one Jinja2 environment, the names the pages show.

Every page response passes through `render`, which adds what each page needs (the signed-in
user, the CSRF token for its forms, the Chinese names of roles and stages) and sets the cookies
the request created or renewed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from assistant.auth.security import ROLE_NAMES_ZH
from assistant.cases.lifecycle import STAGES
from assistant.dates import to_china_time
from assistant.db import User
from assistant.errors import TaxAssistError

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
STATIC_PATH = "/workbench/static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")


def china_time(value: datetime | str | None) -> str:
    """Timestamps are stored in UTC and shown in Asia/Shanghai (design conventions)."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return to_china_time(moment).strftime("%Y-%m-%d %H:%M")


def yuan(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f} 元"


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}.{int((seconds - whole) * 10)}"


templates.env.filters.update(china_time=china_time, yuan=yuan, clock=clock)
templates.env.globals.update(
    ROLE_NAMES=ROLE_NAMES_ZH, STAGES=STAGES, static=lambda name: f"{STATIC_PATH}/{name}"
)


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    from api.web.session import apply_cookies, csrf_token

    response = templates.TemplateResponse(
        request, template, {"csrf": csrf_token(request), **context}, status_code=status_code
    )
    apply_cookies(request, response)
    return response


def error_page(
    request: Request,
    user: User | None,
    error: TaxAssistError,
    *,
    title: str = "",
    fragment: bool | None = None,
) -> HTMLResponse:
    """A refusal as a page titled `title`, or as the error fragment (message and code) when
    htmx asked (`fragment` None: read from the request): htmx swaps nothing on a 4xx, so the
    page script shows the fragment beside the control that asked."""
    if fragment is None:
        fragment = "hx-request" in request.headers
    return render(
        request,
        "_panel_error.html" if fragment else "error.html",
        {"user": user, "title": title, "error": error},
        status_code=error.status_code,
    )
