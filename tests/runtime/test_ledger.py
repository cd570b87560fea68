"""The applied-migration ledger: what it records, edits and removed files, adoption, and the
refusal to go past a migration left half done."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, text
from sqlalchemy.engine import make_url

from fastapi_alembic.config import DEFAULT_LEDGER_TABLE
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.runtime import ledger
from tests.support.helpers import (
    BIN,
    Project,
    assert_clean_failure,
    head_of,
    snapshot,
    write_revision,
)

SECOND = "5ec0nd000001"


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    """Two revisions written; the database at the first, migrated with the ledger on."""
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    write_revision(made, SECOND, head_of(made), body="op.execute('DELETE FROM votes')")
    assert made.cli("upgrade", first_of(made)).exit_code == 0
    return made


def first_of(project: Project) -> str:
    return str(json.loads(project.cli("history", "--json").stdout)[-1]["revision"])


def log_of(project: Project) -> list[dict[str, object]]:
    result = project.cli("log", "--json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def ledger_lines(project: Project) -> list[str]:
    result = project.cli("status")
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("Ledger")]


def test_each_step_is_recorded_with_its_checksum_time_and_who(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    assert project.cli("downgrade", "-1").exit_code == 0
    rows = log_of(project)
    assert [(r["revision"], r["direction"], r["outcome"]) for r in rows] == [
        (first_of(project), "up", "applied"),
        (SECOND, "up", "applied"),
        (SECOND, "down", "reverted"),
    ]
    for row in rows:
        assert len(str(row["checksum"])) == 64
        assert row["finished_at"] is not None and float(row["seconds"]) >= 0  # type: ignore[arg-type]
        assert "pid" in str(row["process"]) and row["client_host"]
    if not project.url.startswith("sqlite"):
        assert rows[0]["db_user"]
    text_log = project.cli("log").stdout
    assert f"↓ {SECOND}  reverted" in text_log


# Checksums and files: the same on every backend.
@pytest.mark.parametrize("backend", [pytest.param("sqlite", marks=pytest.mark.sqlite)])
def test_an_edit_is_reported_until_accepted_and_whitespace_is_not_an_edit(
    project: Project,
) -> None:
    assert project.cli("upgrade").exit_code == 0
    path = project.versions / f"{SECOND}_hand_written.py"
    original = path.read_text()
    # Line endings and trailing whitespace do not count.
    path.write_bytes("\r\n".join(line + "  " for line in original.splitlines()).encode() + b"\r\n")
    assert ledger_lines(project) == []
    path.write_text(original + "\n# tweaked after it was applied\n")
    (line,) = ledger_lines(project)
    assert f"{path} (revision {SECOND}) changed after it was applied at" in line
    assert f"`fastapi-alembic log --accept {SECOND}`" in line
    report = json.loads(project.cli("status", "--json").stdout)
    assert [d["revision"] for d in report["drift"]] == [SECOND]

    accepted = project.cli("log", "--accept", SECOND[:6])
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.startswith(f"Accepted: revision {SECOND}'s file as it is now")
    assert ledger_lines(project) == []
    assert log_of(project)[-1]["outcome"] == "accepted"


@pytest.mark.sqlite
def test_check_fails_with_one_line_per_edited_file(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    for path in project.revision_files():
        path.write_text(path.read_text() + "\n# edited\n")
    result = project.cli("check")
    assert result.exit_code == 1, result.output
    failed = [line for line in result.stdout.splitlines() if "applied migrations unchanged" in line]
    assert len(failed) == 2 and all(line.startswith("✗") for line in failed)


def test_a_database_migrated_before_the_ledger_is_adopted_quietly(project: Project) -> None:
    run_with_connection(
        make_url(project.url), lambda c: c.execute(text(f"DROP TABLE {DEFAULT_LEDGER_TABLE}"))
    )
    assert log_of(project) == []
    assert project.cli("upgrade").exit_code == 0
    rows = log_of(project)
    assert [(r["revision"], r["outcome"]) for r in rows] == [
        (first_of(project), "adopted"),
        (SECOND, "applied"),
    ]
    assert ledger_lines(project) == []


# Checksums and files: the same on every backend.
@pytest.mark.parametrize("backend", [pytest.param("sqlite", marks=pytest.mark.sqlite)])
def test_an_applied_revision_whose_file_is_gone(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    assert project.cli("stamp", first_of(project)).exit_code == 0
    (project.versions / f"{SECOND}_hand_written.py").unlink()
    (line,) = ledger_lines(project)
    assert f"Revision {SECOND} was applied at" in line and "its file is gone" in line
    assert project.cli("log", "--accept", SECOND).exit_code == 0
    assert ledger_lines(project) == []
    assert log_of(project)[-1]["outcome"] == "removed"


# Checksums and files: the same on every backend.
@pytest.mark.parametrize("backend", [pytest.param("sqlite", marks=pytest.mark.sqlite)])
def test_accepting_an_unknown_revision_is_one_sentence(project: Project) -> None:
    result = project.cli("log", "--accept", "nothere")
    assert_clean_failure(result, 2, "'nothere' names no revision")


def test_a_migration_left_half_done_is_refused_until_stamped(project: Project) -> None:
    first = first_of(project)

    def leave_unfinished(connection: Connection) -> None:
        table = ledger.ledger_table(DEFAULT_LEDGER_TABLE, None)
        connection.execute(
            insert(table).values(
                revision=SECOND,
                direction="up",
                outcome="running",
                started_at=ledger.now(),
                session_id="999999",  # a session that is long gone
            )
        )

    run_with_connection(make_url(project.url), leave_unfinished)
    before = snapshot(project.url)
    phrases = (
        f"Migration {SECOND} (upgrade) was interrupted at",
        "inspect the schema",
        "`fastapi-alembic stamp REVISION`",
    )
    assert_clean_failure(project.run("current", "--check"), 3, *phrases)
    assert_clean_failure(project.cli("current", "--check"), 3, *phrases)
    assert_clean_failure(project.cli("status"), 3, *phrases)
    assert_clean_failure(project.cli("upgrade"), 3, *phrases)
    assert_clean_failure(project.run("upgrade"), 3, *phrases)
    assert snapshot(project.url) == before

    assert project.cli("stamp", first).exit_code == 0
    assert log_of(project)[-1]["outcome"] == "resolved"
    assert project.cli("current", "--check").exit_code == 1
    assert project.cli("upgrade").exit_code == 0
    assert project.cli("current", "--check").exit_code == 0


# -- the ledger tells the truth: a table or column gone, rows that cannot be believed --------


def check_line(project: Project, name: str = "applied migrations unchanged") -> str:
    result = project.cli("check")
    assert result.exit_code == 1, result.output
    (line,) = [line for line in result.stdout.splitlines() if name in line]
    return line


def ledger_sql(project: Project, *statements: str) -> None:
    def run(connection: Connection) -> None:
        for statement in statements:
            connection.execute(text(statement))

    run_with_connection(make_url(project.url), run)


def test_a_dropped_ledger_is_reported_until_adopted(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    ledger_sql(project, f"DROP TABLE {DEFAULT_LEDGER_TABLE}")
    (line,) = ledger_lines(project)
    assert f"The ledger table {DEFAULT_LEDGER_TABLE} is missing although 2 revision(s)" in line
    assert "`fastapi-alembic log --adopt`" in line
    report = json.loads(project.cli("status", "--json").stdout)
    assert [p["kind"] for p in report["ledger_problems"]] == ["missing table"]
    failed = check_line(project)
    assert failed.startswith("✗") and f"ledger table {DEFAULT_LEDGER_TABLE} is missing" in failed

    adopted = project.cli("log", "--adopt")
    assert adopted.exit_code == 0, adopted.output
    assert adopted.stdout.startswith("Adopted into the ledger: 2 applied revision(s)")
    assert [r["outcome"] for r in log_of(project)] == ["adopted", "adopted"]
    assert ledger_lines(project) == []
    assert project.cli("log", "--adopt").stdout.startswith("Nothing to adopt")


def test_a_dropped_ledger_column_is_named_and_nothing_runs(project: Project) -> None:
    ledger_sql(project, f"ALTER TABLE {DEFAULT_LEDGER_TABLE} DROP COLUMN checksum")
    before = snapshot(project.url)
    phrases = (f"The ledger table {DEFAULT_LEDGER_TABLE} lacks its column(s) checksum",)
    for verb in ("status", "log", "upgrade", "downgrade base"):
        result = project.cli(*verb.split())
        assert_clean_failure(result, 3, *phrases)
        assert "alembic_version" not in result.stderr
    assert snapshot(project.url) == before
    failed = check_line(project)
    assert failed.startswith("✗") and phrases[0] in failed and "alembic_version" not in failed


def test_a_missing_checksum_or_an_unknown_outcome_is_reported(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    first = first_of(project)
    table = DEFAULT_LEDGER_TABLE
    ledger_sql(
        project,
        f"UPDATE {table} SET checksum = NULL WHERE revision = '{first}'",
        f"UPDATE {table} SET outcome = 'looks fine' WHERE revision = '{SECOND}'",
    )
    for path in project.revision_files():  # edits the ledger can no longer see
        path.write_text(path.read_text() + "\n# edited\n")
    lines = ledger_lines(project)
    assert len(lines) == 2, lines
    assert (
        f"of the ledger table {table} records revision {first} as applied with no checksum"
        in (lines[0])
    )
    assert (
        f"of the ledger table {table} gives revision {SECOND} an outcome the ledger never "
        "writes ('looks fine')" in lines[1]
    )
    result = project.cli("check")
    assert result.exit_code == 1, result.output
    assert "✓ applied migrations unchanged" not in result.stdout
    assert f"`fastapi-alembic log --accept {SECOND}`" in result.stdout

    for revision in (first, SECOND):
        assert project.cli("log", "--accept", revision).exit_code == 0
    assert ledger_lines(project) == []


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def test_a_migrator_killed_after_its_autocommit_block_committed_is_refused(
    project: Project,
) -> None:
    """Where DDL is transactional, what an autocommit_block() committed stays when the
    migrator dies after it: the migration is half applied, and said so by name."""
    marker = project.root / "inside"
    path = project.versions / f"{SECOND}_hand_written.py"
    path.write_text(
        path.read_text()
        .replace(
            "op.execute('DELETE FROM votes')",
            "with op.get_context().autocommit_block():\n"
            "        op.execute('CREATE TABLE half (id INTEGER)')\n"
            f"    pathlib.Path({str(marker)!r}).write_text('in')\n"
            "    time.sleep(120)",
        )
        .replace("from alembic import op", "import pathlib, time\nfrom alembic import op")
    )
    migrator = subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade"],
        cwd=project.root,
        env={**os.environ, "DATABASE_URL": project.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert migrator.poll() is None, migrator.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    migrator.kill()
    migrator.wait()
    phrases = (
        f"Migration {SECOND} (upgrade) was interrupted at",
        "after committing part of its work (an autocommit_block), so it may be half applied",
    )
    assert_clean_failure(project.cli("status"), 3, *phrases)
    before = snapshot(project.url)
    assert "half" in before[0]
    assert_clean_failure(project.cli("upgrade"), 3, *phrases)
    assert snapshot(project.url) == before


@pytest.mark.parametrize(
    ("backend", "commit", "transactions"),
    [
        pytest.param("sqlite", "op.get_bind().commit()", 2, marks=pytest.mark.sqlite),
        pytest.param("postgres", "pass", 1, marks=pytest.mark.postgres),
        pytest.param("postgres", "op.get_bind().commit()", 2, marks=pytest.mark.postgres),
        pytest.param("postgres", "op.execute('COMMIT')", 2, marks=pytest.mark.postgres),
    ],
    indirect=["backend"],
)
def test_a_run_in_one_transaction_writes_its_rows_with_it_and_fences_each_transaction(
    fresh_url: str,
    tmp_path: Path,
    commit: str,
    transactions: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where DDL is transactional the rows of one transaction are written just before it
    commits, a migration that commits by itself included; on PostgreSQL the lock's owner row
    is read once per transaction that moves the version, again after such a commit."""
    from fastapi_alembic.runtime.lease import LeaseLock

    fences: list[int] = []
    fence = LeaseLock.fence
    monkeypatch.setattr(LeaseLock, "fence", lambda lock, c: (fences.append(1), fence(lock, c)))
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    revisions = [f"c0ffee00000{n}" for n in range(1, 5)]
    for number, revision in enumerate(revisions):
        table = f"op.create_table('t{number}', sa.Column('id', sa.Integer, primary_key=True))"
        # write_revision dedents its template: the second line is indented as the first.
        body = f"{table}\n{' ' * 16}{commit}" if number == 1 else table
        write_revision(made, revision, revisions[number - 1] if number else None, body=body)
    assert made.cli("upgrade").exit_code == 0
    rows = log_of(made)
    assert [(r["revision"], r["outcome"]) for r in rows] == [(r, "applied") for r in revisions]
    assert all(r["checksum"] and r["finished_at"] for r in rows)
    if not fresh_url.startswith("sqlite"):  # (SQLite's lock is a file: nothing to fence)
        assert len(fences) == transactions


