"""A throwaway PostgreSQL server per test session, so the PostgreSQL paths run in CI.

Why: the backup (pg_dump) and concurrency tests must run against the database a bureau
would scale to, not only SQLite. `make system-deps` installs Debian's `postgresql`; this
starts its binaries (initdb, pg_ctl) on a free loopback port in a temporary directory and
removes it all at the end. PostgreSQL refuses to run as root, so as root the server runs as
the `postgres` user (made by the Debian package) through runuser, owning its directory.
TAXASSIST_TEST_POSTGRES_URL names an existing server instead (a user who may create
databases). Tests skip, saying why, only when no server binaries are installed.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from assistant.localservers import (
    POSTGRES_ROOT,
    ServerUnavailable,
    as_server_user,
    postgres_bin_dir,
    throwaway_postgres,
)

# The server itself (binaries, free port, runuser as root) is shared with the local
# topology script: assistant/localservers.py.
server_bin_dir = postgres_bin_dir
throwaway_server = throwaway_postgres


def missing_server_reason() -> str | None:
    """Why no throwaway server can start here (binaries or driver missing), else None."""
    if server_bin_dir() is None:
        return (
            f"PostgreSQL server binaries not found under {POSTGRES_ROOT}/*/bin "
            "(`make system-deps` installs Debian's postgresql; or set "
            "TAXASSIST_TEST_POSTGRES_URL to a server whose user may create databases)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install -e '.[dev]')"
    try:
        as_server_user()
    except ServerUnavailable as exc:
        return str(exc)
    return None


class _WorkerServer:
    """The one PostgreSQL server of this pytest process (each xdist worker has its own).

    Started on first use, stopped by pytest_sessionfinish: the `postgres_url` fixture and,
    under TAXASSIST_TEST_DATABASE=postgresql, every settings of tests/conftest.py share it.
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._url: str | None = None

    def url(self) -> str | None:
        """The superuser URL, starting the server if needed; None when none can start."""
        configured = os.environ.get("TAXASSIST_TEST_POSTGRES_URL")
        if configured:
            return configured
        if self._url is None:
            bin_dir = server_bin_dir()
            if bin_dir is None or missing_server_reason() is not None:
                return None
            self._url = self._stack.enter_context(throwaway_server(bin_dir))
        return self._url

    def stop(self) -> None:
        self._url = None
        self._stack.close()


WORKER_SERVER = _WorkerServer()


def worker_server_url() -> str:
    """This process's server URL; pytest.skip (saying why) when no server can run here."""
    url = WORKER_SERVER.url()
    if url is None:
        pytest.skip(missing_server_reason() or "no PostgreSQL server")
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    WORKER_SERVER.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server for this test session: its superuser URL (database `postgres`)."""
    return worker_server_url()


def create_database(server_url: str, label: str = "test", template: str | None = None) -> str:
    """A new database on the server (empty, or a copy of `template`'s database); its URL.

    It lives until dropped or until the throwaway server is removed with its directory.
    """
    name = f"taxassist_{label}_{uuid.uuid4().hex[:12]}"
    source = f' TEMPLATE "{make_url(template).database}"' if template else ""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database `url` names, closing whatever connections it still has."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        name = make_url(url).database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def new_database(server_url: str, label: str = "test") -> Iterator[str]:
    """A new empty database on the server; its URL; dropped afterwards (connections forced)."""
    url = create_database(server_url, label)
    try:
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh empty database for one test."""
    with new_database(postgres_url) as url:
        yield url
