"""One case per lint rule: a revision body that triggers it and a safe twin that does not.
The rule tests run both; the advice tests run each rule's advice on real databases."""

from __future__ import annotations

from dataclasses import dataclass


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
