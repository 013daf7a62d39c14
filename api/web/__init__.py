"""The officers' workbench: server-rendered pages in Chinese on the same app as the API.

`install_workbench(app)` adds the pages (`/` and `/workbench/...`, left out of the OpenAPI
document), their static files (the vendored htmx, the stylesheet and the page script) and the
two answers a page request gets that an API request does not: a redirect to the sign-in page,
and a 403 page for a form without its CSRF token.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from api.web import (
    actions,
    analysis,
    documents,
    outcomes,
    pages,
    publications,
    session,
    statistics,
)
from api.web.render import STATIC_DIR, STATIC_PATH, error_page
from assistant.errors import Forbidden


def install_workbench(app: FastAPI) -> None:
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="workbench-static")
    app.include_router(session.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(statistics.router)
    app.include_router(analysis.router)
    app.include_router(documents.router)
    app.include_router(outcomes.router)
    app.include_router(publications.router)

    @app.exception_handler(session.SignInRequired)
    async def _sign_in(request: Request, exc: session.SignInRequired) -> Response:
        if "hx-request" in request.headers:
            return session.apply_cookies(request, session.sign_in_lapsed(request))
        return session.apply_cookies(request, session.sign_in_redirect(exc.next_path))

    @app.exception_handler(session.CsrfRejected)
    async def _csrf(request: Request, exc: session.CsrfRejected) -> Response:
        refused = Forbidden(
            "csrf_rejected",
            "表单校验码无效或已过期（CSRF），操作未执行。请返回页面刷新后重试。",
        )
        return error_page(request, None, refused, title="请求被拒绝")
