"""The reader: what a revision would do, recorded without a database, on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_alembic.lint.facts import backends
from fastapi_alembic.lint.model import Kind
from fastapi_alembic.lint.reader import read_function
from tests.support.lint_helpers import lint_snippet, load, revision_source, rules_found

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


# -- the recording bind: what revisions do with op.get_bind() ---------------------------------

BIND_UPGRADE = """
bind = op.get_bind()
mood = sa.Enum("happy", "sad", name="mood")
mood.create(bind)
tags = sa.Table("tags", sa.MetaData(), sa.Column("id", sa.Integer(), primary_key=True))
tags.create(bind)
models = sa.MetaData()
sa.Table("labels", models, sa.Column("id", sa.Integer(), primary_key=True))
models.create_all(bind)
counted = bind.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
if counted > 0:
    raise AssertionError("an unknown count is not more than zero")
rows = bind.execute(sa.text("SELECT id, name FROM users")).fetchall()
first = bind.execute(sa.text("SELECT id FROM users")).first()
one = bind.execute(sa.text("SELECT max(id) FROM users")).one()
named = bind.execute(sa.text("SELECT id FROM users")).mappings().all()
ids = bind.execute(sa.text("SELECT id FROM users")).scalars().all()
biggest = bind.scalar(sa.text("SELECT max(id) FROM users"))
op.execute(f"UPDATE users SET name = 'n' WHERE id = {counted}")
tags.drop(bind)
models.drop_all(bind)
mood.drop(bind)
op.drop_table("legacy")
"""

SESSION_UPGRADE = """
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


session = Session(bind=op.get_bind())
for user in session.query(User).filter(User.name.is_(None)).all():
    user.name = "unknown"
session.add_all([User(name="ada"), User(name="grace")])
session.flush()
session.execute(sa.update(User).where(User.id > 10).values(name="x"))
session.query(User).filter(User.name == "gone").delete()
session.commit()
op.drop_table("legacy")
"""


def read_source(tmp_path: Path, upgrade: str, backend: str):  # type: ignore[no-untyped-def]
    revision = load(tmp_path, revision_source(upgrade))
    return read_function(revision.module.upgrade, backend, revision.path)


@pytest.mark.parametrize("backend", backends())
def test_ddl_through_the_bind_and_queries_are_read_to_the_end(tmp_path: Path, backend: str) -> None:
    reading = read_source(tmp_path, BIND_UPGRADE, backend)
    assert reading.raised is None, reading.raised
    kinds = [(a.kind, a.table) for a in reading.actions]
    assert (Kind.CREATE_TABLE, "tags") in kinds and (Kind.CREATE_TABLE, "labels") in kinds
    assert (Kind.DROP_TABLE, "tags") in kinds and (Kind.DROP_TABLE, "labels") in kinds
    assert kinds[-1] == (Kind.DROP_TABLE, "legacy")
    assert (Kind.UPDATE, "users") in kinds
    enum_sql = [a.sql for a in reading.actions if a.sql and "mood" in a.sql]
    if backend == "postgresql":  # a named type of its own only there
        assert any(s.startswith("CREATE TYPE mood AS ENUM") for s in enum_sql)
        assert any(s.startswith("DROP TYPE mood") for s in enum_sql)


@pytest.mark.parametrize("backend", backends())
def test_an_orm_session_on_the_bind_reads_and_writes(tmp_path: Path, backend: str) -> None:
    reading = read_source(tmp_path, SESSION_UPGRADE, backend)
    assert reading.raised is None, reading.raised
    kinds = [(a.kind, a.table) for a in reading.actions]
    assert kinds.count((Kind.INSERT, "users")) == 2
    assert (Kind.UPDATE, "users") in kinds and (Kind.DELETE, "users") in kinds
    assert kinds[-1] == (Kind.DROP_TABLE, "legacy")


def test_a_revision_knows_it_is_being_read(tmp_path: Path) -> None:
    reading = read_source(
        tmp_path, 'if not op.get_context().as_sql:\n    op.drop_table("legacy")', "sqlite"
    )
    assert reading.raised is None and reading.actions == []


def test_lint_raises_no_false_alarm_on_the_bind(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        'mood = sa.Enum("happy", "sad", name="mood")\n'
        "mood.create(op.get_bind())\n"
        'op.add_column("users", sa.Column("mood", mood, nullable=True))\n'
        'n = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar_one()',
        'op.drop_column("users", "mood")\nsa.Enum(name="mood").drop(op.get_bind())',
    )
    found = rules_found(report)
    assert "unreadable-revision" not in found
    assert "downgrade-raises-silently" not in found


def test_what_the_recording_bind_cannot_do_is_not_blamed_on_the_downgrade(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        "op.get_bind().connection.dbapi_connection.cursor()",
        "op.get_bind().connection.dbapi_connection.cursor()",
    )
    findings = {f.rule: f.message for f in report.findings}
    assert "downgrade-raises-silently" not in findings
    assert "lint's recording connection has no 'connection'" in findings["unreadable-revision"]
