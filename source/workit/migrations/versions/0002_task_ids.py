#> file 06-
#> extra 06
"""Each request remembers the form that made it: a unique task_id.
#> or todo 06
"""The reference app's second migration (a unique task_id per request), empty here.
#> end

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

#> task 06.3
import sqlalchemy as sa
from alembic import op
#> or extra 06

#> or stub 06.3
# NEW(06_status): given, and nothing to write. The kata's reference app adds a column here for
# a hardening beyond this step: the same form sent twice is one request (step 07's skeleton
# has it: stages/07_scale/workit/migrations/versions/0002_task_ids.py). Your model has no such
# column, so here this migration changes nothing.
#> end
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#> extra 06
INDEX = "ix_mailer_requests_task_id"

#> end

def upgrade() -> None:
    #> extra 06
    op.add_column("mailer_requests", sa.Column("task_id", sa.String(36)))
    op.create_index(INDEX, "mailer_requests", ["task_id"], unique=True)
    #> or todo 06
    pass
    #> end


def downgrade() -> None:
    #> extra 06
    op.drop_index(INDEX, table_name="mailer_requests")
    with op.batch_alter_table("mailer_requests") as table:  # SQLite: a copy without the column
        table.drop_column("task_id")
    #> or todo 06
    pass
    #> end
