"""add tags"""

import sqlalchemy as sa
from alembic import op

revision = "".join(["c0ffee", "000010"])
down_revision = "77704c0b97c1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("tags")
