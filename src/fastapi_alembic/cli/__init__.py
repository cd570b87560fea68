"""The `fastapi-alembic` command: a thin layer over the Migrations facade.

``main`` first offers the command line to the start-up fast path (cli/fast.py), which answers a
no-op ``upgrade`` and ``current --check`` without importing Typer, Rich or Alembic; everything
else, and anything the fast path is unsure of, goes to the Typer application.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi_alembic.cli.commands import app


def main() -> None:
    from fastapi_alembic.cli.fast import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from fastapi_alembic.cli.commands import for_command_line

    for_command_line(sys.argv[1:])()


def __getattr__(name: str) -> Any:
    if name == "app":
        from fastapi_alembic.cli.commands import app

        return app
    raise AttributeError(f"module 'fastapi_alembic.cli' has no attribute {name!r}")


__all__ = ["app", "main"]
