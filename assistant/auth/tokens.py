"""Short access tokens, rotating refresh tokens and their revocation.

A sign-in starts a family. Each refresh revokes the refresh token it used and issues a new
pair in the family, expiring when the sign-in does: a session lasts `refresh_token_ttl_hours`
at most. A rotated refresh token presented again means it was copied, so the whole family is
revoked (RFC 9700, refresh token rotation)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from assistant.db.models import ApiToken, User
from assistant.db.session import Database
from assistant.db.types import utcnow
from assistant.errors import Unauthorized

ACCESS, REFRESH = "access", "refresh"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: User


@dataclass(frozen=True)
class Bearer:
    """The access token a request came with, and its user."""

    token: ApiToken
    user: User


def issue_tokens(
    session: Session,
    user: User,
    *,
    access_ttl: timedelta,
    session_expires_at: datetime,
    family: str | None = None,
) -> TokenPair:
    now = utcnow()
    family = family or secrets.token_hex(16)
    access = _add(session, user, ACCESS, family, min(now + access_ttl, session_expires_at))
    refresh = _add(session, user, REFRESH, family, session_expires_at)
    session.flush()
    return TokenPair(access[0], access[1], refresh[0], refresh[1], user)


def resolve_token(session: Session, token: str) -> Bearer:
    """The valid access token and its active user, or 401 (never a server error)."""
    record = _find(session, token)
    if record is None or record.kind != ACCESS:
        raise Unauthorized("invalid_token", "登录凭证无效，请重新登录。")
    user = _check(session, record)
    return Bearer(record, user)


def refresh_tokens(db: Database, token: str, *, access_ttl: timedelta) -> TokenPair:
    """A new pair for a valid refresh token; a reused one revokes its whole family."""
    with db.session() as session:
        record = _find(session, token)
        if record is None or record.kind != REFRESH:
            raise Unauthorized("invalid_token", "刷新令牌无效，请重新登录。")
        reused = record.revoked_reason == "rotated"
        if not reused:
            user = _check(session, record)
            # Only one of two concurrent refreshes with the same token may rotate it.
            rotated = session.execute(
                update(ApiToken)
                .where(ApiToken.id == record.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_reason="rotated")
            )
            if rotated.rowcount == 1:  # type: ignore[attr-defined]
                return issue_tokens(
                    session,
                    user,
                    access_ttl=access_ttl,
                    session_expires_at=record.expires_at,
                    family=record.family,
                )
    with db.session() as session:
        revoke_family(session, record.family, "reused")
    raise Unauthorized(
        "refresh_token_reused",
        "该刷新令牌已使用过，可能已被他人复制；为安全起见本次登录已失效，请重新登录。",
    )


def revoke_family(session: Session, family: str, reason: str) -> None:
    """End one sign-in: its access and refresh tokens."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.family == family, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def prune_tokens(session: Session, *, expired_before: datetime) -> None:
    """Drop tokens long expired, so the table does not grow with every sign-in."""
    session.execute(delete(ApiToken).where(ApiToken.expires_at < expired_before))


def revoke_user_tokens(session: Session, user_id: int, reason: str) -> None:
    """End every sign-in of a user."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def _check(session: Session, record: ApiToken) -> User:
    if record.revoked_at is not None:
        raise Unauthorized("token_revoked", "登录已注销或被撤销，请重新登录。")
    if record.expires_at <= utcnow():
        raise Unauthorized("token_expired", "登录已过期，请重新登录。")
    user = session.get(User, record.user_id)
    if user is None:  # removed from the database behind the application's back
        raise Unauthorized("invalid_token", "登录凭证无效，请重新登录。")
    if not user.active:
        raise Unauthorized("user_disabled", "该用户已被停用。")
    return user


def _add(
    session: Session, user: User, kind: str, family: str, expires_at: datetime
) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_sha256=_digest(token),
            kind=kind,
            family=family,
            expires_at=expires_at,
        )
    )
    return token, expires_at


def _find(session: Session, token: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
