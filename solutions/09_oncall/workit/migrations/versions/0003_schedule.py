"""NEW(08_schedule): given. Maintenance: when a request was posted again or wiped; an expired one keeps no address.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot ALTER a column: batch mode copies the table with the new definition.
    with op.batch_alter_table("mailer_requests") as table:
        table.add_column(sa.Column("requeued_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("expired_at", sa.DateTime(timezone=True)))
        table.alter_column("email", existing_type=sa.String(254), nullable=True)
        table.alter_column("thought", existing_type=sa.String(200), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("mailer_requests") as table:
        table.alter_column("thought", existing_type=sa.String(200), nullable=False)
        table.alter_column("email", existing_type=sa.String(254), nullable=False)
        table.drop_column("expired_at")
        table.drop_column("requeued_at")
