"""sign-in hardening: token families with revocation and refresh tokens; failed sign-in counters

Tokens issued before this revision carry no family and cannot be revoked one sign-in at a
time, so they are dropped: everyone signs in again once after the upgrade.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import assistant.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM api_tokens")
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="access")
        )
        batch.add_column(sa.Column("family", sa.String(length=32), nullable=False))
        batch.add_column(sa.Column("revoked_at", assistant.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_reason", sa.String(length=16), nullable=True))
        batch.create_index("ix_api_tokens_family", ["family"])
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", assistant.db.types.UTCDateTime(), nullable=False),
        sa.Column("locked_until", assistant.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.execute("DELETE FROM api_tokens")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_family")
        batch.drop_column("revoked_reason")
        batch.drop_column("revoked_at")
        batch.drop_column("family")
        batch.drop_column("kind")
