"""rescale task priority from 1-3 to 1-9

Priority was 1 (high), 2 (normal) or 3 (low); it is now 1 (most urgent) to 9. Existing tasks
keep their meaning: 1 -> 1, 2 -> 5, 3 -> 9. Downgrading folds 1-3, 4-6 and 7-9 back onto
1, 2 and 3, so a round trip leaves rescaled tasks as they were.

Revision ID: 0fe1658a7cf2
Revises: 513cd05587c5
Create Date: 2026-11-21 17:05:38.823474
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0fe1658a7cf2"
down_revision: str | Sequence[str] | None = "513cd05587c5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A lightweight table: the migration must not import the app's models, which keep changing.
tasks = sa.table("tasks", sa.column("priority", sa.Integer))


def upgrade() -> None:
    # fastapi-alembic: allow unbatched-data-change -- tasks holds a few hundred rows: one UPDATE takes milliseconds
    op.execute(
        tasks.update().values(
            priority=sa.case(
                (tasks.c.priority <= 1, 1),
                (tasks.c.priority == 2, 5),
                else_=9,
            )
        )
    )


def downgrade() -> None:
    op.execute(
        tasks.update().values(
            priority=sa.case(
                (tasks.c.priority <= 3, 1),
                (tasks.c.priority <= 6, 2),
                else_=3,
            )
        )
    )
