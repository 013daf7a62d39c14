"""Throwaway PostgreSQL and Redis servers on loopback, for the tests and the local topology.

Why one module: the test fixtures (`tests/pgserver.py`, `tests/redisserver.py`) and the
multi-process topology (`scripts/topology.py`) start the same servers the same way: Debian's
binaries (`make system-deps-test`) on a free loopback port in a temporary directory, with no
durability, removed at the end. PostgreSQL refuses to run as root, so as root the server
runs as the `postgres` user (made by the Debian package) through runuser, owning its
directory. Nothing here imports the rest of `assistant`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

POSTGRES_ROOT = Path("/usr/lib/postgresql")
PREFERRED_VERSION = "15"
SERVER_USER = "postgres"
# 50 concurrent writers per test, each with a pooled connection, plus the admin's.
MAX_CONNECTIONS = 200


class ServerUnavailable(RuntimeError):
    """The server cannot be started on this machine (missing binary or user): say why."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bin_dir() -> Path | None:
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


def as_server_user() -> list[str]:
    """The command prefix that drops root to the server's user; nothing when not root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ServerUnavailable(
            f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL"
        ) from None
    return ["runuser", "-u", SERVER_USER, "--"]


@contextlib.contextmanager
def throwaway_postgres(bin_dir: Path, *, max_connections: int = MAX_CONNECTIONS) -> Iterator[str]:
    """initdb + pg_ctl start in a new temp dir; yields the superuser URL; stops and removes."""
    prefix = as_server_user()
    root = Path(tempfile.mkdtemp(prefix="taxassist-pg-"))
    if prefix:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data, log = root / "data", root / "server.log"
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, timeout=120)

    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        run(*initdb, "--encoding=UTF8", "--locale=C")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            f"-c max_connections={max_connections} -c fsync=off -c full_page_writes=off"
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


def redis_answers(port: int) -> bool:
    """True when a Redis server on this loopback port answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def throwaway_redis() -> Iterator[str]:
    """redis-server without persistence in a temp dir; yields `redis://127.0.0.1:PORT`."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable(
            "redis-server not found (`make system-deps-test` installs Debian's redis-server)"
        )
    root = Path(tempfile.mkdtemp(prefix="taxassist-redis-"))
    port = free_port()
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root), "--save", ""],
        stdout=(root / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not redis_answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                log = (root / "server.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start:\n{log}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        shutil.rmtree(root, ignore_errors=True)
