"""The command line's surface: the verb table against the registered commands and docs/cli.md,
help texts, --version, shell completion, and -v / --name on either side of the verb."""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import fastapi_alembic
from fastapi_alembic.cli import app
from fastapi_alembic.cli.options import ALWAYS, SHARED_OPTIONS
from fastapi_alembic.cli.verbs import VERBS
from tests.support.helpers import BIN, Project, head_of, write_revision

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
ALWAYS_FLAGS = {flag for o in SHARED_OPTIONS if o.name in ALWAYS for flag in o.flags}
URL_FLAGS = {"--url"}
METADATA_FLAGS = {"--metadata"}


def _command() -> typer.core.TyperGroup:
    return typer.main.get_command(app)  # type: ignore[return-value]


def _registered_flags(verb: str) -> set[str]:
    command = _command().commands[verb]  # type: ignore[attr-defined]
    return {
        flag
        for param in command.params
        if param.param_type_name == "option"
        for flag in (*param.opts, *param.secondary_opts)
    }


def _documented() -> dict[str, tuple[bool, bool, set[str]]]:
    """docs/cli.md's verb table: verb -> (takes --url, takes --metadata, its own options)."""
    text = DOCS.read_text()
    section = text[text.index("## Verbs and their options") :]
    section = section[: section.index("\n## ", 1)]
    rows: dict[str, tuple[bool, bool, set[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        verb = cells[0].strip("`").split()[0]
        own = set(re.findall(r"`(-[-\w]+)`", cells[3]))
        rows[verb] = (cells[1] == "✓", cells[2] == "✓", own)
    return rows


def test_the_verb_table_registers_every_verb_in_order() -> None:
    assert list(_command().commands) == [verb.name for verb in VERBS]  # type: ignore[attr-defined]


def test_every_verb_takes_the_shared_options_its_row_says() -> None:
    for verb in VERBS:
        flags = _registered_flags(verb.name)
        assert flags >= ALWAYS_FLAGS, verb.name
        assert ("--url" in flags) == verb.url, verb.name
        assert ("--metadata" in flags) == verb.metadata, verb.name


def test_docs_cli_table_is_the_command_line() -> None:
    """Each documented option exists on its verb, and each registered option is documented."""
    documented = _documented()
    assert list(documented) == [verb.name for verb in VERBS]
    for verb in VERBS:
        url, metadata, own = documented[verb.name]
        assert (url, metadata) == (verb.url, verb.metadata), verb.name
        expected = (
            ALWAYS_FLAGS
            | (URL_FLAGS if url else set())
            | (METADATA_FLAGS if metadata else set())
            | own
        )
        assert _registered_flags(verb.name) == expected, verb.name


def test_the_options_cli_md_says_every_verb_takes_are_on_every_verb() -> None:
    """docs/cli.md's "Every verb takes these" table names exactly the options on every verb."""
    text = DOCS.read_text()
    section = text[text.index("Every verb takes these:") : text.index("and where they apply:")]
    claimed = {
        flag
        for row in section.splitlines()
        if row.startswith("| `")
        for flag in re.findall(r"`(-[-\w]+)", row.split("|")[1])
    }
    assert claimed == ALWAYS_FLAGS
    for verb in VERBS:
        assert _registered_flags(verb.name) >= claimed, verb.name


def _help(*args: str) -> str:
    # Wide enough that Rich wraps nothing: a line break left in the output is in the text.
    result = CliRunner().invoke(app, [*args, "--help"], env={"TERMINAL_WIDTH": "1000"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_help_texts_have_no_hard_line_breaks() -> None:
    """A docstring wrapped in the source must not show as broken lines: each verb's
    description reads whole in its own help and in the verb list, and so does each option's."""
    listing = _help()
    for verb in VERBS:
        command = _command().commands[verb.name]  # type: ignore[attr-defined]
        description = command.help or ""
        paragraphs = description.split("\n\n")
        assert all("\n" not in paragraph for paragraph in paragraphs), verb.name
        own = _help(verb.name)
        for paragraph in paragraphs:
            assert _flat(paragraph) in own, (verb.name, paragraph)
        assert _flat(paragraphs[0]) in listing, verb.name
        for param in command.params:
            assert "\n" not in (getattr(param, "help", None) or ""), (verb.name, param.name)
    for param in _command().params:
        assert "\n" not in (getattr(param, "help", None) or ""), param.name


def test_flags_show_no_value_placeholder() -> None:
    assert "<bool>" not in _help()
    for verb in VERBS:
        shown = _help(verb.name)
        assert "<bool>" not in shown, verb.name
        assert "--json" in shown and "--verbose" in shown


def test_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    installed = version("fastapi-alembic")
    assert fastapi_alembic.__version__ == installed
    for flag in ("--version", "-V"):
        shown = subprocess.run(
            [str(BIN / "fastapi-alembic"), flag], capture_output=True, text=True, check=False
        )
        assert (shown.returncode, shown.stdout) == (0, f"fastapi-alembic {installed}\n")

    def not_installed(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr("importlib.metadata.version", not_installed)
    assert fastapi_alembic._version() == fastapi_alembic.UNKNOWN_VERSION == "0+unknown"


def _complete(words: str) -> list[str]:
    env = {
        **os.environ,
        "_FASTAPI_ALEMBIC_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    done = subprocess.run(
        [str(BIN / "fastapi-alembic")], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion() -> None:
    # --show-completion prints the script of the shell it runs in (Typer detects it from the
    # parent processes and takes no argument): run from bash, as a user types it.
    command = f"{BIN / 'fastapi-alembic'} --show-completion"
    script = subprocess.run(
        ["bash", "-c", f"{command}; exit $?"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert script.returncode == 0, script.stderr
    assert "_FASTAPI_ALEMBIC_COMPLETE=complete_bash" in script.stdout
    assert "--install-completion" in _help()
    assert _complete("fastapi-alembic upg") == ["upgrade"]
    assert _complete("fastapi-alembic upgrade --lock") == [
        "--lock-wait",
        "--lock-timeout",
        "--lock-retries",
    ]


# -- -v and --name, before or after the verb ------------------------------------------------


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    return made


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_alembics_info_lines_before_or_after_the_verb(
    sqlite_project: Project, where: str
) -> None:
    """On an env.py written by init (Alembic's logger has only its NullHandler), -v prints
    Alembic's own INFO lines on standard error; without -v there are none."""
    head = head_of(sqlite_project)
    quiet = sqlite_project.run("upgrade")
    assert quiet.exit_code == 0, quiet.output
    assert "INFO" not in quiet.output
    assert sqlite_project.run("downgrade", "base").exit_code == 0
    args = ["-v", "upgrade"] if where == "before" else ["upgrade", "-v"]
    loud = sqlite_project.run(*args)
    assert loud.exit_code == 0, loud.output
    assert "INFO  [alembic.runtime.migration] Context impl SQLiteImpl." in loud.stderr
    assert re.search(rf"INFO  \[alembic\.runtime\.migration\] Running \w+  -> {head}", loud.stderr)
    assert "INFO" not in loud.stdout


def test_name_before_or_after_the_verb(sqlite_project: Project) -> None:
    """--name picks the alembic.ini section (and so its script_location) either side."""
    root = sqlite_project.root
    (root / "migrations").rename(root / "dev_migrations")
    ini = root / "alembic.ini"
    ini.write_text(ini.read_text() + "\n[dev]\nscript_location = %(here)s/dev_migrations\n")
    head = (next((root / "dev_migrations" / "versions").glob("*.py"))).name.split("-")[1][:12]
    missing = sqlite_project.cli("heads")
    assert missing.exit_code == 2, missing.output
    for args in (("--name", "dev", "heads"), ("heads", "--name", "dev"), ("heads", "-n", "dev")):
        found = sqlite_project.cli(*args)
        assert found.exit_code == 0, (args, found.output)
        assert found.stdout.startswith(head), (args, found.output)


def test_lint_lists_its_rules_in_json() -> None:
    listed = CliRunner().invoke(app, ["lint", "--rules", "--json"])
    assert listed.exit_code == 0, listed.output
    rules = {rule["id"]: rule for rule in json.loads(listed.stdout)}
    assert rules["drop-mapped-column"]["severity"] == "error"
    assert set(rules["drop-mapped-column"]) == {"id", "severity", "backends", "title"}


def test_init_reports_in_json(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    made = project.cli("init", "--json")
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert report["directory"] == str(tmp_path / "migrations")
    assert report["metadata"] == f"{project.module}:Base"
    assert str(tmp_path / "migrations" / "env.py") in report["written"]
    assert (tmp_path / "migrations" / "env.py").is_file()
    assert not (tmp_path / "app.db").exists()


# -- an env.py not wired for us: verbs that do not need the models do not ask for them -------


def _unadopted(tmp_path: Path, url: str) -> Project:
    """Alembic's generic template, ``target_metadata = None`` as it writes it, its ini's URL
    the database given, and no metadata setting anywhere."""
    from alembic import command
    from alembic.config import Config

    project = Project.create(tmp_path, url)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    config = Config(str(tmp_path / "alembic.ini"))
    command.init(config, str(tmp_path / "alembic"), template="generic")
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        re.sub(
            r"(?m)^sqlalchemy\.url = .*$",
            "sqlalchemy.url = " + url.replace("%", "%%"),
            ini.read_text(),
        )
    )
    versions = tmp_path / "alembic" / "versions"
    (versions / "a1_users.py").write_text(
        textwrap.dedent(
            '''\
            """create users"""
            from alembic import op
            import sqlalchemy as sa

            revision = "a1a1a1a1a1a1"
            down_revision = None
            branch_labels = None
            depends_on = None


            def upgrade():
                op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(50)))


            def downgrade():
                op.drop_table("users")
            '''
        )
    )
    return project


def test_unadopted_env_py_verbs_take_metadata_consistently(fresh_url: str, tmp_path: Path) -> None:
    project = _unadopted(tmp_path, fresh_url)
    models = f"{project.module}:Base"
    for args in (
        ("upgrade",),
        ("current",),
        ("current", "--check"),
        ("history",),
        ("history", "--metadata", models),
        ("log",),
        ("lint",),
        ("lint", "--metadata", models),
        ("stamp", "a1a1a1a1a1a1"),
        ("upgrade", "--metadata", models),
        ("history", "--url", fresh_url, "--metadata", models),
        ("heads", "--url", fresh_url, "--metadata", models),
        ("show", "a1a1a1a1a1a1", "--url", fresh_url, "--metadata", models),
    ):
        done = project.cli(*args)
        assert done.exit_code == 0, (args, done.output)
    assert project.cli("current").stdout.strip() == "a1a1a1a1a1a1 (head)"
    down = project.cli("downgrade", "base")
    assert down.exit_code == 0, down.output
    # status compares the models: without them it says so, and with them it works.
    refused = project.cli("status")
    assert refused.exit_code == 2 and "No models are configured" in refused.stderr
    assert project.cli("status", "--metadata", models).exit_code == 0


def test_lint_reads_the_models_given_with_metadata(sqlite_project: Project) -> None:
    """drop-mapped-column needs the models: with --metadata naming them it fires, and with
    no metadata setting it cannot (the rule is skipped, nothing else changes)."""
    sqlite_project.cli("upgrade")
    write_revision(
        sqlite_project,
        "d0d0d0d0d0d0",
        head_of(sqlite_project),
        body="op.drop_column('users', 'email')",
    )
    (sqlite_project.root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    models = f"{sqlite_project.module}:Base"
    without = sqlite_project.cli("lint", "--json", "--no-database")
    rules = {f["rule"] for f in json.loads(without.stdout)["findings"]}
    assert "drop-mapped-column" not in rules
    given = sqlite_project.cli("lint", "--json", "--no-database", "--metadata", models)
    rules = {f["rule"] for f in json.loads(given.stdout)["findings"]}
    assert "drop-mapped-column" in rules, given.output
