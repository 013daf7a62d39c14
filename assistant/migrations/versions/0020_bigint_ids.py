"""Ids and the foreign keys that hold them are BIGINT on PostgreSQL (a no-op on SQLite)

Revision ID: 0020
Revises: 0019

Why: a province's transcript segments and case events outgrow INTEGER's 2^31 ids within
years, and the models bind ids as BIGINT (so an int64 id from the API is a 404, not a 500);
the columns now match. Each id's sequence becomes BIGINT too (a serial's sequence is INTEGER,
so it would stop at 2^31 - 1 whatever the column holds). SQLite's INTEGER is already 64-bit
and its ids must stay INTEGER PRIMARY KEY (the rowid), so there nothing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table's integer id, as of 0019.
ID_TABLES = (
    "api_tokens",
    "case_events",
    "case_results",
    "cases",
    "document_revisions",
    "documents",
    "evidence",
    "jobs",
    "login_throttle",
    "officer_credentials",
    "publications",
    "recordings",
    "segment_revisions",
    "taxpayers",
    "transcript_segments",
    "users",
    "voiceprints",
)
# Every column that references one of them: (table, column, nullable).
REFERENCES = (
    ("api_tokens", "user_id", False),
    ("case_events", "actor_id", False),
    ("case_events", "case_id", False),
    ("case_results", "case_id", False),
    ("case_results", "created_by", False),
    ("cases", "officer_id", False),
    ("cases", "taxpayer_id", False),
    ("document_revisions", "author_id", False),
    ("document_revisions", "document_id", False),
    ("documents", "case_id", False),
    ("documents", "created_by", False),
    ("documents", "issued_by", True),
    ("evidence", "case_id", False),
    ("evidence", "uploaded_by", False),
    ("jobs", "case_id", False),
    ("jobs", "created_by", False),
    ("jobs", "evidence_id", True),
    ("jobs", "recording_id", True),
    ("officer_credentials", "user_id", False),
    ("publications", "case_id", False),
    ("publications", "created_by", False),
    ("publications", "document_id", True),
    ("publications", "event_id", True),
    ("publications", "published_by", True),
    ("publications", "withdrawn_by", True),
    ("recordings", "case_id", False),
    ("recordings", "uploaded_by", False),
    ("segment_revisions", "edited_by", False),
    ("segment_revisions", "recording_id", False),
    ("transcript_segments", "recording_id", False),
    ("voiceprints", "recording_id", True),
    ("voiceprints", "user_id", False),
)


def _retype(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int], sequence: str) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    bind = op.get_bind()
    for table in ID_TABLES:
        op.alter_column(table, "id", type_=to, existing_type=was, existing_nullable=False)
        name = bind.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
        if name:  # its max value follows the type (it was the old type's max)
            op.execute(sa.text(f"ALTER SEQUENCE {name} AS {sequence}"))
    for table, column, nullable in REFERENCES:
        op.alter_column(table, column, type_=to, existing_type=was, existing_nullable=nullable)


def upgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer(), "bigint")


def downgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger(), "integer")
