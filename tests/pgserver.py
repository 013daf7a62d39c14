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
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

POSTGRES_ROOT = Path("/usr/lib/postgresql")
PREFERRED_VERSION = "15"
SERVER_USER = "postgres"
# 50 concurrent writers per test, each with a pooled connection, plus the admin's.
MAX_CONNECTIONS = 200


def server_bin_dir() -> Path | None:
    """PostgreSQL 15's server binaries (Debian layout), else the newest installed, else None."""
    override = os.environ.get("TAXASSIST_TEST_POSTGRES_BIN")
    candidates = [Path(override)] if override else []
    candidates.append(POSTGRES_ROOT / PREFERRED_VERSION / "bin")
    if POSTGRES_ROOT.is_dir():
        versions = sorted(
            (p for p in POSTGRES_ROOT.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        candidates.extend(p / "bin" for p in versions)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> list[str]:
    """The command prefix that drops root to the server's user; nothing when not root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.skip(f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL")
    return ["runuser", "-u", SERVER_USER, "--"]


@contextlib.contextmanager
def throwaway_server(bin_dir: Path) -> Iterator[str]:
    """initdb + pg_ctl start in a new temp dir; yields the superuser URL; stops and removes."""
    root = Path(tempfile.mkdtemp(prefix="taxassist-pg-"))
    prefix = _as_server_user()
    if prefix:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data, log = root / "data", root / "server.log"
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, timeout=120)

    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        run(*initdb, "--encoding=UTF8", "--locale=C")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            f"-c max_connections={MAX_CONNECTIONS} -c fsync=off -c full_page_writes=off"
        )
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
    except subprocess.CalledProcessError as exc:
        details = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{details}") from exc
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


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
