"""cases: the legal facts the penalty articles turn on (invoice tax, tax payable, party role)

Revision ID: 0015
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import assistant.db.types

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # discovery_date is stored in the existing cases.discovered_date column.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column(
                "invoice_tax_amount",
                assistant.db.types.Money(),
                nullable=False,
                server_default="0",
            )
        )
        batch.add_column(sa.Column("tax_payable", assistant.db.types.Money(), nullable=True))
        batch.add_column(
            sa.Column("party_role", sa.String(length=32), nullable=False, server_default="taxpayer")
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("party_role")
        batch.drop_column("tax_payable")
        batch.drop_column("invoice_tax_amount")
