"""Every 4xx/5xx leaves in one envelope: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import RateLimited, TaxAssistError
from assistant.legal import LegalValueError

logger = logging.getLogger("taxassist.api")

_HTTP_CODES = {
    400: ("malformed_request", "请求体格式错误，无法解析（JSON 或 multipart 格式不正确）。"),
    401: ("unauthorized", "需要登录。"),
    403: ("forbidden", "无权访问。"),
    404: ("not_found", "请求的资源不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    413: ("payload_too_large", "上传内容过大。"),
}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details or {}}},
        headers=headers or None,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TaxAssistError)
    async def _domain(_: Request, exc: TaxAssistError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return envelope(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(LegalValueError)
    async def _legal(_: Request, exc: LegalValueError) -> JSONResponse:
        """A malformed statute id, numeral or citation (the legal core): 422 like InvalidInput."""
        return envelope(exc.status_code, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "problem": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        fields = "、".join(p["field"] for p in problems if p["field"]) or "请求"
        return envelope(
            422, "invalid_request", f"请求内容不符合要求：{fields}。", {"errors": problems}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return envelope(exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return envelope(500, "internal_error", "系统内部错误，请联系管理员。")

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        """The database stayed locked or out of connections past the wait: retry later, not
        a server error (nothing was written: the transaction rolled back)."""
        if isinstance(exc, OperationalError) and "locked" not in str(exc.orig):
            return await _unexpected(request, exc)
        logger.warning("database busy: %s", exc)
        return envelope(
            503,
            "database_busy",
            "系统繁忙，请稍后重试。",
            headers={"Retry-After": "5"},
        )


def allowed_methods(request: Request) -> str | None:
    """`Allow` for a 405: every method the OpenAPI document gives this path, not only those
    of the first route Starlette tried. A fixed path (/archives/import) hides a template
    (/archives/{uscc}) as OpenAPI resolves them; None for a path the document lacks."""
    fixed: set[str] = set()
    templated: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if not re.fullmatch(pattern, request.url.path):
            continue
        methods = {m.upper() for m in operations}
        if "GET" in methods:
            methods.add("HEAD")
        (templated if "{" in template else fixed).update(methods)
    allowed = fixed or templated
    return ", ".join(sorted(allowed)) if allowed else None
