"""Once means once: how many times a revision's Python runs per upgrade, as docs/production.md
says. Where DDL is transactional (PostgreSQL, SQLite) the data-loss guard checks each operation
as it runs: once. Where it is not (MySQL, MariaDB) it reads the revisions ahead first: twice,
unless the revision opts out (``# fastapi-alembic: no-pre-read``) or keeps its side effect
from the reading (``if not op.get_context().as_sql:``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.backends import BACKENDS
from tests.support.data_loss_tables import CREATE, rows, sql
from tests.support.helpers import Project, assert_clean_failure, snapshot, write_revision

MYSQL = [b for b in BACKENDS if b.values[0] == "mysql"]
#: How many times upgrade() runs per `fastapi-alembic upgrade`, by backend (docs/production.md).
RUNS_PER_UPGRADE = {"sqlite": 1, "postgres": 1, "mysql": 2}


def side_effect(log: Path) -> str:
    return f"open({str(log)!r}, 'a').write('ran\\n')"


def counted(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    write_revision(made, "aaaa00000001", None, body=CREATE)
    return made


def test_a_side_effect_runs_as_often_as_documented(
    project: Project, backend: str, tmp_path: Path
) -> None:
    log = tmp_path / "side_effect.log"
    path = write_revision(project, "bbbb00000002", "aaaa00000001", body=side_effect(log))
    path.write_text(
        path.read_text().replace(
            "def downgrade():\n    pass", f"def downgrade():\n    {side_effect(log)}"
        )
    )
    assert project.cli("upgrade").exit_code == 0
    assert counted(log) == RUNS_PER_UPGRADE[backend]
    log.unlink()
    assert project.cli("downgrade", "aaaa00000001").exit_code == 0
    assert counted(log) == 1  # a downgrade is never read ahead: it never refuses
    log.unlink()
    assert project.cli("upgrade", "--accept-data-loss").exit_code == 0
    assert counted(log) == 1  # nothing to refuse, so nothing to read ahead


@pytest.mark.parametrize(
    "how",
    [
        "# fastapi-alembic: no-pre-read -- it sends a message",
        "if not op.get_context().as_sql: ",
    ],
    ids=["opted out", "kept from the reading"],
)
def test_a_revision_can_run_exactly_once(project: Project, tmp_path: Path, how: str) -> None:
    log = tmp_path / "side_effect.log"
    if how.startswith("#"):
        write_revision(project, "bbbb00000002", "aaaa00000001", body=side_effect(log), header=how)
    else:
        write_revision(project, "bbbb00000002", "aaaa00000001", body=how + side_effect(log))
    assert project.cli("upgrade").exit_code == 0
    assert counted(log) == 1
    assert project.cli("lint").exit_code == 0
    # lint reads upgrade() once per backend it lints (here the URL's): the side effect stays
    # out of that reading only where the revision keeps it out (as_sql).
    assert counted(log) == (1 if how.startswith("if") else 2)


@pytest.mark.parametrize("backend", MYSQL)  # the reading ahead is MySQL's and MariaDB's
def test_mysql_opted_out_is_checked_as_it_runs_and_says_what_stays(
    fresh_url: str, project: Project
) -> None:
    assert project.cli("upgrade").exit_code == 0
    sql(fresh_url, "INSERT INTO people (id, note, price) VALUES (1, 'ada', 3)")
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        header="# fastapi-alembic: no-pre-read -- reviewed by hand",
        body='op.add_column("people", sa.Column("extra", sa.Integer())); op.drop_table("people")',
    )
    result = project.cli("upgrade")
    assert_clean_failure(
        result,
        3,
        "dropping people would delete 1 rows (revision bbbb00000002)",
        "this database commits DDL as it goes",
        "revision bbbb00000002 may be partly applied",
    )
    assert rows(fresh_url) == [(1, "ada", 3, None)]  # the ADD COLUMN ran, the DROP did not
    assert snapshot(fresh_url)[1] == ["aaaa00000001"]
    # The ledger knows it failed partway: the next run refuses until someone looks.
    assert_clean_failure(project.cli("upgrade", "--accept-data-loss"), 3, "bbbb00000002")
