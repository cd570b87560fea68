"""The settings init and adopt add to pyproject.toml: one way of writing them, which leaves the
file valid TOML and everything else in it as it was."""

from __future__ import annotations

import tomllib

import pytest

from fastapi_alembic.project_files import add_sqlmodel_import, script_template, with_settings

ADDED = {"metadata": "app.models:Base", "directory": "db/migrations"}


def _table(text: str) -> dict[str, object]:
    return tomllib.loads(text)["tool"]["fastapi-alembic"]  # type: ignore[no-any-return]


def test_no_file_gets_the_table_alone() -> None:
    text = with_settings(None, ADDED)
    assert (
        text
        == '[tool.fastapi-alembic]\nmetadata = "app.models:Base"\ndirectory = "db/migrations"\n'
    )


@pytest.mark.parametrize("before", ["", "\n\n"])
def test_an_empty_file_gets_the_table_alone(before: str) -> None:
    assert with_settings(before, ADDED) == with_settings(None, ADDED)


def test_a_file_without_the_table_gets_it_at_the_end() -> None:
    before = '[project]\nname = "app"\n\n\n'
    after = with_settings(before, ADDED)
    assert after.startswith('[project]\nname = "app"\n\n[tool.fastapi-alembic]\n')
    assert _table(after) == ADDED


@pytest.mark.parametrize(
    "header",
    [
        "[tool.fastapi-alembic]\n",
        "[tool.fastapi-alembic]  # ours\n",
        "  [tool.fastapi-alembic]\r\n",
        "[tool.fastapi-alembic]",  # the file's last line, without a newline
    ],
)
def test_a_table_already_there_gets_the_settings_at_its_top(header: str) -> None:
    before = f'[project]\nname = "app"\n\n{header}'
    if header.endswith("\n"):
        before += 'url = "sqlite:///app.db"\n\n[tool.ruff]\nline-length = 100\n'
    after = with_settings(before, ADDED)
    assert after.count("[tool.fastapi-alembic]") == 1
    table = _table(after)
    assert {key: table[key] for key in ADDED} == ADDED
    assert after.replace('metadata = "app.models:Base"\ndirectory = "db/migrations"\n', "", 1) in (
        before,
        before + "\n",
    )


def test_a_subtable_is_not_the_table() -> None:
    before = "[tool.fastapi-alembic.timeouts]\nlock = 5\n"
    after = with_settings(before, {"metadata": "app.models:Base"})
    assert _table(after) == {"metadata": "app.models:Base", "timeouts": {"lock": 5}}


def test_the_sqlmodel_template_imports_sqlmodel_after_sqlalchemy() -> None:
    plain = script_template(sqlmodel=False)
    assert script_template(sqlmodel=True) == add_sqlmodel_import(plain)
    assert "import sqlalchemy as sa\nimport sqlmodel\n" in script_template(sqlmodel=True)
    assert add_sqlmodel_import("x = 1\n") == "import sqlmodel\nx = 1\n"
