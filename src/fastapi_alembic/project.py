"""Running the project's own code (env.py, its models, its settings) inside our jobs.

The project root goes on ``sys.path`` first, as ``alembic`` run from that folder would have
it, and whatever the project prints or logs to stdout while it runs goes to stderr instead,
so that ``--json`` output stays one clean document. On the command line INFO messages (an
env.py's ``fileConfig`` turns Alembic's on) are silenced unless ``-v``.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, redirect_stdout
from pathlib import Path
from typing import TextIO

_local = threading.local()
#: The real stdout of the outermost running_project_code, for our report lines printed from
#: a thread env.py runs in (env_runs.py), where the thread-local one is not set.
_outermost: list[TextIO] = []


@contextmanager
def running_project_code(root: Path, verbose: bool | None = None) -> Iterator[None]:
    """Inside: ``root`` is importable, stdout writes go to stderr, and INFO messages are
    dropped when ``verbose`` is False (None: logging stays as it is)."""
    entry = str(root)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    outer = getattr(_local, "stdout", None)
    if outer is not None:  # nested: the first one already redirected
        yield
        return
    _local.stdout = sys.stdout
    _outermost.append(sys.stdout)
    disabled = logging.root.manager.disable
    if verbose is False:
        logging.disable(max(disabled, logging.INFO))
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        _local.stdout = None
        _outermost.remove(_outermost[-1])
        logging.disable(disabled)


def our_stdout() -> AbstractContextManager[object]:
    """Inside running_project_code: our own report lines go to the real stdout again.
    (No generator: it is entered twice per migration, for each progress line.)"""
    real: TextIO | None = getattr(_local, "stdout", None) or (
        _outermost[-1] if _outermost else None
    )
    return nullcontext() if real is None else redirect_stdout(real)
