"""`fastapi-alembic lint` as a user runs it: exit codes, reports, silences, settings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.helpers import Project, head_of, write_revision


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A SQLite project with its tables made by a first revision, and no database file yet."""
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    write_revision(
        made,
        "aaaa00000001",
        None,
        body='op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("name", sa.String(50)))',
    )
    return made


def test_a_dangerous_revision_fails_with_its_rule_and_safe_way(project: Project) -> None:
    write_revision(project, "bbbb00000002", "aaaa00000001", body='op.drop_column("users", "name")')
    result = project.cli("lint", "--no-database", "--dialect", "postgresql")
    assert result.exit_code == 1, result.output
    assert "Revision bbbb00000002" in result.stdout
    assert "drop-column" in result.stdout
    assert "drops column users.name" in result.stdout
    assert "safe way:" in result.stdout
    assert "Traceback" not in result.output


def test_json_and_github_formats(project: Project) -> None:
    path = write_revision(
        project, "bbbb00000002", "aaaa00000001", body='op.create_index("ix", "users", ["name"])'
    )
    result = project.cli("lint", "--no-database", "--dialect", "postgresql", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    rules = {f["rule"] for f in report["findings"]}
    assert "create-index-not-concurrently" in rules
    finding = next(f for f in report["findings"] if f["rule"] == "create-index-not-concurrently")
    line = path.read_text().splitlines().index('    op.create_index("ix", "users", ["name"])') + 1
    assert (finding["table"], finding["line"], finding["backends"]) == (
        "users",
        line,
        ["postgresql"],
    )
    github = project.cli("lint", "--no-database", "--dialect", "postgresql", "--format", "github")
    assert github.exit_code == 1
    expected = f"::error file={path.relative_to(project.root)},line={line},title=create-index-not-concurrently::"
    assert expected in github.stdout, github.stdout


def test_silence_with_a_reason_passes_and_without_one_is_a_finding(project: Project) -> None:
    path = write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.drop_column("users", "name")  # fastapi-alembic: allow drop-column -- unused since v2',
    )
    result = project.cli("lint", "--no-database", "--dialect", "sqlite")
    assert result.exit_code == 0, result.output
    assert "1 silenced" in result.stdout
    path.write_text(path.read_text().replace(" -- unused since v2", ""))
    result = project.cli("lint", "--no-database", "--dialect", "sqlite", "--json")
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert rules >= {"drop-column", "silence-without-reason"}
    assert result.exit_code == 1


def test_pyproject_ignore_severity_and_since(project: Project) -> None:
    write_revision(project, "bbbb00000002", "aaaa00000001", body='op.drop_column("users", "name")')
    write_revision(
        project, "cccc00000003", "bbbb00000002", body='op.create_index("ix", "users", ["name"])'
    )
    pyproject = project.root / "pyproject.toml"
    base = pyproject.read_text()
    pyproject.write_text(
        base + '\n[tool.fastapi-alembic.lint]\nsince = "bbbb00000002"\n'
        'severity = { create-index-not-concurrently = "warning", missing-lock-timeout = "warning" }\n'
    )
    result = project.cli("lint", "--no-database", "--dialect", "postgresql", "--json")
    report = json.loads(result.stdout)
    assert report["revisions"] == ["cccc00000003"]
    assert result.exit_code == 0, result.output
    assert {f["severity"] for f in report["findings"]} == {"warning"}
    pyproject.write_text(base + '\n[tool.fastapi-alembic.lint]\nignore = ["no-such-rule"]\n')
    result = project.cli("lint")
    assert result.exit_code == 2
    assert "no-such-rule" in result.stderr and "Traceback" not in result.output


def test_revisions_named_on_the_command_line(project: Project) -> None:
    write_revision(project, "bbbb00000002", "aaaa00000001", body='op.drop_column("users", "name")')
    assert head_of(project) == "bbbb00000002"
    result = project.cli("lint", "--no-database", "aaaa", "--json")
    assert json.loads(result.stdout)["revisions"] == ["aaaa00000001"]
    assert result.exit_code == 0
    result = project.cli("lint", "--no-database", "zzzz")
    assert result.exit_code == 2 and "zzzz" in result.stderr


def test_unknown_dialect_is_one_sentence(project: Project) -> None:
    result = project.cli("lint", "--no-database", "--dialect", "oracle")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --dialect 'oracle'")


ONLY_IDS = """
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
"""


def test_make_prints_the_findings_of_the_revision_it_wrote(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}", models=ONLY_IDS)
    assert project.cli("init").exit_code == 0
    write_revision(
        project,
        "aaaa00000001",
        None,
        body='op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("name", sa.String(50)))',
    )
    assert project.cli("upgrade").exit_code == 0
    with sqlite3.connect(project.root / "app.db") as connection:
        connection.execute("INSERT INTO users (id, name) VALUES (1, 'ada')")
    made = project.cli("make", "drop users.name")
    assert made.exit_code == 0, made.output
    assert "Lint" in made.stdout and "drop-column" in made.stdout
    assert "safe way:" in made.stdout
    check = project.cli("check")
    assert check.exit_code == 1
    assert "✗ migrations pass lint" in check.stdout and "drop-column" in check.stdout


def test_an_unreachable_database_is_one_sentence_naming_no_database(project: Project) -> None:
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    result = project.cli("lint", "--url", url)
    assert result.exit_code == 3
    assert "--no-database" in result.stderr and "secret" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert project.cli("lint", "--url", url, "--no-database").exit_code == 0


def test_missing_lock_timeout_only_when_the_runner_sets_none(project: Project) -> None:
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.add_column("users", sa.Column("x", sa.Text()))',
    )
    default = json.loads(
        project.cli("lint", "--no-database", "--dialect", "postgresql", "--json").stdout
    )
    assert "missing-lock-timeout" not in {f["rule"] for f in default["findings"]}
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.fastapi-alembic]\n", "[tool.fastapi-alembic]\nlock_timeout = 0\n"
        )
    )
    off = json.loads(
        project.cli("lint", "--no-database", "--dialect", "postgresql", "--json").stdout
    )
    assert "missing-lock-timeout" in {f["rule"] for f in off["findings"]}
