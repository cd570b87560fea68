"""What `make` writes passes `check`, or `make` said why not in the same run.

Each model change of the fidelity corpus goes through the command line as a user runs it:
`make` (renames given ahead), `check` before the upgrade (the new revision is linted with the
database's sizes), `upgrade`, `check` again (everything passes), and `check --no-database
--since <the revision before>`, where every table counts as large: whatever fails there must be
in `make`'s own output (a finding, or the sentence that findings were left out because the
tables are small). The default suite runs a slice; `make test-autogen` runs every change.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.fidelity import Change
from tests.support.helpers import Project, head_of
from tests.support.model_changes import CORPUS

REPOSITORY = Path(__file__).resolve().parents[2]

SLICE = {"rename column", "add an enum value at the end", "widen a string", "drop column"}

MODELS = """\
import sys

sys.path.insert(0, {repository!r})

from sqlalchemy import MetaData

from tests.support.model_changes import CORPUS

metadata = MetaData()
next(c for c in CORPUS if c.name == {name!r}).{which}(metadata)
"""

FAILS = "`fastapi-alembic check` fails on"
LEFT_OUT = "left out because their tables are small"


def _models(project: Project, change: Change, which: str) -> None:
    source = MODELS.format(repository=str(REPOSITORY), name=change.name, which=which)
    (project.root / f"{project.module}.py").write_text(textwrap.dedent(source))
    sys.modules.pop(project.module, None)  # the next verb imports the models again


def _insert(url: str, change: Change) -> None:
    metadata = change.metadata("before")

    def write(connection):  # type: ignore[no-untyped-def]
        for table, values in change.rows.items():
            connection.execute(insert(metadata.tables[table]), values)
        connection.commit()

    if change.rows:
        run_with_connection(make_url(url), write)


def _lint_item(result_stdout: str) -> dict[str, object]:
    checks = json.loads(result_stdout)["checks"]
    return next(c for c in checks if c["name"] == "migrations pass lint")


def _run(change: Change, backend: str, fresh_url: str, tmp_path: Path) -> None:
    if backend not in change.backends:
        pytest.skip(f"{change.name!r} is specific to {', '.join(change.backends)}")
    project = Project(tmp_path, fresh_url)
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.fastapi-alembic]\nmetadata = "{project.module}:metadata"\n'
    )
    _models(project, change, "before")
    assert project.cli("init").exit_code == 0
    before_head = None
    if change.metadata("before").tables:
        made = project.cli("make", "before")
        assert made.exit_code == 0, made.output
        Migrations(root=tmp_path, url=fresh_url).upgrade()
        _insert(fresh_url, change)
        before_head = head_of(project)
    _models(project, change, "after")

    renames = [f"--rename={spec}" for spec in change.renames]
    made = project.cli("make", "the change", "--no-input", *renames)
    if made.exit_code == 1 and "no revision was written" in made.output:
        assert backend in change.no_ddl_on, made.output
        return
    assert made.exit_code == 0, made.output
    assert "Traceback" not in made.output
    if change.unsafe:  # make refused to guess and said so: the models cannot match yet
        assert "Warning:" in made.stdout, made.stdout
        return
    said = made.stdout

    # Before the upgrade: the new revision is what check lints, with this database's sizes.
    pending = project.cli("check", "--json")
    lint = _lint_item(pending.stdout)
    assert lint["ok"] == (FAILS not in said), (lint, said)

    Migrations(root=tmp_path, url=fresh_url).upgrade(accept_data_loss=True)
    after = project.cli("check")
    assert after.exit_code == 0, after.output + "\n--- make said:\n" + said

    # Without a database every table counts as large: what fails must be what make said.
    since = ("--since", before_head) if before_head else ()
    offline = project.cli("check", "--no-database", *since, "--json")
    checks = json.loads(offline.stdout)["checks"]
    assert [c["name"] for c in checks if not c["ok"]] in ([], ["migrations pass lint"]), checks
    if offline.exit_code != 0:
        revision = head_of(project)
        report = json.loads(project.cli("lint", revision, "--no-database", "--json").stdout)
        errors = {f["rule"] for f in report["findings"] if f["severity"] == "error"}
        unsaid = {rule for rule in errors if rule not in said}
        assert not unsaid or LEFT_OUT in said, (unsaid, said)


@pytest.mark.parametrize("change", [c for c in CORPUS if c.name in SLICE], ids=lambda c: c.name)
def test_make_then_check(change: Change, backend: str, fresh_url: str, tmp_path: Path) -> None:
    _run(change, backend, fresh_url, tmp_path)


@pytest.mark.autogen_corpus
@pytest.mark.parametrize("change", CORPUS, ids=lambda c: c.name)
def test_make_then_check_corpus(
    change: Change, backend: str, fresh_url: str, tmp_path: Path
) -> None:
    _run(change, backend, fresh_url, tmp_path)


def test_the_slice_is_in_the_corpus() -> None:
    assert {c.name for c in CORPUS} >= SLICE
