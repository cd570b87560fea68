"""The `fastapi-alembic` command: a thin layer over the Migrations facade.

``main`` first offers the command line to the start-up fast path (cli/fast.py), which answers a
no-op ``upgrade`` and ``current --check`` without importing Typer, Rich or Alembic; everything
else, and anything the fast path is unsure of, goes to the Typer application.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from fastapi_alembic.cli.commands import app


def main() -> None:
    from fastapi_alembic.cli.fast import answer

    code: str | int | None = answer(sys.argv[1:])
    if code is None:
        from fastapi_alembic.cli.commands import for_command_line

        try:
            for_command_line(sys.argv[1:])()
        except SystemExit as done:  # how Click ends every command
            code = done.code
    _exit(code)


def _exit(code: str | int | None) -> NoReturn:
    """End the process as ``sys.exit(code)`` does, without then freeing every object one by
    one: after an upgrade that loaded a thousand revision files, the interpreter's own
    teardown took a tenth of a second, and nothing of it is needed. The exit handlers still
    run (logging's flush, a coverage tool's save) and the output is flushed.

    Only where the process is ours to end: called by the command's own script (not by code
    that calls ``main()`` and goes on, a test say), with no profiler or tracer waiting to write
    its results, no thread of the project's still running, and this Python able to run the
    exit handlers. Anywhere else, the usual way."""
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if (
        isinstance(code, str)  # sys.exit("message") prints it: the usual way
        or run_handlers is None
        or sys._getframe(2).f_globals.get("__name__") != "__main__"
        or sys.getprofile() is not None
        or sys.gettrace() is not None
        or any(thread.is_alive() and not thread.daemon for thread in others)
    ):
        sys.exit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe reads nothing more
            stream.flush()
    os._exit(code or 0)


def __getattr__(name: str) -> Any:
    if name == "app":
        from fastapi_alembic.cli.commands import app

        return app
    raise AttributeError(f"module 'fastapi_alembic.cli' has no attribute {name!r}")


__all__ = ["app", "main"]
