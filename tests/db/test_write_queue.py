"""SQLite writers of one process take the write lock in turn (the in-process write queue):
with SQLite's own busy wait turned off, 20 overlapping write transactions all commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assistant.db.session import Database, sqlite_pragmas
from tests.conftest import sqlite_only

pytestmark = sqlite_only(reason="SQLite's write lock and this process's queue for it")

WRITERS = 20


def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=0")  # SQLite fails at once when busy


def _database(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    event.listen(database.engine, "connect", no_busy_wait)
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    return database


def _write_all(session: Callable[[], AbstractContextManager[Session]]) -> list[BaseException]:
    errors: list[BaseException] = []
    gate = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        gate.wait()
        try:
            with session() as writing:
                writing.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
                time.sleep(0.02)  # the transaction stays open: the writers overlap
                writing.execute(text("UPDATE t SET n = n WHERE n = :n"), {"n": n})
        except BaseException as exc:
            errors.append(exc)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    return errors


def test_overlapping_writers_all_commit_in_turn(tmp_path: Path) -> None:
    database = _database(tmp_path / "q.db")
    assert _write_all(database.session) == []
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == WRITERS
    database.engine.dispose()


def test_without_the_queue_they_collide(tmp_path: Path) -> None:
    """The control: the same writers on SQLite's lock alone fail (what the queue prevents)."""
    database = _database(tmp_path / "noq.db")
    bare = create_engine(  # the same database and pragmas, without the queue
        f"sqlite:///{tmp_path / 'noq.db'}", connect_args={"check_same_thread": False}
    )
    event.listen(bare, "connect", sqlite_pragmas)
    event.listen(bare, "connect", no_busy_wait)
    database.engine.dispose()
    errors = _write_all(sessionmaker(bare).begin)
    bare.dispose()
    if not errors:
        pytest.skip("the writers happened not to overlap on this run")
    assert all(isinstance(e, OperationalError) and "locked" in str(e) for e in errors)
