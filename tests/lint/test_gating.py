"""`check` gates what is new: the revisions not yet applied to the database, or without one,
those after --since, changed since --since-git, or after the recorded baseline (which `adopt`
writes). History applied long ago, and the rows its tables hold now, decide nothing; `lint`
with no arguments still reads every revision."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.helpers import Project, assert_clean_failure, write_revision

MODELS = """
    from sqlalchemy import String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str | None] = mapped_column(String(50))
"""
CREATE = (
    'op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True), '
    'sa.Column("name", sa.String(50)), sa.Column("legacy", sa.String(20)))'
)
DROP_LEGACY = 'op.drop_column("users", "legacy")'
DROP_NAME = 'op.drop_column("users", "name")'


def lint_item(stdout: str) -> dict[str, object]:
    return next(c for c in json.loads(stdout)["checks"] if c["name"] == "migrations pass lint")


def history(project: Project) -> None:
    """A table made, then a column of it dropped long ago: an applied, destructive revision."""
    assert project.cli("init").exit_code == 0
    write_revision(project, "aaaa00000001", None, body=CREATE)
    write_revision(project, "bbbb00000002", "aaaa00000001", body=DROP_LEGACY)


def insert_rows(url: str) -> None:
    def work(connection):  # type: ignore[no-untyped-def]
        for number in range(3):
            connection.execute(
                text("INSERT INTO users (id, name) VALUES (:id, 'x')"), {"id": number + 1}
            )

    run_with_connection(make_url(url), work)


def test_with_a_database_only_the_revisions_not_applied_there_are_linted(
    fresh_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, fresh_url, models=MODELS)
    history(project)
    assert project.cli("upgrade").exit_code == 0
    insert_rows(fresh_url)  # the table the old revision dropped a column of now has rows

    at_head = project.cli("check")
    assert at_head.exit_code == 0, at_head.output
    assert "✓ migrations pass lint: every revision is applied to" in at_head.stdout

    write_revision(project, "cccc00000003", "bbbb00000002", body=DROP_NAME)
    project.write_models(MODELS.replace("name: Mapped[str | None] = mapped_column(String(50))", ""))
    pending = project.cli("check", "--json")
    assert pending.exit_code == 1
    item = lint_item(pending.stdout)
    assert item["ok"] is False
    assert "not yet applied to" in str(item["detail"])
    assert "1 revision(s) checked" in str(item["detail"])
    assert "cccc00000003 drop-column" in str(item["detail"])
    assert "bbbb00000002" not in str(item["detail"])


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}", models=MODELS)
    history(made)
    return made


def set_baseline(project: Project, revision: str) -> None:
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.fastapi-alembic]\n", f'[tool.fastapi-alembic]\nlint-baseline = "{revision}"\n'
        )
    )


def test_without_a_database_the_baseline_decides_and_lint_still_reads_everything(
    project: Project,
) -> None:
    before = project.cli("check", "--no-database", "--json")
    assert lint_item(before.stdout)["ok"] is False  # every revision: the old drop is found

    set_baseline(project, "bbbb00000002")
    passed = project.cli("check", "--no-database", "--json")
    item = lint_item(passed.stdout)
    assert item["ok"] is True, item
    assert (
        item["detail"]
        == "no revision after the baseline bbbb00000002 (lint-baseline): nothing new to lint"
    )

    write_revision(project, "cccc00000003", "bbbb00000002", body=DROP_NAME)
    failed = project.cli("check", "--no-database", "--json")
    item = lint_item(failed.stdout)
    assert item["ok"] is False
    assert str(item["detail"]).startswith(
        "after the baseline bbbb00000002 (lint-baseline): 1 revision(s) checked"
    )
    assert "cccc00000003 drop-column" in str(item["detail"])

    everything = project.cli("lint", "--no-database", "--json")
    assert everything.exit_code == 1
    revisions = json.loads(everything.stdout)["revisions"]
    assert revisions == ["aaaa00000001", "bbbb00000002", "cccc00000003"]


def test_since_names_where_new_begins(project: Project) -> None:
    write_revision(project, "cccc00000003", "bbbb00000002", body="pass")
    result = project.cli("check", "--no-database", "--since", "bbbb", "--json")
    assert lint_item(result.stdout)["detail"] == (
        "after bbbb: 1 revision(s) checked for sqlite: 0 error(s), 0 warning(s)"
    )
    wrong = project.cli("check", "--no-database", "--since", "zzzz")
    assert wrong.exit_code == 1
    assert (
        "No revision matches 'zzzz'"
        in lint_item(project.cli("check", "--no-database", "--since", "zzzz", "--json").stdout)[
            "detail"
        ]
    )


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_since_git_lints_the_revision_files_added_or_changed_since_the_ref(
    project: Project,
) -> None:
    git(project.root, "init", "-q")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "history")
    write_revision(project, "cccc00000003", "bbbb00000002", body=DROP_NAME)
    result = project.cli("check", "--no-database", "--since-git", "HEAD", "--json")
    item = lint_item(result.stdout)
    assert str(item["detail"]).startswith("changed since HEAD (git): 1 revision(s) checked")
    assert "cccc00000003 drop-column" in str(item["detail"])

    # An edited old revision is new again; lint says which files it read.
    old = next(project.versions.glob("bbbb00000002_*.py"))
    old.write_text(old.read_text().replace(DROP_LEGACY, DROP_LEGACY + "  # reviewed"))
    lint = project.cli("lint", "--no-database", "--since-git", "HEAD", "--json")
    assert json.loads(lint.stdout)["revisions"] == ["bbbb00000002", "cccc00000003"]

    unknown = project.cli("check", "--no-database", "--since-git", "no-such-branch")
    assert unknown.exit_code == 1
    detail = lint_item(
        project.cli("check", "--no-database", "--since-git", "no-such-branch", "--json").stdout
    )["detail"]
    assert "--since-git 'no-such-branch' is not a commit git knows" in str(detail)
    assert_clean_failure(
        project.cli("lint", "--no-database", "--since-git", "no-such-branch"),
        2,
        "no-such-branch",
    )


def test_since_git_outside_a_repository_is_one_sentence(project: Project) -> None:
    result = project.cli("lint", "--no-database", "--since-git", "main")
    assert_clean_failure(result, 2, "is not in a git repository")


def test_adopt_records_the_head_as_the_baseline(tmp_path: Path) -> None:
    from tests.support.alembic_projects import AlembicProject

    project = AlembicProject.init(tmp_path, "generic")
    project.use_models()
    first = project.add_revision(CREATE.replace("sa.String(50))", "sa.String(50), nullable=False)"))
    (project.root / "alembic" / "versions" / "dddd00000002_drop_legacy.py").write_text(
        textwrap.dedent(
            f'''\
            """drop users.legacy"""
            from alembic import op
            import sqlalchemy as sa

            revision = "dddd00000002"
            down_revision = {first!r}
            branch_labels = None
            depends_on = None


            def upgrade():
                {DROP_LEGACY}


            def downgrade():
                op.add_column("users", sa.Column("legacy", sa.String(20)))
            '''
        )
    )
    adopted = project.cli("adopt", "--yes")
    assert adopted.exit_code == 0, adopted.output
    assert 'lint-baseline = "dddd00000002"' in (project.root / "pyproject.toml").read_text()
    url = f"sqlite:///{tmp_path / 'a.db'}"
    checked = project.cli("check", "--no-database", "--json", url=url)
    item = lint_item(checked.stdout)
    assert item["ok"] is True, item
    assert "nothing new to lint" in str(item["detail"])
    assert project.cli("lint", "--no-database", url=url).exit_code == 1  # the history as it is
