"""The safe way is written for the finding: the finding's own table, column, index and types,
Python that parses, SQL that parses for the finding's backend, advice that does not trip the
rule it answers, and, for the labelled corpus's dangerous revisions, code that runs on a real
database of that backend."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlglot
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import MigrationFailed
from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.engine import lint
from fastapi_alembic.lint.model import Finding
from fastapi_alembic.lint.rules import BY_ID
from tests.support.backends import require_server
from tests.support.lint_corpus import BASE, BASE_DOWN, CORPUS, Entry
from tests.support.lint_helpers import BASE_SCHEMA, lint_snippet, load, revision_source
from tests.support.lint_rule_cases import CASES

SQLGLOT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}

# The cases' tables and columns under other names: advice that still says "users" or "posts"
# was written for an example, not for the finding.
NAMES = {
    r"\busers\b": "members",
    r"\bposts\b": "articles",
    r"\bname\b(?!=)": "nickname",
    r"\btitle\b(?!=)": "headline",
    r"\bowner_id\b": "author_id",
    r"\bemail\b": "mail",
}
EXAMPLE_TABLES = re.compile(r"\b(users|posts|orders|events|accounts)\b")

#: Rules whose advice is the safe replacement within the same revision: linting the advice
#: must not find the rule again. (Data-loss and compatibility advice spans releases.)
SAME_REVISION = {
    "create-index-not-concurrently",
    "concurrently-outside-autocommit",
    "drop-index-not-concurrently",
    "constraint-without-not-valid",
    "unique-constraint-directly",
    "set-not-null",
    "add-column-volatile-default",
    "add-primary-key",
    "add-serial-column",
    "missing-lock-timeout",
    "mysql-online-ddl",
    "mysql-enum-order",
    "not-null-column-without-default",
    "unbatched-data-change",
    "alter-column-type-rewrite",
}


def renamed(text: str) -> str:
    for pattern, name in NAMES.items():
        text = re.sub(pattern, name, text)
    return text


def sql_in(code: str) -> list[str]:
    """The SQL strings the advice runs: op.execute("...") and sa.text("...")."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"execute", "text"}
            and node.args
        ):
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append(argument.value)
    return found


RUFF = Path(sys.executable).parent / "ruff"


