"""Opening connections, sync or async, with unreachable servers turned into one sentence.

The helpers live with the backends (dialects/engines.py), which prepare every engine they
make; this is where the rest of the package and the tests take them from.
"""

from __future__ import annotations

from fastapi_alembic.dialects.engines import (
    CONNECT_ERRORS,
    connect,
    is_async_url,
    make_engine,
    missing_driver,
    refused_options,
    run_with_connection,
    unreachable,
)

__all__ = [
    "CONNECT_ERRORS",
    "connect",
    "is_async_url",
    "make_engine",
    "missing_driver",
    "refused_options",
    "run_with_connection",
    "unreachable",
]
