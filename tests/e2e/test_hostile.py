"""Bad input a hostile but fair user tries: each is one sentence, its documented exit code, no
traceback, and nothing changed (database, files)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.helpers import Project, assert_clean_failure, head_of, snapshot, write_revision
from tests.support.histories import restricted_user

METADATA_PROBLEMS = {
    "no such module": ("no_such_module_xyz:Base", "Cannot import 'no_such_module_xyz'"),
    "no such attribute": ("{module}:Nope", "has no attribute 'Nope'"),
    "not a MetaData": ("{module}:datetime", "not a SQLAlchemy MetaData"),
    "raises on import": ("raising_models_x:Base", "failed with RuntimeError: boom"),
    "calls sys.exit(0)": ("exiting_models_x:Base", "called sys.exit(0)"),
}
# Every verb that compares the models with the database, so imports them.
MODEL_VERBS = {
    "make": ["make", "more"],
    "make --empty": ["make", "--empty", "more"],
    "status": ["status"],
    "check": ["check"],
    "test": ["test"],
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    assert made.cli("upgrade").exit_code == 0
    (tmp_path / "raising_models_x.py").write_text('raise RuntimeError("boom")\n')
    (tmp_path / "exiting_models_x.py").write_text("import sys\nsys.exit(0)\n")
    return made


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize(
    "problem",
    [
        pytest.param(name, marks=[] if name == "calls sys.exit(0)" else [pytest.mark.matrix])
        for name in METADATA_PROBLEMS
    ],
)
def test_a_bad_metadata_setting_is_one_sentence_in_every_verb(
    project: Project, problem: str
) -> None:
    reference, phrase = METADATA_PROBLEMS[problem]
    reference = reference.format(module=project.module)
    before, files = snapshot(project.url), files_of(project.root)
    for verb, args in MODEL_VERBS.items():
        result = project.cli(*args, "--metadata", reference)
        assert_clean_failure(result, 2, phrase)
        assert snapshot(project.url) == before, verb
        assert files_of(project.root) == files, verb


def test_the_verbs_that_move_the_version_never_import_the_models(project: Project) -> None:
    """upgrade, downgrade, stamp and current read or move the version table: Alembic does not
    look at the models for them, and importing an app's models can cost a large share of an
    upgrade. A models module that raises on import does not stop them."""
    head = head_of(project)
    moves = [
        (["downgrade", "-1"], []),
        (["current"], []),
        (["upgrade", "--sql"], None),
        (["upgrade"], [head]),
        (["stamp", "base"], []),
        (["stamp", "head"], [head]),
    ]
    for args, recorded in moves:
        result = project.cli(*args, "--metadata", "raising_models_x:Base")
        assert result.exit_code == 0, (args, result.output)
        assert "boom" not in result.output, args
        if recorded is not None:
            assert snapshot(project.url)[1] == recorded, args


def test_a_missing_metadata_setting_is_one_sentence_in_every_verb(project: Project) -> None:
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text('[project]\nname = "demo"\n')
    before = snapshot(project.url)
    for args in MODEL_VERBS.values():
        assert_clean_failure(project.cli(*args), 2, "No models are configured")
    assert snapshot(project.url) == before


def test_empty_targets_and_revisions(project: Project) -> None:
    before = snapshot(project.url)
    assert_clean_failure(project.cli("downgrade", ""), 2, "downgrade target is empty")
    assert_clean_failure(project.cli("upgrade", " "), 2, "upgrade target is empty")
    assert_clean_failure(project.cli("show", ""), 2, "revision is empty")
    assert_clean_failure(project.cli("stamp", ""), 2, "revision is empty")
    assert snapshot(project.url) == before


def test_init_into_a_directory_that_is_a_file(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    (tmp_path / "afile").write_text("not a folder")
    for directory in ("afile", "afile/sub"):
        result = project.cli("init", "--directory", directory)
        assert_clean_failure(result, 2, "is a file")
    assert not (tmp_path / "alembic.ini").exists()


@pytest.mark.parametrize("driver", ["postgresql+psycopg", "mysql+pymysql"])
def test_a_host_name_label_over_63_characters(project: Project, driver: str) -> None:
    url = f"{driver}://u:pw@{'a' * 70}.example.com/db"
    for verb in ("status", "upgrade", "current"):
        assert_clean_failure(project.cli(verb, "--url", url), 3, "Cannot connect")


def test_stamp_on_a_read_only_database(project: Project) -> None:
    read_only = f"sqlite:///file:{project.root / 'app.db'}?mode=ro&uri=true"
    before = snapshot(project.url)
    result = project.cli("stamp", "base", "--url", read_only)
    assert_clean_failure(result, 3, "refused to record revision 'base'", "readonly")
    assert snapshot(project.url) == before


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_stamp_by_a_user_without_the_right_to_write(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    before = snapshot(fresh_url)
    with restricted_user(backend, tmp_path) as server:
        url = make_url(server).set(database=make_url(fresh_url).database)
        result = project.cli("stamp", "base", "--url", url.render_as_string(False))
    assert_clean_failure(result, 3)
    assert "denied" in result.stderr.lower()
    assert snapshot(fresh_url) == before


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_check_without_the_right_to_create_its_scratch_database(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    with restricted_user(backend, tmp_path) as server:
        url = make_url(server).set(database=make_url(fresh_url).database)
        for json_flag in ((), ("--json",)):
            result = project.cli("check", "--url", url.render_as_string(False), *json_flag)
            assert_clean_failure(result, 3, "Cannot create the scratch database for `check`")


# -- check changes nothing it was not asked to make ------------------------------------------


def scratch_leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("fm_check_*")}


@pytest.fixture(autouse=True)
def private_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite scratch files go to the temporary folder: one per test, so the leftovers a
    test counts are its own, not those of a test running beside it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def test_check_on_a_mistyped_sqlite_path_creates_nothing_and_fails(project: Project) -> None:
    missing = project.root / "no" / "such" / "folder" / "app.db"
    leftovers = scratch_leftovers()
    result = project.cli("check", "--url", f"sqlite:///{missing}")
    assert result.exit_code == 1, result.output
    assert "✗ database at head" in result.stdout
    assert "does not exist" in result.stdout
    assert "--no-database" in result.stdout
    assert not (project.root / "no").exists()
    assert scratch_leftovers() == leftovers
    skipped = project.cli("check", "--url", f"sqlite:///{missing}", "--no-database", "--json")
    assert skipped.exit_code == 0, skipped.output
    items = {item["name"]: item for item in json.loads(skipped.stdout)["checks"]}
    assert items["database at head"]["detail"] == "skipped: --no-database"
    assert not (project.root / "no").exists()


def test_check_leaves_no_scratch_files_for_a_sqlite_uri(project: Project) -> None:
    leftovers = scratch_leftovers()
    uri = f"sqlite:///file:{project.root / 'app.db'}?mode=ro&uri=true"
    result = project.cli("check", "--url", uri)
    assert result.exit_code == 0, result.output
    assert scratch_leftovers() == leftovers
    assert not list(project.root.glob("fm_check_*"))


def test_check_fails_when_the_server_cannot_be_reached(project: Project) -> None:
    url = "postgresql+psycopg://u:pw@127.0.0.1:1/db"
    result = project.cli("check", "--url", url, "--scratch-url", project.url)
    assert result.exit_code == 1, result.output
    assert "✗ database at head" in result.stdout
    assert "Cannot connect" in result.stdout
    skipped = project.cli("check", "--url", url, "--scratch-url", project.url, "--no-database")
    assert skipped.exit_code == 0, skipped.output


def test_check_removes_its_scratch_database_when_upgrading_it_fails(project: Project) -> None:
    leftovers = scratch_leftovers()
    head = head_of(project)
    broken = next(project.versions.glob(f"*{head}*.py"))
    broken.write_text(
        broken.read_text().replace(
            "def upgrade() -> None:", "def upgrade() -> None:\n    raise RuntimeError('no')"
        )
    )
    result = project.cli("check")
    assert result.exit_code == 1, result.output
    assert scratch_leftovers() == leftovers


# -- the revision files --------------------------------------------------------------------

ALL_VERBS = {
    "make": ["make", "more"],
    "make --empty": ["make", "--empty", "more"],
    "upgrade": ["upgrade"],
    "upgrade --sql": ["upgrade", "--sql"],
    "downgrade": ["downgrade", "-1"],
    "status": ["status"],
    "check": ["check"],
    "current": ["current"],
    "heads": ["heads"],
    "history": ["history"],
    "show": ["show", "head"],
    "stamp": ["stamp", "base"],
    "merge": ["merge"],
    "test": ["test"],
}


@pytest.mark.matrix  # the default suite has it in test_matrix.py's slice
def test_a_copied_revision_file_is_refused_by_every_verb(project: Project) -> None:
    assert project.cli("make", "--empty", "second").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    original = project.revision_files()[0]
    copy = project.versions / "copy_of_a_revision.py"
    shutil.copy(original, copy)
    before, files = snapshot(project.url), files_of(project.root)
    for verb, args in ALL_VERBS.items():
        result = project.cli(*args)
        assert_clean_failure(result, 2, "defined by more than one file", original.name, copy.name)
        assert snapshot(project.url) == before, verb
        assert files_of(project.root) == files, verb


def test_an_ambiguous_prefix_names_its_candidates(project: Project) -> None:
    base = head_of(project)
    write_revision(project, "abcd00000001", base)
    write_revision(project, "abcd00000002", "abcd00000001")
    before = snapshot(project.url)
    for args in (["show", "abcd"], ["upgrade", "abcd"], ["stamp", "abcd"], ["downgrade", "abcd"]):
        result = project.cli(*args)
        assert_clean_failure(result, 2, "'abcd' is ambiguous", "abcd00000001", "abcd00000002")
    for args in (["show", "zzzz"], ["upgrade", "zzzz"], ["downgrade", "zzzz-1"]):
        assert_clean_failure(project.cli(*args), 2, "No revision matches 'zzzz'")
    assert snapshot(project.url) == before
    assert project.cli("upgrade", "abcd00000001").exit_code == 0


def test_upgrade_sql_at_head_says_nothing_is_pending(project: Project) -> None:
    result = project.cli("upgrade", "--sql")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Nothing to upgrade" in result.stderr
    assert "no SQL to print" in result.stderr
    document = json.loads(project.cli("upgrade", "--sql", "--json").stdout)
    assert document["sql"] in ("", None)
    # With something pending, the SQL is printed as before.
    assert project.cli("make", "--empty", "second").exit_code == 0
    pending = project.cli("upgrade", "--sql")
    assert "BEGIN;" in pending.stdout and "UPDATE alembic_version" in pending.stdout
