"""Revision ids Alembic would misread (base, head, heads, empty, with @ : + a leading - a quote
or a path separator) are refused when the history is loaded, naming the file: one sentence,
exit 2, the database untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.helpers import Project, assert_clean_failure, snapshot, write_revision

RESERVED = ["base", "head", "heads", "", "  ", "a@b", "a:b", "a+b", "+1", "-1", "-x", "a-b"]
RESERVED += ["a'b", 'a"b', "a/b", "a\\b"]


def with_id(project: Project, revision: str) -> Path:
    """A valid first revision, then one whose id is ``revision`` on top of it."""
    write_revision(project, "aaaa00000001", None)
    path = write_revision(project, "bbbb00000002", "aaaa00000001")
    path.write_text(
        path.read_text().replace('revision = "bbbb00000002"', f"revision = {revision!r}")
    )
    return path


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    return made


@pytest.mark.parametrize("revision", RESERVED)
@pytest.mark.parametrize("verb", [["heads"], ["status"], ["upgrade"], ["lint"]], ids=" ".join)
def test_a_reserved_id_is_refused_naming_the_file(
    project: Project, revision: str, verb: list[str]
) -> None:
    path = with_id(project, revision)
    result = project.cli(*verb)
    assert_clean_failure(result, 2, str(path), f"has revision = {revision!r}")
    assert not (project.root / "app.db").exists() or snapshot(project.url) == (set(), [])


def test_base_as_a_revision_id_on_every_backend(fresh_url: str, tmp_path: Path) -> None:
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    path = with_id(made, "base")
    for verb in (["status"], ["upgrade"], ["downgrade", "base"], ["history"], ["check"]):
        result = made.cli(*verb)
        assert_clean_failure(result, 2, str(path), "Alembic reserves for targets")
    assert snapshot(fresh_url) == (set(), [])


def test_ids_with_underscores_and_mixed_case_load(project: Project) -> None:
    write_revision(project, "001_Initial", None)
    write_revision(project, "002_add_Users", "001_Initial")
    result = project.cli("upgrade")
    assert result.exit_code == 0, result.output
    assert snapshot(project.url)[1] == ["002_add_Users"]
