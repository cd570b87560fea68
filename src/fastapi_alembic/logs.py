"""Making our log lines heard where nobody configured logging for them.

Under ``uvicorn app:app`` only uvicorn's own loggers have handlers: a record of
``fastapi_alembic`` at INFO would be dropped, and one at WARNING printed bare by Python's last
resort. The lifespan gives our loggers a handler in uvicorn's style in that case only; an app
that configured logging (a root handler, dictConfig, pytest's capture) keeps its own.
"""

from __future__ import annotations

import logging

PACKAGE_LOGGER = "fastapi_alembic"


def printed(logger: logging.Logger) -> bool:
    """Whether a record of ``logger`` reaches a handler that prints it. Alembic puts a
    NullHandler on its logger, which prints nothing: it does not count."""
    current: logging.Logger | None = logger
    while current is not None:
        if any(not isinstance(h, logging.NullHandler) for h in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False


class ServerStyle(logging.Formatter):
    """``INFO:     message``, as uvicorn prints its own lines (without colours)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname + ':':<9} {super().format(record)}"


def make_heard() -> None:
    """Give ``fastapi_alembic`` a handler on standard error at INFO when nothing would print
    its records; leave it alone otherwise. Once per process."""
    package = logging.getLogger(PACKAGE_LOGGER)
    if printed(package):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(ServerStyle("%(message)s"))
    package.addHandler(handler)
    if package.level == logging.NOTSET:
        package.setLevel(logging.INFO)
