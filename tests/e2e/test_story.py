"""The story in DESIGN.md, end to end from the command line, on every backend."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.helpers import Project


def columns(url: str, table: str) -> set[str]:
    return run_with_connection(
        make_url(url), lambda c: {col["name"] for col in inspect(c).get_columns(table)}
    )


def tables(url: str) -> set[str]:
    return run_with_connection(make_url(url), lambda c: set(inspect(c).get_table_names()))


def test_story_from_create_all_to_migrations(fresh_url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, fresh_url)

    init = project.run("init")
    assert init.exit_code == 0, init.output
    assert (tmp_path / "migrations" / "env.py").is_file()
    assert (tmp_path / "alembic.ini").is_file()

    first = project.run("make", "create users, posts and votes")
    assert first.exit_code == 0, first.output
    assert "create table users" in first.stdout
    assert "create table votes" in first.stdout
    assert len(project.revision_files()) == 1

    assert project.run("upgrade").exit_code == 0
    assert {"users", "posts", "votes", "alembic_version"} <= tables(fresh_url)
    assert "phone_number" not in columns(fresh_url, "users")

    project.add_phone_number()
    second = project.run("make", "add users.phone_number")
    assert second.exit_code == 0, second.output
    assert "add column users.phone_number" in second.stdout
    assert "drop" not in second.stdout  # nothing but the new column

    upgraded = project.run("upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "add users.phone_number" in upgraded.stdout
    assert "phone_number" in columns(fresh_url, "users")

    check = project.run("check")
    assert check.exit_code == 0, check.output
    assert "All checks passed" in check.stdout

    down = project.run("downgrade", "-1")
    assert down.exit_code == 0, down.output
    assert "phone_number" not in columns(fresh_url, "users")

    status = project.run("status", "--json")
    assert status.exit_code == 0
    assert '"up_to_date": false' in status.stdout

    assert project.run("upgrade").exit_code == 0
    assert "phone_number" in columns(fresh_url, "users")

    # No lock-in: plain Alembic drives the same folder with only DATABASE_URL set.
    assert project.run("downgrade", "base").exit_code == 0
    # What is left is bookkeeping: the version table, the ledger, the migration lock's table.
    assert tables(fresh_url) <= {
        "alembic_version",
        "fastapi_alembic_ledger",
        "fastapi_alembic_lock",
    }
    plain = project.run("upgrade", "head", program="alembic")
    assert plain.exit_code == 0, plain.output
    assert "phone_number" in columns(fresh_url, "users")
    assert project.run("check").exit_code == 0
