"""Sign-in attempts counted per username and per client address, with a temporary lock.

Counters live in the database so that every worker process sees the same count. A username is
counted whether or not the user exists, so that a lock tells nothing about existence. Each
attempt is counted *before* its password is checked, by an atomic increment that gives it its
own number: only attempts numbered within the limit are checked, so concurrent guesses cannot
outrun the lock. A successful sign-in takes its count back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.db.models import LoginThrottle
from assistant.errors import RateLimited

ACCOUNT, ADDRESS = "account", "address"
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # a new row starts its window at its first attempt


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


def count_attempt(
    session: Session, keys: dict[str, str], limits: LoginLimits, now: datetime
) -> None:
    """Count one attempt for each key, or refuse it (429) while a key is locked."""
    # A write first: on SQLite it takes the write lock, so no two attempts interleave below.
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at < now - limits.window - limits.lockout,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )
    for scope, key in keys.items():
        row = _row(session, scope, key)
        if row.locked_until is not None and row.locked_until > now:
            raise _locked(row.locked_until, now)
        # A new window once the last lock or window is over; conditional, so that of two
        # concurrent attempts only the first starts it.
        session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.id == row.id,
                (LoginThrottle.locked_until <= now)
                | (
                    LoginThrottle.locked_until.is_(None)
                    & (LoginThrottle.window_started_at <= now - limits.window)
                ),
            )
            .values(failures=0, window_started_at=now, locked_until=None)
        )
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.id == row.id)
            .values(failures=LoginThrottle.failures + 1)
        )
        session.refresh(row)
        if row.failures > limits.limit(scope):  # a concurrent attempt took the last one
            raise _locked(row.locked_until or now + limits.lockout, now)
        if row.failures == limits.limit(scope):
            row.locked_until = now + limits.lockout


def forgive(session: Session, keys: dict[str, str], limits: LoginLimits) -> None:
    """A successful sign-in: the username starts afresh; the address gets this attempt back."""
    clear(session, ACCOUNT, keys[ACCOUNT])
    session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.scope == ADDRESS,
            LoginThrottle.key == keys[ADDRESS],
            LoginThrottle.failures > 0,
        )
        .values(failures=LoginThrottle.failures - 1)
    )
    session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.scope == ADDRESS,
            LoginThrottle.key == keys[ADDRESS],
            LoginThrottle.failures < limits.max_address_failures,
        )
        .values(locked_until=None)
    )


def clear(session: Session, scope: str, key: str) -> None:
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    )


def _locked(until: datetime, now: datetime) -> RateLimited:
    wait = max(1, math.ceil((until - now).total_seconds()))
    return RateLimited(
        "too_many_attempts",
        f"登录失败次数过多，已暂时锁定，请 {math.ceil(wait / 60)} 分钟后再试。",
        retry_after_seconds=wait,
    )


def _row(session: Session, scope: str, key: str) -> LoginThrottle:
    query = select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    LoginThrottle(scope=scope, key=key, failures=0, window_started_at=_LONG_AGO)
                )
        except IntegrityError:
            pass  # a concurrent attempt created it first
        row = session.scalars(query).one()
    return row
