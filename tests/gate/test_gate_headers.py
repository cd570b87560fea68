"""The gate's static read on revision files as real projects write them, and, when it cannot
read one, `current --check --json` and `-v` naming the file and the reason."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from fastapi_alembic.gate.headers import header_or_reason
from fastapi_alembic.gate.scan import scan_or_reason
from tests.support.helpers import Project, head_of, write_revision

PLPGSQL = (
    "CREATE FUNCTION one() RETURNS int AS $$ DECLARE v int; BEGIN v := 1; RETURN v; END $$ "
    "LANGUAGE plpgsql"
)

#: One file per shape, chained: (file name, source).
SHAPES = {
    # Alembic's own template since 1.13: annotated, Union[...] annotations.
    "a1": '''\
        """create things

        Revision ID: a1
        """
        from typing import Sequence, Union

        from alembic import op
        import sqlalchemy as sa

        # revision identifiers, used by Alembic.
        revision: str = "a1"
        down_revision: Union[str, None] = None
        branch_labels: Union[str, Sequence[str], None] = None
        depends_on: Union[str, Sequence[str], None] = None


        def upgrade() -> None:
            op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))


        def downgrade() -> None:
            op.drop_table("things")
        ''',
    # A PL/pgSQL body (alembic_utils entities): ":=" and "exec(" inside strings are text.
    "b1": f'''\
        """a function"""
        from alembic import op

        revision = 'b1'
        down_revision = 'a1'
        branch_labels = None
        depends_on = None

        FUNCTION = {PLPGSQL!r}
        NOTE = "never exec(...) or eval(...) here; globals() neither"


        def upgrade():
            if op.get_bind().dialect.name == "postgresql":
                op.execute(FUNCTION)


        def downgrade():
            pass
        ''',
    # Its own helpers: a table, a class, a function called at import, setattr in upgrade().
    "c1": '''\
        """helpers of its own"""
        from __future__ import annotations

        from typing import Final

        import sqlalchemy as sa
        from alembic import op
        from sqlalchemy.sql import column, table


        def _label(name: str) -> str:
            return name.upper()


        things = table("things", column("id"))
        LABEL = _label("c1")


        class Batch:
            size = 100

            def apply(self, target: object) -> None:
                setattr(target, "size", self.size)


        revision: Final[str] = "c1"
        down_revision: str | None = "a1"
        branch_labels = ("side",)
        depends_on = None


        def upgrade() -> None:
            if (rows := 1) > 0:
                op.execute(things.delete().where(things.c.id < -rows))
            Batch().apply(sa)


        def downgrade() -> None:
            pass
        ''',
    # A merge: a tuple, annotated with Union[...]; a star import before the names.
    "d1": '''\
        """merge"""
        from typing import Sequence, Union

        from sqlalchemy import *  # noqa: F403

        revision: str = "d1"
        down_revision: Union[str, Sequence[str], None] = ("b1", "c1")
        branch_labels: Union[str, Sequence[str], None] = None
        depends_on: Union[str, Sequence[str], None] = None


        def upgrade() -> None:
            pass


        def downgrade() -> None:
            pass
        ''',
}


def write_shapes(directory: Path) -> None:
    versions = directory / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (directory / "script.py.mako").write_text("")
    for revision, source in SHAPES.items():
        (versions / f"{revision}_shape.py").write_text(textwrap.dedent(source))


def test_real_header_shapes_are_read_as_alembic_reads_them(tmp_path: Path) -> None:
    write_shapes(tmp_path)
    graph = scan_or_reason(tmp_path, use_cache=False)
    assert not isinstance(graph, str), graph
    script = ScriptDirectory(str(tmp_path))
    assert graph.heads == set(script.get_heads()) == {"d1"}
    assert graph.revisions == {s.revision for s in script.walk_revisions()}
    assert graph.stands_on["d1"] == ("b1", "c1")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('revision = "ab" + "cd"\ndown_revision = None', "line 1 gives revision a computed value"),
        (
            'revision = "abcd"\ndown_revision = None\ndef f():\n    globals()["depends_on"] = 1\nf()',
            "line 4 uses globals()",
        ),
        (
            'revision = "abcd"\nif True:\n    down_revision = "x"',
            "line 2 binds one of revision, down_revision, depends_on, branch_labels",
        ),
        (
            'revision = "abcd"\ndown_revision = None\nfrom os.path import *',
            "line 3 imports * and may bind",
        ),
        ('revision = "abcd"\ndown_revision = 1', "its down_revision is 1"),
        ("down_revision = None", "its revision is None, not a revision id"),
        ('import sys\nrevision = "a"\nsys.modules[__name__].x = 1', "line 3 reaches"),
        ("def broken(:\n    pass", "it does not parse"),
    ],
)
def test_what_only_execution_could_tell_is_named(source: str, reason: str) -> None:
    found = header_or_reason(source.encode())
    assert isinstance(found, str)
    assert reason in found


def test_current_check_says_which_file_it_could_not_read_and_why(
    fresh_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    first = head_of(project)
    computed = write_revision(project, "0000c0", first, header="PREFIX = '0000'")
    computed.write_text(
        computed.read_text().replace('revision = "0000c0"', 'revision = PREFIX + "c0"')
    )
    assert project.cli("upgrade").exit_code == 0

    for run in (project.cli, project.run):
        done = run("current", "--check", "--json")
        assert done.exit_code == 0, done.output
        report = json.loads(done.stdout)
        assert (report["at_head"], report["static"]) == (True, False)
        assert report["why_not_static"] == (
            f"migrations/versions/{computed.name}: line 6 gives revision a computed value, "
            "not a literal"
        )
        assert "Traceback" not in done.output

    verbose = project.run("current", "--check", "-v")
    assert verbose.exit_code == 0
    assert f"{computed.name}: line 6 gives revision a computed value" in verbose.stderr

    # Made a literal again, the same question is answered from the text.
    computed.write_text(computed.read_text().replace('PREFIX + "c0"', '"0000c0"'))
    report = json.loads(project.run("current", "--check", "--json").stdout)
    assert (report["at_head"], report["static"], report["why_not_static"]) == (True, True, None)


def test_an_at_head_upgrade_of_real_shapes_takes_the_fast_path(
    fresh_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    write_shapes(project.root / "migrations")
    assert project.cli("upgrade").exit_code == 0
    report = json.loads(project.run("current", "--check", "--json").stdout)
    assert (report["at_head"], report["static"], report["heads"]) == (True, True, ["d1"])
    again = project.run("upgrade", "-v")
    assert again.exit_code == 0, again.output
    assert "read through Alembic" not in again.stderr
