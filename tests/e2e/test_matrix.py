"""The bad-input matrix: scenarios x verbs. Each cell asserts the documented exit code, no
traceback, one sentence on standard error for an error, no password in the output, and the
database and the project's files unchanged.

The whole matrix runs with `make test-matrix` (pytest --matrix); the default suite runs the
scenarios in SLICE, every verb each.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from tests.support.helpers import Project, Result, head_of, snapshot, write_revision

SECRET = "S3cretPW"

# Every verb, in plain and --json form where it reports.
VERBS: dict[str, list[str]] = {
    "init": ["init"],
    "adopt": ["adopt", "--check"],
    "make": ["make", "more things"],
    "make --empty": ["make", "--empty", "by hand"],
    "upgrade": ["upgrade"],
    "upgrade --sql": ["upgrade", "--sql"],
    "downgrade": ["downgrade", "-1"],
    "status": ["status"],
    "check": ["check"],
    "current": ["current"],
    "heads": ["heads"],
    "history": ["history"],
    "show": ["show", "head"],
    "stamp": ["stamp", "head"],
    "log": ["log"],
    "merge": ["merge"],
    "test": ["test"],
    "lint": ["lint"],
}
JSON_VERBS = {
    "init",
    "adopt",
    "make",
    "upgrade",
    "downgrade",
    "status",
    "check",
    "current",
    "heads",
    "history",
    "show",
    "stamp",
    "log",
    "merge",
    "test",
    "lint",
}
# Verbs whose success writes files or the database: unchanged only when they fail.
WRITERS = {"init", "make", "make --empty", "upgrade", "downgrade", "stamp", "merge"}
ALL = frozenset(VERBS)
READ_REVISIONS = ALL - {"init", "adopt"}
# Verbs that import the app's models: those that compare them with the database. Moving or
# reading the version table (upgrade, downgrade, stamp, current) does not need them.
MODELS = frozenset({"make", "make --empty", "status", "check", "test"})
CONNECTS = frozenset(
    {
        "lint",
        "make",
        "upgrade",
        "upgrade --sql",
        "downgrade",
        "status",
        "check",
        "current",
        "stamp",
        "log",
        "test",
    }
)


@dataclass
class Scenario:
    """A bad input: how to make it, and the exit code each verb it reaches must give."""

    setup: Callable[[Project], None]
    code: int
    verbs: frozenset[str]
    phrase: str = ""
    url: str | None = None  # the DATABASE_URL for the run (default: the project's)
    # Verbs this scenario does not reach may succeed or report; these codes are allowed.
    others: frozenset[int] = field(default_factory=lambda: frozenset({0, 1, 2}))


def nothing(_: Project) -> None:
    pass


def write(relative: str, text: str) -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        path = project.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return setup


def set_metadata(reference: str) -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        named = reference.replace("{module}", project.module)
        (project.root / "pyproject.toml").write_text(
            f'[project]\nname = "demo"\n\n[tool.fastapi-alembic]\nmetadata = "{named}"\n'
        )

    return setup


def both(*steps: Callable[[Project], None]) -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        for step in steps:
            step(project)

    return setup


def duplicate_revision(project: Project) -> None:
    shutil.copy(project.revision_files()[0], project.versions / "copied_revision.py")


def two_heads(project: Project) -> None:
    base = head_of(project)
    write_revision(project, "aaaa00000001", base)
    write_revision(project, "bbbb00000002", base)


def broken_file(body: str, header: str = "") -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        write_revision(project, "c0ffee000001", head_of(project), body=body, header=header)

    return setup


def missing_parent(project: Project) -> None:
    write_revision(project, "c0ffee000003", "0000deadbeef")


def unknown_revision_in_database(project: Project) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from fastapi_alembic.dialects.engines import run_with_connection

    run_with_connection(
        make_url(project.url),
        lambda c: c.execute(text("UPDATE alembic_version SET version_num = 'feedfacecafe'")),
    )


def no_migrations_folder(project: Project) -> None:
    shutil.rmtree(project.root / "migrations")
    (project.root / "alembic.ini").unlink()


def long_label_url() -> str:
    return f"postgresql+psycopg://u:{SECRET}@{'a' * 70}.example.com/db"


SCENARIOS: dict[str, Scenario] = {
    "no database URL": Scenario(
        nothing, 2, CONNECTS - {"upgrade --sql", "test", "lint"}, "No database URL", url=""
    ),
    "URL that does not parse, password with a space": Scenario(
        nothing, 2, ALL, "is not valid", url=f"postgresql://bob:{SECRET} x@127.0.0.1:notaport/db"
    ),
    "server down, password in user info": Scenario(
        nothing,
        3,
        CONNECTS,
        "Cannot connect",
        url=f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db",
    ),
    "server down, raw @ in the password": Scenario(
        nothing,
        3,
        CONNECTS,
        "Cannot connect",
        url=f"postgresql+psycopg://u:ab@{SECRET}@127.0.0.1:1/x",
    ),
    "server down, password in the query": Scenario(
        nothing,
        3,
        CONNECTS,
        "Cannot connect",
        url=f"postgresql+psycopg://u@127.0.0.1:1/db?sslmode=disable&password={SECRET}",
    ),
    "host name label over 63 characters": Scenario(
        nothing, 3, CONNECTS, "idna", url=long_label_url()
    ),
    "database not SQLAlchemy knows": Scenario(
        nothing, 2, CONNECTS - {"lint"}, "not a database", url="nosuchdb://u:S3cretPW@h/d"
    ),
    "driver option the driver refuses": Scenario(
        nothing,
        2,
        CONNECTS - {"check", "test"},
        "does not accept the options",
        url=f"mysql+pymysql://u@127.0.0.1:1/db?pwd={SECRET}",
    ),
    "no metadata setting": Scenario(
        write("pyproject.toml", '[project]\nname = "demo"\n'),
        2,
        MODELS,
        "No models are configured",
    ),
    "metadata module missing": Scenario(
        set_metadata("no_such_models_q:Base"), 2, MODELS, "Cannot import"
    ),
    "metadata attribute missing": Scenario(
        set_metadata("{module}:Nope"), 2, MODELS, "has no attribute"
    ),
    "metadata not a MetaData": Scenario(
        set_metadata("{module}:datetime"), 2, MODELS, "not a SQLAlchemy MetaData"
    ),
    "models raise on import": Scenario(
        both(write("raising_q.py", "raise RuntimeError('boom')\n"), set_metadata("raising_q:Base")),
        2,
        MODELS,
        "RuntimeError: boom",
    ),
    "models call sys.exit(0)": Scenario(
        both(write("exiting_q.py", "import sys\nsys.exit(0)\n"), set_metadata("exiting_q:Base")),
        2,
        MODELS,
        "sys.exit(0)",
    ),
    "pyproject that is not TOML": Scenario(
        write("pyproject.toml", "[tool\n"), 2, ALL, "not valid TOML"
    ),
    "unknown setting in pyproject": Scenario(
        write("pyproject.toml", '[tool.fastapi-alembic]\nmetadata = "x:y"\nnonsense = "1"\n'),
        2,
        ALL,
        "Unknown setting",
    ),
    "no migrations folder": Scenario(
        no_migrations_folder, 2, READ_REVISIONS, "no migrations folder", others=frozenset({0, 2})
    ),
    "syntax error in a revision": Scenario(
        broken_file("def ("), 2, READ_REVISIONS - {"lint"}, "cannot be loaded"
    ),
    "failing import in a revision": Scenario(
        broken_file("pass", "import no_such_module_q"),
        2,
        READ_REVISIONS - {"lint"},
        "cannot be loaded",
    ),
    "revision that raises when run": Scenario(
        broken_file("raise RuntimeError('broken migration')"),
        3,
        frozenset({"upgrade", "upgrade --sql"}),
        "RuntimeError",
        others=frozenset({0, 1, 2, 3}),
    ),
    "missing parent revision": Scenario(
        missing_parent, 2, READ_REVISIONS - {"lint"}, "names parent revision"
    ),
    "copied revision file": Scenario(
        duplicate_revision, 2, READ_REVISIONS - {"lint"}, "defined by more than one file"
    ),
    "two heads": Scenario(two_heads, 2, frozenset({"make", "upgrade", "upgrade --sql"}), "2 heads"),
    "database at an unknown revision": Scenario(
        unknown_revision_in_database,
        3,
        frozenset({"make", "upgrade", "status", "downgrade"}),
        "feedfacecafe",
        others=frozenset({0, 1, 2, 3}),
    ),
    "mistyped SQLite path": Scenario(
        nothing,
        3,
        frozenset({"status", "current", "upgrade --sql", "make"}),
        "unable to open",
        url="sqlite:///{root}/no/such/folder/app.db",
        others=frozenset({0, 1, 2, 3}),
    ),
}
SLICE = [
    "URL that does not parse, password with a space",
    "server down, raw @ in the password",
    "copied revision file",
    "mistyped SQLite path",
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    root = tmp_path / "app"
    root.mkdir()
    made = Project.create(root, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    assert made.cli("upgrade").exit_code == 0
    return made


def without_url(project: Project, args: list[str]) -> Result:
    """Run a verb with DATABASE_URL empty (Project.cli falls back to the project's URL)."""
    cwd = Path.cwd()
    os.chdir(project.root)
    try:
        outcome = CliRunner().invoke(app, args, env={"DATABASE_URL": ""})
    finally:
        os.chdir(cwd)
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        raise outcome.exception
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def restore(root: Path, files: dict[str, bytes], folders: set[Path]) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if (
            path.is_file()
            and str(path.relative_to(root)) not in files
            and "__pycache__" not in path.parts
        ):
            path.unlink()
        elif path.is_dir() and path not in folders and "__pycache__" not in path.parts:
            shutil.rmtree(path)
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def run_row(project: Project, name: str) -> None:
    scenario = SCENARIOS[name]
    scenario.setup(project)
    url = project.url if scenario.url is None else scenario.url.format(root=project.root)
    before_db, before_files = snapshot(project.url), files_of(project.root)
    folders = {p for p in project.root.rglob("*") if p.is_dir()}
    database = Path(project.url.removeprefix("sqlite:///"))
    saved_database = database.read_bytes()
    problems: list[str] = []
    for verb, arguments in VERBS.items():
        for as_json in (False, True) if verb in JSON_VERBS else (False,):
            args = [a.replace("{module}", project.module) for a in arguments]
            args += ["--json"] if as_json else []
            cell = f"{name} x {' '.join(args)}"
            result = project.cli(*args, url=url) if url else without_url(project, args)
            expected = {scenario.code} if verb in scenario.verbs else scenario.others
            if result.exit_code not in expected:
                problems.append(
                    f"{cell}: exit {result.exit_code}, expected {sorted(expected)}: {result.output[-300:]}"
                )
            if "Traceback" in result.output:
                problems.append(f"{cell}: traceback: {result.output[-300:]}")
            if SECRET in result.output:
                problems.append(f"{cell}: the password is printed: {result.output[-300:]}")
            if result.exit_code >= 2:
                lines = result.stderr.strip().splitlines()
                if len(lines) != 1 or not lines[0].startswith("Error: "):
                    problems.append(f"{cell}: not one sentence: {result.stderr[-300:]}")
                elif verb in scenario.verbs and scenario.phrase not in lines[0]:
                    problems.append(f"{cell}: {scenario.phrase!r} not in {lines[0]}")
            if as_json and result.exit_code in (0, 1) and result.stdout.strip():
                # upgrade and downgrade print JSON Lines (events, then the result).
                lines = result.stdout.strip().splitlines()
                documents = lines if verb in ("upgrade", "downgrade") else [result.stdout]
                try:
                    for document in documents:
                        json.loads(document)
                except ValueError:
                    problems.append(f"{cell}: --json printed no JSON document")
            if result.exit_code != 0 or verb not in WRITERS:
                if snapshot(project.url) != before_db:
                    problems.append(f"{cell}: the database changed")
                if files_of(project.root) != before_files:
                    problems.append(f"{cell}: the project's files changed")
                if {p for p in project.root.rglob("*") if p.is_dir()} - folders:
                    problems.append(f"{cell}: a folder was created")
            # A verb that rightly wrote something: put the project back for the next cell.
            restore(project.root, before_files, folders)
            database.write_bytes(saved_database)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SLICE)
def test_bad_input_slice(project: Project, name: str) -> None:
    run_row(project, name)


@pytest.mark.matrix
@pytest.mark.parametrize("name", [n for n in SCENARIOS if n not in SLICE])
def test_bad_input_matrix(project: Project, name: str) -> None:
    run_row(project, name)


def test_every_sentence_of_the_matrix_is_in_the_errors_page() -> None:
    page = (Path(__file__).parents[2] / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = [name for name, scenario in SCENARIOS.items() if scenario.phrase not in page]
    assert not missing, f"docs/errors.md does not show the sentence for: {missing}"
