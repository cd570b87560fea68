"""make and renames, as a user sees them: the question, --rename, --no-input."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.cli import authoring_commands
from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.helpers import PHONE_NUMBER, Project, assert_clean_failure

PHONE = "phone: Mapped[str | None] = mapped_column(String(50))"


def _newest(project: Project) -> str:
    return max(project.revision_files(), key=lambda p: p.stat().st_mtime_ns).read_text()


def _project(tmp_path: Path, url: str) -> Project:
    project = Project.create(tmp_path, url)
    project.add_phone_number()
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "users").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    return project


def _rename_phone_number_to_phone(project: Project) -> None:
    path = project.root / f"{project.module}.py"
    path.write_text(path.read_text().replace(PHONE_NUMBER, PHONE))
    sys.modules.pop(project.module, None)  # the next verb imports the models again


def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    def work(connection):  # type: ignore[no-untyped-def]
        rows = connection.execute(text(statement))
        result = [tuple(r) for r in rows] if rows.returns_rows else []
        connection.commit()
        return result

    return run_with_connection(make_url(url), work)


def test_rename_given_ahead_keeps_the_data_both_ways(fresh_url: str, tmp_path: Path) -> None:
    project = _project(tmp_path, fresh_url)
    _sql(
        fresh_url,
        "INSERT INTO users (id, email, password, phone_number) VALUES (1, 'a@b.c', 'x', '555')",
    )
    _rename_phone_number_to_phone(project)

    made = project.cli("make", "rename phone", "--rename", "users.phone_number:users.phone")

    assert made.exit_code == 0, made.output
    assert "rename to phone" in made.stdout
    assert "!" not in made.stdout  # nothing destructive
    revision = _newest(project)
    assert 'new_column_name="phone"' in revision and "drop_column" not in revision
    assert project.cli("upgrade").exit_code == 0
    assert _sql(fresh_url, "SELECT phone FROM users") == [("555",)]
    assert project.cli("downgrade", "-1").exit_code == 0
    assert _sql(fresh_url, "SELECT phone_number FROM users") == [("555",)]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_input_writes_drop_and_add_with_a_warning(fresh_url: str, tmp_path: Path) -> None:
    project = _project(tmp_path, fresh_url)
    _rename_phone_number_to_phone(project)

    made = project.cli("make", "phone", "--no-input")

    assert made.exit_code == 0, made.output
    assert "Warning: The column users.phone_number is dropped and users.phone added" in made.stdout
    assert "--rename users.phone_number:users.phone" in made.stdout
    revision = _newest(project)
    assert 'drop_column("phone_number")' in revision and "add_column" in revision


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("answer", ["y", "n"])
def test_a_terminal_is_asked(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    project = _project(tmp_path, fresh_url)
    _rename_phone_number_to_phone(project)
    monkeypatch.setattr(authoring_commands, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    from typer.testing import CliRunner

    from fastapi_alembic.cli import app

    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(
        app, ["make", "phone"], input=f"{answer}\n", env={"DATABASE_URL": fresh_url}
    )

    assert result.exit_code == 0, result.output
    assert "Was users.phone_number renamed to users.phone? [y/N]" in result.output
    revision = _newest(project)
    assert ('new_column_name="phone"' in revision) is (answer == "y")
    assert ('drop_column("phone_number")' in revision) is (answer == "n")


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("users.phone_number", "is not of the form OLD:NEW (write"),
        ("users.phone_number:posts.phone", "moves a column to another table"),
        ("users.email:users.mail", "matches no change in the models"),
    ],
)
def test_a_wrong_rename_is_one_sentence(
    fresh_url: str, tmp_path: Path, value: str, phrase: str
) -> None:
    project = _project(tmp_path, fresh_url)
    _rename_phone_number_to_phone(project)
    before = project.revision_files()

    result = project.cli("make", "phone", "--rename", value)

    assert_clean_failure(result, 2, phrase)
    assert project.revision_files() == before
