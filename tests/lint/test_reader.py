"""The reader: what a revision would do, recorded without a database, on each backend."""

from __future__ import annotations

from pathlib import Path

from fastapi_alembic.lint.model import Kind
from fastapi_alembic.lint.reader import read_function
from lint_helpers import load, revision_source

UPGRADE = """
roles = op.create_table("roles", sa.Column("id", sa.Integer(), primary_key=True))
op.bulk_insert(roles, [{"id": 1}])
with op.batch_alter_table("users") as batch_op:
    batch_op.drop_column("legacy")
with op.get_context().autocommit_block():
    op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
connection = op.get_bind()
if connection.dialect.name == "postgresql":
    op.execute(sa.text("UPDATE users SET plan = :plan WHERE id = :id"))
users = sa.table("users", sa.column("plan", sa.String))
connection.execute(users.update().values(plan="free"))
rows = connection.execute(sa.text("SELECT id FROM users")).fetchall()
for row in rows:
    raise AssertionError("no rows come back without a database")
op.execute("this is not SQL")
"""


def read(tmp_path: Path, backend: str) -> list:  # type: ignore[type-arg]
    revision = load(tmp_path, revision_source(UPGRADE))
    reading = read_function(revision.module.upgrade, backend, revision.path)
    assert reading.raised is None, reading.raised
    return reading.actions


def test_every_step_is_recorded_with_where_it_runs(tmp_path: Path) -> None:
    actions = read(tmp_path, "postgresql")
    kinds = [a.kind for a in actions]
    assert kinds == [
        Kind.CREATE_TABLE,
        Kind.INSERT,
        Kind.DROP_COLUMN,
        Kind.CREATE_INDEX,
        Kind.UPDATE,
        Kind.UPDATE,
        Kind.OTHER,  # the SELECT
        Kind.UNPARSED_SQL,
    ]
    drop, index, targeted, whole = actions[2], actions[3], actions[4], actions[5]
    assert drop.batch and (drop.table, drop.column) == ("users", "legacy")
    assert index.autocommit and index.concurrently and not drop.autocommit
    assert not targeted.whole_table and whole.whole_table and whole.table == "users"
    lines = [a.line for a in actions]
    assert all(lines) and lines == sorted(lines)


def test_a_branch_on_the_dialect_is_followed_per_backend(tmp_path: Path) -> None:
    updates = [a for a in read(tmp_path, "sqlite") if a.kind is Kind.UPDATE]
    assert [a.whole_table for a in updates] == [True]  # the PostgreSQL-only UPDATE is not run
