"""Engine and sessions; SQLite runs in WAL mode with foreign keys on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# How long a SQLite writer waits for the write lock before the request fails (503 busy).
SQLITE_BUSY_TIMEOUT_MS = 60_000


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL, foreign keys and the busy timeout on every new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Writers queue on SQLite's one write lock; a draft renders before it takes the lock (its
    # 文号 and record event still commit together), but a transcription job's writes and a
    # burst of writers can still make the queue seconds long under load.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class SqliteWriteQueue:
    """Writers of this process take SQLite's write lock in turn.

    Why: SQLite's busy handler polls with sleeps, so a writer waiting for the lock can lose
    it to newer writers again and again; under load (a 10-minute test with 30 officers at load
    average 25 on 2 cores) a few requests waited out the whole busy timeout and answered
    503. Here the first write statement of a transaction first takes a process-wide lock,
    held until the connection goes back to the pool (after its commit or rollback), so the
    threads of one server queue on a lock that wakes the next one at once. A writer in another
    process (the CLI) still meets the busy timeout. After `timeout` the statement goes on
    to SQLite's own lock (the queue only orders, it never fails a request).
    """

    KEY = "taxassist_write_queue"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._checkin)

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(self.KEY) or not statement.lstrip()[:7].upper().startswith(WRITES):
            return
        conn.info[self.KEY] = self._lock.acquire(timeout=self.timeout)

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(self.KEY, False):
            self._lock.release()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        # One connection per request thread (the server's pool has 40) plus the job workers':
        # waiting for a pooled connection must not fail before waiting for a lock would.
        # SQLAlchemy's default (5 + 10, 30 s) ran out under 20 concurrent drafts on PostgreSQL.
        pool = {"pool_size": 10, "max_overflow": 40, "pool_timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False}, **pool
            )
            event.listen(self.engine, "connect", sqlite_pragmas)
            SqliteWriteQueue(SQLITE_BUSY_TIMEOUT_MS / 1000).install(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, **pool)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back everything on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url)
        config.attributes["connection_engine"] = self.engine
        command.upgrade(config, "head")