def ruff_formatted(code: str) -> str:
    """``code`` as `ruff format` writes it (the project's settings: 100 columns)."""
    done = subprocess.run(
        [str(RUFF), "format", "--line-length", "100", "-"],
        input=code + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.rstrip("\n")


def assert_valid(finding: Finding, backend: str) -> None:
    tree = ast.parse(finding.safe)  # Python one can paste
    assert tree is not None
    if RUFF.exists():  # laid out as the project's own code is
        assert ruff_formatted(finding.safe) == finding.safe, finding.safe
    for statement in sql_in(finding.safe):
        parsed = sqlglot.parse(statement, read=SQLGLOT[backend])
        assert parsed and all(e is not None for e in parsed), statement


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_rules_advice_names_the_finding_and_parses(
    rule_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "app" / "myapp_lint"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("import sqlalchemy as sa\nUser = sa.table('members')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "app"))
    case, rule = CASES[rule_id], BY_ID[rule_id]
    for backend in rule.backends:
        report = lint_snippet(
            tmp_path,
            renamed(case.trigger),
            renamed(case.trigger_down) if case.trigger_down is not None else None,
            header=case.header,
            backends=(backend,),
            setup=renamed(BASE_SCHEMA),
        )
        findings = [f for f in report.findings if f.rule == rule_id]
        assert findings, (backend, [f.message for f in report.findings])
        for finding in findings:
            assert_valid(finding, backend)
            assert not EXAMPLE_TABLES.search(finding.safe), (backend, finding.safe)
            if finding.table:
                assert finding.table in finding.safe, (backend, finding.safe)
            if finding.column and finding.column in finding.message:
                assert finding.column in finding.safe, (backend, finding.safe)
            if rule_id in SAME_REVISION:
                again = lint_snippet(
                    tmp_path,
                    finding.safe,
                    None,
                    backends=(backend,),
                    setup=renamed(BASE_SCHEMA),
                )
                assert rule_id not in {f.rule for f in again.findings}, (
                    backend,
                    finding.safe,
                    [f.message for f in again.findings],
                )


def test_the_example_advice_in_the_docs_parses() -> None:
    for rule in BY_ID.values():
        ast.parse(rule.safe)
        for statement in sql_in(rule.safe):
            # unparsed-sql's advice runs the statement only on the backend it is written for
            backend = "postgresql" if rule.id == "unparsed-sql" else rule.example.backend
            assert sqlglot.parse(statement, read=SQLGLOT[backend]), (rule.id, statement)


def test_an_unnamed_foreign_key_is_named_in_the_message_and_the_advice(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        'op.create_foreign_key(None, "posts", "users", ["owner_id"], ["id"], ondelete="CASCADE")',
        backends=("postgresql",),
    )
    finding = next(f for f in report.findings if f.rule == "constraint-without-not-valid")
    assert "  " not in finding.message, finding.message
    assert finding.message.startswith("adds an unnamed foreign key (owner_id) on posts")
    assert '"fk_posts_owner_id_users"' in finding.safe
    assert 'ondelete="CASCADE"' in finding.safe  # the same key, its ON DELETE kept
    assert "postgresql_not_valid=True" in finding.safe
    assert "VALIDATE CONSTRAINT fk_posts_owner_id_users" in finding.safe


# -- the corpus's dangerous revisions: the advice runs ----------------------------------------


def _server(backend: str) -> str | None:
    if backend == "sqlite":
        return None
    return require_server({"postgresql": "postgres", "mysql": "mysql"}[backend])


REVISION = """\
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {parent!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}
{downgrade}
"""


def _revision(folder: Path, revision: str, parent: str | None, up: str, down: str) -> None:
    body = textwrap.indent(textwrap.dedent(up).strip() + "\npass", "    ")
    down = textwrap.dedent(down).strip() or "pass"
    if not down.startswith("def downgrade"):
        down = "def downgrade():\n" + textwrap.indent(down, "    ")
    text = REVISION.format(revision=revision, parent=parent, upgrade=body, downgrade="\n\n" + down)
    (folder / f"{revision}_advice.py").write_text(text)


def _apply(url: str, root: Path, entry: Entry, finding: Finding) -> bool:
    """Run the advice as a revision on top of the base schema (through our upgrade and
    downgrade, env.py and all); False when the entry's own upgrade cannot run there."""
    root.mkdir()
    (root / "advice_models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "advice"\n\n[tool.fastapi-alembic]\nmetadata = "advice_models:metadata"\n'
    )
    Migrations(root=root, url=url).init()
    versions = root / "migrations" / "versions"
    _revision(versions, "a0base", None, BASE, BASE_DOWN)
    if finding.direction == "upgrade":
        _revision(versions, "a1advice", "a0base", finding.safe, "pass")
        Migrations(root=root, url=url).upgrade(accept_data_loss=True)
        return True
    _revision(versions, "a1advice", "a0base", entry.upgrade, finding.safe)
    try:
        Migrations(root=root, url=url).upgrade(accept_data_loss=True)
    except MigrationFailed:
        return False  # the corpus's example does not run here itself (vendor SQL, say)
    try:
        Migrations(root=root, url=url).downgrade("a0base")
    except MigrationFailed as error:  # one-way on purpose, and it says so
        assert "irreversible" in str(error), error
    return True


@contextmanager
def _scratch(server: str | None, sqlite_file: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or one on the server, dropped after."""
    if server is None:
        yield f"sqlite:///{sqlite_file}"
        return
    dialect = for_url(make_url(server))
    scratch = dialect.create_database(make_url(server), dialect.scratch_name("advice"))
    try:
        yield scratch.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(scratch)


def _dangerous(backend: str) -> list[Entry]:
    return [e for e in CORPUS if e.dangerous and e.backend == backend]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_the_advice_for_the_corpus_runs_on_a_real_database(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.lint_corpus import prepare_app

    prepare_app(tmp_path)
    server = _server(backend)
    base = load(tmp_path, revision_source(BASE), "base0advice0")
    ran = 0
    for entry in _dangerous(backend):
        revision = load(tmp_path, revision_source(entry.upgrade, entry.downgrade, entry.header))
        report = lint([base, revision], {revision.revision}, Environment(backends=(backend,)))
        for number, finding in enumerate(report.findings):
            root = tmp_path / f"{revision.revision}_{number}"
            with _scratch(server, tmp_path / f"{root.name}.db") as url:
                try:
                    ran += _apply(url, root, entry, finding)
                except Exception as error:
                    raise AssertionError(
                        f"{entry.name}: {finding.rule}'s advice failed on {backend}: {error}\n"
                        f"{finding.safe}"
                    ) from error
    assert ran >= 5
