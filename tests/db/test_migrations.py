"""The Alembic migrations build the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from assistant.db import Base, Database
from tests.conftest import database_url_for


def _schema_diff(db: Database) -> list[Any]:
    """What `alembic revision --autogenerate` would write after upgrading to head."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_head_matches_the_models(tmp_path: Path) -> None:
    """Upgraded to head, the database (this run's engine) differs from the models in nothing
    autogenerate compares: tables, columns, their types, nullability, indexes, foreign keys."""
    db = Database(database_url_for(tmp_path / "taxassist.db"))
    try:
        db.migrate()
        assert _schema_diff(db) == []
    finally:
        db.engine.dispose()


def test_ids_and_their_references_are_bigint_on_postgresql(postgres_database: str) -> None:
    """Every integer primary key, every column that references one, and every id sequence is
    64-bit on PostgreSQL: the models bind ids as BIGINT and a province outgrows 2^31 rows."""
    db = Database(postgres_database)
    try:
        db.migrate()
        with db.engine.connect() as connection:
            types = dict(
                connection.execute(
                    text(
                        "SELECT table_name || '.' || column_name, data_type "
                        "FROM information_schema.columns WHERE table_schema = 'public'"
                    )
                ).all()
            )
            sequences = dict(
                connection.execute(
                    text(
                        "SELECT sequence_name, data_type FROM information_schema.sequences "
                        "WHERE sequence_schema = 'public'"
                    )
                ).all()
            )
    finally:
        db.engine.dispose()
    ids = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if (column.primary_key and column.autoincrement is not False and column.name == "id")
        or any(key.column.name == "id" for key in column.foreign_keys)
    }
    assert len(ids) >= 40 and "transcript_segments.id" in ids and "publications.event_id" in ids
    assert {name: types[name] for name in ids} == dict.fromkeys(ids, "bigint")
    id_tables = {name.split(".")[0] for name in ids if name.endswith(".id")}
    assert sequences == {f"{table}_id_seq": "bigint" for table in id_tables}
