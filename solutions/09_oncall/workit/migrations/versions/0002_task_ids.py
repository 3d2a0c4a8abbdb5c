"""Each request remembers the form that made it: a unique task_id.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_mailer_requests_task_id"


def upgrade() -> None:
    op.add_column("mailer_requests", sa.Column("task_id", sa.String(36)))
    op.create_index(INDEX, "mailer_requests", ["task_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="mailer_requests")
    with op.batch_alter_table("mailer_requests") as table:  # SQLite: a copy without the column
        table.drop_column("task_id")
