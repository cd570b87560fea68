"""One registry names the backends (dialects/registry.py); each feature with per-backend code
registers its own part by that name. A backend added from outside the package, as a plugin
would, is found by every feature; and every registered backend has every part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.dialects import registry as sqlalchemy_dialects
from sqlalchemy.engine import URL, make_url

from fastapi_alembic.config import check_dialects
from fastapi_alembic.dialects import for_backend, for_url, registry
from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.dialects.engines import make_engine, run_with_connection
from fastapi_alembic.dialects.sqlite import SQLiteSupport
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.lint import facts
from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.database import backend_of, measure
from fastapi_alembic.testing import stores
from fastapi_alembic.testing.stores.sqlite_store import SQLiteFileStore
from tests.support.backends import TEST_NAMES

# -- the fake backend: SQLite's SQLAlchemy dialect under names of its own ------------------


#: The engines the fake backend's class prepared.
PREPARED: list[Engine] = []


class FakeSupport(SQLiteSupport):
    """The backend's behaviour: SQLite's, plus a mark on every engine it prepares."""

    name = "fakedb"

    def prepare_engine(self, engine: Engine) -> None:
        super().prepare_engine(engine)
        PREPARED.append(engine)

        @event.listens_for(engine, "connect")
        def _marked(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.create_function("fakedb", 0, lambda: "yes")  # type: ignore[attr-defined]


class FakeStore(SQLiteFileStore):
    """The test suite's part: template copies as SQLite files."""


def fake_rows(connection: Connection) -> dict[str, int]:
    """Lint's part: table sizes, as this backend's catalog would estimate them."""
    names = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
    return dict.fromkeys(names.scalars(), 123_456)


@pytest.fixture
def fake_backend() -> Iterator[str]:
    """What adding a backend takes: SQLAlchemy's dialect (here SQLite's, by other names), one
    registry line, and each feature's part registered under the same name."""
    for name in ("fakedb", "fakedb2"):
        sqlalchemy_dialects.register(name, "sqlalchemy.dialects.sqlite.pysqlite", "dialect")
    registry.register("fakedb", FakeSupport, aliases=("fakedb2",))
    stores.register("fakedb", FakeStore)
    facts.register("fakedb", facts.BackendFacts(oldest_version=(1, 2), table_rows=fake_rows))
    try:
        yield "fakedb"
    finally:
        facts.unregister("fakedb")
        stores.unregister("fakedb")
        registry.unregister("fakedb")
        for name in ("fakedb", "fakedb2"):
            sqlalchemy_dialects.impls.pop(name, None)


def fake_url(tmp_path: Path, name: str = "app", backend: str = "fakedb") -> URL:
    return make_url(f"{backend}:///{tmp_path / name}.db")


def test_the_dialects_find_the_new_backend_by_each_of_its_names(
    fake_backend: str, tmp_path: Path
) -> None:
    assert registry.backend_name("FAKEDB2") == fake_backend
    assert fake_backend in registry.names() and "fakedb2" in registry.spellings()
    assert registry.aliases_of(fake_backend) == ("fakedb", "fakedb2")
    support = for_url(fake_url(tmp_path))
    assert isinstance(support, FakeSupport)
    assert for_backend("fakedb2") is support
    # Engines are prepared by the backend's own class, whichever name the URL carries.
    engine = make_engine(fake_url(tmp_path, backend="fakedb2"))
    assert isinstance(engine, Engine) and PREPARED[-1] is engine
    engine.dispose()
    answer = run_with_connection(
        fake_url(tmp_path), lambda c: c.execute(text("SELECT fakedb()")).scalar()
    )
    assert answer == "yes"
    # Databases are made and dropped by it too.
    made = support.create_database(fake_url(tmp_path), "scratch")
    assert Path(made.database or "").is_file()
    support.drop_database(made)
    assert not Path(made.database or "").exists()


def test_the_test_suite_copies_templates_on_the_new_backend(
    fake_backend: str, tmp_path: Path
) -> None:
    server = fake_url(tmp_path / "templates")
    store = stores.template_store(server)
    assert isinstance(store, FakeStore) and isinstance(store.dialect, FakeSupport)
    built = store.build_target("template", "building")
    run_with_connection(built, lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")))
    store.publish(built, "template")
    copy = store.copy("template", "copy")
    assert copy.get_backend_name() == fake_backend
    tables = run_with_connection(
        copy, lambda c: list(c.execute(text("SELECT name FROM sqlite_master")).scalars())
    )
    assert tables == ["t"]
    assert sorted(store.names("")) == ["copy", "template"]
    store.close()


def test_lint_knows_the_new_backend(fake_backend: str, tmp_path: Path) -> None:
    url = fake_url(tmp_path)
    run_with_connection(url, lambda c: c.execute(text("CREATE TABLE users (id INTEGER)")))
    assert facts.lint_backend("fakedb2") == fake_backend
    assert backend_of(url) == fake_backend
    assert fake_backend in facts.backends()
    assert fake_backend in Environment().backends
    assert Environment().version(fake_backend) == (1, 2)
    # The project's `dialects` setting takes its names too.
    assert check_dialects(["fakedb2"], "in a test") == ("fakedb2",)
    measured = measure(url, Environment(backends=(fake_backend,)))
    assert measured is not None and measured.rows is not None
    assert dict(measured.rows) == {"users": 123_456}


def test_without_its_parts_a_backend_is_not_offered_to_the_features(tmp_path: Path) -> None:
    registry.register("halfdb", FakeSupport)
    try:
        assert facts.lint_backend("halfdb") is None
        with pytest.raises(ConfigError, match="cannot be copied on halfdb"):
            stores.template_store(make_url(f"halfdb:///{tmp_path / 'x.db'}"))
    finally:
        registry.unregister("halfdb")
    # A backend no one registered gets the defaults.
    assert type(for_backend("halfdb")) is DialectSupport


def test_a_name_belongs_to_one_backend() -> None:
    with pytest.raises(ValueError, match="already names the backend 'mysql'"):
        registry.register("otherdb", FakeSupport, aliases=("mariadb",))
    assert registry.backend_name("otherdb") is None


# -- every registered backend has every part -----------------------------------------------


@pytest.mark.parametrize("backend", registry.names())
def test_every_backend_has_every_part(backend: str) -> None:
    support = for_backend(backend)
    assert isinstance(support, DialectSupport) and support.name == backend
    for alias in registry.aliases_of(backend):
        assert for_backend(alias) is support
    assert backend in stores.backends(), "the test suite's template store (testing/stores/)"
    assert backend in facts.backends(), "lint's facts (lint/facts/)"
    assert backend in TEST_NAMES, "a test server in tests/support/backends.py"


def test_the_features_register_no_backend_the_registry_does_not_name() -> None:
    names = set(registry.names())
    assert set(stores.backends()) <= names
    assert set(facts.backends()) <= names
    assert set(TEST_NAMES) <= names
    assert registry.backend_name("mariadb") == "mysql"
