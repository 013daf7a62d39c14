"""publications.event_id: the public record of a 强制 measure (a signed case event, no document)

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.alter_column("document_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_publications_event_id", "case_events", ["event_id"], ["id"])
        batch.create_index("ix_publications_event_id", ["event_id"])


def downgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.drop_index("ix_publications_event_id")
        batch.drop_constraint("fk_publications_event_id", type_="foreignkey")
        batch.drop_column("event_id")
        batch.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
