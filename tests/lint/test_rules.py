"""Every rule: a revision that triggers it, and its safe twin that does not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.engine import lint
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rules import BY_ID, RULES
from tests.support.lint_helpers import BASE_SCHEMA, lint_snippet, load, revision_source, rules_found


@dataclass(frozen=True)
class Case:
    trigger: str
    safe: str
    trigger_down: str | None = "pass"
    safe_down: str | None = "pass"
    header: str = ""
    safe_header: str = ""


LOCK = "op.execute(\"SET lock_timeout = '5s'\")\n"

CASES: dict[str, Case] = {
    "drop-table": Case(
        'op.drop_table("posts")',
        'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))',
        safe_down='op.drop_table("tags")',
    ),
    "drop-column": Case(
        'op.drop_column("users", "name")',
        'op.add_column("users", sa.Column("bio", sa.Text()))',
        safe_down='op.drop_column("users", "bio")',
    ),
    "narrowing-type-change": Case(
        'op.alter_column("users", "name", type_=sa.String(20), existing_type=sa.String(50))',
        'op.alter_column("users", "name", type_=sa.String(100), existing_type=sa.String(50))',
    ),
    "drop-enum-value": Case(
        'op.alter_column("users", "status", type_=sa.Enum("new", "active", name="status"))',
        'op.alter_column("users", "status", type_=sa.Enum("new", "active", "gone", "banned", name="status"))',
    ),
    "create-index-not-concurrently": Case(
        'op.create_index("ix_users_name", "users", ["name"])',
        'with op.get_context().autocommit_block():\n    op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)',
    ),
    "concurrently-outside-autocommit": Case(
        'op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)',
        'with op.get_context().autocommit_block():\n    op.execute("CREATE INDEX CONCURRENTLY ix_users_name ON users (name)")',
    ),
    "drop-index-not-concurrently": Case(
        'op.drop_index("ix_users_email", table_name="users")',
        'with op.get_context().autocommit_block():\n    op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)',
    ),
    "constraint-without-not-valid": Case(
        'op.create_foreign_key("fk_posts_owner", "posts", "users", ["owner_id"], ["id"])',
        'op.create_foreign_key("fk_posts_owner", "posts", "users", ["owner_id"], ["id"], postgresql_not_valid=True)',
    ),
    "unique-constraint-directly": Case(
        'op.create_unique_constraint("uq_users_email", "users", ["email"])',
        'with op.get_context().autocommit_block():\n    op.create_index("uq_users_email", "users", ["email"], unique=True, postgresql_concurrently=True)\n'
        'op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email")',
    ),
    "set-not-null": Case(
        'op.alter_column("users", "name", nullable=False, existing_type=sa.String(50))',
        'op.execute("ALTER TABLE users ADD CONSTRAINT users_name_nn CHECK (name IS NOT NULL) NOT VALID")\n'
        'op.execute("ALTER TABLE users VALIDATE CONSTRAINT users_name_nn")\n'
        'op.alter_column("users", "name", nullable=False, existing_type=sa.String(50))',
    ),
    "alter-column-type-rewrite": Case(
        'op.alter_column("posts", "owner_id", type_=sa.BigInteger(), existing_type=sa.Integer())',
        'op.alter_column("posts", "title", type_=sa.Text(), existing_type=sa.String(200))',
    ),
    "add-column-volatile-default": Case(
        'op.add_column("users", sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))',
        'op.add_column("users", sa.Column("plan", sa.String(20), server_default="free"))',
    ),
    "add-primary-key": Case(
        'op.create_primary_key("pk_posts", "posts", ["id"])',
        'op.create_table("tags", sa.Column("id", sa.Integer()))\nop.create_primary_key("pk_tags", "tags", ["id"])',
        safe_down='op.drop_table("tags")',
    ),
    "add-serial-column": Case(
        'op.add_column("posts", sa.Column("seq", sa.BigInteger(), sa.Identity()))',
        'op.add_column("posts", sa.Column("seq", sa.BigInteger(), nullable=True))',
    ),
    "missing-lock-timeout": Case(
        'op.add_column("users", sa.Column("bio", sa.Text()))',
        LOCK + 'op.add_column("users", sa.Column("bio", sa.Text()))',
    ),
    "mysql-online-ddl": Case(
        'op.alter_column("users", "name", type_=sa.String(80), existing_type=sa.String(50))',
        'op.alter_column("users", "name", type_=sa.String(60), existing_type=sa.String(50))',
    ),
    "mysql-enum-order": Case(
        'op.alter_column("users", "status", type_=sa.Enum("new", "pending", "active", "gone", name="status"), existing_type=sa.Enum("new", "active", "gone", name="status"))',
        'op.alter_column("users", "status", type_=sa.Enum("new", "active", "gone", "pending", name="status"), existing_type=sa.Enum("new", "active", "gone", name="status"))',
    ),
    "sqlite-batch-copy": Case(
        'with op.batch_alter_table("users") as batch_op:\n    batch_op.alter_column("name", type_=sa.String(80))',
        'with op.batch_alter_table("users") as batch_op:\n    batch_op.add_column(sa.Column("bio", sa.Text()))',
    ),
    "rename-table": Case(
        'op.rename_table("posts", "articles")',
        'op.create_table("articles", sa.Column("id", sa.Integer(), primary_key=True))',
        safe_down='op.drop_table("articles")',
    ),
    "rename-column": Case(
        'op.alter_column("users", "name", new_column_name="full_name")',
        'op.add_column("users", sa.Column("full_name", sa.String(50)))',
    ),
    "not-null-column-without-default": Case(
        'op.add_column("users", sa.Column("plan", sa.String(20), nullable=False))',
        'op.add_column("users", sa.Column("plan", sa.String(20), nullable=False, server_default="free"))',
    ),
    "missing-downgrade": Case(
        'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))',
        trigger_down="pass",
        safe_down='op.drop_table("tags")',
    ),
    "downgrade-raises-silently": Case(
        'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))',
        trigger_down="raise NotImplementedError",
        safe_down='raise NotImplementedError("irreversible: tags were merged into posts")',
    ),
    "imports-app-models": Case(
        "op.get_bind().execute(sa.select(User))",
        'users = sa.table("users", sa.column("id"))\nop.get_bind().execute(sa.select(users.c.id))',
        header="from myapp_lint.models import User",
    ),
    "unbatched-data-change": Case(
        "op.execute(\"UPDATE users SET name = 'x'\")",
        "op.execute(\"UPDATE users SET name = 'x' WHERE id = 1\")",
    ),
    "mixed-ddl-and-data": Case(
        LOCK + 'op.add_column("users", sa.Column("plan", sa.String(20)))\n'
        "op.execute(\"DELETE FROM posts WHERE title = ''\")",
        LOCK + 'op.add_column("users", sa.Column("plan", sa.String(20)))',
    ),
    "unparsed-sql": Case(
        'op.execute("UPDTE users SET x = 1")',
        'op.execute("UPDATE users SET name = NULL WHERE id = 1")',
    ),
    "unreadable-revision": Case(
        'count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()\nprint(count + 1)',
        'count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()\nprint((count or 0) + 1)',
    ),
    "silence-without-reason": Case(
        'op.drop_column("users", "name")  # fastapi-alembic: allow drop-column',
        'op.drop_column("users", "name")  # fastapi-alembic: allow drop-column -- moved to profiles in 3f2a',
    ),
}


def test_every_rule_has_a_case_and_complete_advice() -> None:
    assert set(CASES) | {"drop-mapped-column"} == set(BY_ID) == {rule.id for rule in RULES}
    for rule in RULES:
        assert rule.why and rule.safe and rule.title, rule.id
        compile(rule.safe, rule.id, "exec")  # the safe way is Python one can paste


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers_and_its_safe_twin_does_not(
    rule_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "app" / "myapp_lint"
    (package).mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "import sqlalchemy as sa\nUser = sa.table('users', sa.column('id'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "app"))
    case = CASES[rule_id]
    rule = BY_ID[rule_id]
    triggered = lint_snippet(
        tmp_path, case.trigger, case.trigger_down, header=case.header, backends=rule.backends
    )
    found = [f for f in triggered.findings if f.rule == rule_id]
    assert found, f"{rule_id} not found in: {[f.message for f in triggered.findings]}"
    assert found[0].severity is rule.severity
    assert found[0].line is not None or rule.directions == ("downgrade",)
    safe = lint_snippet(
        tmp_path, case.safe, case.safe_down, header=case.safe_header, backends=rule.backends
    )
    assert rule_id not in rules_found(safe), [f.message for f in safe.findings]


def test_severities_follow_the_issue() -> None:
    errors = {r.id for r in RULES if r.severity is Severity.ERROR}
    for rule in RULES:
        if rule.category in {"data-loss", "locking", "mysql", "compatibility"}:
            assert rule.id in errors, rule.id
    assert "unbatched-data-change" in errors
    assert BY_ID["sqlite-batch-copy"].severity is Severity.WARNING
    assert BY_ID["missing-downgrade"].severity is Severity.WARNING


def test_drop_mapped_column_needs_the_models_to_still_map_it(tmp_path: Path) -> None:
    base = load(tmp_path, revision_source(BASE_SCHEMA))
    drop = load(tmp_path, revision_source('op.drop_column("users", "name")'))
    mapped = {"users": {"id", "email", "name"}}
    environment = Environment(model_columns=mapped, heads=frozenset({drop.revision}))
    report = lint([base, drop], None, environment)
    assert "drop-mapped-column" in {f.rule for f in report.findings}
    environment = Environment(
        model_columns={"users": {"id", "email"}}, heads=frozenset({drop.revision})
    )
    report = lint([base, drop], None, environment)
    assert "drop-mapped-column" not in {f.rule for f in report.findings}


def test_docs_lint_md_is_written_from_the_rules() -> None:
    from fastapi_alembic.lint.docs import render

    page = Path(__file__).parents[2] / "docs" / "lint.md"
    text = page.read_text()
    for rule in RULES:
        assert f"### `{rule.id}`" in text, f"docs/lint.md has no page for {rule.id}"
    assert text == render(), "docs/lint.md is stale: run `make docs`"


@pytest.mark.parametrize(("version", "flagged"), [((10, 5), True), ((15, 4), False)])
def test_the_server_version_decides_version_dependent_rules(
    tmp_path: Path, version: tuple[int, ...], flagged: bool
) -> None:
    """Before PostgreSQL 11 any default rewrites the table; from 11 only a volatile one."""
    environment = Environment(backends=("postgresql",), versions={"postgresql": version})
    report = lint_snippet(
        tmp_path,
        'op.add_column("users", sa.Column("plan", sa.String(20), server_default="free"))',
        environment=environment,
    )
    assert ("add-column-volatile-default" in rules_found(report)) is flagged


def test_a_silence_of_no_rule_is_a_finding(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        'op.drop_column("users", "name")  # fastapi-alembic: allow drop-colum -- typo',
        backends=("sqlite",),
    )
    messages = [f.message for f in report.findings if f.rule == "silence-without-reason"]
    assert messages and "'allow drop-colum' names no lint rule" in messages[0]
    assert "drop-column" in rules_found(report)
