"""The mailer_requests table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

# NEW(06_status): given. Alembic's names for this migration, and the one before it (none).
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Make the table the model describes (README, task 3)."""
    raise NotImplementedError("Step 06_status, task 3: write upgrade() in the first migration")


def downgrade() -> None:
    """Undo upgrade() (README, task 3)."""
    raise NotImplementedError("Step 06_status, task 3: write downgrade() in the first migration")
