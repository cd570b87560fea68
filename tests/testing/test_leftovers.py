"""`fastapi-alembic test --list-templates` / `--drop-templates`: the test databases this
project made on a server, under a prefix, and never a database that is not ours."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.database_names import (
    DEFAULT_PREFIX,
    app_tag,
    host_tag,
    parse,
    prefix_problem,
    scratch_name,
    template_name,
    unique_name,
)
from fastapi_alembic.dialects import for_url
from fastapi_alembic.testing.templates import TemplateDatabases
from tests.support.helpers import BIN, Result, assert_clean_failure
from tests.support.histories import dead_pid, new_history, server_for


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    done = subprocess.run(
        [str(BIN / "fastapi-alembic"), "test", *args],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def a_prefix() -> str:
    """A prefix of this test's own: other runs on the shared servers have theirs."""
    return f"faatest{uuid.uuid4().hex[:6]}"


def test_names_are_recognised_exactly() -> None:
    prefix = "faa"
    app, host = "a1b2c3", host_tag()
    ours = [
        template_name(prefix, app, "0123456789ab"),
        unique_name(prefix, "c", app),
        unique_name(prefix, "b", app),
        scratch_name(prefix, "suite_up"),
    ]
    assert [parse(prefix, name).kind for name in ours] == ["t", "c", "b", "s"]  # type: ignore[union-attr]
    assert parse(prefix, ours[1]).pid == os.getpid()  # type: ignore[union-attr]
    not_ours = [
        "faa_customers",
        "faa_t_a1b2c3_0123456789ab_backup",
        "faa_t_a1b2c3_not_hex_key",
        f"faa_c_{app}_{host}_12345_deadbeef_x",
        f"faa_c_{app}_{host}_123456789012_deadbeef",  # not a process id
        "faax_t_a1b2c3_0123456789ab",
        "fmt_a1b2c3_0123456789ab",  # the old scheme: not this prefix's
        f"faa_x_{app}_{host}_12345_deadbeef",
    ]
    assert [name for name in not_ours if parse(prefix, name) is not None] == []
    assert all(len(name) <= 63 for name in ours)
    assert all(len(unique_name("p" * 20, "c", app)) <= 63 for _ in range(3))
    assert DEFAULT_PREFIX == "faa"
    assert prefix_problem("faa") is None and prefix_problem("my_team2") is None
    for bad in ("", "FAA", "faa_", "1faa", "fa-a", "a" * 21, "faa; drop"):
        assert prefix_problem(bad) is not None, bad


def test_list_and_drop_on_a_server(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    server = server_for(backend, tmp_path)
    prefix = a_prefix()
    dialect = for_url(make_url(server))
    dbs = TemplateDatabases(history.migrations(), server, prefix=prefix, recycle=False)
    decoys = [f"{prefix}_customers", f"{prefix}_t_{dbs.app}_notahexkey12", f"{prefix}x_t_ab"]
    try:
        template = dbs.template()
        live = dbs.store.name_of(dbs.create())  # a copy this (running) process holds
        leftover = f"{prefix}_c_{dbs.app}_{dbs.host}_{dead_pid()}_deadbeef"
        dbs.store.copy(template, leftover)
        other_host = "0000" if dbs.host != "0000" else "ffff"
        elsewhere = f"{prefix}_c_{dbs.app}_{other_host}_4242_cafebabe"
        dbs.store.copy(template, elsewhere)
        scratch = f"{prefix}_s_check_{dbs.host}_{dead_pid()}_0badf00d"
        for name in (scratch, *decoys):
            dialect.create_database(make_url(server), name)

        listed = cli(history.root, "--list-templates", "--url", server, "--prefix", prefix)
        assert listed.exit_code == 0, listed.output
        assert f"Test databases named {prefix}_… on " in listed.stdout
        assert "template, this project" in listed.stdout
        assert f"made by process {os.getpid()} on this machine (still running)" in listed.stdout
        as_json = cli(
            history.root, "--list-templates", "--url", server, "--prefix", prefix, "--json"
        )
        found = {d["name"]: d for d in json.loads(as_json.stdout)["databases"]}
        assert set(found) == {template, live, leftover, elsewhere, scratch}
        assert found[template]["kind"] == "template" and found[template]["this_project"]
        assert found[live]["in_use"] and not found[leftover]["in_use"]
        assert found[elsewhere]["pid"] is None and found[scratch]["kind"] == "scratch"

        dropped = cli(
            history.root, "--drop-templates", "--url", server, "--prefix", prefix, "--json"
        )
        assert dropped.exit_code == 0, dropped.output
        report = json.loads(dropped.stdout)
        assert set(report["dropped"]) == {template, leftover, elsewhere, scratch}
        assert [kept["name"] for kept in report["kept"]] == [live]
        # What is not ours, and what is in use, is still there.
        assert set(dbs.store.names(prefix)) == {live, *decoys}
        again = cli(history.root, "--drop-templates", "--url", server, "--prefix", prefix)
        assert again.exit_code == 0, again.output
        assert f"Dropped 0 test database(s) named {prefix}_… on" in again.stdout
        assert "; kept 1 in use." in again.stdout
    finally:
        dbs.close()
        for name in decoys:
            dialect.drop_database(dialect.database_url(make_url(server), name))


def test_the_prefix_comes_from_pyproject(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    prefix = a_prefix()
    pyproject = history.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'test_database_prefix = "{prefix}"\n')
    server = server_for("sqlite", tmp_path)
    with TemplateDatabases(Migrations(root=history.root), server) as dbs:
        assert dbs.template().startswith(f"{prefix}_t_{app_tag(history.migrations().directory)}_")
        listed = cli(history.root, "--list-templates", "--url", server, "--json")
        assert [d["name"] for d in json.loads(listed.stdout)["databases"]] == [dbs.template()]
    assert (tmp_path / "server").is_dir()


def test_the_default_server_is_the_plugins(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    folder = tmp_path / "plugin-folder"
    folder.mkdir()
    listed = cli(
        history.root,
        "--list-templates",
        env={"FASTAPI_ALEMBIC_TEST_URL": f"sqlite:///{folder / 'server.db'}"},
    )
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.startswith(f"No test database named faa_… on sqlite:///{folder}")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--prefix", "FAA"], "The test database prefix 'FAA' is not valid"),
        (["--drop-templates"], "Give --list-templates or --drop-templates, not both."),
        (
            ["--url", "sqlite:////nonexistent/folder/x.db"],
            "The folder /nonexistent/folder does not exist",
        ),
    ],
)
def test_bad_input_is_one_sentence(tmp_path: Path, args: list[str], phrase: str) -> None:
    history = new_history(tmp_path).add_good()
    result = cli(history.root, "--list-templates", *args)
    assert_clean_failure(result, 2, phrase)
