"""The reporting and bookkeeping verbs, and check's three points failing one at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helpers import (
    Project,
    assert_clean_failure,
    head_of,
    move_result,
    snapshot,
    write_revision,
)


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    """Two revisions written; the database at the first."""
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    first = head_of(made)
    # A data-only step: the models still match at head.
    write_revision(made, "5ec0nd000001", first, body="op.execute('DELETE FROM votes')")
    assert made.cli("upgrade", first).exit_code == 0
    return made


def test_relative_upgrade_and_downgrade(project: Project) -> None:
    up = project.cli("upgrade", "+1", "--json")
    assert up.exit_code == 0, up.output
    assert [s["revision"] for s in move_result(up.stdout)["steps"]] == ["5ec0nd000001"]
    down = project.cli("downgrade", "-2")
    assert down.exit_code == 0, down.output
    assert snapshot(project.url)[1] == []
    assert project.cli("upgrade", "5ec0").exit_code == 0  # a prefix names a revision
    assert snapshot(project.url)[1] == ["5ec0nd000001"]


def test_status_lists_pending_migrations(project: Project) -> None:
    text = project.cli("status").stdout
    assert "Pending   1 migration(s)" in text
    assert "5ec0nd000001  hand written 5ec0nd000001" in text
    report = json.loads(project.cli("status", "--json").stdout)
    assert [p["revision"] for p in report["pending"]] == ["5ec0nd000001"]
    assert report["models_match"] is True


def test_current_heads_history_show(project: Project) -> None:
    first = snapshot(project.url)[1][0]
    assert project.cli("current").stdout.strip() == first
    assert json.loads(project.cli("current", "--json").stdout) == {
        "current": [first],
        "heads": ["5ec0nd000001"],
        "at_head": False,
    }
    assert project.cli("heads").stdout.startswith("5ec0nd000001  hand written")
    history = project.cli("history").stdout.splitlines()
    assert history[0] == f"{first} -> 5ec0nd000001 (head), hand written 5ec0nd000001"
    assert history[1] == f"<base> -> {first} (current), create tables"
    shown = project.cli("show", "5ec0")
    assert shown.exit_code == 0
    assert f"Parents   {first}" in shown.stdout
    assert "def upgrade():" in shown.stdout
    assert json.loads(project.cli("show", "head", "--json").stdout)["revision"] == "5ec0nd000001"


def test_stamp_records_without_running(project: Project) -> None:
    tables_before = snapshot(project.url)[0]
    stamped = project.cli("stamp", "heads")
    assert stamped.exit_code == 0, stamped.output
    tables, versions = snapshot(project.url)
    assert versions == ["5ec0nd000001"]
    assert tables == tables_before  # nothing ran
    assert project.cli("stamp", "base").exit_code == 0
    assert snapshot(project.url)[1] == []


def test_check_fails_when_the_database_is_behind(project: Project) -> None:
    result = project.cli("check", "--json")
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["one head"]["ok"] and checks["migrations match the models"]["ok"]
    assert not checks["database at head"]["ok"]
    assert "1 revision(s) behind head" in checks["database at head"]["detail"]


def test_check_fails_when_models_are_ahead_of_the_migrations(
    fresh_url: str, tmp_path: Path
) -> None:
    made = Project.create(tmp_path, fresh_url)
    made.cli("init")
    write_revision(
        made,
        "0n1y00000001",
        None,
        body="op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True))",
    )
    assert made.cli("upgrade").exit_code == 0
    result = made.cli("check")
    assert result.exit_code == 1
    assert "✗ migrations match the models" in result.stdout
    assert "create table posts" in result.stdout
    assert "fastapi-alembic make" in result.stdout
    assert "Check failed." in result.stdout


def test_current_marks_head_and_history_marks_the_database(project: Project) -> None:
    first = snapshot(project.url)[1][0]
    history = project.cli("history").stdout.splitlines()
    assert history == [
        f"{first} -> 5ec0nd000001 (head), hand written 5ec0nd000001",
        f"<base> -> {first} (current), create tables",
    ]
    assert project.cli("upgrade").exit_code == 0
    assert project.cli("current").stdout == "5ec0nd000001 (head)\n"
    assert json.loads(project.cli("current", "--json").stdout) == {
        "current": ["5ec0nd000001"],
        "heads": ["5ec0nd000001"],
        "at_head": True,
    }
    history = project.cli("history").stdout.splitlines()
    assert history[0] == f"{first} -> 5ec0nd000001 (head) (current), hand written 5ec0nd000001"
    assert history[1] == f"<base> -> {first}, create tables"
    marks = json.loads(project.cli("history", "--json").stdout)
    assert [(r["revision"], r["is_current"]) for r in marks] == [
        ("5ec0nd000001", True),
        (first, False),
    ]
    graph = project.cli("history", "--graph").stdout
    assert "5ec0nd000001 (head, current) hand written" in graph
    # Named with --url on the command line as well.
    given = project.cli("history", "--url", project.url, no_url=True)
    assert "(current)" in given.stdout, given.output
    # No URL anywhere: no mark, nothing said.
    unmarked = project.cli("history", no_url=True)
    assert unmarked.exit_code == 0, unmarked.output
    assert "(current)" not in unmarked.stdout and unmarked.stderr == ""
    assert {
        r["is_current"] for r in json.loads(project.cli("history", "--json", no_url=True).stdout)
    } == {None}


def test_history_says_why_it_cannot_mark_the_database(project: Project, tmp_path: Path) -> None:
    """A database that cannot be read: the history unmarked, a note on standard error, exit 0,
    and a SQLite file that does not exist is not created by looking."""
    missing = tmp_path / "elsewhere" / "not-there.db"
    missing.parent.mkdir()
    for url, phrase in (
        (f"sqlite:///{missing}", "does not exist"),
        ("postgresql+psycopg://u:s3cr3t@127.0.0.1:1/db", "Cannot connect"),
    ):
        shown = project.cli("history", "--url", url)
        assert shown.exit_code == 0, shown.output
        assert "(current)" not in shown.stdout and "(head)" in shown.stdout
        assert shown.stderr.startswith("Note: the database's revision is not marked: ")
        assert phrase in shown.stderr and "s3cr3t" not in shown.output
    assert not missing.exists()


def test_current_prints_the_same_through_the_fast_path_and_the_full_command(
    project: Project,
) -> None:
    """A new process answers plain `current` from the gate when it can (no Alembic loaded):
    behind, at head, and at base, it prints what the full command prints."""

    def both() -> tuple[str, str]:
        fast, full = project.run("current"), project.cli("current")
        assert fast.exit_code == full.exit_code == 0, fast.output + full.output
        return fast.stdout, full.stdout

    first = snapshot(project.url)[1][0]
    assert both() == (f"{first}\n", f"{first}\n")
    assert project.cli("upgrade").exit_code == 0
    assert both() == ("5ec0nd000001 (head)\n", "5ec0nd000001 (head)\n")
    assert project.cli("downgrade", "base").exit_code == 0
    base = "base (no revision applied)\n"
    assert both() == (base, base)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_current_check_never_creates_a_sqlite_file(project: Project, tmp_path: Path) -> None:
    """Through the start-up fast path (a new process) and the full command alike."""
    missing = tmp_path / "elsewhere.db"
    url = f"sqlite:///{missing}"
    for args in (("current", "--check"), ("current", "--check", "--json")):
        for result in (project.run(*args, url=url), project.cli(*args, url=url)):
            assert_clean_failure(result, 3, f"The SQLite database file {missing} does not exist")
    assert not missing.exists()
    # upgrade makes it, as it always has.
    assert project.run("upgrade", url=url).exit_code == 0
    assert project.run("current", "--check", url=url).exit_code == 0
