"""add tags

Revision ID: bbbb00000002
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "bbbb00000002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("tags")
