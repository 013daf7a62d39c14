"""The workbench's sign-in: the API's accounts, roles and tokens, carried in cookies.

Why cookies and not the bearer header: a browser page cannot hold a token out of reach of
scripts, a cookie can (HttpOnly). The access and refresh tokens are the ones `POST /auth/token`
issues (same throttling, same revocation); SameSite=Strict keeps other sites' pages from
sending them, and every form also carries a CSRF token (double submit: a random value in its
own HttpOnly cookie that the form must repeat), so a forged form post is refused even from a
same-site page that cannot read the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.deps import ClientAddress, ServicesDep
from api.web.render import render
from assistant.auth import TokenPair, refresh_tokens, resolve_token, revoke_family, sign_in
from assistant.db import User
from assistant.errors import RateLimited, TaxAssistError, Unauthorized
from assistant.services import Services

ACCESS_COOKIE = "ta_access"
REFRESH_COOKIE = "ta_refresh"
CSRF_COOKIE = "ta_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/workbench/login"

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    """No valid sign-in on a page request: answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """A form post without the CSRF token of this browser: answered 403, nothing done."""


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first use; the response sets its cookie)."""
    token = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    request.state.csrf = token
    return str(token)


def apply_cookies(request: Request, response: Response) -> Response:
    """Set what this request created or renewed: a new CSRF token, renewed sign-in tokens."""
    secure = request.url.scheme == "https"
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf:
        _set(response, CSRF_COOKIE, new_csrf, secure)
    pair: TokenPair | None = getattr(request.state, "new_tokens", None)
    if pair is not None:
        _set(response, ACCESS_COOKIE, pair.access_token, secure)
        _set(response, REFRESH_COOKIE, pair.refresh_token, secure)
    if getattr(request.state, "signed_out", False):
        for name in (ACCESS_COOKIE, REFRESH_COOKIE):
            response.delete_cookie(name, path="/", httponly=True, samesite="strict")
    return response


def _set(response: Response, name: str, value: str, secure: bool) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="strict", secure=secure)


async def check_csrf(request: Request) -> None:
    """Every state-changing request repeats the CSRF cookie in its form or header."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRejected()


CsrfChecked = Annotated[None, Depends(check_csrf)]


def renews_sign_in(request: Request) -> bool:
    """Only a page the browser navigates to renews the tokens, never a subresource (the audio
    player's range requests, an htmx refresh of a section): those run alongside the page, and
    two requests presenting one refresh token would look like a stolen token and end the
    sign-in. A subresource with an expired access token is refused; the next page renews."""
    destination = request.headers.get("sec-fetch-dest", "document")
    return destination in ("document", "") and "hx-request" not in request.headers


def current_user(request: Request, services: Services) -> User | None:
    """The signed-in user, renewing an expired access token with the refresh token once."""
    access = request.cookies.get(ACCESS_COOKIE)
    if access:
        try:
            with services.db.session() as session:
                return resolve_token(session, access).user
        except Unauthorized:
            pass
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh or not renews_sign_in(request):
        return None
    try:
        pair = refresh_tokens(
            services.db,
            refresh,
            access_ttl=timedelta(minutes=services.settings.access_token_ttl_minutes),
        )
    except Unauthorized:
        request.state.signed_out = True
        return None
    request.state.new_tokens = pair
    return pair.user


def web_user(request: Request, services: ServicesDep) -> User:
    user = current_user(request, services)
    if user is None:
        raise SignInRequired(request.url.path)
    return user


WebUser = Annotated[User, Depends(web_user)]


def safe_next(value: str | None) -> str:
    """Only a path of this site (never `//host` or a URL): no open redirect after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def sign_in_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(sign_in_url(next_path), status_code=303)


def sign_in_url(next_path: str) -> str:
    return f"{LOGIN_PATH}?next={quote(safe_next(next_path))}"


def page_of(request: Request) -> str:
    """The page an htmx request was sent from (htmx names it in HX-Current-URL), as a path of
    this site: where the officer returns after signing in again, not the fragment's URL."""
    current = urlsplit(request.headers.get("hx-current-url", ""))
    if current.path and current.netloc in ("", request.url.netloc):
        return safe_next(current.path + (f"?{current.query}" if current.query else ""))
    return safe_next(request.url.path)


def sign_in_lapsed(request: Request) -> JSONResponse:
    """An htmx request without a valid sign-in: a 303 to the sign-in page would be followed by
    the browser and the sign-in form swapped into the panel. Instead 401 with the error
    envelope and `HX-Redirect` (htmx navigates the whole page there): back to the page itself
    while a refresh cookie may still renew the sign-in (a page navigation renews, a fragment
    never does), else to the sign-in page with `next=` the page."""
    page = page_of(request)
    target = page if request.cookies.get(REFRESH_COOKIE) else sign_in_url(page)
    return JSONResponse(
        {
            "error": {
                "code": "sign_in_required",
                "message": "登录已过期或未登录，请重新登录后继续（将返回当前页面）。",
                "details": {"redirect": target},
            }
        },
        status_code=401,
        headers={"HX-Redirect": target, "Cache-Control": "no-store"},
    )


@router.get(LOGIN_PATH)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post(LOGIN_PATH)
def login(
    request: Request,
    services: ServicesDep,
    address: ClientAddress,
    _csrf: CsrfChecked,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """The API's sign-in (throttled, same messages); the tokens go into HttpOnly cookies."""
    context = {"next": safe_next(next), "username": username}
    if not username or not password:
        context["error"] = "请输入用户名和密码。"
        return render(request, "login.html", context, status_code=422)
    try:
        pair = sign_in(
            services.db, services.settings, username=username, password=password, address=address
        )
    except TaxAssistError as exc:
        context["error"] = exc.message
        status = 429 if isinstance(exc, RateLimited) else exc.status_code
        response = render(request, "login.html", context, status_code=status)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    request.state.new_tokens = pair
    # A new CSRF token for the signed-in session: one seen before sign-in is not reused.
    request.state.new_csrf = secrets.token_urlsafe(32)
    return apply_cookies(request, RedirectResponse(safe_next(next), status_code=303))


@router.post("/workbench/logout")
def logout(request: Request, services: ServicesDep, _csrf: CsrfChecked) -> Response:
    """Ends this sign-in's tokens (as `POST /auth/logout`) and clears the cookies."""
    access = request.cookies.get(ACCESS_COOKIE)
    if access:
        try:
            with services.db.session() as session:
                bearer = resolve_token(session, access)
                revoke_family(session, bearer.token.family, "logout")
        except Unauthorized:
            pass
    request.state.signed_out = True
    return apply_cookies(request, RedirectResponse(LOGIN_PATH, status_code=303))
