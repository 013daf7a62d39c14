"""Engine and sessions; SQLite runs in WAL mode with foreign keys on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# How long a SQLite writer waits for the write lock before the request fails (503 busy).
SQLITE_BUSY_TIMEOUT_MS = 60_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Writers queue on SQLite's one write lock; a draft renders before it takes the lock (its
    # 文号 and record event still commit together), but a transcription job's writes and a
    # burst of writers can still make the queue seconds long under load.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


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
            event.listen(self.engine, "connect", _sqlite_pragmas)
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
