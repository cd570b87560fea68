"""Testing toolkit: a database built by the real migrations, fresh for every test.

The public names, imported from here:

- ``TemplateDatabases``: migrate a template once, hand out copies (usable without pytest);
- ``run_suite`` (with ``CHECKS`` and ``CheckCallback``): the migration test suite behind
  ``fastapi-alembic test``, returning a ``fastapi_alembic.CheckReport``.

The pytest fixtures live in ``fastapi_alembic.testing.plugin`` (registered through the pytest11
entry point) and the suite as six pytest tests in ``fastapi_alembic.testing.checks`` (for
``from ... import *``); every other module here is internal. Names load on first use, so that
loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_alembic.lazy_names import loader

if TYPE_CHECKING:
    from fastapi_alembic.testing.outcomes import CheckCallback
    from fastapi_alembic.testing.suite import CHECKS, run_suite
    from fastapi_alembic.testing.templates import TemplateDatabases

_HOME = {
    "CHECKS": "suite",
    "CheckCallback": "outcomes",
    "TemplateDatabases": "templates",
    "run_suite": "suite",
}

__all__ = ["CHECKS", "CheckCallback", "TemplateDatabases", "run_suite"]


__getattr__ = loader(__name__, _HOME, globals())


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
