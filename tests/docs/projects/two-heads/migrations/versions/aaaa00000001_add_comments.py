"""add comments

Revision ID: aaaa00000001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "aaaa00000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("comments", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("comments")
