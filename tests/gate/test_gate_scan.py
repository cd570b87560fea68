"""The gate's static reading of revision files gives Alembic's answer, on any history.

No database here: heads, known revisions and pending counts are compared with Alembic's own
ScriptDirectory built from the same files.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastapi_alembic import revisions as graph
from fastapi_alembic.gate import scan as scan_module
from fastapi_alembic.gate.head_check import position_of
from fastapi_alembic.gate.headers import read_header
from fastapi_alembic.gate.scan import env_version_table, scan

LABELS = ("alpha", "beta", "gamma", "delta")


def render(value: tuple[str, ...] | None, style: str) -> str:
    """One of the ways people (and Alembic's templates over the years) write the value."""
    if value is None or (not value and style != "empty"):
        return "None"
    if style == "list":
        return repr(list(value))
    if style == "tuple" or len(value) != 1:
        return repr(tuple(value))
    if style == "empty":
        return "()"
    return repr(value[0])


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, object]], list[str]]:
    count = draw(st.integers(0, 14))
    ids = [f"{index:04x}{draw(st.integers(0, 0xFFFF)):04x}" for index in range(count)]
    free_labels = list(LABELS)
    labelled: dict[str, str] = {}
    revisions = []
    for index, revision in enumerate(ids):
        earlier = ids[:index]
        parents = (
            draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True)) if earlier else []
        )
        depends = (
            draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)) if earlier else []
        )
        # A dependency may be named by its branch label, as Alembic allows.
        depends = [labelled[d] if d in labelled and draw(st.booleans()) else d for d in depends]
        label = None
        if free_labels and draw(st.integers(0, 4)) == 0:
            label = free_labels.pop(0)
            labelled[revision] = label
        revisions.append(
            {
                "revision": revision,
                "down": tuple(parents),
                "depends": tuple(depends),
                "labels": (label,) if label else (),
                "style": draw(st.sampled_from(["plain", "annotated", "list", "tuple", "empty"])),
            }
        )
    current = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)) if ids else []
    if draw(st.integers(0, 5)) == 0:
        current.append("feedfacecafe")  # a revision the files do not have
    return revisions, current


def write_history(folder: Path, revisions: list[dict[str, object]]) -> None:
    versions = folder / "versions"
    versions.mkdir(parents=True)
    (folder / "env.py").write_text(
        "from fastapi_alembic.env import run_migrations\n\nrun_migrations()\n"
    )
    for number, spec in enumerate(revisions):
        style = str(spec["style"])
        annotation = ": str | None" if style == "annotated" else ""
        source = textwrap.dedent(
            f'''\
            """revision {number}

            Revision ID: {spec["revision"]}
            """
            import sqlalchemy as sa
            from alembic import op

            revision{annotation} = {spec["revision"]!r}
            down_revision{annotation} = {render(spec["down"], style)}  # type: ignore
            branch_labels = {render(spec["labels"], style)}
            depends_on = {render(spec["depends"], style)}


            def upgrade() -> None:
                op.execute("SELECT 1")


            def downgrade() -> None:
                pass
            '''
        )
        (versions / f"{number:03d}_{spec['revision']}_step.py").write_text(source)


def alembic_script(folder: Path) -> ScriptDirectory:
    return ScriptDirectory(str(folder))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(histories())
def test_the_static_graph_is_alembics(history: tuple[list[dict[str, object]], list[str]]) -> None:
    revisions, current_list = history
    current = tuple(current_list)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_history(folder, revisions)
        script = alembic_script(folder)
        try:
            alembic_heads = set(script.get_heads())
        except Exception:  # a graph Alembic refuses: the scan must not answer either
            assert scan(folder, use_cache=False) is None
            return
        static = scan(folder, use_cache=False)
        assert static is not None, "a plain history must be read statically"
        assert static.heads == alembic_heads
        assert static.revisions == {s.revision for s in script.walk_revisions()}
        known = {r for r in current if graph.is_known(script, r)}
        ours = position_of(current, static.heads, static.revisions)
        assert ours == position_of(current, alembic_heads, known)
        if not current or all(r in known for r in current):
            assert static.pending(current) == len(graph.pending(script, current))


@pytest.mark.parametrize(
    "body",
    [
        'revision = "ab" + "cd"\ndown_revision = None',
        'revision = "abcd"\nif True:\n    down_revision = "x"\nelse:\n    down_revision = None',
        'revision = "abcd"\ndown_revision = None\nglobals()["depends_on"] = "x"',
        "from somewhere import revision\ndown_revision = None",
        'revision = "abcd"\ndown_revision = None\nfor depends_on in ["x"]:\n    pass',
        'revision = "abcd"\ndown_revision = None\nrevision, branch_labels = "a", None',
        'revision = "ab-cd"\ndown_revision = None',
        "down_revision = None",
        'revision = "abcd"\ndown_revision = None\ndef __getattr__(name):\n    return None',
        'revision = "abcd"\ndown_revision = 1',
        'revision = "abcd"\ndown_revision = ""',
        'revision = "abcd"\ndown_revision = None\nsetattr(__import__("sys").modules[__name__], "x", 1)',
        'revision = "abcd"\ndown_revision = None\nfrom os.path import *',
        "def broken(:\n    pass",
    ],
)
def test_anything_only_execution_could_tell_is_left_to_alembic(body: str) -> None:
    assert read_header(body.encode()) is None


