"""Users, roles and sign-in: throttled, the same work and answer for unknown usernames."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.auth.passwords import (
    check_password_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from assistant.auth.throttle import (
    ACCOUNT,
    LoginLimits,
    clear,
    count_attempt,
    forgive,
    throttle_keys,
)
from assistant.auth.tokens import TokenPair, issue_tokens, prune_tokens, revoke_user_tokens
from assistant.config import DEFAULT_PASSWORD_MIN_LENGTH, Settings
from assistant.db.models import User
from assistant.db.session import Database
from assistant.db.types import utcnow
from assistant.errors import Conflict, InvalidInput, NotFound, Unauthorized


class Role(StrEnum):
    OFFICER = "officer"  # 承办人
    REVIEWER = "reviewer"  # 法制审核
    APPROVER = "approver"  # 负责人
    ADMIN = "admin"


ROLES = {role.value for role in Role}
ROLE_NAMES_ZH = {
    "officer": "承办人",
    "reviewer": "法制审核人员",
    "approver": "负责人",
    "admin": "管理员",
}


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    min_password_length: int = DEFAULT_PASSWORD_MIN_LENGTH,
) -> User:
    if role not in ROLES:
        raise InvalidInput("unknown_role", f"未知角色：{role}", details={"allowed": sorted(ROLES)})
    check_password_policy(password, username=username, min_length=min_password_length)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict("user_exists", f"用户“{username}”已存在。")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def sign_in(
    db: Database, settings: Settings, *, username: str, password: str, address: str
) -> TokenPair:
    """Check the password and start a sign-in (a token family).

    The attempt is counted first, and refused (429) without any password work while the
    username or the address is locked. Otherwise one password hash is verified whether or not
    the user exists (a dummy hash for unknown usernames), every failure gets the same answer,
    and a success takes its count back."""
    limits = LoginLimits.from_settings(settings)
    keys = throttle_keys(username, address)
    now = utcnow()
    with db.session() as session:
        count_attempt(session, keys, limits, now)
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        stored = user.password_hash if user is not None else dummy_hash()
        if verify_password(password, stored) and user is not None:
            if not user.active:
                raise Unauthorized("user_disabled", "该用户已被停用，请联系管理员。")
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            forgive(session, keys, limits)
            # Kept a day past expiry so that a late client still hears "expired".
            prune_tokens(session, expired_before=now - timedelta(days=1))
            return issue_tokens(
                session,
                user,
                access_ttl=timedelta(minutes=settings.access_token_ttl_minutes),
                session_expires_at=now + timedelta(hours=settings.refresh_token_ttl_hours),
            )
    raise Unauthorized("invalid_credentials", "用户名或密码错误。")


def set_user_active(session: Session, username: str, *, active: bool) -> User:
    """Disable a user (every sign-in of theirs ends at once) or enable them again (which also
    lifts a sign-in lock on the username)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", f"用户“{username}”不存在。")
    user.active = active
    if active:
        clear(session, ACCOUNT, throttle_keys(username, "")[ACCOUNT])
    else:
        revoke_user_tokens(session, user.id, "disabled")
    session.flush()
    return user
