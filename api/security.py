"""Security headers on every response, and the API docs served from local files.

The headers are added by a plain ASGI middleware (not `BaseHTTPMiddleware`), so streamed
responses (SSE, downloads) pass through untouched. The API answers JSON and files: its
policy forbids every active content and framing. Only the two documentation pages run
scripts, and only scripts served by this app: Swagger UI and ReDoc ship in the pinned
`fastapi-offline` package, so an offline deployment gets a working `/docs` and `/redoc`.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_PREFIX = "/docs-assets"
DOC_PAGES = ("/docs", "/redoc")

API_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Swagger UI starts from an inline script; ReDoc renders in a blob: worker.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# The workbench's pages (`/`, `/workbench/...`): scripts, styles and media from this app only
# (the vendored htmx and the page script; no inline script or style), forms posted here only,
# frames from this app only (a document's preview).
WORKBENCH_PREFIX = "/workbench"
WORKBENCH_STATIC = WORKBENCH_PREFIX + "/static/"
WORKBENCH_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; "
    "form-action 'self'"
)
COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """Adds the headers above; `Cache-Control: no-store` unless a route set its own (tokens,
    case data and documents must not stay in shared or browser caches)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path in DOC_PAGES or path.startswith(ASSETS_PREFIX + "/")
        workbench = path == "/" or path.startswith(WORKBENCH_PREFIX + "/")
        policy = (DOCS_POLICY if docs else WORKBENCH_POLICY if workbench else API_POLICY).encode()
        assets = path.startswith((ASSETS_PREFIX + "/", WORKBENCH_STATIC))
        cache = b"public, max-age=86400" if assets else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*COMMON, (b"content-security-policy", policy), (b"cache-control", cache)]
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc` from the packaged assets; create the app with
    `docs_url=None, redoc_url=None` so FastAPI's CDN pages are not registered."""
    app.mount(ASSETS_PREFIX, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} – ReDoc",
            redoc_js_url=f"{ASSETS_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
