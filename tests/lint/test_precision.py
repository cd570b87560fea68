"""What a CI gate needs from lint: downgrades judged as downgrades, the project's own backends,
and none of the false alarms real histories raised."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.settings import LintSettings, lint_settings
from tests.support.helpers import Project
from tests.support.lint_helpers import lint_snippet, rules_found

WIDEN_VARCHAR = (
    'op.alter_column("posts", "title", type_=sa.String(300), existing_type=sa.String(200))',
    'op.alter_column("posts", "title", type_=sa.String(200), existing_type=sa.String(300))',
)
VARCHAR_TO_TEXT = (
    'op.alter_column("posts", "title", type_=sa.Text(), existing_type=sa.String(200))',
    'op.alter_column("posts", "title", type_=sa.String(200), existing_type=sa.Text())',
)


@pytest.mark.parametrize(
    ("change", "backends"),
    [
        (WIDEN_VARCHAR, ("postgresql", "mysql", "sqlite")),
        # MySQL copies the table to turn a VARCHAR into a TEXT (mysql-online-ddl, rightly).
        (VARCHAR_TO_TEXT, ("postgresql", "sqlite")),
    ],
    ids=["varchar(200)->varchar(300)", "varchar->text"],
)
def test_a_widening_passes_its_narrowing_downgrade_is_a_warning(
    tmp_path: Path, change: tuple[str, str], backends: tuple[str, ...]
) -> None:
    report = lint_snippet(
        tmp_path,
        *change,
        backends=backends,
        environment=Environment(backends=backends, runner_lock_timeout=5),
    )
    assert report.ok, [(f.rule, f.severity, f.message) for f in report.findings]
    narrowing = [f for f in report.findings if f.rule == "narrowing-type-change"]
    assert narrowing and all(f.direction == "downgrade" for f in narrowing)
    assert {f.severity for f in narrowing} == {Severity.WARNING}
    assert narrowing[0].message.startswith("downgrade() changes posts.title")


def test_a_setting_makes_downgrade_findings_errors_and_upgrades_keep_theirs(
    tmp_path: Path,
) -> None:
    strict = lint_settings({"downgrade-severity": "error"}, {"narrowing-type-change"})
    report = lint_snippet(tmp_path, *WIDEN_VARCHAR, backends=("sqlite",), settings=strict)
    assert [f.severity for f in report.findings if f.rule == "narrowing-type-change"] == [
        Severity.ERROR
    ]
    assert not report.ok
    dropped = lint_snippet(
        tmp_path,
        'op.drop_column("posts", "title")',
        backends=("sqlite",),
        settings=LintSettings(),
    )
    assert [f.severity for f in dropped.findings if f.rule == "drop-column"] == [Severity.ERROR]
    with pytest.raises(Exception, match="downgrade-severity"):
        lint_settings({"downgrade-severity": "fatal"}, set())


POSTGRES_ONLY = (
    'op.execute("ALTER TABLE posts ADD CONSTRAINT fk_posts_owner FOREIGN KEY (owner_id) '
    'REFERENCES users (id) NOT VALID")\n'
    'op.execute("ALTER TABLE posts VALIDATE CONSTRAINT fk_posts_owner")'
)


def test_the_projects_dialects_decide_the_backends_linted(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "")
    assert project.cli("init", url=f"sqlite:///{tmp_path / 'x.db'}").exit_code == 0
    write_revision(
        project,
        "aaaa00000001",
        None,
        body='op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))\n'
        'op.create_table("posts", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("owner_id", sa.Integer()))',
    )
    write_revision(project, "bbbb00000002", "aaaa00000001", body=POSTGRES_ONLY)
    # No URL, no setting: every backend, and MySQL cannot take this statement online.
    everywhere = project.cli("lint", "--no-database", "--json", url="")
    assert json.loads(everywhere.stdout)["backends"] == ["postgresql", "mysql", "sqlite"]
    assert everywhere.exit_code == 1
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.fastapi-alembic]\n", '[tool.fastapi-alembic]\ndialects = ["postgresql"]\n'
        )
    )
    configured = project.cli("lint", "--no-database", "--json", url="")
    report = json.loads(configured.stdout)
    assert report["backends"] == ["postgresql"]
    assert configured.exit_code == 0, report["findings"]
    # A SQLite URL for local work does not override what the project says it runs on.
    local = project.cli("lint", "--json", url=f"sqlite:///{tmp_path / 'x.db'}")
    assert json.loads(local.stdout)["backends"] == ["postgresql"]
    pyproject.write_text(pyproject.read_text().replace('["postgresql"]', '["oracle"]'))
    wrong = project.cli("lint", "--no-database", url="")
    assert wrong.exit_code == 2
    assert "dialects under [tool.fastapi-alembic]" in wrong.stderr
    assert "'oracle'" in wrong.stderr


def write_revision(
    project: Project, revision: str, parent: str | None, body: str = "pass", header: str = ""
) -> None:
    """A revision file; ``body`` may span lines (indented as upgrade()'s body)."""
    lines = [
        f'"""{revision}"""',
        header,
        "from alembic import op",
        "import sqlalchemy as sa",
        "",
        f"revision = {revision!r}",
        f"down_revision = {parent!r}",
        "",
        "",
        "def upgrade():",
        textwrap.indent(textwrap.dedent(body).strip(), "    "),
        "",
        "",
        "def downgrade():",
        "    pass",
        "",
    ]
    (project.versions / f"{revision}_r.py").write_text("\n".join(lines))


# -- false alarms real histories raised ---------------------------------------------------------


def test_a_rename_of_what_the_same_revision_made_is_no_rename_of_live_data(
    tmp_path: Path,
) -> None:
    report = lint_snippet(
        tmp_path,
        """
        op.add_column("users", sa.Column("fullname", sa.String(100)))
        op.alter_column("users", "fullname", new_column_name="full_name")
        op.create_table("tmp_tags", sa.Column("id", sa.Integer(), primary_key=True))
        op.rename_table("tmp_tags", "tags")
        op.create_index("ix_tags_id", "tags", ["id"])
        """,
        backends=("postgresql", "sqlite"),
        environment=Environment(backends=("postgresql", "sqlite"), runner_lock_timeout=5),
    )
    found = rules_found(report)
    assert not found & {"rename-column", "rename-table", "create-index-not-concurrently"}, found


def test_dropping_an_index_right_before_its_table_is_no_lock_problem(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        'op.drop_index("ix_posts_title", table_name="posts")\nop.drop_table("posts")',
        backends=("postgresql",),
        environment=Environment(backends=("postgresql",), runner_lock_timeout=5),
    )
    assert "drop-index-not-concurrently" not in rules_found(report)
    assert "drop-table" in rules_found(report)  # the drop itself is still a finding


def test_a_finding_names_each_backend_once(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        """
        for _ in range(2):
            op.execute("UPDATE users SET name = 'x'")
        """,
    )
    findings = [f for f in report.findings if f.rule == "unbatched-data-change"]
    named = [backend for f in findings for backend in f.backends]
    # MySQL's batches are written another way, so its finding (and advice) is its own.
    assert sorted(named) == ["mysql", "postgresql", "sqlite"], [f.backends for f in findings]


def test_column_types_the_template_imports_are_not_app_models(tmp_path: Path) -> None:
    """A project whose script.py.mako imports its column types module into every revision."""
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    types = project.root / "myapp"
    (types / "models").mkdir(parents=True)
    (types / "__init__.py").write_text("")
    (types / "models" / "__init__.py").write_text("User = None\n")
    (types / "models" / "types.py").write_text("import sqlalchemy as sa\nGUID = sa.String\n")
    mako = project.root / "migrations" / "script.py.mako"
    mako.write_text(
        mako.read_text().replace(
            "import sqlalchemy as sa\n", "import sqlalchemy as sa\nimport myapp.models.types\n", 1
        )
    )
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(f'"{project.module}:Base"', '"myapp.models:Base"')
    )
    write_revision(
        project,
        "aaaa00000001",
        None,
        header="import myapp.models.types",
        body='op.create_table("users", sa.Column("id", myapp.models.types.GUID(32), primary_key=True))',
    )
    result = project.cli("lint", "--no-database", "--json")
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "imports-app-models" not in rules, result.stdout
    write_revision(project, "bbbb00000002", "aaaa00000001", header="from myapp.models import User")
    result = project.cli("lint", "--no-database", "--json")
    flagged = [
        f for f in json.loads(result.stdout)["findings"] if f["rule"] == "imports-app-models"
    ]
    assert [f["revision"] for f in flagged] == ["bbbb00000002"]