@pytest.mark.parametrize("backend", [pytest.param("mysql", marks=pytest.mark.mysql)])
@pytest.mark.parametrize("ddl_first", [False, True], ids=["rows-only", "after-ddl"])
def test_mysql_a_failing_migration_is_refused_only_when_part_of_it_was_committed(
    fresh_url: str, tmp_path: Path, ddl_first: bool
) -> None:
    """MySQL commits before each DDL statement, the started row with it. A migration that
    fails before any DDL rolls its rows and its started row back together: there is nothing
    to refuse, and the mended file runs once. One that fails after a DDL statement is half
    applied: its row says it failed partway, and the next upgrade refuses it by name."""
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    write_revision(
        made, "aaaa00000001", None, body="op.create_table('things', sa.Column('id', sa.Integer()))"
    )
    ddl = "op.create_table('more', sa.Column('id', sa.Integer())); " if ddl_first else ""
    insert_row = "op.execute('INSERT INTO things (id) VALUES (1)')"
    path = write_revision(
        made, "bbbb00000002", "aaaa00000001", body=f"{ddl}{insert_row}; raise RuntimeError('boom')"
    )
    failed = made.cli("upgrade", "--accept-data-loss")  # run as it is, not read ahead
    assert failed.exit_code == 3, failed.output
    assert "failed with RuntimeError: boom" in failed.stderr
    outcomes = [(row["revision"], row["outcome"]) for row in log_of(made)]
    rows = run_with_connection(
        make_url(fresh_url), lambda c: c.execute(text("SELECT id FROM things")).all()
    )
    assert rows == []
    if ddl_first:
        assert outcomes == [("aaaa00000001", "applied"), ("bbbb00000002", "failed")]
        assert_clean_failure(
            made.cli("upgrade"), 3, "Migration bbbb00000002 (upgrade) failed partway at"
        )
        return
    assert outcomes == [("aaaa00000001", "applied")]
    path.write_text(path.read_text().replace("; raise RuntimeError('boom')", ""))
    assert made.cli("upgrade").exit_code == 0
    outcomes = [(row["revision"], row["outcome"]) for row in log_of(made)]
    assert outcomes == [("aaaa00000001", "applied"), ("bbbb00000002", "applied")]
    rows = run_with_connection(
        make_url(fresh_url), lambda c: c.execute(text("SELECT id FROM things")).all()
    )
    assert [tuple(row) for row in rows] == [(1,)]
