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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for this test session: its superuser URL (database `postgres`)."""
    configured = os.environ.get("TAXASSIST_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    bin_dir = server_bin_dir()
    if bin_dir is None:
        pytest.skip(
            f"PostgreSQL server binaries not found under {POSTGRES_ROOT}/*/bin "
            "(`make system-deps` installs Debian's postgresql; or set "
            "TAXASSIST_TEST_POSTGRES_URL to a server whose user may create databases)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("the psycopg driver is not installed (pip install -e '.[dev]')")
    try:
        as_server_user()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    with throwaway_server(bin_dir) as url:
        yield url


@contextlib.contextmanager
def new_database(server_url: str, label: str = "test") -> Iterator[str]:
    """A new empty database on the server; its URL; dropped afterwards (connections forced)."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"taxassist_{label}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh empty database for one test."""
    with new_database(postgres_url) as url:
        yield url
