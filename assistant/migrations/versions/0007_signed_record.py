"""Issue 7: signed hash-chained record (event chain, case head, signing keys), credentials.

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("valid_from", assistant.db.types.UTCDateTime(), nullable=False),
        sa.Column("valid_until", assistant.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", assistant.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "officer_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", assistant.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("files", sa.JSON(), nullable=True))
        batch.create_index("ix_case_events_case_seq", ["case_id", "seq"], unique=True)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("record_length", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("record_head", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("record_head")
        batch.drop_column("record_length")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_index("ix_case_events_case_seq")
        for column in ("files", "key_id", "signature", "hash", "prev_hash", "seq"):
            batch.drop_column(column)
    op.drop_table("officer_credentials")
    op.drop_table("signing_keys")