def test_plain_values_are_read_whatever_the_style() -> None:
    header = read_header(
        b'"""doc"""\nfrom alembic import op\nrevision: str = "abcd"\n'
        b"down_revision: str | None = ('a1', 'b2')\nbranch_labels = ['x']\ndepends_on = None\n"
        b"def upgrade():\n    revision = 'not this one'\n    op.execute('SELECT 1')\n"
    )
    assert header is not None
    assert (header.revision, header.down_revisions, header.branch_labels) == (
        "abcd",
        ("a1", "b2"),
        ("x",),
    )


def test_a_missing_parent_or_a_duplicate_is_left_to_alembic(tmp_path: Path) -> None:
    write_history(
        tmp_path,
        [{"revision": "aaaa", "down": ("gone",), "depends": (), "labels": (), "style": "plain"}],
    )
    assert scan(tmp_path) is None


def test_the_cache_skips_unchanged_files_and_rereads_changed_ones(tmp_path: Path) -> None:
    specs = [
        {
            "revision": f"r{i:03d}",
            "down": (f"r{i - 1:03d}",) if i else (),
            "depends": (),
            "labels": (),
            "style": "plain",
        }
        for i in range(5)
    ]
    write_history(tmp_path, specs)
    old = time.time() - 60
    files = sorted((tmp_path / "versions").glob("*.py"))
    for path in files:
        os.utime(path, (old, old))
    first = scan(tmp_path)
    assert first is not None and first.parsed == 5 and first.heads == {"r004"}
    again = scan(tmp_path)
    assert again is not None and again.parsed == 0 and again.heads == {"r004"}
    # A new head: one file written (it is too recent to cache), the others still cached.
    (tmp_path / "versions" / "new.py").write_text('revision = "r005"\ndown_revision = "r004"\n')
    third = scan(tmp_path)
    assert third is not None and third.parsed == 1 and third.heads == {"r005"}
    # A corrupt cache is ignored, not trusted.
    (tmp_path / "__pycache__" / "fastapi_alembic_revisions.marshal").write_bytes(b"\x00garbage")
    fourth = scan(tmp_path)
    assert fourth is not None and fourth.heads == {"r005"}


@pytest.mark.parametrize("new_process", [False, True], ids=["same process", "new process"])
def test_an_edit_in_place_or_a_new_file_is_seen_on_the_warm_path(
    tmp_path: Path, new_process: bool
) -> None:
    """The warm path trusts the folder's mtime only for the list of names: an edit in place
    leaves the folder's mtime alone, and must still be seen (through the file's own stat)."""
    specs = [
        {
            "revision": f"r{i:03d}",
            "down": (f"r{i - 1:03d}",) if i else (),
            "depends": (),
            "labels": (),
            "style": "plain",
        }
        for i in range(4)
    ]
    write_history(tmp_path, specs)
    versions = tmp_path / "versions"
    old = time.time() - 60
    for path in [*versions.iterdir(), versions]:
        os.utime(path, (old, old))
    cold = scan(tmp_path)
    assert cold is not None and cold.heads == {"r003"} and cold.parsed == 4
    warm = scan(tmp_path)
    assert warm is not None and warm.parsed == 0 and warm.heads == {"r003"}

    def forget() -> None:
        if new_process:
            scan_module._SNAPSHOTS.clear()

    # Same size, same folder mtime: the head's id changes in place (r003 -> r00x).
    head = next(p for p in versions.iterdir() if "r003" in p.read_text())
    folder_mtime = versions.stat().st_mtime_ns
    with head.open("r+b") as stream:
        source = stream.read()
        stream.seek(0)
        stream.write(source.replace(b"'r003'", b"'r00x'"))
    assert versions.stat().st_mtime_ns == folder_mtime
    forget()
    edited = scan(tmp_path)
    assert edited is not None and edited.heads == {"r00x"} and edited.parsed == 1

    # A new file: the folder's mtime changes and the listing is read again.
    (versions / "new.py").write_text('revision = "r004"\ndown_revision = "r00x"\n')
    forget()
    added = scan(tmp_path)
    assert added is not None and added.heads == {"r004"}

    # A file removed: its stat fails, and the answer is read again.
    (versions / "new.py").unlink()
    forget()
    removed = scan(tmp_path)
    assert removed is not None and removed.heads == {"r00x"}


def test_env_py_options_are_read_or_left_to_alembic(tmp_path: Path) -> None:
    env = tmp_path / "env.py"
    env.write_text("from fastapi_alembic.env import run_migrations\nrun_migrations()\n")
    assert env_version_table(tmp_path) == ("alembic_version", None)
    env.write_text(
        "from fastapi_alembic.env import run_migrations\n"
        "run_migrations(version_table='versions', version_table_schema='app')\n"
    )
    assert env_version_table(tmp_path) == ("versions", "app")
    env.write_text("from fastapi_alembic.env import run_migrations\nrun_migrations(**OPTIONS)\n")
    assert env_version_table(tmp_path) is None
    env.write_text("from alembic import context\ncontext.configure(url='x')\n")
    assert env_version_table(tmp_path) is None
