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
