"""voiceprints: officers' enrolled voices for labelling speakers of mono recordings

Revision ID: 0013
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import assistant.db.types

revision: str = "0013"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voiceprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("speaker", sa.String(length=32), nullable=False),
        sa.Column("created_at", assistant.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "model"),
    )


def downgrade() -> None:
    op.drop_table("voiceprints")
