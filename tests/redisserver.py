"""A throwaway Redis server per test session: the broker the Celery job tests run against.

Debian's `redis-server` (`make system-deps-test`) is started on a free loopback port in a
temporary directory, with no persistence, and stopped at the end
(`assistant.localservers.throwaway_redis`, shared with `scripts/topology.py`). Tests skip,
saying why, only when the binary is not installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from assistant.localservers import ServerUnavailable, throwaway_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """`redis://127.0.0.1:PORT` of this session's server (pick a database number per test)."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_redis())
        except ServerUnavailable as exc:
            pytest.skip(str(exc))
        yield url
