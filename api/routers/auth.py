from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, ServicesDep
from api.schemas import TokenRequest, TokenResponse, UserCreate, UserOut
from assistant.auth import authenticate, create_user, issue_token
from assistant.auth.security import Role
from assistant.errors import Forbidden

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={401: {"description": "用户名或密码错误"}},
)
def login(body: TokenRequest, services: ServicesDep) -> TokenResponse:
    with services.db.session() as session:
        user = authenticate(session, body.username, body.password)
        token, record = issue_token(session, user, ttl_hours=services.settings.token_ttl_hours)
        return TokenResponse(access_token=token, expires_at=record.expires_at, role=user.role)


@router.get("/auth/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, user: CurrentUser, services: ServicesDep) -> UserOut:
    if user.role != Role.ADMIN:
        raise Forbidden("role_not_allowed", "只有管理员可以创建用户。", details={"role": user.role})
    with services.db.session() as session:
        created = create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            display_name=body.display_name,
        )
        return UserOut.model_validate(created)
