"""The public surface: every type in a public signature of `Migrations`, and every error the
package raises, can be imported from `fastapi_alembic` itself, so users never reach into
internal modules to annotate a variable or catch an exception."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sys
import typing
from types import ModuleType
from typing import Any

import pytest

import fastapi_alembic
from fastapi_alembic import Migrations
from fastapi_alembic.errors import MigrationsError


def _exported() -> dict[int, str]:
    return {id(getattr(fastapi_alembic, name)): name for name in fastapi_alembic.__all__}


def _type_checking_names(module: ModuleType) -> dict[str, Any]:
    """What the module's ``if TYPE_CHECKING:`` blocks import, imported for real."""
    tree = ast.parse(inspect.getsource(module))
    names: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            block = ast.Module(body=node.body, type_ignores=[])
            exec(compile(block, module.__name__, "exec"), names)
    return names


def _ours(annotation: Any) -> set[Any]:
    """The package's own classes inside an annotation (through unions, generics, callables)."""
    found: set[Any] = set()
    for argument in typing.get_args(annotation):
        found |= _ours(argument)
    if isinstance(annotation, list):  # Callable's parameter list
        for item in annotation:
            found |= _ours(item)
    module = getattr(annotation, "__module__", "") or ""
    if inspect.isclass(annotation) and module.startswith("fastapi_alembic"):
        found.add(annotation)
    return found


def _public_callables() -> list[tuple[str, Any]]:
    members = []
    for name, member in inspect.getmembers(Migrations):
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(member, property):
            member = member.fget
        if callable(member):
            members.append((name, member))
    return members


def test_every_exported_name_imports() -> None:
    for name in fastapi_alembic.__all__:
        assert getattr(fastapi_alembic, name) is not None, name
    assert set(fastapi_alembic.__all__) <= set(dir(fastapi_alembic))


@pytest.mark.parametrize("name", [name for name, _ in _public_callables()])
def test_every_type_in_a_public_signature_is_exported(name: str) -> None:
    module = sys.modules[Migrations.__module__]
    namespace = {**vars(module), **_type_checking_names(module)}
    member = dict(_public_callables())[name]
    hints = typing.get_type_hints(member, globalns=namespace)
    exported = _exported()
    missing = {
        f"{cls.__module__}.{cls.__qualname__}"
        for annotation in hints.values()
        for cls in _ours(annotation)
        if id(cls) not in exported
    }
    assert not missing, f"Migrations.{name} uses types not exported by fastapi_alembic: {missing}"


def _every_module() -> None:
    for info in pkgutil.walk_packages(fastapi_alembic.__path__, "fastapi_alembic."):
        importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_error_the_package_raises_is_exported() -> None:
    _every_module()
    exported = _exported()
    errors = {
        cls for cls in _subclasses(MigrationsError) if cls.__module__.startswith("fastapi_alembic")
    }
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in errors if id(c) not in exported)
    assert not missing, f"errors not exported by fastapi_alembic: {missing}"


def test_the_package_loads_its_public_names_on_first_use() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, fastapi_alembic.testing.plugin\n"
        "assert 'alembic' not in sys.modules, 'the pytest plugin imported Alembic'\n"
        "import fastapi_alembic\n"
        "assert sorted(fastapi_alembic.__all__) == sorted(fastapi_alembic._HOME)\n"
        "from fastapi_alembic import Migrations, MigrationsError\n"
        "assert 'alembic' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def _testing_callables() -> list[tuple[str, Any]]:
    from fastapi_alembic import testing

    found: list[tuple[str, Any]] = [("run_suite", testing.run_suite)]
    for name, member in inspect.getmembers(testing.TemplateDatabases):
        if name.startswith("_") and name != "__init__":
            continue
        member = member.fget if isinstance(member, property) else member
        if callable(member):
            found.append((f"TemplateDatabases.{name}", member))
    return found


def test_the_testing_toolkit_exports_what_its_signatures_use() -> None:
    """fastapi_alembic.testing is the documented subpackage: the types in the public
    signatures of what it exports come from it or from fastapi_alembic."""
    from fastapi_alembic import testing

    exported = {**_exported(), **{id(getattr(testing, n)): n for n in testing.__all__}}
    missing = set()
    for name, member in _testing_callables():
        module = sys.modules[member.__module__]
        namespace = {**vars(module), **_type_checking_names(module)}
        for annotation in typing.get_type_hints(member, globalns=namespace).values():
            missing |= {
                f"{name}: {cls.__module__}.{cls.__qualname__}"
                for cls in _ours(annotation)
                if id(cls) not in exported
            }
    assert len(_testing_callables()) > 5
    assert not missing, (
        f"types not exported by fastapi_alembic or fastapi_alembic.testing: {missing}"
    )


def test_the_testing_toolkit_loads_its_names_on_first_use() -> None:
    import subprocess

    probe = (
        "import sys, fastapi_alembic.testing as t\n"
        "assert 'fastapi_alembic.testing.templates' not in sys.modules\n"
        "assert sorted(t.__all__) == sorted(t._HOME)\n"
        "from fastapi_alembic.testing import TemplateDatabases, run_suite\n"
        "assert TemplateDatabases.__module__ == 'fastapi_alembic.testing.templates'\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


#: The subpackages users may import (docs/guide.md, "The Python API"); every other one says in
#: its docstring that it is internal.
DOCUMENTED_SUBPACKAGES = {"testing", "integrations"}


def test_every_internal_package_says_it_is_internal() -> None:
    root = fastapi_alembic.__path__[0]
    unmarked = sorted(
        info.name
        for info in pkgutil.iter_modules([root])
        if info.ispkg
        and info.name not in DOCUMENTED_SUBPACKAGES
        and "Internal:"
        not in (importlib.import_module(f"fastapi_alembic.{info.name}").__doc__ or "")
    )
    assert not unmarked, f"packages whose docstring does not say they are internal: {unmarked}"
