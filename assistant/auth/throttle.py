"""Failed sign-ins counted per username and per client address, with a temporary lock.

Counters live in the database so that every worker process sees the same count. A username is
counted whether or not the user exists, so that a lock tells nothing about existence."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.db.models import LoginThrottle
from assistant.errors import RateLimited

ACCOUNT, ADDRESS = "account", "address"


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta
    lockout: timedelta
    max_account_failures: int
    max_address_failures: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            window=timedelta(seconds=settings.login_window_seconds),
            lockout=timedelta(seconds=settings.login_lockout_seconds),
            max_account_failures=settings.login_max_failures_per_account,
            max_address_failures=settings.login_max_failures_per_address,
        )

    def limit(self, scope: str) -> int:
        return self.max_account_failures if scope == ACCOUNT else self.max_address_failures


def throttle_keys(username: str, address: str) -> dict[str, str]:
    return {ACCOUNT: username.strip().casefold()[:128], ADDRESS: address[:128]}


def refuse_if_locked(session: Session, keys: dict[str, str], now: datetime) -> None:
    """429 with the seconds to wait while the username or the address is locked."""
    until = [
        row.locked_until
        for scope, key in keys.items()
        if (row := _row(session, scope, key)) is not None
        and row.locked_until is not None
        and row.locked_until > now
    ]
    if until:
        wait = math.ceil((max(until) - now).total_seconds())
        raise RateLimited(
            "too_many_attempts",
            f"登录失败次数过多，已暂时锁定，请 {math.ceil(wait / 60)} 分钟后再试。",
            retry_after_seconds=wait,
        )


def record_failure(
    session: Session, keys: dict[str, str], limits: LoginLimits, now: datetime
) -> None:
    """Count one failure for each key; lock a key that reaches its limit within the window."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at < now - limits.window - limits.lockout
        )
    )
    for scope, key in keys.items():
        row = _row(session, scope, key)
        if row is None:
            try:
                with session.begin_nested():
                    session.add(
                        LoginThrottle(scope=scope, key=key, failures=0, window_started_at=now)
                    )
            except IntegrityError:
                pass  # a concurrent failure created it first
            row = _row(session, scope, key)
            assert row is not None
        if row.window_started_at <= now - limits.window:
            row.failures, row.window_started_at = 0, now
            session.flush()
        # An atomic increment: concurrent guesses are all counted.
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.id == row.id)
            .values(failures=LoginThrottle.failures + 1)
        )
        session.refresh(row)
        if row.failures >= limits.limit(scope):
            row.locked_until = now + limits.lockout
            row.failures, row.window_started_at = 0, now


def clear(session: Session, scope: str, key: str) -> None:
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    )


def _row(session: Session, scope: str, key: str) -> LoginThrottle | None:
    return session.scalar(
        select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    )
