"""document revisions and issue state

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-27 03:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import assistant.db.types

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", assistant.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "revision"),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("issued_at", assistant.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("issued_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_documents_issued_by_users", "users", ["issued_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint("fk_documents_issued_by_users", type_="foreignkey")
        batch.drop_column("issued_by")
        batch.drop_column("issued_at")
    op.drop_table("document_revisions")
