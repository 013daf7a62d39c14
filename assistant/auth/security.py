"""Password hashing (PBKDF2-SHA256, stdlib) and opaque tokens stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.db.models import ApiToken, User
from assistant.db.types import utcnow
from assistant.errors import Conflict, InvalidInput, Unauthorized

_ITERATIONS = 240_000


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


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), bytes.fromhex(salt_hex), int(iterations)
    )
    return hmac.compare_digest(digest.hex(), digest_hex)


def create_user(
    session: Session, *, username: str, password: str, role: str, display_name: str | None = None
) -> User:
    if role not in ROLES:
        raise InvalidInput("unknown_role", f"未知角色：{role}", details={"allowed": sorted(ROLES)})
    if len(password) < 8:
        raise InvalidInput("weak_password", "密码至少需要 8 位。")
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


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise Unauthorized("invalid_credentials", "用户名或密码错误。")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, ttl_hours: int) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        token_sha256=_digest(token),
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    session.add(record)
    session.flush()
    return token, record


def resolve_token(session: Session, token: str) -> User:
    record = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if record is None:
        raise Unauthorized("invalid_token", "登录凭证无效，请重新登录。")
    if record.expires_at <= utcnow():
        raise Unauthorized("token_expired", "登录已过期，请重新登录。")
    if not record.user.active:
        raise Unauthorized("user_disabled", "该用户已被停用。")
    return record.user
