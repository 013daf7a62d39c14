"""Sign-in: tokens, refresh, logout, and who am I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status

from api.deps import ClientAddress, CurrentBearer, CurrentUser, ServicesDep
from api.schemas import RefreshRequest, TokenRequest, TokenResponse, UserOut
from assistant.auth import (
    TokenPair,
    refresh_tokens,
    revoke_family,
    revoke_user_tokens,
    sign_in,
)

router = APIRouter(prefix="/auth", tags=["auth"])


def _response(pair: TokenPair, response: Response) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=pair.access_token,
        expires_at=pair.access_expires_at,
        refresh_token=pair.refresh_token,
        refresh_expires_at=pair.refresh_expires_at,
        role=pair.user.role,
    )


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={
        401: {"description": "用户名或密码错误"},
        429: {"description": "尝试过多，暂时锁定（Retry-After）"},
    },
)
def login(
    body: TokenRequest, services: ServicesDep, address: ClientAddress, response: Response
) -> TokenResponse:
    """401 invalid_credentials for any wrong username or password; 429 with Retry-After while
    the username or the client address is locked after repeated failures."""
    pair = sign_in(
        services.db,
        services.settings,
        username=body.username,
        password=body.password,
        address=address,
    )
    return _response(pair, response)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses={401: {"description": "刷新令牌无效、过期或已被使用"}},
)
def refresh(body: RefreshRequest, services: ServicesDep, response: Response) -> TokenResponse:
    """A new access and refresh token; the refresh token sent is used up. Sending a used one
    again ends the sign-in (401 refresh_token_reused)."""
    pair = refresh_tokens(
        services.db,
        body.refresh_token,
        access_ttl=timedelta(minutes=services.settings.access_token_ttl_minutes),
    )
    return _response(pair, response)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(bearer: CurrentBearer, services: ServicesDep, everywhere: bool = False) -> None:
    """End this sign-in (its access and refresh tokens); `everywhere=true` ends all of them."""
    with services.db.session() as session:
        if everywhere:
            revoke_user_tokens(session, bearer.user.id, "logout")
        else:
            revoke_family(session, bearer.token.family, "logout")


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
