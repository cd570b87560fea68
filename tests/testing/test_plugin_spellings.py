"""The pytest plugin loads once under every spelling docs/testing.md gives, auto-loaded or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.histories import new_history, pytest_in

USER_TEST = """
from sqlalchemy import func, select

from {module} import User


def test_a_migrated_database(migrated_session) -> None:
    migrated_session.add(User(email="a@example.com"))
    migrated_session.commit()
    assert migrated_session.scalar(select(func.count()).select_from(User)) == 1
"""

MODULE = "fastapi_alembic.testing.plugin"

# (what the user writes on the command line, in conftest.py, in $PYTEST_PLUGINS)
SPELLINGS = {
    "auto-loaded": ((), "", ""),
    "-p entry point": (("-p", "fastapi_alembic"), "", ""),
    "-p module": (("-p", MODULE), "", ""),
    "conftest pytest_plugins": ((), f"pytest_plugins = [{MODULE!r}]\n", ""),
    "PYTEST_PLUGINS": ((), "", MODULE),
}


@pytest.mark.parametrize("autoload", [True, False], ids=["autoload", "no-autoload"])
@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_the_plugin_loads_under_each_spelling(
    spelling: str, autoload: bool, tmp_path: Path
) -> None:
    args, conftest, plugins_variable = SPELLINGS[spelling]
    if not autoload and spelling == "auto-loaded":
        pytest.skip("nothing loads the plugin then: shown by the next test")
    history = new_history(tmp_path).add_good()
    (history.root / "test_user.py").write_text(USER_TEST.format(module=history.module))
    if conftest:
        (history.root / "conftest.py").write_text(conftest)
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "" if autoload else "1"}
    if plugins_variable:
        env["PYTEST_PLUGINS"] = plugins_variable
    done = pytest_in(history.root, "-p", "no:cacheprovider", *args, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "1 passed" in output
    assert "already registered" not in output


def test_without_the_plugin_the_fixtures_are_missing(tmp_path: Path) -> None:
    # The counterpart of the cases above: they pass because the plugin loaded.
    history = new_history(tmp_path).add_good()
    (history.root / "test_user.py").write_text(USER_TEST.format(module=history.module))
    for args, env in (
        ((), {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        (("-p", "no:fastapi_alembic"), {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": ""}),
    ):
        done = pytest_in(history.root, "-p", "no:cacheprovider", *args, env=env)
        assert done.returncode == 1, done.stdout
        assert "fixture 'migrated_session' not found" in done.stdout
