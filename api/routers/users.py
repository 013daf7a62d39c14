"""Users: the administrator creates, lists, disables and enables them."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from api.deps import AdminUser, ServicesDep
from api.schemas import UserCreate, UserOut, UserUpdate
from assistant.auth import create_user, set_user_active
from assistant.db import User
from assistant.errors import Conflict

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, admin: AdminUser, services: ServicesDep) -> UserOut:
    """422 weak_password when the password breaks the policy (details.rule says which)."""
    with services.db.session() as session:
        created = create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            display_name=body.display_name,
            min_password_length=services.settings.password_min_length,
        )
        return UserOut.model_validate(created)


@router.get("", response_model=list[UserOut])
def list_users(admin: AdminUser, services: ServicesDep) -> list[UserOut]:
    with services.db.session() as session:
        return [UserOut.model_validate(u) for u in session.scalars(select(User).order_by(User.id))]


@router.patch("/{username}", response_model=UserOut)
def update_user(
    username: str, body: UserUpdate, admin: AdminUser, services: ServicesDep
) -> UserOut:
    """`{"active": false}` disables the user and revokes all their tokens at once."""
    if username == admin.username and not body.active:
        raise Conflict("cannot_disable_self", "不能停用自己的账户。")
    with services.db.session() as session:
        return UserOut.model_validate(set_user_active(session, username, active=body.active))
