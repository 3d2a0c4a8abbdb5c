#> file 06-
"""The mailer_requests table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

#> task 06.3
import sqlalchemy as sa
from alembic import op
#> or extra 06

#> or stub 06.3
# NEW(06_status): given. Alembic's names for this migration, and the one before it (none).
#> end
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    #> task 06.3
    op.create_table(
        "mailer_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("thought", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gif_url", sa.String(500)),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    #> or stub 06.3
    """Make the table the model describes (README, task 3)."""
    raise NotImplementedError("Step 06_status, task 3: write upgrade() in the first migration")
    #> end


def downgrade() -> None:
    #> task 06.3
    op.drop_table("mailer_requests")
    #> or stub 06.3
    """Undo upgrade() (README, task 3)."""
    raise NotImplementedError("Step 06_status, task 3: write downgrade() in the first migration")
    #> end
